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
	"github.com/dnngo/dnngo/internal/machine"
)

// Name is the name the backend registers under.
const Name = "cpu"

func init() {
	backend.Register(Name, func(o backend.Options) (backend.Backend, error) {
		b, err := Open(o)
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return b, nil
	})
}

// Backend is the pure-Go backend. It is not safe for concurrent use.
type Backend struct {
	threads int
	pool    *parallel.Pool
	gemm    *gemm.Context
	arena   []float32
	mem     *backend.Memory // tensors, the arena and plan buffers against Options.MemoryBudget
	closed  bool
}

// Open returns a pure-Go backend. Options.Threads sets the number of
// worker goroutines (0: GOMAXPROCS); only FP32 precision is supported.
// Tensors, the scratch arena and the plans' buffers count against
// Options.MemoryBudget: a NewTensor or plan that would exceed it returns
// ErrMemory with the bytes it needed, before allocating anything.
func Open(o backend.Options) (*Backend, error) {
	return OpenKernel(o, gemm.Best())
}

// OpenKernel is Open with an explicit GEMM micro-kernel, for tests and
// benchmarks that compare kernels. Kernels lists the choices.
func OpenKernel(o backend.Options, k gemm.Kernel) (*Backend, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Precision != backend.FP32 {
		return nil, backend.Errorf("open", backend.ErrInvalid, "backend cpu computes in fp32 only, not %v", o.Precision)
	}
	threads := o.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	b := &Backend{threads: threads, pool: parallel.New(threads), mem: backend.NewMemory(o.Budget())}
	b.gemm = gemm.New(k, b.pool)
	return b, nil
}

// Kernels lists the GEMM micro-kernels this CPU can run, fastest first;
// the last is always the portable Go kernel. Open uses the first, unless
// the environment variable DNNGO_GEMM_KERNEL names another ("generic").
func Kernels() []gemm.Kernel { return gemm.Kernels() }

// Info describes the backend.
func (b *Backend) Info() backend.Info {
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
func (b *Backend) Sync() error {
	if b.closed {
		return backend.Errorf("sync", backend.ErrClosed, "backend is closed")
	}
	return nil
}

// Close stops the worker goroutines and releases the arena. Tensors and
// plans of a closed backend return ErrClosed.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.pool.Close()
	b.arena = nil
	b.mem = backend.NewMemory(b.mem.Budget())
	return nil
}

// reserve grows the arena to at least n floats, or returns ErrMemory for
// op when that would exceed the memory budget. Plans call it when they are
// made; executing takes scratch from the arena with scratch.
func (b *Backend) reserve(op string, n int) error {
	if n <= len(b.arena) {
		return nil
	}
	grow, err := backend.Float32Bytes(op, int64(n-len(b.arena)))
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
func (b *Backend) scratchSize(op string, perWorker, extra int) (int, error) {
	n, ok := backend.Product(math.MaxInt64/8, b.threads, perWorker)
	if ok && n <= math.MaxInt64/8-int64(extra) {
		return int(n) + extra, nil
	}
	return 0, backend.Errorf(op, backend.ErrMemory, "scratch of %d threads × %d floats + %d floats is beyond any memory budget", b.threads, perWorker, extra)
}

// scratch returns the first n floats of the arena. The backend runs one op
// at a time, so every op may use the whole arena.
func (b *Backend) scratch(n int) []float32 { return b.arena[:n] }

func (b *Backend) checkOpen(op string) error {
	if b.closed {
		return backend.Errorf(op, backend.ErrClosed, "backend is closed")
	}
	return nil
}

// tensor is a dense row-major float32 array in host memory.
type tensor struct {
	b     *Backend
	shape backend.Shape
	data  []float32
}

func (t *tensor) Shape() backend.Shape { return t.shape }

func (t *tensor) Close() error {
	if t.data != nil {
		t.b.mem.Release(4 * int64(len(t.data)))
		t.data = nil
	}
	return nil
}

// NewTensor allocates a zero-filled tensor.
func (b *Backend) NewTensor(shape ...int) (backend.Tensor, error) {
	if err := b.checkOpen("new tensor"); err != nil {
		return nil, err
	}
	s := backend.Shape(shape).Clone()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := b.mem.Reserve("new tensor", "a tensor "+s.String(), 4*int64(s.Numel())); err != nil {
		return nil, err
	}
	return &tensor{b: b, shape: s, data: make([]float32, s.Numel())}, nil
}

// Upload copies src into dst.
func (b *Backend) Upload(dst backend.Tensor, src []float32) error {
	t, err := b.get("upload", "dst", dst, nil)
	if err != nil {
		return err
	}
	if len(src) != len(t.data) {
		return backend.Errorf("upload", backend.ErrShape, "source has %d values, tensor %v holds %d", len(src), t.shape, len(t.data))
	}
	copy(t.data, src)
	return nil
}

// Download copies src into dst.
func (b *Backend) Download(dst []float32, src backend.Tensor) error {
	t, err := b.get("download", "src", src, nil)
	if err != nil {
		return err
	}
	if len(dst) != len(t.data) {
		return backend.Errorf("download", backend.ErrShape, "destination has room for %d values, tensor %v holds %d", len(dst), t.shape, len(t.data))
	}
	copy(dst, t.data)
	return nil
}

// get resolves a tensor argument: it must be non-nil, made by this open
// backend, not closed, and (when want is not nil) of shape want.
func (b *Backend) get(op, arg string, x backend.Tensor, want backend.Shape) (*tensor, error) {
	if b.closed {
		return nil, backend.Errorf(op, backend.ErrClosed, "backend is closed")
	}
	if x == nil {
		return nil, backend.Errorf(op, backend.ErrNil, "%s is nil", arg)
	}
	t, ok := x.(*tensor)
	if !ok || t.b != b {
		return nil, backend.Errorf(op, backend.ErrForeign, "%s (%T) was not made by this cpu backend", arg, x)
	}
	if t.data == nil {
		return nil, backend.Errorf(op, backend.ErrClosed, "%s %v is closed", arg, t.shape)
	}
	if want != nil {
		if err := backend.CheckShape(op, arg, t.shape, want); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// plan is what every plan of this backend embeds.
type plan struct {
	b      *Backend
	closed bool
}

func (p *plan) Close() error {
	p.closed = true
	return nil
}

func (p *plan) check(op string) error {
	if p.closed {
		return backend.Errorf(op, backend.ErrClosed, "plan is closed")
	}
	return p.b.checkOpen(op)
}
