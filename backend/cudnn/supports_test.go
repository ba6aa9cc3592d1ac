//go:build cudnn

package cudnn_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/require"
)

// alexLRN is AlexNet's LRN, within every cuDNN limit.
var alexLRN = backend.LRNDesc{Input: backend.Shape{2, 8, 5, 5}, Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}

func lrnWith(f func(*backend.LRNDesc)) backend.LRNDesc {
	d := alexLRN
	d.Input = d.Input.Clone()
	f(&d)
	return d
}

// TestSupports: cuDNN's LRN limits (window ≤ 16 channels, k ≥ 1e-5,
// β ≥ 0.01) are ErrUnsupported from Supports and from the plan call, a
// description the contract rejects is ErrInvalid (not ErrUnsupported),
// and descriptions within the limits are supported and plan.
func TestSupports(t *testing.T) {
	b := openOrSkip(t, backend.Options{})
	defer func() { require.NoError(t, b.Close()) }()
	for _, tc := range []struct {
		name string
		d    backend.LRNDesc
		want error // nil: supported
	}{
		{"alexnet lrn", alexLRN, nil},
		{"window 15, the widest odd window cuDNN takes", lrnWith(func(d *backend.LRNDesc) { d.Size = 15 }), nil},
		{"window 17", lrnWith(func(d *backend.LRNDesc) { d.Size = 17 }), backend.ErrUnsupported},
		{"k 1e-6", lrnWith(func(d *backend.LRNDesc) { d.K = 1e-6 }), backend.ErrUnsupported},
		{"k 1e-5, the smallest", lrnWith(func(d *backend.LRNDesc) { d.K = 1e-5 }), nil},
		{"beta 0.001", lrnWith(func(d *backend.LRNDesc) { d.Beta = 0.001 }), backend.ErrUnsupported},
		{"beta 0.01, the smallest", lrnWith(func(d *backend.LRNDesc) { d.Beta = 0.01 }), nil},
		{"even window: the contract's error", lrnWith(func(d *backend.LRNDesc) { d.Size = 4 }), backend.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Supports(tc.d)
			p, perr := b.LRN(tc.d)
			if tc.want == nil {
				require.NoError(t, err)
				require.NoError(t, perr)
				require.NoError(t, p.Close())
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, perr, tc.want, "the plan call checks what Supports checks")
			require.Nil(t, p)
			if tc.want == backend.ErrUnsupported {
				require.NotErrorIs(t, err, backend.ErrInvalid)
				require.Contains(t, err.Error(), "cuDNN's LRN")
			}
		})
	}
	t.Run("other descriptions have no cuDNN-only limit", func(t *testing.T) {
		require.NoError(t, b.Supports(backend.ConvDesc{Input: backend.Shape{1, 3, 8, 8}, Out: 4, KernelH: 3, KernelW: 3,
			StrideH: 1, StrideW: 1, Groups: 1}))
		require.NoError(t, b.Supports(backend.Shape{4, 4}))
	})
	t.Run("a closed backend", func(t *testing.T) {
		c := openOrSkip(t, backend.Options{})
		require.NoError(t, c.Close())
		require.ErrorIs(t, c.Supports(alexLRN), backend.ErrClosed)
		require.Equal(t, c.Info().TestDouble, c.TestDouble(), "TestDouble answers after Close")
	})
}
