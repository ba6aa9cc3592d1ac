//go:build onednn

package onednn

// Dropout: the contract's counter-based mask, drawn and applied by an
// OpenMP loop in the shim, on the plain layout.

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"unsafe"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// dropoutPlan keeps its mask (one byte per element, counted against the
// memory budget) in Go memory that the shim writes and reads during the
// call.
type dropoutPlan struct {
	e         *engine
	shape     backend.Shape
	mask      []uint8
	scale     float32
	threshold uint32
}

// Dropout plans inverted dropout with the contract's counter-based mask.
func (e *engine) Dropout(d backend.DropoutDesc) (driver.DropoutPlan[*tensor], error) {
	n := d.Shape.Numel()
	if err := e.reserve("dropout", "the mask of "+d.Shape.String(), int64(n)); err != nil {
		return nil, err
	}
	p := &dropoutPlan{e: e, shape: d.Shape.Clone(), mask: make([]uint8, n),
		scale: float32(1 / (1 - d.P)), threshold: backend.DropoutThreshold(d.P)}
	e.track(p)
	return p, nil
}

func (p *dropoutPlan) free() {
	p.e.release(int64(len(p.mask)))
	p.mask = nil
}

// Close gives the mask's bytes back to the budget.
func (p *dropoutPlan) Close() error { return p.e.drop(p) }

func (p *dropoutPlan) Forward(x, y *tensor, seed uint64) error {
	rc := C.dno_dropout_forward(p.e.c, x.t, y.t, (*C.uint8_t)(unsafe.Pointer(&p.mask[0])), C.uint64_t(seed),
		C.uint32_t(p.threshold), C.float(p.scale))
	return check(p.e, rc, "dropout.forward", p.shape)
}

func (p *dropoutPlan) Backward(dy, dx *tensor) error {
	rc := C.dno_dropout_backward(p.e.c, dy.t, dx.t, (*C.uint8_t)(unsafe.Pointer(&p.mask[0])), C.float(p.scale))
	return check(p.e, rc, "dropout.backward", p.shape)
}
