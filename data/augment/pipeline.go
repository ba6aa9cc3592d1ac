package augment

import (
	"fmt"
	"image"
	"math/rand/v2"
	"strings"

	"golang.org/x/image/draw"
)

// Scratch holds the buffers a [Pipeline] reuses from one image to the
// next. The zero value is ready to use. A Scratch must not be used by two
// goroutines at once: give each worker its own.
type Scratch struct {
	rgba    *image.RGBA
	img     Image
	scalers map[scalerKey]draw.Scaler
}

// Pipeline turns a decoded image into network input: [Resize] to the
// working size, the Steps in order on the float image, then either one
// view (the image as the steps leave it) or the views of Views (e.g.
// [TenCrop]). Its output size must be fixed, whatever the input size: end
// with a crop or resize to an exact size.
//
// A Pipeline is read-only once built and may be shared by goroutines, each
// passing its own [Scratch] and generator.
type Pipeline struct {
	Resize Resize
	Steps  []Step
	Views  Viewer
}

// Shape returns the output of one image: the number of views and the
// channels, height and width of each. It fails if a step cannot apply or
// the size is not fixed.
func (p *Pipeline) Shape() (views, c, h, w int, err error) {
	if err := p.Resize.Validate(); err != nil {
		return 0, 0, 0, 0, err
	}
	h, w = p.Resize.staticSize()
	for i, s := range p.Steps {
		if s == nil {
			return 0, 0, 0, 0, fmt.Errorf("augment: pipeline step %d is nil", i)
		}
		if h, w, err = s.OutSize(h, w); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	views = 1
	if p.Views != nil {
		if views = p.Views.Views(); views < 1 {
			return 0, 0, 0, 0, fmt.Errorf("augment: %v: %d views", p.Views, views)
		}
		if h, w, err = p.Views.OutSize(h, w); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	if h <= 0 || w <= 0 {
		return 0, 0, 0, 0, fmt.Errorf("augment: pipeline %q: the output size depends on the input image; end with a crop or a resize to an exact size", p)
	}
	return views, 3, h, w, nil
}

// Run resizes src and applies the steps, not the views, and returns the
// resulting image, which lives in s (valid until s is used again; s nil
// allocates a new one).
func (p *Pipeline) Run(src image.Image, rng *rand.Rand, s *Scratch) (*Image, error) {
	if s == nil {
		s = new(Scratch)
	}
	img, err := p.Resize.Apply(&s.img, src, s)
	if err != nil {
		return nil, err
	}
	for _, st := range p.Steps {
		if err := st.Apply(img, rng); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// Process runs the whole pipeline on src and writes the result into dst,
// which must hold exactly views×3×h×w values as given by [Pipeline.Shape]
// (one item's slot in an NCHW batch). Random steps draw from rng in step
// order. s holds reusable buffers; nil allocates.
func (p *Pipeline) Process(dst []float32, src image.Image, rng *rand.Rand, s *Scratch) error {
	views, c, h, w, err := p.Shape()
	if err != nil {
		return err
	}
	if len(dst) != views*c*h*w {
		return fmt.Errorf("augment: pipeline output holds %d values, want %d (%d views of %d×%d×%d)",
			len(dst), views*c*h*w, views, c, h, w)
	}
	img, err := p.Run(src, rng, s)
	if err != nil {
		return err
	}
	if p.Views != nil {
		return p.Views.WriteViews(dst, img)
	}
	if img.C != c || img.H != h || img.W != w {
		return fmt.Errorf("augment: pipeline %q made a %d×%d×%d image, want %d×%d×%d", p, img.C, img.H, img.W, c, h, w)
	}
	copy(dst, img.Pix)
	return nil
}

// String lists the stages, e.g. "shorter side 256, centre 256×256 → random
// crop 227×227 → horizontal flip p=0.5".
func (p *Pipeline) String() string {
	parts := []string{p.Resize.String()}
	for _, s := range p.Steps {
		if s == nil {
			parts = append(parts, "<nil>")
			continue
		}
		parts = append(parts, s.String())
	}
	if p.Views != nil {
		parts = append(parts, p.Views.String())
	}
	return strings.Join(parts, " → ")
}

// PaperTrain returns the paper's training pipeline at the given sizes
// (resize 256, crop 227 for the full network): the shorter side scaled to
// resize and the central resize×resize square kept, then a random
// crop×crop window, a horizontal flip with probability 0.5, and — when pca
// is not nil — PCA colour noise with standard deviation 0.1 and the
// subtraction of pca.Mean.
func PaperTrain(resize, crop int, pca *PCA) *Pipeline {
	p := &Pipeline{
		Resize: Resize{Shorter: resize, Square: true},
		Steps:  []Step{RandomCrop{H: crop, W: crop}, Flip{P: 0.5}},
	}
	if pca != nil {
		p.Steps = append(p.Steps, PCANoise{PCA: pca, Std: 0.1}, SubtractMean{Mean: pca.MeanFloat32()})
	}
	return p
}

// PaperEval returns the matching evaluation pipeline: the same resize,
// then the mean subtracted (when pca is not nil) and either the centre
// crop×crop window or, with tenCrop, the paper's ten views ([TenCrop]).
func PaperEval(resize, crop int, pca *PCA, tenCrop bool) *Pipeline {
	p := &Pipeline{Resize: Resize{Shorter: resize, Square: true}}
	if pca != nil {
		p.Steps = append(p.Steps, SubtractMean{Mean: pca.MeanFloat32()})
	}
	if tenCrop {
		p.Views = TenCrop{H: crop, W: crop}
	} else {
		p.Steps = append(p.Steps, CenterCrop{H: crop, W: crop})
	}
	return p
}
