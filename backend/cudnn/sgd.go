//go:build cudnn

// The SGD update: cuBLAS geam and axpys (dn_sgd in shim.c).

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// SGD plans the momentum update with cuBLAS (geam and two axpys, see
// dn_sgd in shim.c) on float32 parameters, gradients and velocities.
func (b *engine) SGD(backend.Shape) (driver.SGDPlan[*tensor], error) {
	p := &sgdPlan{}
	p.plan = b.newPlan(func() {})
	p.register()
	return p, nil
}

type sgdPlan struct {
	plan
}

// Step updates param and velocity in place: the paper's rule when hp.Rule
// is backend.PaperSGD, else PyTorch's.
func (p *sgdPlan) Step(param, grad, velocity *tensor, hp backend.SGDParams) error {
	const op = "sgd.step"
	b := p.b
	gp, err := b.readFloat(op, grad)
	if err != nil {
		return err
	}
	wp, err := b.readFloat(op, param)
	if err != nil {
		return err
	}
	vp, err := b.readFloat(op, velocity)
	if err != nil {
		return err
	}
	b.writeFloat(param)
	b.writeFloat(velocity)
	paper := C.int(0)
	if hp.Rule == backend.PaperSGD {
		paper = 1
	}
	return b.statusErr(C.dn_sgd(b.c, C.int(param.n), paper, C.float(hp.LR), C.float(hp.Momentum), C.float(hp.WeightDecay), wp, gp, vp), op)
}
