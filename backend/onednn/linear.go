//go:build onednn

package onednn

// Fully connected layers: oneDNN's inner product, with bias and ReLU fused
// as post-ops.

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// linearPlan is a fully connected layer: the shim's inner-product
// primitives, made for the input flattened to 2-D (see the shim).
type linearPlan struct {
	e *engine
	d backend.LinearDesc
	p *C.dno_linear // nil once freed
}

// Linear plans a fully connected layer on oneDNN's inner product, reading
// a 4-D input in its own (blocked) layout.
func (e *engine) Linear(d backend.LinearDesc) (driver.WeightPlan[*tensor], error) {
	p := &linearPlan{e: e, d: d}
	x := dims(d.Input)
	rc := C.dno_linear_create(e.c, &p.p, C.int(len(d.Input)), &x[0], C.int64_t(d.Out), cbool(d.Bias), cbool(d.ReLU),
		cbool(d.Inference))
	if err := check(e, rc, "linear", d); err != nil {
		p.free()
		return nil, err
	}
	e.track(p)
	return p, nil
}

func (p *linearPlan) free() {
	C.dno_linear_destroy(p.p)
	p.p = nil
}

// Close frees the plan's primitives.
func (p *linearPlan) Close() error { return p.e.drop(p) }

func (p *linearPlan) Forward(x, w, b, y *tensor) error {
	return check(p.e, C.dno_linear_forward(p.e.c, p.p, x.t, w.t, handle(b), y.t), "linear.forward", p.d)
}

func (p *linearPlan) BackwardData(dy, w, dx *tensor) error {
	return check(p.e, C.dno_linear_backward_data(p.e.c, p.p, dy.t, w.t, dx.t), "linear.backward_data", p.d)
}

func (p *linearPlan) BackwardFilter(x, dy, dw, db *tensor) error {
	return check(p.e, C.dno_linear_backward_filter(p.e.c, p.p, x.t, dy.t, dw.t, handle(db)), "linear.backward_filter", p.d)
}
