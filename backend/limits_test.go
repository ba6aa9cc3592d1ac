package backend_test

import (
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDescValidateBoundsDerivedSizes(t *testing.T) {
	conv := func(in backend.Shape, out, k int) backend.ConvDesc {
		return backend.ConvDesc{Input: in, Out: out, KernelH: k, KernelW: k, StrideH: 1, StrideW: 1, Groups: 1}
	}
	for _, tc := range []struct {
		name string
		err  error
		want string // in the message
	}{
		// The cases: each used to crash (SIGFPE in oneDNN, a fatal
		// out of memory or makeslice panic in the cpu backend).
		{"linear in 2^30 out 2^32", backend.LinearDesc{Input: backend.Shape{1, 1 << 30}, Out: 1 << 32}.Validate(), "the weights [Out, In]"},
		{"linear in 2^29 out 2^33", backend.LinearDesc{Input: backend.Shape{1, 1 << 29}, Out: 1 << 33}.Validate(), "the weights [Out, In]"},
		{"linear out 2^31", backend.LinearDesc{Input: backend.Shape{1, 1}, Out: 1 << 31}.Validate(), "2147483648"},
		{"linear output N·Out", backend.LinearDesc{Input: backend.Shape{1 << 16, 1}, Out: 1 << 16}.Validate(), "the output [N, Out]"},
		{"conv 46340² kernel 11 im2col", conv(backend.Shape{1, 1, 46340, 46340}, 1, 11).Validate(), "im2col"},
		{"conv weights 65536x65536x3x3", backend.ConvDesc{Input: backend.Shape{1, 65536, 3, 3}, Out: 65536, KernelH: 3, KernelW: 3,
			StrideH: 1, StrideW: 1, Groups: 1}.Validate(), "the weights"},
		{"conv out 2^40", conv(backend.Shape{1, 1, 4, 4}, 1<<40, 1).Validate(), "output channels"},
		{"conv output elements", conv(backend.Shape{1, 1, 46340, 46340}, 2, 1).Validate(), "the output [N, Out, OH, OW]"},
		{"conv kernel 2^62", backend.ConvDesc{Input: backend.Shape{1, 1, 4, 4}, Out: 1, KernelH: 1 << 62, KernelW: 1, StrideH: 1, StrideW: 1,
			PadH: 1<<62 - 1, Groups: 1}.Validate(), "want each ≤ 2147483647"},
		{"conv stride 2^40", backend.ConvDesc{Input: backend.Shape{1, 1, 4, 4}, Out: 1, KernelH: 1, KernelW: 1, StrideH: 1 << 40, StrideW: 1,
			Groups: 1}.Validate(), "want each ≤"},
		{"pool kernel 2^62", backend.PoolDesc{Input: backend.Shape{1, 1, 4, 4}, KernelH: 1 << 62, KernelW: 1, StrideH: 1, StrideW: 1,
			PadH: 1 << 60}.Validate(), "want each ≤"},
		{"lrn size 2^40+1", backend.LRNDesc{Input: backend.Shape{1, 4, 2, 2}, Size: 1<<40 + 1, Alpha: 1, Beta: 1, K: 1}.Validate(), "size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.err, backend.ErrInvalid)
			assert.Contains(t, tc.err.Error(), tc.want)
		})
	}
	// The largest sizes within the limits still pass.
	require.NoError(t, backend.LinearDesc{Input: backend.Shape{1, 1 << 15}, Out: 1<<16 - 1}.Validate())
	require.NoError(t, conv(backend.Shape{1, 1, 46340, 46340}, 1, 1).Validate())
}

func TestProductNeverOverflows(t *testing.T) {
	p, ok := backend.Product(math.MaxInt64, 1<<31, 1<<31)
	require.True(t, ok)
	assert.Equal(t, int64(1)<<62, p)
	_, ok = backend.Product(math.MaxInt64, 1<<32, 1<<32)
	assert.False(t, ok, "2^64 overflows int64")
	_, ok = backend.Product(math.MaxInt64, 1<<62, 4)
	assert.False(t, ok)
	_, ok = backend.Product(backend.MaxElements, 1<<16, 1<<15)
	assert.False(t, ok, "2^31 is above MaxElements")
}

func TestOptionsValidate(t *testing.T) {
	require.NoError(t, backend.Options{}.Validate())
	require.NoError(t, backend.Options{Threads: backend.MaxThreads()}.Validate())
	for _, tc := range []struct {
		name string
		o    backend.Options
		want string
	}{
		{"threads 100000", backend.Options{Threads: 100000}, "threads 100000, want 0 (the default) to " + strconv.Itoa(4*runtime.NumCPU())},
		{"threads above 4 per cpu", backend.Options{Threads: backend.MaxThreads() + 1}, "per logical CPU"},
		{"negative threads", backend.Options{Threads: -1}, "threads -1"},
		{"negative memory budget", backend.Options{MemoryBudget: -1}, "memory budget -1"},
		{"unknown precision", backend.Options{Precision: 9}, "unknown precision"},
		{"negative device", backend.Options{Device: -2}, "device -2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			require.ErrorIs(t, err, backend.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// noTensor is the tensor type of a driver that opens nothing.
type noTensor struct{}

func (noTensor) Close() error { return nil }

var (
	registerOnce sync.Once
	opened       atomic.Int32
)

func TestOpenWithValidatesOptionsFirst(t *testing.T) {
	registerOnce.Do(func() {
		driver.Register("limits-test", func(backend.Options) (driver.Backend[noTensor], error) {
			opened.Add(1)
			return nil, driver.Errorf("open", backend.ErrUnavailable, "limits-test opens nothing")
		})
	})
	_, err := backend.OpenWith("limits-test", backend.Options{Threads: 100000})
	require.ErrorIs(t, err, backend.ErrInvalid)
	assert.Zero(t, opened.Load(), "the backend's open must not run with invalid options")
}

func TestDefaultMemoryBudgetIsTheAvailableMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/meminfo")
	}
	b := backend.DefaultMemoryBudget()
	require.Positive(t, b)
	assert.Equal(t, b, backend.Options{}.Budget())
	assert.Equal(t, int64(12345), backend.Options{MemoryBudget: 12345}.Budget())
}
