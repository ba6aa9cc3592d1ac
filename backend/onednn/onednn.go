//go:build onednn

package onednn

// The engine (the driver behind the rulebook), Open and the exported
// Backend, the memory budget shared with the shim's arena, and the
// extras only this backend has (Relayouts, Allocations, Sgemm).

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -O3 -fopenmp
#cgo LDFLAGS: -ldnnl -fopenmp -lm
#include <stdlib.h>
#include "dnngo_onednn.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
	"github.com/dnngo/dnngo/internal/machine"
	"golang.org/x/sys/cpu"
)

// Name is the name the backend registers under.
const Name = "onednn"

func init() {
	driver.Register(Name, func(o backend.Options) (driver.Backend[*tensor], error) { return open(o) })
}

// Version is the oneDNN library this binary runs on (read at run time, so
// it is the shared library's, not the header's).
func Version() string {
	var major, minor, patch C.int
	C.dno_version(&major, &minor, &patch)
	return fmt.Sprintf("%d.%d.%d", major, minor, patch)
}

// Backend is an open oneDNN backend: the backend.Backend (the rulebook in
// front of this package's driver) plus what only this backend has. It is
// not safe for concurrent use; open one per goroutine.
type Backend struct {
	backend.Backend
	e *engine
}

// engine is the oneDNN driver behind the rulebook (package
// backend/driver), which has checked every argument it receives.
type engine struct {
	c         *C.dno_ctx // nil once closed
	threads   int
	precision backend.Precision
	live      map[resource]struct{} // tensors and plans holding C or budgeted memory, freed by Close
	mem       *driver.Memory        // tensors and dropout masks; the shim's arena is external
}

// resource is a tensor or plan that holds C memory or budgeted bytes.
type resource interface{ free() }

// Open creates a oneDNN CPU engine and stream. Options.Threads sets the
// OpenMP team size (0: GOMAXPROCS). Options.Precision is FP32 (the
// default) or BF16 on CPUs with AVX512_BF16 or AMX-BF16 (see
// checkPrecision); TF32 and FP16 are ErrInvalid. Tensors (at
// their dense size), dropout masks and the shim's scratchpad arena count
// against Options.MemoryBudget: NewTensor, a plan, or the first forward
// of an LRN or pooling plan that would exceed it returns ErrMemory before
// allocating. The buffers of blocked layouts that reorders add are not
// counted.
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
	if err := checkPrecision(o.Precision); err != nil {
		return nil, err
	}
	threads := o.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	var c *C.dno_ctx
	var msg [512]C.char
	if rc := C.dno_ctx_create(&c, C.int(threads), cbool(o.Precision == backend.BF16), &msg[0], C.size_t(len(msg))); rc != 0 {
		return nil, &backend.OpError{Op: "open", Kind: backend.ErrUnavailable, Msg: "oneDNN " + Version(),
			Err: errors.New(C.GoString(&msg[0]))}
	}
	e := &engine{c: c, threads: threads, precision: o.Precision, live: map[resource]struct{}{}, mem: driver.NewMemory(o.Budget())}
	e.syncBudget()
	return e, nil
}

// checkPrecision accepts FP32 anywhere and BF16 where the CPU has bf16
// instructions: convolutions and fully connected layers then compute on
// bf16 copies of their inputs and weights with f32 accumulation, and write
// f32; tensors, the other ops and the SGD update (f32 master weights) stay
// f32. Without AVX512_BF16 or AMX-BF16 oneDNN would run reference kernels,
// so BF16 is ErrUnavailable there.
func checkPrecision(p backend.Precision) error {
	switch p {
	case backend.FP32:
		return nil
	case backend.BF16:
		if !hasBF16() {
			if cpuHasBF16() && isa()&C.DNO_ISA_BF16 == 0 {
				return driver.Errorf("open", backend.ErrUnavailable,
					"backend onednn: bf16 needs oneDNN's avx512_core_bf16 kernels, and oneDNN is capped at %s here "+
						"(ONEDNN_MAX_CPU_ISA or DNNL_MAX_CPU_ISA in the environment)", ISA())
			}
			return driver.Errorf("open", backend.ErrUnavailable,
				"backend onednn: bf16 needs a CPU with AVX512_BF16 or AMX-BF16, and this one (%s) has neither", machine.Model())
		}
		return nil
	}
	return driver.Errorf("open", backend.ErrInvalid, "backend onednn computes in fp32 or bf16, not %v", p)
}

