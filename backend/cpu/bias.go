package cpu

// Bias add and its gradient, per channel.

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// BiasAdd plans y = x + b per channel.
func (b *engine) BiasAdd(d backend.BiasDesc) (driver.BiasPlan[*tensor], error) {
	return &biasPlan{plan: plan{b: b}, inner: d.Shape[2:].Numel()}, nil
}

type biasPlan struct {
	plan
	inner int // elements per (image, channel)
}

func (p *biasPlan) Forward(x, bias, y *tensor) error {
	addBias(x.data, bias.data, y.out(), p.inner, false)
	return nil
}

// addBias computes y = x + b[c] (then max(·, 0) when relu) over rows of
// inner elements, channel c = row mod len(b).
func addBias(x, b, y []float32, inner int, relu bool) {
	c := len(b)
	for r := 0; r*inner < len(x); r++ {
		bv := b[r%c]
		xs, ys := x[r*inner:(r+1)*inner], y[r*inner:(r+1)*inner]
		if relu {
			for i, v := range xs {
				ys[i] = max(v+bv, 0)
			}
		} else {
			for i, v := range xs {
				ys[i] = v + bv
			}
		}
	}
}

func (p *biasPlan) Backward(dy, db *tensor) error {
	biasGrad(dy.data, db.out(), p.inner)
	return nil
}

// biasGrad computes db[c] = Σ dy over rows of inner elements whose channel
// is c, summing each row in float64.
func biasGrad(dy, db []float32, inner int) {
	c := len(db)
	for i := range db {
		db[i] = 0
	}
	for r := 0; r*inner < len(dy); r++ {
		var s float64
		for _, v := range dy[r*inner : (r+1)*inner] {
			s += float64(v)
		}
		db[r%c] += float32(s)
	}
}
