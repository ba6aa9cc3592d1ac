//go:build onednn

package onednn

// Tensors: host memory owned by the shim, in whatever layout the plans
// that used it last wanted (the layouts are the shim's business: see
// tensor.c).

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"unsafe"

	"github.com/dnngo/dnngo/backend"
)

// tensor is a shim tensor of one logical shape.
type tensor struct {
	e     *engine
	shape backend.Shape
	n     int
	t     *C.dno_tensor
}

// Close frees the tensor's memory.
func (t *tensor) Close() error { return t.e.drop(t) }

func (t *tensor) free() {
	C.dno_tensor_destroy(t.t)
	t.t = nil
	t.e.release(4 * int64(t.n))
}

// NewTensor allocates a zero-filled tensor in the plain layout, counted
// against the memory budget at its dense size.
func (e *engine) NewTensor(s backend.Shape) (*tensor, error) {
	const op = "new tensor"
	d := dims(s)
	t := &tensor{e: e, shape: s, n: s.Numel()}
	if err := e.reserve(op, "a tensor "+s.String(), 4*int64(t.n)); err != nil {
		return nil, err
	}
	if err := check(e, C.dno_tensor_create(e.c, &t.t, C.int(len(s)), &d[0]), op, s); err != nil {
		e.release(4 * int64(t.n))
		return nil, err
	}
	e.track(t)
	return t, nil
}

// Upload copies src into dst, which takes the plain layout; the next plan
// that wants another layout reorders it once.
func (e *engine) Upload(dst *tensor, src []float32) error {
	return check(e, C.dno_upload(e.c, dst.t, (*C.float)(unsafe.Pointer(&src[0]))), "upload", dst.shape)
}

// Download copies src into dst in the dense row-major order of its logical
// shape, reordering from a blocked layout where needed.
func (e *engine) Download(dst []float32, src *tensor) error {
	return check(e, C.dno_download(e.c, src.t, (*C.float)(unsafe.Pointer(&dst[0]))), "download", src.shape)
}

// handle is the shim's handle of t, or nil for an absent optional tensor
// (a bias, its gradient, dlogits).
func handle(t *tensor) *C.dno_tensor {
	if t == nil {
		return nil
	}
	return t.t
}
