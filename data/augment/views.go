package augment

import "fmt"

// A Viewer is the optional last stage of a [Pipeline]: it turns one image
// into several views of equal size, written one after another into a batch
// (views of one item are consecutive). Evaluation averages the network's
// softmax over an item's views.
type Viewer interface {
	// Views is the number of views per image.
	Views() int
	// OutSize returns the size (height, width) of each view for an input of
	// h×w (0 meaning not known in advance), or an error if it cannot fit.
	OutSize(h, w int) (int, int, error)
	// WriteViews writes the views of img into dst, which holds exactly
	// Views()×C×h×w values in NCHW order.
	WriteViews(dst []float32, img *Image) error
	// String describes the stage for logs.
	String() string
}

// TenCrop is the paper's test-time augmentation: "extracting five 224×224
// patches (the four corner patches and the center patch) as well as their
// horizontal reflections" (H×W here), in this order:
//
//	0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right, 4 centre,
//	5–9 the same five mirrored left to right
//
// (the order of torchvision's TenCrop). The centre view's offsets are
// rounded down as in [CenterCrop].
type TenCrop struct{ H, W int }

// Views returns 10.
func (t TenCrop) Views() int { return 10 }

// OutSize returns H×W, or an error if the input is known to be smaller.
func (t TenCrop) OutSize(h, w int) (int, int, error) {
	return cropOutSize(t.String(), t.H, t.W, h, w)
}

// String describes the stage for logs.
func (t TenCrop) String() string { return fmt.Sprintf("ten crops %d×%d", t.H, t.W) }

// Offsets returns the top-left corner (row, column) of each of the five
// unmirrored views of an h×w image, in view order.
func (t TenCrop) Offsets(h, w int) [5][2]int {
	dy, dx := h-t.H, w-t.W
	return [5][2]int{{0, 0}, {0, dx}, {dy, 0}, {dy, dx}, {dy / 2, dx / 2}}
}

// WriteViews writes the ten views of img into dst.
func (t TenCrop) WriteViews(dst []float32, img *Image) error {
	if err := cropFits(t.String(), img, t.H, t.W); err != nil {
		return err
	}
	per := img.C * t.H * t.W
	if len(dst) != 10*per {
		return fmt.Errorf("augment: %v: destination holds %d values, want %d (10 views of %d×%d×%d)",
			t, len(dst), 10*per, img.C, t.H, t.W)
	}
	for v, off := range t.Offsets(img.H, img.W) {
		plain := dst[v*per : (v+1)*per]
		mirror := dst[(v+5)*per : (v+6)*per]
		for c := range img.C {
			for y := range t.H {
				src := img.Pix[(c*img.H+off[0]+y)*img.W+off[1]:][:t.W]
				o := (c*t.H + y) * t.W
				copy(plain[o:o+t.W], src)
				m := mirror[o : o+t.W]
				for x, v := range src {
					m[t.W-1-x] = v
				}
			}
		}
	}
	return nil
}

// TenCropImages returns the ten views of img as separate images, in the
// order of [TenCrop].
func TenCropImages(img *Image, h, w int) ([]*Image, error) {
	t := TenCrop{H: h, W: w}
	if err := cropFits(t.String(), img, h, w); err != nil {
		return nil, err
	}
	buf := make([]float32, 10*img.C*h*w)
	if err := t.WriteViews(buf, img); err != nil {
		return nil, err
	}
	per := img.C * h * w
	out := make([]*Image, 10)
	for v := range out {
		out[v] = &Image{C: img.C, H: h, W: w, Pix: buf[v*per : (v+1)*per : (v+1)*per]}
	}
	return out, nil
}
