package augment

import (
	"fmt"
	"image"
	stddraw "image/draw"
	"math"

	"golang.org/x/image/draw"
)

// Image is a float32 image with planar channels: Pix[c*H*W + y*W + x] is
// channel c of the pixel in row y, column x. That is the layout of one item
// of an NCHW batch, so a finished image is copied into a batch as it is.
// Images made by this package have three channels (red, green, blue) with
// values in [0, 1] (the 8-bit value divided by 255) until a step such as
// [SubtractMean] or [Scale] changes the range.
type Image struct {
	C, H, W int
	Pix     []float32
}

// NewImage returns a zero-filled image of c channels, h rows and w columns.
func NewImage(c, h, w int) *Image {
	return &Image{C: c, H: h, W: w, Pix: make([]float32, c*h*w)}
}

// At returns channel c of the pixel in row y, column x.
func (m *Image) At(c, y, x int) float32 { return m.Pix[(c*m.H+y)*m.W+x] }

// Set sets channel c of the pixel in row y, column x.
func (m *Image) Set(c, y, x int, v float32) { m.Pix[(c*m.H+y)*m.W+x] = v }

// Clone returns a deep copy of m.
func (m *Image) Clone() *Image {
	return &Image{C: m.C, H: m.H, W: m.W, Pix: append([]float32(nil), m.Pix...)}
}

// reshape sets the size, reusing Pix's capacity when it is large enough.
// The contents are unspecified afterwards.
func (m *Image) reshape(c, h, w int) {
	m.C, m.H, m.W = c, h, w
	n := c * h * w
	if cap(m.Pix) < n {
		m.Pix = make([]float32, n)
	}
	m.Pix = m.Pix[:n]
}

// check reports an error when the image's fields disagree with each other.
func (m *Image) check() error {
	if m.C <= 0 || m.H <= 0 || m.W <= 0 || len(m.Pix) != m.C*m.H*m.W {
		return fmt.Errorf("augment: malformed image: %d channels, %d×%d, %d values (want %d)",
			m.C, m.H, m.W, len(m.Pix), max(m.C, 0)*max(m.H, 0)*max(m.W, 0))
	}
	return nil
}

// FromImage converts src into a 3-channel float image with values in
// [0, 1], written into dst (reusing its memory) or into a new image when
// dst is nil, and returns it. Grey images get three equal channels; an
// alpha channel is dropped after compositing over black (the 8-bit
// premultiplied values are used).
func FromImage(dst *Image, src image.Image) *Image {
	if dst == nil {
		dst = new(Image)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst.reshape(3, h, w)
	plane := w * h
	switch s := src.(type) {
	case *image.Gray:
		for y := range h {
			row := s.Pix[(y+b.Min.Y-s.Rect.Min.Y)*s.Stride+(b.Min.X-s.Rect.Min.X):]
			for x := range w {
				v := byteToUnit[row[x]]
				i := y*w + x
				dst.Pix[i] = v
				dst.Pix[plane+i] = v
				dst.Pix[2*plane+i] = v
			}
		}
	case *image.RGBA:
		rgbaToPlanar(dst, s)
	default:
		rgba := image.NewRGBA(image.Rect(0, 0, w, h))
		stddraw.Draw(rgba, rgba.Rect, src, b.Min, stddraw.Src)
		rgbaToPlanar(dst, rgba)
	}
	return dst
}

// byteToUnit[v] is float32(v)/255, correctly rounded.
var byteToUnit = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(v) / 255
	}
	return t
}()

// rgbaToPlanar writes the whole of s (sized dst.H×dst.W) into dst.
func rgbaToPlanar(dst *Image, s *image.RGBA) {
	w, h := dst.W, dst.H
	plane := w * h
	r, g, bl := dst.Pix[:plane], dst.Pix[plane:2*plane], dst.Pix[2*plane:3*plane]
	for y := range h {
		row := s.Pix[y*s.Stride : y*s.Stride+4*w]
		o := y * w
		for x := range w {
			p := row[4*x : 4*x+3 : 4*x+3]
			r[o+x] = byteToUnit[p[0]]
			g[o+x] = byteToUnit[p[1]]
			bl[o+x] = byteToUnit[p[2]]
		}
	}
}

// Resize is the first stage of a [Pipeline]: it brings a decoded image to
// the working size with golang.org/x/image/draw, in 8 bits per channel, and
// converts it to a float [Image]. Exactly one mode is used:
//
//   - Shorter > 0: scale so that the shorter side is Shorter pixels, keeping
//     the aspect ratio (the longer side is rounded to the nearest pixel); with
//     Square also set, keep only the central Shorter×Shorter square. This is
//     the paper's preprocessing: "rescaled the image such that the shorter
//     side was of length 256, and then cropped out the central 256×256
//     patch" (the square is cut from the source before scaling, which is the
//     same up to rounding and cheaper).
//   - Width > 0 and Height > 0: scale to exactly Width×Height, ignoring the
//     aspect ratio (how Fashion-MNIST's 28×28 images are brought to the
//     network's input in the textbook recipe).
//   - the zero value: keep the decoded size.
//
// Interpolator defaults to draw.BiLinear, which widens its kernel when
// shrinking and so does not alias; draw.ApproxBiLinear is faster and fine
// for enlarging.
type Resize struct {
	Shorter       int
	Square        bool
	Width, Height int
	Interpolator  draw.Interpolator
}

