//go:build cudnn

// The backend and its driver: Open, the engine behind the rulebook (its
// handles, stream and precision settings), Info, Sync, Close, Supports and
// the library error type.

package cudnn

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

// Name is the name the backend registers under.
const Name = "cudnn"

// EnvWorkspace names the environment variable with the convolution
// workspace budget in MiB (default 1024).
const EnvWorkspace = "DNNGO_CUDNN_WORKSPACE_MB"

func init() {
	driver.Register(Name, func(o backend.Options) (driver.Backend[*tensor], error) {
		e, err := open(o)
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return e, nil
	})
}

// LibError is a failure reported by the CUDA driver, cuDNN or cuBLAS: the
// function, its status code and the library's own message (for cuDNN,
// cudnnGetErrorString and cudnnGetLastErrorString).
type LibError struct {
	Library  string // "CUDA driver", "cuDNN", "cuBLAS", "dnngo"
	Function string
	Code     int
	Message  string
}

func (e *LibError) Error() string {
	return fmt.Sprintf("%s: %s returned %d: %s", e.Library, e.Function, e.Code, e.Message)
}

// NotSupported reports whether the library rejected the configuration
// (cuDNN's BAD_PARAM or NOT_SUPPORTED families), as opposed to failing
// while running.
func (e *LibError) NotSupported() bool {
	return e.Library == "cuDNN" && (e.Code/1000 == 2 || e.Code/1000 == 3)
}

// Unsupported reports whether cuDNN answered NOT_SUPPORTED (the 3xxx
// family): the call is valid but this configuration has no kernel, so a
// fallback is right. A BAD_PARAM (2xxx) is our mistake and never falls
// back.
func (e *LibError) Unsupported() bool {
	return e.Library == "cuDNN" && e.Code/1000 == 3
}

// Backend is an open cuDNN backend: the backend.Backend (the rulebook in
// front of this package's driver) plus what only this backend has. It is
// not safe for concurrent use: open one per goroutine.
type Backend struct {
	backend.Backend
	e *engine
}

var (
	_ driver.Backend[*tensor] = (*engine)(nil)
	_ driver.Supporter        = (*engine)(nil)
)

// engine is the cuDNN driver behind the rulebook (package backend/driver),
// which has checked every argument it receives.
type engine struct {
	c    *C.dn_ctx
	libs *libs
	info backend.Info

	hasHalf  bool   // BF16/FP16: heavy ops use a 16-bit copy
	halfDNN  C.int  // cudnnDataType_t of that copy
	halfBLAS C.int  // cudaDataType of that copy
	convMath C.int  // cudnnMathType_t of the convolutions
	strict   bool   // no FFT/Winograd algorithms, FMA math only
	budget   uint64 // workspace budget, bytes

	memBudget uint64 // Options.MemoryBudget: the most device bytes the pool may hold (0: what the device has)
	held      uint64 // device bytes the pool holds (in use or free for reuse)

	// deterministic: only CUDNN_DETERMINISTIC algorithms (strict FP32 or
	// Options.Deterministic)
	deterministic bool

	pool    pool
	ws      C.dn_dptr // the workspace arena
	wsSize  uint64
	stage   [4]stageSlot
	next    int
	tensors map[*tensor]struct{}
	plans   map[*plan]struct{}
}

// Open opens the backend on GPU o.Device. The first Open of the process
// loads the libraries (see the package doc); any failure to find or use
// them, or the absence of a GPU, is an error wrapping
// backend.ErrUnavailable. Options are checked with Options.Validate first;
// a positive Options.MemoryBudget bounds the device memory the backend's
// pool holds (an allocation beyond it is backend.ErrMemory, before
// cuMemAlloc), and 0 leaves the limit to the device.
func Open(o backend.Options) (*Backend, error) {
	e, err := open(o)
	if err != nil {
		return nil, err
	}
	return &Backend{Backend: driver.Wrap[*tensor](e), e: e}, nil
}

