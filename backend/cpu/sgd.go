package cpu

// The momentum SGD update (both rules), one vectorised pass.

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/vec"
	"github.com/dnngo/dnngo/backend/driver"
)

// SGD plans the momentum SGD update of parameters of one shape.
func (b *engine) SGD(s backend.Shape) (driver.SGDPlan[*tensor], error) {
	p := &sgdPlan{plan: plan{b: b}}
	p.loop = newLoop(b, p.update)
	return p, nil
}

type sgdPlan struct {
	plan
	w, g, v []float32
	hp      backend.SGDParams
	loop    *loop
}

func (p *sgdPlan) Step(param, grad, velocity *tensor, hp backend.SGDParams) error {
	p.w, p.g, p.v, p.hp = param.out(), grad.data, velocity.out(), hp
	p.loop.do(len(p.w))
	return nil
}

func (p *sgdPlan) update(lo, hi int) {
	w, g, v := p.w[lo:hi], p.g[lo:hi], p.v[lo:hi]
	if p.hp.Rule == backend.PaperSGD {
		vec.SGDPaper(w, g, v, p.hp.LR, p.hp.Momentum, p.hp.WeightDecay)
		return
	}
	vec.SGDTorch(w, g, v, p.hp.LR, p.hp.Momentum, p.hp.WeightDecay)
}
