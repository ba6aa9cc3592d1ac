//go:build onednn

package onednn_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/onednn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func() (backend.Backend, error) { return onednn.Open(backend.Options{}) })
}

// TestExecuteAllocatesNothing: executing a plan allocates no Go memory.
func TestExecuteAllocatesNothing(t *testing.T) {
	backendtest.RunAllocations(t, func() (backend.Backend, error) { return onednn.Open(backend.Options{}) })
}

func TestLimits(t *testing.T) {
	backendtest.RunLimits(t, func(o backend.Options) (backend.Backend, error) { return onednn.Open(o) })
}

// TestArenaBeyondMemoryBudgetIsAnError: the shim's scratchpad arena counts
// against the memory budget. A backward whose scratchpad (about 6 MB here)
// does not fit beside the tensors fails with ErrMemory and the byte count,
// checked in the shim before it allocates; with room it runs.
func TestArenaBeyondMemoryBudgetIsAnError(t *testing.T) {
	d := backend.ConvDesc{Input: backend.Shape{1, 1, 512, 512}, Out: 1, KernelH: 31, KernelW: 31, StrideH: 1, StrideW: 1, Groups: 1}
	tensors := 4 * int64(2*d.Input.Numel()+2*d.OutputShape().Numel()+d.WeightShape().Numel())
	for _, tc := range []struct {
		name  string
		extra int64
		want  error
	}{
		{"8 KiB of room", 8 << 10, backend.ErrMemory},
		{"64 MiB of room", 64 << 20, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := onednn.Open(backend.Options{MemoryBudget: tensors + tc.extra})
			require.NoError(t, err)
			defer b.Close()
			p, err := b.Conv(d)
			require.NoError(t, err)
			mk := func(s backend.Shape) backend.Tensor {
				x, err := b.NewTensor(s...)
				require.NoError(t, err)
				return x
			}
			x, w, y, dy, dx := mk(d.Input), mk(d.WeightShape()), mk(d.OutputShape()), mk(d.OutputShape()), mk(d.Input)
			require.NoError(t, p.Forward(x, w, nil, y))
			err = p.BackwardData(dy, w, dx)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), "growing the scratchpad arena to")
		})
	}
}
