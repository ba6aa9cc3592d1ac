//go:build onednn

package onednn_test

import (
	"fmt"

	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/onednn"
	"github.com/stretchr/testify/require"
)

// oneDNN has no limit of its own on a valid description (the driver has
// no Supports): Supports accepts descriptions at the edges of what
// Validate allows — windows wider than the input, strides past it,
// padding up to the contract's limit, grouped convolutions — and each
// plans, runs forward and backward without a library error.
func TestEdgeDescriptionsAreSupportedAndRun(t *testing.T) {
	b, err := onednn.Open(backend.Options{})
	require.NoError(t, err)
	defer b.Close()
	mk := func(s backend.Shape) backend.Tensor {
		x, err := b.NewTensor(s...)
		require.NoError(t, err)
		return x
	}
	conv := func(in backend.Shape, out, k, stride, pad, groups int) backend.ConvDesc {
		return backend.ConvDesc{Input: in, Out: out, KernelH: k, KernelW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad, Groups: groups}
	}
	pool := func(in backend.Shape, kh, stride, pad int) backend.PoolDesc {
		return backend.PoolDesc{Input: in, KernelH: kh, KernelW: kh, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}
	}
	lrn := func(size int, alpha, beta float64) backend.LRNDesc {
		return backend.LRNDesc{Input: backend.Shape{1, 4, 2, 2}, Size: size, Alpha: alpha, Beta: beta, K: 1}
	}
	cases := []backend.Desc{
		conv(backend.Shape{1, 6, 5, 5}, 6, 3, 1, 2, 3),
		conv(backend.Shape{1, 1, 5, 5}, 1, 3, 9, 1, 1),
		conv(backend.Shape{1, 1, 3, 3}, 1, 5, 1, 4, 1),
		pool(backend.Shape{1, 1, 4, 4}, 2, 1, 1),
		pool(backend.Shape{1, 1, 4, 4}, 4, 7, 2),
		pool(backend.Shape{1, 1, 1, 1}, 1, 5, 0),
		lrn(1<<20+1, 1, 1),
		lrn(9, 1, 1),
		lrn(1, 0, 0),
	}
	for _, d := range cases {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			require.NoError(t, b.Supports(d))
			switch d := d.(type) {
			case backend.ConvDesc:
				p, err := b.Conv(d)
				require.NoError(t, err)
				defer p.Close()
				x, w := mk(d.Input), mk(d.WeightShape())
				require.NoError(t, p.Forward(x, w, nil, mk(d.OutputShape())))
				require.NoError(t, p.BackwardData(mk(d.OutputShape()), w, mk(d.Input)))
				require.NoError(t, p.BackwardFilter(x, mk(d.OutputShape()), mk(d.WeightShape()), nil))
			case backend.PoolDesc:
				p, err := b.MaxPool(d)
				require.NoError(t, err)
				defer p.Close()
				x, y := mk(d.Input), mk(d.OutputShape())
				require.NoError(t, p.Forward(x, y))
				require.NoError(t, p.Backward(x, y, mk(d.OutputShape()), mk(d.Input)))
			case backend.LRNDesc:
				p, err := b.LRN(d)
				require.NoError(t, err)
				defer p.Close()
				x, y := mk(d.Input), mk(d.Input)
				require.NoError(t, p.Forward(x, y))
				require.NoError(t, p.Backward(x, y, mk(d.Input), mk(d.Input)))
			}
		})
	}
}

// The extras of *Backend touch the shim's context: after Close they
// report nothing and Sgemm is ErrClosed, instead of reading freed memory.
func TestExtrasAfterClose(t *testing.T) {
	b, err := onednn.Open(backend.Options{})
	require.NoError(t, err)
	x, err := b.NewTensor(2, 2)
	require.NoError(t, err)
	require.NoError(t, b.Upload(x, []float32{1, 2, 3, 4}))
	require.Positive(t, b.Allocations())
	require.NoError(t, b.Close())
	require.Zero(t, b.Allocations())
	require.Zero(t, b.Relayouts())
	out := make([]float32, 1)
	require.ErrorIs(t, b.Sgemm(1, 1, 1, []float32{1}, []float32{1}, out), backend.ErrClosed)
	require.ErrorIs(t, x.Close(), nil, "closing a tensor after its backend is harmless")
}
