//go:build onednn

package onednn

// The momentum SGD update: one pass over param, grad and velocity in the
// shim, in the parameter's (possibly blocked) layout.

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// sgdPlan updates parameters of one shape; it holds no C state.
type sgdPlan struct {
	e     *engine
	shape backend.Shape
}

// SGD plans the momentum SGD update, element-wise in the parameter's
// (possibly blocked) layout.
func (e *engine) SGD(s backend.Shape) (driver.SGDPlan[*tensor], error) {
	return &sgdPlan{e: e, shape: s}, nil
}

// Close releases nothing: the plan holds no memory.
func (p *sgdPlan) Close() error { return nil }

func (p *sgdPlan) Step(param, grad, velocity *tensor, hp backend.SGDParams) error {
	rc := C.dno_sgd(p.e.c, param.t, grad.t, velocity.t, C.float(hp.LR), C.float(hp.Momentum), C.float(hp.WeightDecay), C.int(hp.Rule))
	return check(p.e, rc, "sgd.step", p.shape)
}