// Validate reports whether r names exactly one mode with positive sizes.
func (r Resize) Validate() error {
	switch {
	case r.Shorter < 0 || r.Width < 0 || r.Height < 0:
		return fmt.Errorf("augment: resize %v: negative size", r)
	case r.Shorter > 0 && (r.Width > 0 || r.Height > 0):
		return fmt.Errorf("augment: resize %v: set either Shorter or Width and Height, not both", r)
	case (r.Width > 0) != (r.Height > 0):
		return fmt.Errorf("augment: resize %v: Width and Height must be set together", r)
	case r.Square && r.Shorter == 0:
		return fmt.Errorf("augment: resize %v: Square needs Shorter", r)
	}
	return nil
}

// String describes the resize for logs, e.g. "shorter side 256, centre square".
func (r Resize) String() string {
	switch {
	case r.Shorter > 0 && r.Square:
		return fmt.Sprintf("shorter side %d, centre %d×%d", r.Shorter, r.Shorter, r.Shorter)
	case r.Shorter > 0:
		return fmt.Sprintf("shorter side %d", r.Shorter)
	case r.Width > 0 || r.Height > 0:
		return fmt.Sprintf("resize %d×%d", r.Width, r.Height)
	}
	return "keep size"
}

// OutSize returns the size (height, width) r gives an image of size
// h×w. For the zero Resize that is h×w itself.
func (r Resize) OutSize(h, w int) (int, int) {
	switch {
	case r.Shorter > 0 && r.Square:
		return r.Shorter, r.Shorter
	case r.Shorter > 0:
		if h <= w {
			return r.Shorter, max(1, int(math.Round(float64(w)*float64(r.Shorter)/float64(h))))
		}
		return max(1, int(math.Round(float64(h)*float64(r.Shorter)/float64(w)))), r.Shorter
	case r.Width > 0:
		return r.Height, r.Width
	}
	return h, w
}

// staticSize is the output size known without seeing an image (0, 0 when
// it depends on the image).
func (r Resize) staticSize() (int, int) {
	switch {
	case r.Shorter > 0 && r.Square:
		return r.Shorter, r.Shorter
	case r.Width > 0:
		return r.Height, r.Width
	}
	return 0, 0
}

// Apply resizes src as r says and writes the float result into dst
// (reusing its memory), which it returns. s holds reusable buffers; nil is
// allowed. An empty source image is an error.
func (r Resize) Apply(dst *Image, src image.Image, s *Scratch) (*Image, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if s == nil {
		s = new(Scratch)
	}
	if dst == nil {
		dst = new(Image)
	}
	b := src.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("augment: %v: empty image %v", r, b)
	}
	sr := b
	if r.Square {
		side := min(b.Dx(), b.Dy())
		x0 := b.Min.X + (b.Dx()-side)/2
		y0 := b.Min.Y + (b.Dy()-side)/2
		sr = image.Rect(x0, y0, x0+side, y0+side)
	}
	h, w := r.OutSize(sr.Dy(), sr.Dx())
	if h == sr.Dy() && w == sr.Dx() {
		// Nothing to scale: convert the (possibly cropped) source directly.
		if sub, ok := src.(interface {
			SubImage(image.Rectangle) image.Image
		}); ok && sr != b {
			src = sub.SubImage(sr)
		} else if sr != b {
			s.rgba = resizeRGBA(s.rgba, w, h)
			stddraw.Draw(s.rgba, s.rgba.Rect, src, sr.Min, stddraw.Src)
			src = s.rgba
		}
		return FromImage(dst, src), nil
	}
	s.rgba = resizeRGBA(s.rgba, w, h)
	q := r.Interpolator
	if q == nil {
		q = draw.BiLinear
	}
	if k, ok := q.(*draw.Kernel); ok {
		// A Scaler reuses its buffers; keep one per size (fixed-size data
		// sets need just one).
		key := scalerKey{k, w, h, sr.Dx(), sr.Dy()}
		sc := s.scalers[key]
		if sc == nil {
			if s.scalers == nil || len(s.scalers) >= 8 {
				s.scalers = make(map[scalerKey]draw.Scaler)
			}
			sc = k.NewScaler(w, h, sr.Dx(), sr.Dy())
			s.scalers[key] = sc
		}
		sc.Scale(s.rgba, s.rgba.Rect, src, sr, draw.Src, nil)
	} else {
		q.Scale(s.rgba, s.rgba.Rect, src, sr, draw.Src, nil)
	}
	dst.reshape(3, h, w)
	rgbaToPlanar(dst, s.rgba)
	return dst, nil
}

type scalerKey struct {
	k              *draw.Kernel
	dw, dh, sw, sh int
}

// resizeRGBA returns an RGBA image of w×h at the origin, reusing m's memory.
func resizeRGBA(m *image.RGBA, w, h int) *image.RGBA {
	n := 4 * w * h
	if m == nil || cap(m.Pix) < n {
		return image.NewRGBA(image.Rect(0, 0, w, h))
	}
	m.Pix = m.Pix[:n]
	m.Stride = 4 * w
	m.Rect = image.Rect(0, 0, w, h)
	return m
}
