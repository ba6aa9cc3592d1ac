package augment

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// A Step is one augmentation step on a float [Image], applied in place.
// Steps are values without mutable state: one step may be used by many
// goroutines at once, each with its own image and random generator.
type Step interface {
	// Apply transforms img in place. Random steps draw from rng, in an order
	// fixed by the step, so the same generator state gives the same result;
	// deterministic steps ignore rng, which may then be nil.
	Apply(img *Image, rng *rand.Rand) error
	// OutSize returns the size (height, width) of the output for an input of
	// h×w, or an error if no such input can be handled. A size of 0 means
	// "not known before the image is seen" and is passed through as 0 by
	// steps that do not fix the size.
	OutSize(h, w int) (int, int, error)
	// String describes the step for logs, e.g. "random crop 227×227".
	String() string
}

// errNoRNG is returned by random steps called without a generator.
var errNoRNG = errors.New("needs a random generator (rng is nil)")

// cropInPlace keeps the h×w window at (y0, x0). Rows move only towards the
// start of Pix, so copying in increasing order is safe in place.
func cropInPlace(m *Image, y0, x0, h, w int) {
	if y0 == 0 && x0 == 0 && h == m.H && w == m.W {
		return
	}
	for c := range m.C {
		for y := range h {
			src := (c*m.H+y0+y)*m.W + x0
			dst := (c*h + y) * w
			copy(m.Pix[dst:dst+w], m.Pix[src:src+w])
		}
	}
	m.H, m.W = h, w
	m.Pix = m.Pix[:m.C*h*w]
}

func cropOutSize(name string, ch, cw, h, w int) (int, int, error) {
	if ch <= 0 || cw <= 0 {
		return 0, 0, fmt.Errorf("augment: %s: crop size %d×%d must be positive", name, ch, cw)
	}
	if (h > 0 && h < ch) || (w > 0 && w < cw) {
		return 0, 0, fmt.Errorf("augment: %s: crop %d×%d does not fit in a %d×%d image", name, ch, cw, h, w)
	}
	return ch, cw, nil
}

func cropFits(name string, m *Image, ch, cw int) error {
	if err := m.check(); err != nil {
		return err
	}
	if ch <= 0 || cw <= 0 {
		return fmt.Errorf("augment: %s: crop size %d×%d must be positive", name, ch, cw)
	}
	if m.H < ch || m.W < cw {
		return fmt.Errorf("augment: %s: image is %d×%d, smaller than the crop %d×%d", name, m.H, m.W, ch, cw)
	}
	return nil
}

// RandomCrop keeps an H×W window at a position drawn uniformly among all
// positions that fit: the paper's "random 224×224 patches" (227 here) of
// the 256×256 images, i.e. translations.
type RandomCrop struct{ H, W int }

// Apply crops img in place. It draws the row offset, then the column offset.
func (s RandomCrop) Apply(img *Image, rng *rand.Rand) error {
	if err := cropFits(s.String(), img, s.H, s.W); err != nil {
		return err
	}
	if rng == nil {
		return fmt.Errorf("augment: %v: %w", s, errNoRNG)
	}
	y0 := rng.IntN(img.H - s.H + 1)
	x0 := rng.IntN(img.W - s.W + 1)
	cropInPlace(img, y0, x0, s.H, s.W)
	return nil
}

// OutSize returns H×W, or an error if the input is known to be smaller.
func (s RandomCrop) OutSize(h, w int) (int, int, error) {
	return cropOutSize(s.String(), s.H, s.W, h, w)
}

// String describes the step for logs.
func (s RandomCrop) String() string { return fmt.Sprintf("random crop %d×%d", s.H, s.W) }

// CenterCrop keeps the central H×W window (offsets rounded down when the
// margins are odd): the single-view evaluation.
type CenterCrop struct{ H, W int }

// Apply crops img in place; rng is not used.
func (s CenterCrop) Apply(img *Image, _ *rand.Rand) error {
	if err := cropFits(s.String(), img, s.H, s.W); err != nil {
		return err
	}
	cropInPlace(img, (img.H-s.H)/2, (img.W-s.W)/2, s.H, s.W)
	return nil
}

// OutSize returns H×W, or an error if the input is known to be smaller.
func (s CenterCrop) OutSize(h, w int) (int, int, error) {
	return cropOutSize(s.String(), s.H, s.W, h, w)
}

// String describes the step for logs.
func (s CenterCrop) String() string { return fmt.Sprintf("centre crop %d×%d", s.H, s.W) }

// Flip mirrors the image left to right with probability P: the paper's
// horizontal reflections use P = 0.5. P ≥ 1 always flips and P ≤ 0 never
// does, without drawing; otherwise one float64 is drawn.
type Flip struct{ P float64 }

