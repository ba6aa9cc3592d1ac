package cpu

// ReLU: y = max(x, 0) and its mask backward, on the worker pool.

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/vec"
	"github.com/dnngo/dnngo/backend/driver"
)

// ReLU plans y = max(x, 0).
func (b *engine) ReLU(s backend.Shape) (driver.ReLUPlan[*tensor], error) {
	p := &reluPlan{plan: plan{b: b}}
	p.fwd, p.bwd = newLoop(b, p.forward), newLoop(b, p.backward)
	return p, nil
}

// reluPlan holds the operands of the running call for its parallel
// bodies: x and y for the forward, y (the mask), dy and dx for the
// backward.
type reluPlan struct {
	plan
	x, y, dy, dx []float32
	fwd, bwd     *loop
}

func (p *reluPlan) Forward(x, y *tensor) error {
	p.x, p.y = x.data, y.out()
	p.fwd.do(len(p.x))
	return nil
}

func (p *reluPlan) forward(lo, hi int) { vec.ReLU(p.y[lo:hi], p.x[lo:hi]) }

func (p *reluPlan) Backward(y, dy, dx *tensor) error {
	p.y, p.dy, p.dx = y.data, dy.data, dx.out()
	p.bwd.do(len(p.dx))
	return nil
}

func (p *reluPlan) backward(lo, hi int) { vec.ReLUMask(p.dx[lo:hi], p.dy[lo:hi], p.y[lo:hi]) }
