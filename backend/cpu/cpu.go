// Package cpu is dnngo's pure-Go backend: every op of the backend contract,
// forward and backward, with no cgo and no C library, always built.
//
// Convolutions run as im2col followed by a cache-blocked, packed SGEMM
// (package internal/gemm) whose micro-kernel is the fastest this CPU
// supports; loops run on a fixed pool of worker goroutines (one per
// Options.Threads, default GOMAXPROCS); scratch memory (im2col columns,
// per-worker gradient accumulators) comes from one arena grown to the
// largest plan. Executing a plan allocates nothing.
//
// Importing the package registers it as "cpu":
//
//	import _ "github.com/dnngo/dnngo/backend/cpu"
//	b, err := backend.Open("cpu")
package cpu

import (
	"fmt"
	"math"
	"runtime"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/gemm"
	"github.com/dnngo/dnngo/backend/cpu/internal/parallel"
	"github.com/dnngo/dnngo/backend/driver"
	"github.com/dnngo/dnngo/internal/machine"
)

// Name is the name the backend registers under.
const Name = "cpu"

func init() {
	driver.Register(Name, func(o backend.Options) (driver.Backend[*tensor], error) { return open(o, "") })
}

// engine is the pure-Go driver behind the rulebook (package
// backend/driver), which has checked every argument it receives. It is not
// safe for concurrent use.
type engine struct {
	threads int
	writes  uint64 // counts writes to tensors: a tensor's ver is the count at its last write
	pool    *parallel.Pool
	gemm    *gemm.Context
	arena   []float32
	mem     *driver.Memory // tensors, the arena and plan buffers against Options.MemoryBudget
}

// Open returns a pure-Go backend. Options.Threads sets the number of
// worker goroutines (0: GOMAXPROCS); only FP32 precision is supported.
// Tensors, the scratch arena and the plans' buffers count against
// Options.MemoryBudget: a NewTensor or plan that would exceed it returns
// ErrMemory with the bytes it needed, before allocating anything. The GEMM
// micro-kernel is the fastest this CPU runs, unless the environment
// variable DNNGO_GEMM_KERNEL names another (see Kernels).
func Open(o backend.Options) (backend.Backend, error) { return OpenKernel(o, "") }

// OpenKernel is Open with the GEMM micro-kernel named: one of Kernels or
// the start of one ("avx512", "avx2", "generic"), or "" for the default.
// It is for tests and benchmarks that compare kernels; a name this CPU
// does not run is ErrInvalid.
func OpenKernel(o backend.Options, kernel string) (backend.Backend, error) {
	e, err := open(o, kernel)
	if err != nil {
		return nil, err
	}
	return driver.Wrap[*tensor](e), nil
}

func open(o backend.Options, kernel string) (*engine, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Precision != backend.FP32 {
		return nil, driver.Errorf("open", backend.ErrInvalid, "backend cpu computes in fp32 only, not %v", o.Precision)
	}
	k := gemm.Best()
	if kernel != "" {
		var ok bool
		if k, ok = gemm.Lookup(kernel); !ok {
			return nil, driver.Errorf("open", backend.ErrInvalid, "GEMM kernel %q does not run on this CPU (it runs %v)", kernel, Kernels())
		}
	}
	threads := o.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	b := &engine{threads: threads, pool: parallel.New(threads), mem: driver.NewMemory(o.Budget())}
	b.gemm = gemm.New(k, b.pool)
	return b, nil
}

// Kernels names the GEMM micro-kernels this CPU can run, fastest first;
// the last is always the portable Go kernel, "generic".
func Kernels() []string {
	var names []string
	for _, k := range gemm.Kernels() {
		names = append(names, k.Name)
	}
	return names
}

// Info describes the backend.
func (b *engine) Info() backend.Info {
	return backend.Info{
		Name:      Name,
		Device:    fmt.Sprintf("%s (%d threads)", machine.Model(), b.threads),
		Library:   fmt.Sprintf("pure Go %s, GEMM kernel %s", runtime.Version(), b.gemm.Kernel().Name),
		Threads:   b.threads,
		Precision: backend.FP32,
	}
}

// Sync returns at once: every op of this backend is finished when its call
// returns.
func (b *engine) Sync() error { return nil }

// Close stops the worker goroutines and releases the arena.
func (b *engine) Close() error {
	b.pool.Close()
	b.arena = nil
	b.mem = driver.NewMemory(b.mem.Budget())
	return nil
}

// reserve grows the arena to at least n floats, or returns ErrMemory for
// op when that would exceed the memory budget. Plans call it when they are
// made; executing takes scratch from the arena with scratch.
func (b *engine) reserve(op string, n int) error {
	if n <= len(b.arena) {
		return nil
	}
	grow, err := driver.Float32Bytes(op, int64(n-len(b.arena)))
	if err != nil {
		return err
	}
	if err := b.mem.Reserve(op, fmt.Sprintf("growing the scratch arena to %d floats", n), grow); err != nil {
		return err
	}
	b.arena = make([]float32, n)
	return nil
}

// scratchSize returns threads·perWorker + extra floats, or an ErrMemory
// error for op when that does not fit the memory budget (or an int).
func (b *engine) scratchSize(op string, perWorker, extra int) (int, error) {
	n, ok := backend.Product(math.MaxInt64/8, b.threads, perWorker)
	if ok && n <= math.MaxInt64/8-int64(extra) {
		return int(n) + extra, nil
	}
	return 0, driver.Errorf(op, backend.ErrMemory, "scratch of %d threads × %d floats + %d floats is beyond any memory budget", b.threads, perWorker, extra)
}

// scratch returns the first n floats of the arena. The backend runs one op
// at a time, so every op may use the whole arena.
func (b *engine) scratch(n int) []float32 { return b.arena[:n] }

// tensor is a dense row-major float32 array in host memory.
type tensor struct {
	b     *engine
	shape backend.Shape
	data  []float32
	ver   uint64 // b.writes at the last write (Upload or an op's output)
}

// out is t's data for a step that writes it: t is marked changed, so that
// what was derived from it (an inference plan's packed weights) is made
// again. Every op reads its outputs through out (or outOrNil).
func (t *tensor) out() []float32 {
	t.b.writes++
	t.ver = t.b.writes
	return t.data
}

// outOrNil is out for an optional output (nil when absent).
func (t *tensor) outOrNil() []float32 {
	if t == nil {
		return nil
	}
	return t.out()
}

func (t *tensor) Close() error {
	if t.data != nil {
		t.b.mem.Release(4 * int64(len(t.data)))
		t.data = nil
	}
	return nil
}

// NewTensor allocates a zero-filled tensor.
func (b *engine) NewTensor(s backend.Shape) (*tensor, error) {
	if err := b.mem.Reserve("new tensor", "a tensor "+s.String(), 4*int64(s.Numel())); err != nil {
		return nil, err
	}
	return &tensor{b: b, shape: s, data: make([]float32, s.Numel())}, nil
}

// Upload copies src into dst.
func (b *engine) Upload(dst *tensor, src []float32) error {
	copy(dst.out(), src)
	return nil
}

// Download copies src into dst.
func (b *engine) Download(dst []float32, src *tensor) error {
	copy(dst, src.data)
	return nil
}

// plan is what every plan of this backend embeds.
type plan struct {
	b *engine
}

// Close releases nothing: a plan's scratch lives in the backend's arena.
func (p *plan) Close() error { return nil }

// slice is t's data, or nil for an absent optional tensor (a bias).
func (t *tensor) slice() []float32 {
	if t == nil {
		return nil
	}
	return t.data
}
