package cpu

// Inverted dropout: the mask drawn from the seed and the element index.

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// Dropout plans inverted dropout.
func (b *engine) Dropout(d backend.DropoutDesc) (driver.DropoutPlan[*tensor], error) {
	if err := b.mem.Reserve("dropout", "the mask of "+d.Shape.String(), int64(d.Shape.Numel())); err != nil {
		return nil, err
	}
	p := &dropoutPlan{plan: plan{b: b}, mask: make([]bool, d.Shape.Numel()),
		scale: float32(1 / (1 - d.P)), threshold: backend.DropoutThreshold(d.P)}
	p.fwd, p.bwd = newLoop(b, p.forward), newLoop(b, p.backward)
	return p, nil
}

type dropoutPlan struct {
	plan
	scale     float32
	threshold uint32
	mask      []bool
	seed      uint64
	x, y      []float32
	fwd, bwd  *loop
}

func (p *dropoutPlan) Forward(x, y *tensor, seed uint64) error {
	p.x, p.y, p.seed = x.data, y.out(), seed
	p.fwd.do(len(p.x))
	return nil
}

func (p *dropoutPlan) forward(lo, hi int) {
	for i := lo; i < hi; i++ {
		keep := backend.DropoutBits(p.seed, i) >= p.threshold
		p.mask[i] = keep
		if keep {
			p.y[i] = p.x[i] * p.scale
		} else {
			p.y[i] = 0
		}
	}
}

func (p *dropoutPlan) Backward(dy, dx *tensor) error {
	p.x, p.y = dy.data, dx.out()
	p.bwd.do(len(p.x))
	return nil
}

func (p *dropoutPlan) backward(lo, hi int) {
	for i := lo; i < hi; i++ {
		if p.mask[i] {
			p.y[i] = p.x[i] * p.scale
		} else {
			p.y[i] = 0
		}
	}
}

func (p *dropoutPlan) Close() error {
	if p.mask != nil {
		p.b.mem.Release(int64(len(p.mask)))
	}
	p.mask = nil
	return nil
}
