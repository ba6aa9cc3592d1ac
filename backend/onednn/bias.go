//go:build onednn

package onednn

// Bias add (a plan of its own, for layers that do not fuse it): an OpenMP
// loop in the shim, on the plain layout.

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// biasPlan adds a per-channel bias; it holds no C state.
type biasPlan struct {
	e *engine
	d backend.BiasDesc
}

// BiasAdd plans a per-channel bias addition.
func (e *engine) BiasAdd(d backend.BiasDesc) (driver.BiasPlan[*tensor], error) {
	return &biasPlan{e: e, d: d}, nil
}

// Close releases nothing: the plan holds no memory.
func (p *biasPlan) Close() error { return nil }

func (p *biasPlan) Forward(x, b, y *tensor) error {
	return check(p.e, C.dno_bias_forward(p.e.c, x.t, b.t, y.t), "bias.forward", p.d.Shape)
}

func (p *biasPlan) Backward(dy, db *tensor) error {
	return check(p.e, C.dno_bias_backward(p.e.c, dy.t, db.t), "bias.backward", p.d.Shape)
}
