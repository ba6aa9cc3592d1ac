package backend

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dnngo/dnngo/backend/internal/registry"
)

// Precision is the arithmetic a backend uses for its heavy ops.
type Precision int

const (
	// FP32 is strict IEEE single precision: what the goldens check.
	FP32 Precision = iota
	// TF32 uses tensor-core TF32 for convolutions and GEMMs (GPU only).
	TF32
	// BF16 computes in bfloat16 with float32 master weights: cudnn, and
	// onednn on CPUs with AVX512_BF16 or AMX-BF16 (convolutions and fully
	// connected layers; ErrUnavailable on other CPUs).
	BF16
	// FP16 computes in half precision with float32 master weights (GPU
	// only). Loss scaling, which FP16 training needs, belongs to the
	// training loop: scale the loss gradient up and the learning rate down.
	FP16
)

func (p Precision) String() string {
	switch p {
	case FP32:
		return "fp32"
	case TF32:
		return "tf32"
	case BF16:
		return "bf16"
	case FP16:
		return "fp16"
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

// ParsePrecision parses fp32, tf32, bf16 or fp16.
func ParsePrecision(s string) (Precision, error) {
	for p := FP32; p <= FP16; p++ {
		if strings.EqualFold(s, p.String()) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("dnngo: unknown precision %q (want fp32, tf32, bf16 or fp16)", s)
}

// Options configure a backend when it is opened. The zero value is the
// default of every backend; Validate says what is accepted.
type Options struct {
	// Threads is the number of CPU threads for the CPU backends; 0 means
	// runtime.GOMAXPROCS(0). At most MaxThreads() (4 per logical CPU).
	Threads int
	// MemoryBudget is the most bytes of tensors, plan buffers and scratch
	// memory the backend may hold at once (host memory for the CPU
	// backends, device memory for GPU ones); an allocation beyond it fails
	// with ErrMemory and the byte count instead of killing the process. 0
	// means the default: for CPU backends DefaultMemoryBudget(), the memory
	// available when the backend is opened; for GPU backends the device's
	// memory. The budget is per backend value: two backends opened side by
	// side each get the whole default.
	MemoryBudget int64
	// Precision of the heavy ops; backends that cannot honour it return
	// ErrInvalid from Open.
	Precision Precision
	// Device is the GPU ordinal for GPU backends.
	Device int
	// Deterministic asks a GPU backend for bit-reproducible runs: only
	// algorithms that are deterministic (cudnn: no convolution algorithm
	// that accumulates with atomics). The cudnn backend's FP32 implies it.
	// The CPU backends ignore it: the cpu backend is bit-reproducible for a
	// given thread count; onednn runs the same kernels every time, though
	// one run in many of two backends training side by side has differed
	// from a lone run in the last bit of a loss.
	Deterministic bool
}

// Info describes an open backend.
type Info struct {
	Name      string    // registered name: "cpu", "onednn", "cudnn"
	Device    string    // "AMD EPYC (2 threads)", "NVIDIA H100 80GB HBM3 (sm_90, 80 GiB)"
	Library   string    // versions of what it runs on: "oneDNN 2.6.3", "cuDNN 9.1.0, cuBLAS 12.4"
	Threads   int       // CPU threads it uses
	Precision Precision // arithmetic of the heavy ops
	// TestDouble is set when the backend runs on a test double of its
	// libraries (cudnn on backend/cudnn/testdata/fakecuda): no device is
	// involved and no time it takes means anything.
	TestDouble bool
}

// The backends this project knows, fastest first, with the build tag that
// compiles each in ("" when always built).
var known = []struct{ name, tag string }{
	{"cudnn", "cudnn"},
	{"onednn", "onednn"},
	{"cpu", ""},
}

// Available lists the backends compiled into this binary, fastest first.
// Whether each can run on this machine is for Open to say.
func Available() []string {
	var names []string
	for _, k := range known {
		if _, ok := registry.Lookup(k.name); ok {
			names = append(names, k.name)
		}
	}
	for _, n := range registry.Names() {
		if !slices.ContainsFunc(known, func(k struct{ name, tag string }) bool { return k.name == n }) {
			names = append(names, n)
		}
	}
	return names
}

// Open opens the named backend with default options.
func Open(name string) (Backend, error) { return OpenWith(name, Options{}) }

// OpenWith opens the named backend with the given options. A known backend
// that this binary lacks gives ErrNotCompiled with the build tag to add; a
// name nobody registered gives ErrUnknown.
func OpenWith(name string, o Options) (Backend, error) {
	if open, ok := registry.Lookup(name); ok {
		if err := o.Validate(); err != nil {
			return nil, err
		}
		return open.(func(Options) (Backend, error))(o)
	}
	for _, k := range known {
		if k.name != name {
			continue
		}
		if k.tag == "" {
			return nil, errorf("open", ErrNotCompiled, "backend %q is not registered: import _ \"github.com/dnngo/dnngo/backend/all\" (or backend/%s)", name, name)
		}
		return nil, errorf("open", ErrNotCompiled, "backend %q is not compiled in: build with -tags %s", name, k.tag)
	}
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = k.name
	}
	for _, n := range registry.Names() {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return nil, errorf("open", ErrUnknown, "no backend named %q (known: %s)", name, strings.Join(names, ", "))
}

// Best opens the fastest backend that works on this machine, trying the
// compiled-in backends in the order of Available. If none opens, the error
// joins every backend's reason.
func Best() (Backend, error) { return BestWith(Options{}) }

// BestWith is Best with options.
func BestWith(o Options) (Backend, error) {
	var errs []error
	for _, name := range Available() {
		b, err := OpenWith(name, o)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, errorf("open", ErrUnavailable, "no backend is registered: import _ \"github.com/dnngo/dnngo/backend/all\"")
	}
	return nil, errors.Join(errs...)
}
