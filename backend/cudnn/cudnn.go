//go:build cudnn

// Package cudnn is dnngo's NVIDIA GPU backend: cuDNN 9 for the
// convolution, pooling, LRN, activation and softmax steps, cuBLAS for the
// fully connected layers, the loss reduction, dropout masking and the SGD
// update, and the CUDA driver API (libcuda.so.1) for memory, copies and
// the stream. It builds with -tags cudnn on any machine with a C compiler:
// no NVIDIA header or library is needed to build (include/dnngo_cuda.h
// carries our own declarations), and the libraries are loaded with dlopen
// when the first backend is opened.
//
// # Finding the libraries
//
// Each library is looked for in this order, the first that loads and
// passes its checks winning: the folders of $DNNGO_CUDA_LIB_DIR
// (colon-separated); the dynamic loader's own search ($LD_LIBRARY_PATH, the
// executable's RUNPATH, ld.so.cache); the usual CUDA folders ($CUDA_HOME,
// /usr/local/cuda*, $CONDA_PREFIX/lib, the system library folders,
// /usr/local/nvidia/lib64); and the folders where NVIDIA's pip wheels put
// them (site-packages/nvidia/cudnn/lib, nvidia/cu13/lib, nvidia/cublas/lib)
// in the site-packages of every python3 on $PATH, $VIRTUAL_ENV and
// $CONDA_PREFIX. cuDNN must be 9.0 or newer, and cuBLAS of the CUDA major
// version cuDNN was built for is preferred. When something is missing,
// Open returns an error wrapping backend.ErrUnavailable whose *LoadError
// names the library and every place looked. Libraries are never unloaded.
//
// # Execution
//
// A backend value owns one CUDA stream (on the device's primary context)
// and one cuDNN and one cuBLAS handle bound to it; every step is queued on
// that stream, so ops run in submission order and only Download and Sync
// wait. Every call into C makes the context current on the calling OS
// thread first, since Go moves goroutines between threads. Device memory
// comes from a pool of size classes (tensors returned by Close are reused,
// never freed before the backend closes); convolution workspaces come from
// one arena grown to the largest plan; uploads are copied into pinned
// staging buffers and sent asynchronously. Convolution algorithms are
// chosen once per plan and direction, on its first execution, with
// cudnnFind...AlgorithmEx within a workspace budget ($DNNGO_CUDNN_WORKSPACE_MB,
// default 1024).
//
// # Precision
//
// backend.Options.Precision selects the arithmetic of the heavy ops
// (convolutions and fully connected layers):
//
//   - FP32 (default): strict IEEE float32: CUDNN_FMA_MATH convolutions
//     without FFT or Winograd algorithms (a Find result whose mathType is
//     not CUDNN_FMA_MATH is skipped: it may run as TF32), only
//     deterministic algorithms (so runs repeat bit for bit), cuBLAS default
//     math (no TF32). This is what the golden tests check.
//
// backend.Options.Deterministic restricts the other precisions to
// CUDNN_DETERMINISTIC algorithms too (backward data algo 0 and backward
// filter algos 0 and 3 accumulate with atomics).
//   - TF32: tensor-core TF32 for convolutions (CUDNN_DEFAULT_MATH) and
//     GEMMs (CUBLAS_TF32_TENSOR_OP_MATH); any algorithm.
//   - BF16, FP16: convolutions and GEMMs read and write bfloat16 (half)
//     copies of their tensors with float32 accumulation on tensor cores;
//     every tensor keeps its float32 value as the master copy, converted
//     on demand, so SGD updates float32 weights. No loss scaling is done
//     inside the backend (the contract has no place for the scale).
//
// Everything else (ReLU, LRN, pooling, dropout, softmax, SGD) runs in
// float32 in every mode.
//
// # Status
//
// The GPU path has not been run on a GPU yet; bench/gpu is the one-call
// check that does. Without a GPU, build.sh test runs every test of this
// package, the alexnet training and the benchmarks' smoke run on a test
// double of the three libraries (testdata/fakecuda: host C code written
// from NVIDIA's documented API, with checked device memory, deferred
// streams, TF32 emulation, fault injection and leak counts); Info reports
// it (Info.TestDouble) and nothing measured on it is a GPU number. The
// Double* functions reach its fault injection and leak counts.
package cudnn

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/dnngo/dnngo/backend"
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
	backend.Register(Name, func(o backend.Options) (backend.Backend, error) {
		b, err := Open(o)
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return b, nil
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

// Backend is the cuDNN backend. It is not safe for concurrent use: open
// one per goroutine.
type Backend struct {
	c    *C.dn_ctx
	libs *libs
	info backend.Info

	prec     backend.Precision
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

	closed  bool
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
	if err := o.Validate(); err != nil {
		return nil, err
	}
	budget := uint64(1024)
	if s := os.Getenv(EnvWorkspace); s != "" {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, backend.Errorf("open", backend.ErrInvalid, "$%s = %q, want a number of MiB", EnvWorkspace, s)
		}
		budget = v
	}
	l, err := loadGlobal()
	if err != nil {
		return nil, err
	}
	c := (*C.dn_ctx)(C.calloc(1, C.size_t(unsafe.Sizeof(C.dn_ctx{}))))
	b := &Backend{c: c, libs: l, prec: o.Precision, budget: budget << 20, memBudget: uint64(o.MemoryBudget),
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
		return nil, backend.Errorf("open", backend.ErrUnavailable, "the CUDA driver sees no GPU")
	}
	if o.Device >= int(count) {
		C.free(unsafe.Pointer(c))
		return nil, backend.Errorf("open", backend.ErrInvalid, "device %d, but the driver sees %d GPU(s)", o.Device, count)
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
		return nil, backend.Errorf("open", backend.ErrInvalid, "%v needs a GPU of compute capability 8.0 or newer, this one is %d.%d", o.Precision, c.cc_major, c.cc_minor)
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
func (b *Backend) probeHalf(p backend.Precision) error {
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
func (b *Backend) describeDevice() string {
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
func (b *Backend) Info() backend.Info { return b.info }

// Sync waits for every queued step and reports the first asynchronous
// error.
func (b *Backend) Sync() error {
	if err := b.checkOpen("sync"); err != nil {
		return err
	}
	if C.dn_sync(b.c) != 0 {
		return b.libErr("sync")
	}
	return nil
}

// Close waits for the stream, releases every plan, tensor and pooled
// buffer, the handles, the stream and the context reference. Tensors and
// plans of a closed backend return ErrClosed.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	C.dn_sync(b.c)
	for p := range b.plans {
		p.release()
		p.closed = true
	}
	for t := range b.tensors {
		t.releaseDescs()
		t.closed = true
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
	b.closed = true
	C.dn_close(b.c)
	C.free(unsafe.Pointer(b.c))
	b.c = nil
	b.plans, b.tensors = nil, nil
	return nil
}

func (b *Backend) checkOpen(op string) error {
	if b.closed {
		return backend.Errorf(op, backend.ErrClosed, "backend is closed")
	}
	return nil
}

// libErr turns the context's recorded failure into an ErrLibrary error.
func (b *Backend) libErr(op string) error {
	return &backend.OpError{Op: op, Kind: backend.ErrLibrary, Msg: "the GPU library failed", Err: b.lastErr()}
}

func (b *Backend) lastErr() *LibError {
	e := &b.c.err
	lib := map[C.int]string{C.DN_LIB_SHIM: "dnngo", C.DN_LIB_CUDA: "CUDA driver", C.DN_LIB_CUDNN: "cuDNN", C.DN_LIB_CUBLAS: "cuBLAS"}[e.lib]
	return &LibError{Library: lib, Function: C.GoString(&e.fn[0]), Code: int(e.code), Message: strings.TrimSpace(C.GoString(&e.msg[0]))}
}

// ok turns a shim status into an error for op.
func (b *Backend) ok(r C.int, op string) error {
	if r != 0 {
		return b.libErr(op)
	}
	return nil
}

// ---- memory ----

// cudaErrorOutOfMemory is CUresult CUDA_ERROR_OUT_OF_MEMORY.
const cudaErrorOutOfMemory = 2

// pool keeps freed device buffers by size class for reuse; nothing is
// returned to the driver before the backend closes. Every op runs on the
// backend's one stream, so a buffer freed after queued work and reused by
// later work is safe without waiting.
type pool struct {
	free map[uint64][]C.dn_dptr
	all  []C.dn_dptr
}

func (p *pool) init() { p.free = map[uint64][]C.dn_dptr{} }

// sizeClass rounds n up to a multiple of an eighth of the largest power
// of two not above it (at least 512 bytes): at most 12.5 % waste.
func sizeClass(n uint64) uint64 {
	if n <= 512 {
		return 512
	}
	p := uint64(1)
	for p*2 <= n {
		p <<= 1
	}
	g := p / 8
	return (n + g - 1) / g * g
}

// alloc returns a device buffer of at least n bytes and its class.
func (b *Backend) alloc(n uint64) (C.dn_dptr, uint64, error) {
	cls := sizeClass(n)
	if l := b.pool.free[cls]; len(l) > 0 {
		p := l[len(l)-1]
		b.pool.free[cls] = l[:len(l)-1]
		return p, cls, nil
	}
	if b.memBudget > 0 && cls > b.memBudget-min(b.held, b.memBudget) {
		return 0, 0, backend.Errorf("alloc", backend.ErrMemory, "%d bytes of GPU memory (%d asked for) would exceed the memory budget of %d bytes, %d of which the backend holds (Options.MemoryBudget)",
			cls, n, b.memBudget, b.held)
	}
	var p C.dn_dptr
	if C.dn_malloc(b.c, C.size_t(cls), &p) != 0 {
		err := b.lastErr()
		if err.Library != "CUDA driver" || err.Function != "cuMemAlloc_v2" || err.Code != cudaErrorOutOfMemory {
			return 0, 0, &backend.OpError{Op: "alloc", Kind: backend.ErrLibrary, Msg: fmt.Sprintf("cannot allocate %d bytes of GPU memory", cls), Err: err}
		}
		// Out of memory: give the pooled buffers back and try once more.
		C.dn_sync(b.c)
		for k, l := range b.pool.free {
			for _, q := range l {
				C.dn_free(b.c, q)
				b.pool.forget(q)
				b.held -= min(k, b.held)
			}
			delete(b.pool.free, k)
		}
		if C.dn_malloc(b.c, C.size_t(cls), &p) != 0 {
			return 0, 0, &backend.OpError{Op: "alloc", Kind: backend.ErrLibrary, Msg: fmt.Sprintf("cannot allocate %d bytes of GPU memory", cls), Err: err}
		}
	}
	b.pool.all = append(b.pool.all, p)
	b.held += cls
	return p, cls, nil
}

func (p *pool) forget(q C.dn_dptr) {
	for i, r := range p.all {
		if r == q {
			p.all = append(p.all[:i], p.all[i+1:]...)
			return
		}
	}
}

func (b *Backend) release(p C.dn_dptr, cls uint64) {
	if p != 0 && !b.closed {
		b.pool.free[cls] = append(b.pool.free[cls], p)
	}
}

func (p *pool) freeAll(b *Backend) {
	for _, q := range p.all {
		C.dn_free(b.c, q)
	}
	p.all, p.free = nil, nil
}

// workspace grows the arena to at least n bytes and returns it.
func (b *Backend) workspace(n uint64) (C.dn_dptr, uint64, error) {
	if n <= b.wsSize {
		return b.ws, b.wsSize, nil
	}
	p, cls, err := b.alloc(n)
	if err != nil {
		return 0, 0, err
	}
	b.release(b.ws, b.wsSize) // queued work that uses the old arena still finishes first
	b.ws, b.wsSize = p, cls
	return p, cls, nil
}

// ---- staging: pinned host buffers for asynchronous uploads ----

const stageBytes = 8 << 20

type stageSlot struct {
	host unsafe.Pointer
	ev   C.dn_CUevent
	busy bool // an upload from it may still be running
}

// upload sends n bytes from src (host memory that may be reused as soon as
// upload returns) to dst, in chunks through the ring of pinned buffers.
func (b *Backend) upload(op string, dst C.dn_dptr, src unsafe.Pointer, n uint64) error {
	bytes := unsafe.Slice((*byte)(src), n)
	for off := uint64(0); off < n; off += stageBytes {
		chunk := min(n-off, stageBytes)
		s := &b.stage[b.next]
		b.next = (b.next + 1) % len(b.stage)
		if s.host == nil {
			if err := b.ok(C.dn_host_alloc(b.c, stageBytes, &s.host), op); err != nil {
				return err
			}
			if err := b.ok(C.dn_event_create(b.c, &s.ev), op); err != nil {
				return err
			}
		} else if s.busy {
			if err := b.ok(C.dn_event_sync(b.c, s.ev), op); err != nil {
				return err
			}
		}
		copy(unsafe.Slice((*byte)(s.host), chunk), bytes[off:off+chunk])
		if err := b.ok(C.dn_upload(b.c, dst+C.dn_dptr(off), s.host, C.size_t(chunk)), op); err != nil {
			return err
		}
		if err := b.ok(C.dn_event_record(b.c, s.ev), op); err != nil {
			return err
		}
		s.busy = true
	}
	return nil
}

// pinned is a page-locked host buffer with an event that says when the
// last upload from it has finished: plans that build data on the host
// (dropout masks, one-hot labels) write into their own.
type pinned struct {
	host unsafe.Pointer
	n    int // float32 count
	ev   C.dn_CUevent
	busy bool
}

func (b *Backend) newPinned(op string, n int) (*pinned, error) {
	p := &pinned{n: n}
	if err := b.ok(C.dn_host_alloc(b.c, C.size_t(4*n), &p.host), op); err != nil {
		return nil, err
	}
	if err := b.ok(C.dn_event_create(b.c, &p.ev), op); err != nil {
		C.dn_host_free(b.c, p.host)
		return nil, err
	}
	return p, nil
}

// floats waits until the buffer may be written and returns it.
func (b *Backend) floats(op string, p *pinned) ([]float32, error) {
	if p.busy {
		if err := b.ok(C.dn_event_sync(b.c, p.ev), op); err != nil {
			return nil, err
		}
		p.busy = false
	}
	return unsafe.Slice((*float32)(p.host), p.n), nil
}

// send queues the upload of the buffer to dst.
func (b *Backend) send(op string, p *pinned, dst C.dn_dptr) error {
	if err := b.ok(C.dn_upload(b.c, dst, p.host, C.size_t(4*p.n)), op); err != nil {
		return err
	}
	if err := b.ok(C.dn_event_record(b.c, p.ev), op); err != nil {
		return err
	}
	p.busy = true
	return nil
}

func (b *Backend) freePinned(p *pinned) {
	if p != nil && p.host != nil && !b.closed {
		C.dn_event_sync(b.c, p.ev)
		C.dn_event_destroy(b.c, p.ev)
		C.dn_host_free(b.c, p.host)
		p.host = nil
	}
}