func open(o backend.Options) (*engine, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	budget := uint64(1024)
	if s := os.Getenv(EnvWorkspace); s != "" {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, driver.Errorf("open", backend.ErrInvalid, "$%s = %q, want a number of MiB", EnvWorkspace, s)
		}
		budget = v
	}
	l, err := loadGlobal()
	if err != nil {
		return nil, err
	}
	c := (*C.dn_ctx)(C.calloc(1, C.size_t(unsafe.Sizeof(C.dn_ctx{}))))
	b := &engine{c: c, libs: l, budget: budget << 20, memBudget: uint64(o.MemoryBudget),
		tensors: map[*tensor]struct{}{}, plans: map[*plan]struct{}{}}
	b.pool.init()
	var count C.int
	if C.dn_init(c, &count) != 0 {
		err := b.libErr("open")
		C.free(unsafe.Pointer(c))
		return nil, &backend.OpError{Op: "open", Kind: backend.ErrUnavailable, Msg: "no usable CUDA device (cuInit failed)", Err: err}
	}
	if count == 0 {
		C.free(unsafe.Pointer(c))
		return nil, driver.Errorf("open", backend.ErrUnavailable, "the CUDA driver sees no GPU")
	}
	if o.Device >= int(count) {
		C.free(unsafe.Pointer(c))
		return nil, driver.Errorf("open", backend.ErrInvalid, "device %d, but the driver sees %d GPU(s)", o.Device, count)
	}
	blasMath := C.int(C.DN_CUBLAS_DEFAULT_MATH)
	b.deterministic = o.Deterministic
	switch o.Precision {
	case backend.FP32:
		b.convMath, b.strict, b.deterministic = C.DN_CUDNN_FMA_MATH, true, true
	case backend.TF32:
		b.convMath, blasMath = C.DN_CUDNN_DEFAULT_MATH, C.DN_CUBLAS_TF32_TENSOR_OP_MATH
	case backend.BF16:
		b.hasHalf, b.halfDNN, b.halfBLAS, b.convMath = true, C.DN_CUDNN_DATA_BFLOAT16, C.DN_CUDA_R_16BF, C.DN_CUDNN_TENSOR_OP_MATH
	case backend.FP16:
		b.hasHalf, b.halfDNN, b.halfBLAS, b.convMath = true, C.DN_CUDNN_DATA_HALF, C.DN_CUDA_R_16F, C.DN_CUDNN_TENSOR_OP_MATH
	}
	if C.dn_open(c, C.int(o.Device), blasMath) != 0 {
		err := b.libErr("open")
		C.dn_close(c)
		C.free(unsafe.Pointer(c))
		return nil, &backend.OpError{Op: "open", Kind: backend.ErrUnavailable, Msg: "cannot set up the GPU", Err: err}
	}
	if (o.Precision == backend.BF16 || o.Precision == backend.TF32) && c.cc_major < 8 {
		C.dn_close(c)
		C.free(unsafe.Pointer(c))
		return nil, driver.Errorf("open", backend.ErrInvalid, "%v needs a GPU of compute capability 8.0 or newer, this one is %d.%d", o.Precision, c.cc_major, c.cc_minor)
	}
	if b.hasHalf {
		if err := b.probeHalf(o.Precision); err != nil {
			b.pool.freeAll(b)
			C.dn_close(c)
			C.free(unsafe.Pointer(c))
			return nil, err
		}
	}
	installLog(c)
	b.info = backend.Info{Name: Name, Device: b.describeDevice(), Library: l.String(), Threads: 1, Precision: o.Precision}
	if l.isTestDouble() {
		b.info.TestDouble = true
		b.info.Library = "TEST DOUBLE, not NVIDIA's libraries and not a GPU (backend/cudnn/testdata/fakecuda): " + b.info.Library
	}
	return b, nil
}