// hasBF16 reports whether oneDNN runs bf16 kernels here: the CPU has the
// instructions and oneDNN may use them (a variable so that tests can play
// a CPU without them).
var hasBF16 = func() bool { return cpuHasBF16() && isa()&C.DNO_ISA_BF16 != 0 }

func cpuHasBF16() bool { return cpu.X86.HasAVX512BF16 || cpu.X86.HasAMXBF16 }

// isa is what oneDNN may dispatch to in this process (dno_isa's bits).
var isa = sync.OnceValue(func() int { return int(C.dno_isa()) })

// ISA names the widest instruction set oneDNN's kernels may use in this
// process: "avx512_core_amx", "avx512_core_bf16", "avx512_core", "avx2" or
// "below avx2". It is the CPU's, or less where the environment variable
// ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA), read by oneDNN once per
// process, caps it, e.g. ONEDNN_MAX_CPU_ISA=AVX2 to run the AVX2 kernels on
// an AVX-512 machine.
func ISA() string {
	switch v := isa(); {
	case v&C.DNO_ISA_AMX != 0:
		return "avx512_core_amx"
	case v&C.DNO_ISA_BF16 != 0:
		return "avx512_core_bf16"
	case v&C.DNO_ISA_AVX512 != 0:
		return "avx512_core"
	case v&C.DNO_ISA_AVX2 != 0:
		return "avx2"
	}
	return "below avx2"
}

// reserve accounts for bytes of Go-side or tensor memory, counting the
// shim's arena as held, and tells the shim how far its arena may grow.
func (e *engine) reserve(op, what string, bytes int64) error {
	e.mem.SetExternal(int64(C.dno_ctx_arena_bytes(e.c)))
	if err := e.mem.Reserve(op, what, bytes); err != nil {
		return err
	}
	e.syncBudget()
	return nil
}

// release gives back bytes reserved with reserve.
func (e *engine) release(bytes int64) {
	if e.c == nil {
		return
	}
	e.mem.Release(bytes)
	e.syncBudget()
}

// syncBudget tells the shim the most bytes its arena may hold: what the
// budget leaves beside the tensors (no limit without a budget).
func (e *engine) syncBudget() {
	arena := int64(C.dno_ctx_arena_bytes(e.c))
	e.mem.SetExternal(arena)
	max := int64(-1)
	if e.mem.Budget() > 0 {
		max = arena + e.mem.Room()
	}
	C.dno_ctx_set_arena_max(e.c, C.int64_t(max))
}

// Info describes the backend.
func (e *engine) Info() backend.Info {
	return backend.Info{
		Name:      Name,
		Device:    fmt.Sprintf("%s (%d threads)", machine.Model(), e.threads),
		Library:   "oneDNN " + Version() + " (OpenMP, " + ISA() + ")",
		Threads:   e.threads,
		Precision: e.precision,
	}
}

// Sync returns at once: every op of this backend waits for its primitive,
// so there is nothing left to wait for.
func (e *engine) Sync() error { return nil }

// Close frees every tensor and plan the engine made, then the engine and
// stream.
func (e *engine) Close() error {
	c := e.c
	e.c = nil // release stops accounting: the budget goes with the engine
	for r := range e.live {
		r.free()
	}
	e.live = nil
	C.dno_ctx_destroy(c)
	return nil
}

// track registers r to be freed by Close.
func (e *engine) track(r resource) { e.live[r] = struct{}{} }

