//go:build onednn

package onednn

// Convolution: oneDNN's convolution primitives with bias and ReLU fused as
// post-ops, and Impl, which names the kernels a plan runs.

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// convPlan is a convolution: the shim's forward primitive, and the
// backward ones made on their first use.
type convPlan struct {
	e *engine
	d backend.ConvDesc
	p *C.dno_conv // nil once freed
}

// Conv plans a convolution: forward with bias and ReLU fused as post-ops;
// the backward primitives are made on their first use.
func (e *engine) Conv(d backend.ConvDesc) (driver.WeightPlan[*tensor], error) {
	p := &convPlan{e: e, d: d}
	x := dims(d.Input)
	rc := C.dno_conv_create(e.c, &p.p, &x[0], C.int64_t(d.Out), C.int64_t(d.KernelH), C.int64_t(d.KernelW),
		C.int64_t(d.StrideH), C.int64_t(d.StrideW), C.int64_t(d.PadH), C.int64_t(d.PadW), C.int64_t(d.Groups),
		cbool(d.Bias), cbool(d.ReLU), cbool(d.Inference))
	if err := check(e, rc, "conv2d", d); err != nil {
		p.free()
		return nil, err
	}
	e.track(p)
	return p, nil
}

func (p *convPlan) free() {
	C.dno_conv_destroy(p.p)
	p.p = nil
}

// Close frees the plan's primitives.
func (p *convPlan) Close() error { return p.e.drop(p) }

func (p *convPlan) Forward(x, w, b, y *tensor) error {
	return check(p.e, C.dno_conv_forward(p.e.c, p.p, x.t, w.t, handle(b), y.t), "conv2d.forward", p.d)
}

func (p *convPlan) BackwardData(dy, w, dx *tensor) error {
	return check(p.e, C.dno_conv_backward_data(p.e.c, p.p, dy.t, w.t, dx.t), "conv2d.backward_data", p.d)
}

func (p *convPlan) BackwardFilter(x, dy, dw, db *tensor) error {
	return check(p.e, C.dno_conv_backward_filter(p.e.c, p.p, x.t, dy.t, dw.t, handle(db)), "conv2d.backward_filter", p.d)
}

// Impl names the oneDNN implementations a convolution plan of this backend
// runs ("fwd brg:avx512_core, bwd data -, ..."; a backward primitive is
// named once it has run), for benchmarks and debugging; "" for other plans
// and for a closed plan or backend.
func Impl(p backend.WeightPlan) string {
	d, ok := driver.Unwrap(p)
	if !ok {
		return ""
	}
	c, ok := d.(*convPlan)
	if !ok || c.p == nil || c.e.c == nil {
		return ""
	}
	var buf [256]C.char
	C.dno_conv_impl(c.p, &buf[0], C.size_t(len(buf)))
	return C.GoString(&buf[0])
}