// probeHalf checks, before any plan, that cuDNN accepts the 16-bit type of
// precision p in the calls every step of it needs (cudnnTransformTensor,
// cudnnConvolutionBackwardBias): a refusal is an ErrInvalid naming the call
// and the alternatives, not a failure of every step.
func (b *engine) probeHalf(p backend.Precision) error {
	buf, cls, err := b.alloc(64)
	if err != nil {
		return err
	}
	defer b.release(buf, cls)
	if C.dn_probe_half(b.c, b.halfDNN, buf) == 0 {
		return nil
	}
	le := b.lastErr()
	if !le.NotSupported() {
		return b.libErr("open")
	}
	return &backend.OpError{Op: "open", Kind: backend.ErrInvalid, Err: le, Msg: fmt.Sprintf(
		"precision %v: this cuDNN refuses %v data in %s, which every %v step needs (conversions and bias gradients); use precision fp16 or tf32 instead",
		p, p, le.Function, p)}
}

// describeDevice names the GPU: from NVML where it is present (through
// go-nvml), else from the driver API.
func (b *engine) describeDevice() string {
	c := b.c
	name := C.GoString(&c.name[0])
	pci := C.GoString(&c.pci[0])
	mem := uint64(c.total_mem)
	major, minor := int(c.cc_major), int(c.cc_minor)
	src := "CUDA driver"
	if f, ok := nvmlFacts(pci); ok {
		name, mem, major, minor, src = f.name, f.memory, f.ccMajor, f.ccMinor, "NVML, driver "+f.driver
	}
	return fmt.Sprintf("%s (sm_%d%d, %.1f GiB, PCI %s; %s)", name, major, minor, float64(mem)/(1<<30), pci, src)
}

// Info describes the backend: the GPU, the library versions and files,
// the precision.
func (b *engine) Info() backend.Info { return b.info }

// Sync waits for every queued step and reports the first asynchronous
// error.
func (b *engine) Sync() error {
	if C.dn_sync(b.c) != 0 {
		return b.libErr("sync")
	}
	return nil
}

// Close waits for the stream, releases every plan, tensor and pooled
// buffer, the handles, the stream and the context reference.
func (b *engine) Close() error {
	C.dn_sync(b.c)
	for p := range b.plans {
		p.release()
	}
	for t := range b.tensors {
		t.releaseDescs()
	}
	for i := range b.stage {
		s := &b.stage[i]
		if s.host != nil {
			C.dn_host_free(b.c, s.host)
			C.dn_event_destroy(b.c, s.ev)
		}
	}
	b.pool.freeAll(b)
	b.held = 0
	C.dn_close(b.c)
	C.free(unsafe.Pointer(b.c))
	b.c = nil
	b.plans, b.tensors = nil, nil
	return nil
}

// Supports reports the limits of cuDNN that a valid description can
// break, as backend.ErrUnsupported: today only LRN's (see lrnSupported).
// Limits that only the library can compute (an output shape cuDNN derives
// differently) are found when the plan is made.
func (b *engine) Supports(d backend.Desc) error {
	switch d := d.(type) {
	case backend.LRNDesc:
		return lrnSupported(d)
	case *backend.LRNDesc:
		return lrnSupported(*d)
	}
	return nil
}

// libErr turns the context's recorded failure into an ErrLibrary error.
func (b *engine) libErr(op string) error {
	return &backend.OpError{Op: op, Kind: backend.ErrLibrary, Msg: "the GPU library failed", Err: b.lastErr()}
}

func (b *engine) lastErr() *LibError {
	e := &b.c.err
	lib := map[C.int]string{C.DN_LIB_SHIM: "dnngo", C.DN_LIB_CUDA: "CUDA driver", C.DN_LIB_CUDNN: "cuDNN", C.DN_LIB_CUBLAS: "cuBLAS"}[e.lib]
	return &LibError{Library: lib, Function: C.GoString(&e.fn[0]), Code: int(e.code), Message: strings.TrimSpace(C.GoString(&e.msg[0]))}
}

// statusErr turns a shim status into an error for op.
func (b *engine) statusErr(r C.int, op string) error {
	if r != 0 {
		return b.libErr(op)
	}
	return nil
}
