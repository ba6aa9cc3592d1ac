package cpu

import "github.com/dnngo/dnngo/backend"

// weightLayer is what convolution and fully connected plans share: the
// shapes of x, y and w.
type weightLayer struct {
	plan
	xs, ys, ws backend.Shape
}

// slice is t's data, or nil for an absent optional tensor (a bias).
func (t *tensor) slice() []float32 {
	if t == nil {
		return nil
	}
	return t.data
}