// Apply flips img in place with probability P.
func (s Flip) Apply(img *Image, rng *rand.Rand) error {
	if err := img.check(); err != nil {
		return err
	}
	switch {
	case s.P <= 0:
		return nil
	case s.P < 1:
		if rng == nil {
			return fmt.Errorf("augment: %v: %w", s, errNoRNG)
		}
		if rng.Float64() >= s.P {
			return nil
		}
	}
	flipInPlace(img)
	return nil
}

func flipInPlace(m *Image) {
	for r := 0; r < m.C*m.H; r++ {
		row := m.Pix[r*m.W : (r+1)*m.W]
		for i, j := 0, len(row)-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
}

// OutSize returns the input size.
func (s Flip) OutSize(h, w int) (int, int, error) { return h, w, nil }

// String describes the step for logs.
func (s Flip) String() string { return fmt.Sprintf("horizontal flip p=%g", s.P) }

// PCANoise is the paper's colour augmentation ("altering the intensities
// of the RGB channels"): to every pixel of an image it adds the same vector
//
//	Σᵢ αᵢ λᵢ pᵢ,   αᵢ ~ N(0, Std²) drawn once per image,
//
// where λᵢ and pᵢ are the eigenvalues and unit eigenvectors of the 3×3
// covariance of RGB pixel values over the training set ([PCA]), in the
// pixel scale of the images it is applied to ([0, 1] for images from this
// package before [Scale]). The paper uses Std = 0.1. The image's geometry is
// untouched; only its colour shifts, mostly along the first principal
// component (roughly brightness).
type PCANoise struct {
	PCA *PCA
	Std float64
}

// Apply adds the colour shift to img in place, drawing α₁, α₂, α₃ in that
// order with rng.NormFloat64.
func (s PCANoise) Apply(img *Image, rng *rand.Rand) error {
	if err := img.check(); err != nil {
		return err
	}
	if s.PCA == nil {
		return fmt.Errorf("augment: %v: no PCA statistics", s)
	}
	if img.C != 3 {
		return fmt.Errorf("augment: %v: image has %d channels, want 3 (RGB)", s, img.C)
	}
	if rng == nil {
		return fmt.Errorf("augment: %v: %w", s, errNoRNG)
	}
	var alpha [3]float64
	for i := range alpha {
		alpha[i] = rng.NormFloat64() * s.Std
	}
	shift := s.PCA.Shift(alpha)
	plane := img.H * img.W
	for c := range 3 {
		d := float32(shift[c])
		p := img.Pix[c*plane : (c+1)*plane]
		for i := range p {
			p[i] += d
		}
	}
	return nil
}

// OutSize returns the input size.
func (s PCANoise) OutSize(h, w int) (int, int, error) {
	if s.PCA == nil {
		return 0, 0, fmt.Errorf("augment: %v: no PCA statistics", s)
	}
	return h, w, nil
}

// String describes the step for logs.
func (s PCANoise) String() string { return fmt.Sprintf("PCA colour noise std=%g", s.Std) }

// SubtractMean subtracts a per-channel mean (red, green, blue), normally
// the training set's mean colour ([PCA].Mean), from every pixel. The paper
// subtracts the mean image (a mean per pixel position); with random crops
// of images whose mean is nearly uniform the per-channel mean is the
// common substitute.
type SubtractMean struct{ Mean [3]float32 }

// Apply subtracts the mean in place; rng is not used.
func (s SubtractMean) Apply(img *Image, _ *rand.Rand) error {
	if err := img.check(); err != nil {
		return err
	}
	if img.C != 3 {
		return fmt.Errorf("augment: %v: image has %d channels, want 3 (RGB)", s, img.C)
	}
	plane := img.H * img.W
	for c := range 3 {
		m := s.Mean[c]
		p := img.Pix[c*plane : (c+1)*plane]
		for i := range p {
			p[i] -= m
		}
	}
	return nil
}

// OutSize returns the input size.
func (s SubtractMean) OutSize(h, w int) (int, int, error) { return h, w, nil }

// String describes the step for logs.
func (s SubtractMean) String() string {
	return fmt.Sprintf("subtract mean (%.4g, %.4g, %.4g)", s.Mean[0], s.Mean[1], s.Mean[2])
}

// Scale multiplies every value by Factor, e.g. 255 to feed the raw 8-bit
// range that networks initialised as in the paper (weights N(0, 0.01²))
// were trained on.
type Scale struct{ Factor float32 }

// Apply scales img in place; rng is not used.
func (s Scale) Apply(img *Image, _ *rand.Rand) error {
	if err := img.check(); err != nil {
		return err
	}
	for i := range img.Pix {
		img.Pix[i] *= s.Factor
	}
	return nil
}

// OutSize returns the input size.
func (s Scale) OutSize(h, w int) (int, int, error) { return h, w, nil }

// String describes the step for logs.
func (s Scale) String() string { return fmt.Sprintf("scale ×%g", s.Factor) }
