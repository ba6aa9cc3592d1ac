//go:build onednn

package onednn

// Max pooling: oneDNN's pooling primitives, made for the layout of the
// first input they see.

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// poolPlan is max pooling: the shim's forward and backward primitives,
// made for the layout of the input, with the forward's workspace (the
// argmax) kept for the backward. The rulebook calls Backward only with the
// x and y of the latest successful Forward, whose workspace the shim
// holds.
type poolPlan struct {
	e *engine
	d backend.PoolDesc
	p *C.dno_pool // nil once freed
}

// MaxPool plans max pooling with oneDNN's primitive, made for the layout
// of the first input it sees.
func (e *engine) MaxPool(d backend.PoolDesc) (driver.PoolPlan[*tensor], error) {
	p := &poolPlan{e: e, d: d}
	x, y := dims(d.Input), dims(d.OutputShape())
	rc := C.dno_pool_create(e.c, &p.p, &x[0], &y[0], C.int64_t(d.KernelH), C.int64_t(d.KernelW),
		C.int64_t(d.StrideH), C.int64_t(d.StrideW), C.int64_t(d.PadH), C.int64_t(d.PadW), cbool(d.Inference))
	if err := check(e, rc, "maxpool2d", d); err != nil {
		p.free()
		return nil, err
	}
	e.track(p)
	return p, nil
}

func (p *poolPlan) free() {
	C.dno_pool_destroy(p.p)
	p.p = nil
}

// Close frees the plan's primitives and workspace.
func (p *poolPlan) Close() error { return p.e.drop(p) }

func (p *poolPlan) Forward(x, y *tensor) error {
	return check(p.e, C.dno_pool_forward(p.e.c, p.p, x.t, y.t), "maxpool2d.forward", p.d)
}

// Backward routes dy through the argmax of the latest forward.
func (p *poolPlan) Backward(_, _, dy, dx *tensor) error {
	return check(p.e, C.dno_pool_backward(p.e.c, p.p, dy.t, dx.t), "maxpool2d.backward", p.d)
}
