//go:build onednn

package onednn

// Local response normalisation: oneDNN's LRN primitives across channels,
// made for the layout of the first input they see.

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// lrnPlan is an LRN: the shim's forward and backward primitives, made for
// the layout of the input, with the forward's workspace (the scales) kept
// for the backward. The rulebook calls Backward only with the x and y of
// the latest successful Forward, whose workspace the shim holds.
type lrnPlan struct {
	e *engine
	d backend.LRNDesc
	p *C.dno_lrn // nil once freed
}

// LRN plans local response normalisation across channels with oneDNN's
// primitive, made for the layout of the first input it sees.
func (e *engine) LRN(d backend.LRNDesc) (driver.LRNPlan[*tensor], error) {
	p := &lrnPlan{e: e, d: d}
	// oneDNN's alpha is the frameworks' alpha (it divides by the size itself).
	rc := C.dno_lrn_create(e.c, &p.p, C.int64_t(d.Size), C.float(d.Alpha), C.float(d.Beta), C.float(d.K), cbool(d.Inference))
	if err := check(e, rc, "lrn", d); err != nil {
		p.free()
		return nil, err
	}
	e.track(p)
	return p, nil
}

func (p *lrnPlan) free() {
	C.dno_lrn_destroy(p.p)
	p.p = nil
}

// Close frees the plan's primitives and workspace.
func (p *lrnPlan) Close() error { return p.e.drop(p) }

func (p *lrnPlan) Forward(x, y *tensor) error {
	return check(p.e, C.dno_lrn_forward(p.e.c, p.p, x.t, y.t), "lrn.forward", p.d)
}

// Backward reads the workspace of the latest forward, whose x it is given.
func (p *lrnPlan) Backward(x, _, dy, dx *tensor) error {
	return check(p.e, C.dno_lrn_backward(p.e.c, p.p, x.t, dy.t, dx.t), "lrn.backward", p.d)
}
