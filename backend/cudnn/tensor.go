//go:build cudnn

// Tensors (a float32 master copy and, in the 16-bit modes, a lazily made
// half copy), NewTensor, Upload and Download, and what every plan shares:
// the plan base and the cuDNN descriptors it owns.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"unsafe"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// tensor is device memory holding a dense row-major float32 array (the
// master copy) and, in the BF16/FP16 modes, a lazily made 16-bit copy. A
// flag per copy says whether it holds the current value; a step that
// writes one copy invalidates the other, and a step that reads a stale
// copy converts first.
type tensor struct {
	b            *engine
	shape        backend.Shape
	n            int
	f, h         C.dn_dptr                    // float32 and 16-bit buffers (h is 0 until needed)
	fc, hc       uint64                       // their pool classes
	floatCurrent bool                         // f holds the current value
	halfCurrent  bool                         // h holds the current value
	fd, hd       C.dn_cudnnTensorDescriptor_t // 1×n×1×1 descriptors for conversions
}

// Close gives the tensor's memory back to the backend's pool.
func (t *tensor) Close() error {
	b := t.b
	t.releaseDescs()
	b.release(t.f, t.fc)
	b.release(t.h, t.hc)
	t.f, t.h = 0, 0
	delete(b.tensors, t)
	return nil
}

func (t *tensor) releaseDescs() {
	C.dn_tensor_desc_destroy(t.b.c, t.fd)
	C.dn_tensor_desc_destroy(t.b.c, t.hd)
	t.fd, t.hd = nil, nil
}

// NewTensor allocates a zero-filled float32 tensor on the GPU.
func (b *engine) NewTensor(s backend.Shape) (*tensor, error) {
	n := s.Numel()
	p, cls, err := b.alloc(uint64(4 * n))
	if err != nil {
		return nil, err
	}
	t := &tensor{b: b, shape: s, n: n, f: p, fc: cls, floatCurrent: true}
	if err := b.statusErr(C.dn_zero(b.c, p, C.size_t(n)), "new tensor"); err != nil {
		b.release(p, cls)
		return nil, err
	}
	b.tensors[t] = struct{}{}
	return t, nil
}

// Upload copies src into dst through a pinned staging buffer; the copy to
// the GPU runs asynchronously on the stream.
func (b *engine) Upload(dst *tensor, src []float32) error {
	if err := b.upload("upload", dst.f, unsafe.Pointer(&src[0]), uint64(4*dst.n)); err != nil {
		return err
	}
	dst.floatCurrent, dst.halfCurrent = true, false
	return nil
}

// Download waits for the work that writes src and copies it into dst.
func (b *engine) Download(dst []float32, src *tensor) error {
	const op = "download"
	p, err := b.readFloat(op, src)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_download(b.c, unsafe.Pointer(&dst[0]), p, C.size_t(4*src.n)), op)
}

// readFloat returns the float32 buffer of t, converting from the 16-bit copy if
// that holds the current value.
func (b *engine) readFloat(op string, t *tensor) (C.dn_dptr, error) {
	if !t.floatCurrent {
		if err := b.convert(op, t, false); err != nil {
			return 0, err
		}
	}
	return t.f, nil
}

// writeFloat returns the float32 buffer of t for a step that writes it.
func (b *engine) writeFloat(t *tensor) C.dn_dptr {
	t.floatCurrent, t.halfCurrent = true, false
	return t.f
}

// readHalf returns the 16-bit buffer of t, converting from float32 if needed.
func (b *engine) readHalf(op string, t *tensor) (C.dn_dptr, error) {
	if !t.halfCurrent {
		if err := b.convert(op, t, true); err != nil {
			return 0, err
		}
	}
	return t.h, nil
}

// writeHalf returns the 16-bit buffer of t for a step that writes it.
func (b *engine) writeHalf(op string, t *tensor) (C.dn_dptr, error) {
	if err := b.halfBuf(t); err != nil {
		return 0, err
	}
	t.floatCurrent, t.halfCurrent = false, true
	return t.h, nil
}

func (b *engine) halfBuf(t *tensor) error {
	if t.h == 0 {
		p, cls, err := b.alloc(uint64(2 * t.n))
		if err != nil {
			return err
		}
		t.h, t.hc = p, cls
	}
	return nil
}

