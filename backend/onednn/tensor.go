//go:build onednn

package onednn

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"unsafe"

	"github.com/dnngo/dnngo/backend"
)

// tensor is host memory owned by the shim, in whatever layout the plans
// that used it last wanted.
type tensor struct {
	b     *Backend
	shape backend.Shape
	n     int
	t     *C.dno_tensor // nil once closed
}

func (t *tensor) Shape() backend.Shape { return t.shape }

// Close frees the tensor's memory. Closing twice is harmless.
func (t *tensor) Close() error {
	if t.t != nil {
		t.free()
		t.b.untrack(t)
	}
	return nil
}

func (t *tensor) free() {
	C.dno_tensor_destroy(t.t)
	t.t = nil
	t.b.release(4 * int64(t.n))
}

// NewTensor allocates a zero-filled tensor in the plain layout.
func (b *Backend) NewTensor(shape ...int) (backend.Tensor, error) {
	const op = "new tensor"
	if err := b.checkOpen(op); err != nil {
		return nil, err
	}
	s := backend.Shape(shape).Clone()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	d := dims(s)
	t := &tensor{b: b, shape: s, n: s.Numel()}
	if err := b.reserve(op, "a tensor "+s.String(), 4*int64(t.n)); err != nil {
		return nil, err
	}
	if err := check(b, C.dno_tensor_create(b.c, &t.t, C.int(len(s)), &d[0]), op, s); err != nil {
		b.release(4 * int64(t.n))
		return nil, err
	}
	b.track(t)
	return t, nil
}

// Upload copies src into dst, which takes the plain layout; the next plan
// that wants another layout reorders it once.
func (b *Backend) Upload(dst backend.Tensor, src []float32) error {
	const op = "upload"
	t, err := b.get(op, "dst", dst, nil)
	if err != nil {
		return err
	}
	if len(src) != t.n {
		return backend.Errorf(op, backend.ErrShape, "source has %d values, tensor %v holds %d", len(src), t.shape, t.n)
	}
	return check(b, C.dno_upload(b.c, t.t, (*C.float)(unsafe.Pointer(&src[0]))), op, t.shape)
}

// Download copies src into dst in the dense row-major order of its logical
// shape, reordering from a blocked layout where needed.
func (b *Backend) Download(dst []float32, src backend.Tensor) error {
	const op = "download"
	t, err := b.get(op, "src", src, nil)
	if err != nil {
		return err
	}
	if len(dst) != t.n {
		return backend.Errorf(op, backend.ErrShape, "destination has room for %d values, tensor %v holds %d", len(dst), t.shape, t.n)
	}
	return check(b, C.dno_download(b.c, t.t, (*C.float)(unsafe.Pointer(&dst[0]))), op, t.shape)
}

// get resolves a tensor argument: non-nil, made by this open backend, not
// closed, and (when want is not nil) of shape want.
func (b *Backend) get(op, arg string, x backend.Tensor, want backend.Shape) (*tensor, error) {
	if b.closed {
		return nil, backend.Errorf(op, backend.ErrClosed, "backend is closed")
	}
	if x == nil {
		return nil, backend.Errorf(op, backend.ErrNil, "%s is nil", arg)
	}
	t, ok := x.(*tensor)
	if !ok || t.b != b {
		return nil, backend.Errorf(op, backend.ErrForeign, "%s (%T) was not made by this onednn backend", arg, x)
	}
	if t.t == nil {
		return nil, backend.Errorf(op, backend.ErrClosed, "%s %v is closed", arg, t.shape)
	}
	if want != nil {
		if err := backend.CheckShape(op, arg, t.shape, want); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// ptr is the shim's handle of t, or nil for a nil tensor (an absent bias).
func ptr(t *tensor) *C.dno_tensor {
	if t == nil {
		return nil
	}
	return t.t
}

// arg is t as a backend.Tensor for backend.CheckAliases: nil (not a typed
// nil pointer) when t is nil.
func arg(t *tensor) backend.Tensor {
	if t == nil {
		return nil
	}
	return t
}
