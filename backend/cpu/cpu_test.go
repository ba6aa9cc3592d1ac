package cpu_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/cpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConformance runs the conformance suite with every GEMM kernel this
// CPU has (the assembly one where there is one, and the portable one).
func TestConformance(t *testing.T) {
	for _, k := range cpu.Kernels() {
		t.Run("kernel="+k, func(t *testing.T) {
			backendtest.Run(t, func() (backend.Backend, error) { return cpu.OpenKernel(backend.Options{}, k) })
		})
	}
}

func TestLimits(t *testing.T) {
	backendtest.RunLimits(t, func(o backend.Options) (backend.Backend, error) { return cpu.Open(o) })
}

// TestPlanBeyondMemoryBudgetIsAnError: a plan whose scratch arena would
// exceed the budget fails with ErrMemory and the byte count before
// allocating (it used to ask the runtime for the memory and die with a
// fatal, unrecoverable out of memory); smaller plans still work.
func TestPlanBeyondMemoryBudgetIsAnError(t *testing.T) {
	b, err := cpu.Open(backend.Options{MemoryBudget: 64 << 20, Threads: 1})
	require.NoError(t, err)
	defer b.Close()
	// One image's im2col matrix is 64·3·3 × 256·256 floats: 151 MB.
	d := backend.ConvDesc{Input: backend.Shape{1, 64, 256, 256}, Out: 64, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1,
		PadH: 1, PadW: 1, Groups: 1}
	_, err = b.Conv(d)
	require.ErrorIs(t, err, backend.ErrMemory)
	assert.Contains(t, err.Error(), "dnngo: conv2d: growing the scratch arena")
	assert.Contains(t, err.Error(), "bytes")
	_, err = b.Dropout(backend.DropoutDesc{Shape: backend.Shape{1 << 27}, P: 0.5})
	require.ErrorIs(t, err, backend.ErrMemory, "a 128 MiB dropout mask")

	d.Input = backend.Shape{1, 64, 16, 16}
	p, err := b.Conv(d)
	require.NoError(t, err, "a plan that fits")
	require.NoError(t, p.Close())
}

// An inference plan keeps its packed weights: on two workers a
// convolution whose scratch arena fits the budget can still be refused as
// an inference plan, with an error naming the packed weights and the
// description; the training plan of it fits.
func TestInferencePlanPackedWeightsCountAgainstTheBudget(t *testing.T) {
	b, err := cpu.Open(backend.Options{MemoryBudget: 34 << 20, Threads: 2})
	require.NoError(t, err)
	defer b.Close()
	// Weights 512·512·3·3 floats (9.4 MB): an arena of ~29 MB (two workers'
	// dW accumulators and the packed weights), then 9.5 MB kept.
	d := backend.ConvDesc{Input: backend.Shape{1, 512, 3, 3}, Out: 512, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1,
		PadH: 1, PadW: 1, Groups: 1, Inference: true}
	_, err = b.Conv(d)
	require.ErrorIs(t, err, backend.ErrMemory)
	assert.Contains(t, err.Error(), "dnngo: conv2d: the packed weights of conv2d(in [1 512 3 3], out 512")
	assert.Contains(t, err.Error(), "bytes")
	d.Inference = false
	p, err := b.Conv(d)
	require.NoError(t, err, "the training plan fits")
	require.NoError(t, p.Close())

	// With room for one set of kept weights, closing the plan gives it back.
	roomy, err := cpu.Open(backend.Options{MemoryBudget: 40 << 20, Threads: 2})
	require.NoError(t, err)
	defer roomy.Close()
	d.Inference = true
	for i := range 3 {
		p, err := roomy.Conv(d)
		require.NoError(t, err, "inference plan %d, after closing the one before", i)
		require.NoError(t, p.Close())
	}
}

func TestOpenKernel(t *testing.T) {
	for _, tc := range []struct {
		name, kernel string
		ok           bool
	}{
		{"default", "", true},
		{"portable by prefix", "generic", true},
		{"first listed by full name", cpu.Kernels()[0], true},
		{"unknown", "sse1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := cpu.OpenKernel(backend.Options{Threads: 1}, tc.kernel)
			if !tc.ok {
				require.ErrorIs(t, err, backend.ErrInvalid)
				assert.Contains(t, err.Error(), tc.kernel)
				return
			}
			require.NoError(t, err)
			defer b.Close()
			if tc.kernel != "" {
				assert.Contains(t, b.Info().Library, "GEMM kernel "+tc.kernel)
			}
		})
	}
}
