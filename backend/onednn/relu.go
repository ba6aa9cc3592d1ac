//go:build onednn

package onednn

// ReLU: an OpenMP loop in the shim, in whatever layout its tensors have.

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// reluPlan is max(x, 0) over tensors of one shape; it holds no C state.
type reluPlan struct {
	e     *engine
	shape backend.Shape
}

// ReLU plans max(x, 0), in any layout.
func (e *engine) ReLU(s backend.Shape) (driver.ReLUPlan[*tensor], error) {
	return &reluPlan{e: e, shape: s}, nil
}

// Close releases nothing: the plan holds no memory.
func (p *reluPlan) Close() error { return nil }

func (p *reluPlan) Forward(x, y *tensor) error {
	return check(p.e, C.dno_relu_forward(p.e.c, x.t, y.t), "relu.forward", p.shape)
}

func (p *reluPlan) Backward(y, dy, dx *tensor) error {
	return check(p.e, C.dno_relu_backward(p.e.c, y.t, dy.t, dx.t), "relu.backward", p.shape)
}
