//go:build cudnn

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
)

// SGD plans the momentum update with cuBLAS (geam and two axpys, see
// dn_sgd in shim.c) on float32 parameters, gradients and velocities.
func (b *Backend) SGD(s backend.Shape) (backend.SGDPlan, error) {
	const op = "sgd"
	if err := b.checkOpen(op); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, backend.Errorf(op, backend.ErrShape, "shape %v, want 1 to %d dimensions, each ≥ 1", s, backend.MaxRank)
	}
	p := &sgdPlan{shape: s.Clone()}
	p.plan = b.newPlan(func() {})
	p.register()
	return p, nil
}

type sgdPlan struct {
	plan
	shape backend.Shape
}

func (p *sgdPlan) Step(param, grad, velocity backend.Tensor, hp backend.SGDParams) error {
	const op = "sgd.step"
	if err := p.check(op); err != nil {
		return err
	}
	if err := hp.Validate(); err != nil {
		return err
	}
	b := p.b
	wt, err := b.get(op, "param", param, p.shape)
	if err != nil {
		return err
	}
	gt, err := b.get(op, "grad", grad, p.shape)
	if err != nil {
		return err
	}
	vt, err := b.get(op, "velocity", velocity, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.SGDStep, wt, gt, vt); err != nil {
		return err
	}
	gp, err := b.readFloat(op, gt)
	if err != nil {
		return err
	}
	wp, err := b.readFloat(op, wt)
	if err != nil {
		return err
	}
	vp, err := b.readFloat(op, vt)
	if err != nil {
		return err
	}
	b.writeFloat(wt)
	b.writeFloat(vt)
	paper := C.int(0)
	switch hp.Rule {
	case backend.PaperSGD:
		paper = 1
	case backend.PyTorchSGD:
	default:
		return backend.Errorf(op, backend.ErrInvalid, "unknown rule %v", hp.Rule)
	}
	return b.statusErr(C.dn_sgd(b.c, C.int(wt.n), paper, C.float(hp.LR), C.float(hp.Momentum), C.float(hp.WeightDecay), wp, gp, vp), op)
}