// convert brings one copy of t up to date from the other with
// cudnnTransformTensor.
func (b *engine) convert(op string, t *tensor, toHalf bool) error {
	if !b.hasHalf {
		return driver.Errorf(op, backend.ErrState, "tensor %v has no current value", t.shape)
	}
	if err := b.halfBuf(t); err != nil {
		return err
	}
	if t.fd == nil {
		if err := b.statusErr(C.dn_tensor_desc(b.c, &t.fd, C.DN_CUDNN_DATA_FLOAT, 1, C.int(t.n), 1, 1), op); err != nil {
			return err
		}
		if err := b.statusErr(C.dn_tensor_desc(b.c, &t.hd, b.halfDNN, 1, C.int(t.n), 1, 1), op); err != nil {
			return err
		}
	}
	if toHalf {
		if err := b.statusErr(C.dn_transform(b.c, t.fd, t.f, t.hd, t.h), op); err != nil {
			return err
		}
		t.halfCurrent = true
		return nil
	}
	if err := b.statusErr(C.dn_transform(b.c, t.hd, t.h, t.fd, t.f), op); err != nil {
		return err
	}
	t.floatCurrent = true
	return nil
}

// plan is what every plan embeds: its backend and what to release
// (descriptors, buffers) when it or the backend closes.
type plan struct {
	b       *engine
	release func()
}

func (b *engine) newPlan(release func()) plan {
	return plan{b: b, release: release}
}

func (p *plan) register() { p.b.plans[p] = struct{}{} }

// Close releases the plan's descriptors and buffers.
func (p *plan) Close() error {
	delete(p.b.plans, p)
	p.release()
	return nil
}

// weightBase is what convolution and fully connected plans embed: they
// compute on the 16-bit copies of their tensors in the BF16/FP16 modes,
// else on float32.
type weightBase struct {
	plan
	half bool // x, w, y in the 16-bit type
}

// read returns the buffer of t in the plan's type, converting it first if
// that copy is stale.
func (p *weightBase) read(op string, t *tensor) (C.dn_dptr, error) {
	if p.half {
		return p.b.readHalf(op, t)
	}
	return p.b.readFloat(op, t)
}

// write returns the buffer of t in the plan's type for a step that writes
// it, marking that copy the current one.
func (p *weightBase) write(op string, t *tensor) (C.dn_dptr, error) {
	if p.half {
		return p.b.writeHalf(op, t)
	}
	return p.b.writeFloat(t), nil
}

// args returns, in the plan's type, the buffers of a step that reads r1
// and r2 and writes w, in that order.
func (p *weightBase) args(op string, r1, r2, w *tensor) (a, b, out C.dn_dptr, err error) {
	if a, err = p.read(op, r1); err != nil {
		return a, b, out, err
	}
	if b, err = p.read(op, r2); err != nil {
		return a, b, out, err
	}
	out, err = p.write(op, w)
	return a, b, out, err
}

// descs collects a plan's cuDNN descriptors so one call releases them all.
type descs struct {
	c       *C.dn_ctx
	tensors []C.dn_cudnnTensorDescriptor_t
	filters []C.dn_cudnnFilterDescriptor_t
	convs   []C.dn_cudnnConvolutionDescriptor_t
	pools   []C.dn_cudnnPoolingDescriptor_t
	lrns    []C.dn_cudnnLRNDescriptor_t
}

func (d *descs) free() {
	for _, x := range d.tensors {
		C.dn_tensor_desc_destroy(d.c, x)
	}
	for _, x := range d.filters {
		C.dn_filter_desc_destroy(d.c, x)
	}
	for _, x := range d.convs {
		C.dn_conv_desc_destroy(d.c, x)
	}
	for _, x := range d.pools {
		C.dn_pool_desc_destroy(d.c, x)
	}
	for _, x := range d.lrns {
		C.dn_lrn_desc_destroy(d.c, x)
	}
	*d = descs{c: d.c}
}

// dims4 pads a shape of rank 1 to 4 to NCHW: [N, C] is N×C×1×1.
func dims4(s backend.Shape) [4]C.int {
	d := [4]C.int{1, 1, 1, 1}
	for i, v := range s {
		d[i] = C.int(v)
	}
	return d
}

// tensorDesc makes an NCHW tensor descriptor of data type dt.
func (b *engine) tensorDesc(op string, d *descs, dt C.int, s [4]C.int) (C.dn_cudnnTensorDescriptor_t, error) {
	var x C.dn_cudnnTensorDescriptor_t
	if err := b.statusErr(C.dn_tensor_desc(b.c, &x, dt, s[0], s[1], s[2], s[3]), op); err != nil {
		return nil, err
	}
	d.tensors = append(d.tensors, x)
	return x, nil
}

// flat is the 1×n×1×1 shape elementwise steps use.
func flat(n int) [4]C.int { return [4]C.int{1, C.int(n), 1, 1} }

// initErr is what a plan constructor returns when cuDNN rejects a
// description that passed Validate and Supports: the library's reason, as
// ErrUnsupported when cuDNN calls it a bad or unsupported parameter (this
// cuDNN cannot run it; another backend may).
func initErr(err error) error {
	if oe, ok := err.(*backend.OpError); ok {
		if le, ok := oe.Err.(*LibError); ok && le.NotSupported() {
			oe.Kind = backend.ErrUnsupported
		}
	}
	return err
}