// drop frees r, closed on its own before the engine.
func (e *engine) drop(r resource) error {
	r.free()
	delete(e.live, r)
	return nil
}

// Relayouts counts the times a tensor's physical layout changed (a reorder
// of its values, or an output taking a plan's layout). In a network most
// happen in the first step; a few repeat each step where one primitive
// writes a tensor in a layout the next one cannot read (a fully connected
// layer reading a pooled output flattened to plain 2-D, whose plain input
// gradient goes back to blocked for the pooling's backward; an uploaded
// input going to the first convolution's layout), reusing the buffers of
// the first step. A network that alternates training and inference plans,
// which choose their own layouts, switches its shared tensors between them
// each time. It is 0 after Close.
func (b *Backend) Relayouts() int64 {
	if b.e.c == nil {
		return 0
	}
	return int64(C.dno_ctx_relayouts(b.e.c))
}

// ranOn is the OS thread id that ran the last primitive or parallel loop:
// the backend's one executor thread (see the package doc, Threads); 0
// after Close.
func (b *Backend) ranOn() int64 {
	if b.e.c == nil {
		return 0
	}
	return int64(C.dno_ctx_ran_on(b.e.c))
}

// Allocations counts the host buffers the backend has allocated: tensors,
// the scratchpad arena, and the buffers a reorder needs the first time a
// tensor changes layout or a plan keeps a copy of an input in its own
// layout. A network that runs the same plans every step stops allocating
// after its first step. It is 0 after Close.
func (b *Backend) Allocations() int64 {
	if b.e.c == nil {
		return 0
	}
	return int64(C.dno_ctx_allocs(b.e.c))
}

// Sgemm computes out = a·b with oneDNN's row-major SGEMM (a is m×k, b is
// k×n, out m×n, all dense): the ceiling that benchmarks compare the
// convolutions and the pure-Go GEMM with. After Close it is ErrClosed.
func (b *Backend) Sgemm(m, n, k int, a, bm, out []float32) error {
	const op = "sgemm"
	e := b.e
	if e.c == nil {
		return driver.Errorf(op, backend.ErrClosed, "backend is closed")
	}
	if m < 1 || n < 1 || k < 1 || len(a) != m*k || len(bm) != k*n || len(out) != m*n {
		return driver.Errorf(op, backend.ErrShape, "%dx%dx%d with slices of %d, %d and %d values, want %d, %d and %d",
			m, n, k, len(a), len(bm), len(out), m*k, k*n, m*n)
	}
	rc := C.dno_sgemm(e.c, C.int64_t(m), C.int64_t(n), C.int64_t(k), (*C.float)(unsafe.Pointer(&a[0])),
		(*C.float)(unsafe.Pointer(&bm[0])), (*C.float)(unsafe.Pointer(&out[0])))
	return check(e, rc, op, backend.Shape{m, n, k})
}

// check turns a shim return code into an error: ErrLibrary with what the
// shim was doing, oneDNN's status name and what the op was given
// (ErrMemory when the arena would exceed the budget). It is generic so
// that the success path boxes nothing: executing a plan must not
// allocate.
func check[T fmt.Stringer](e *engine, rc C.int, op string, what T) error {
	if rc == 0 {
		return nil
	}
	kind := backend.ErrLibrary
	if rc == C.DNO_EBUDGET {
		kind = backend.ErrMemory
	}
	return &backend.OpError{Op: op, Kind: kind, Msg: what.String(),
		Err: errors.New("oneDNN " + C.GoString(C.dno_ctx_message(e.c)))}
}

// dims converts a shape (at most backend.MaxRank dimensions) to the int64
// array the shim takes.
func dims(s backend.Shape) [backend.MaxRank]C.int64_t {
	var d [backend.MaxRank]C.int64_t
	for i, v := range s {
		d[i] = C.int64_t(v)
	}
	return d
}

func cbool(v bool) C.int {
	if v {
		return 1
	}
	return 0
}
