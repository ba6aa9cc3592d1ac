package backendtest

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/require"
)

// RunAllocations runs every op's forward and backward under
// testing.AllocsPerRun, at batch 1 and 4: executing a plan must not
// allocate Go memory once it has run once (the package doc's rule). It is
// not part of Run, since a backend whose tests run on a device may have
// reasons to check this its own way; CPU backends call it directly.
func RunAllocations(t *testing.T, open Opener) {
	for _, n := range []int{1, 4} {
		b, err := open()
		require.NoError(t, err)
		xs := backend.Shape{n, 8, 13, 13}
		conv := backend.ConvDesc{Input: xs, Out: 16, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 2, Bias: true, ReLU: true}
		pool := backend.PoolDesc{Input: conv.OutputShape(), KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}
		lin := backend.LinearDesc{Input: pool.OutputShape(), Out: 10, Bias: true}
		mk := func(s backend.Shape) backend.Tensor {
			x, err := b.NewTensor(s...)
			require.NoError(t, err)
			return x
		}
		x, w, bias, y, dy, dx, dw, db := mk(xs), mk(conv.WeightShape()), mk(backend.Shape{16}), mk(conv.OutputShape()), mk(conv.OutputShape()), mk(xs), mk(conv.WeightShape()), mk(backend.Shape{16})
		cp, err := b.Conv(conv)
		require.NoError(t, err)
		lp, err := b.LRN(backend.LRNDesc{Input: conv.OutputShape(), Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2})
		require.NoError(t, err)
		rp, err := b.ReLU(conv.OutputShape())
		require.NoError(t, err)
		pp, err := b.MaxPool(pool)
		require.NoError(t, err)
		py, pdy := mk(pool.OutputShape()), mk(pool.OutputShape())
		fp, err := b.Linear(lin)
		require.NoError(t, err)
		fw, fb, fy, fdx, fdw, fdb := mk(lin.WeightShape()), mk(backend.Shape{10}), mk(lin.OutputShape()), mk(pool.OutputShape()), mk(lin.WeightShape()), mk(backend.Shape{10})
		dp, err := b.Dropout(backend.DropoutDesc{Shape: lin.OutputShape(), P: 0.5})
		require.NoError(t, err)
		sp, err := b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: lin.OutputShape()})
		require.NoError(t, err)
		loss, dlogits := mk(backend.Shape{1}), mk(lin.OutputShape())
		labels := make([]int32, n)
		sgd, err := b.SGD(conv.WeightShape())
		require.NoError(t, err)
		v := mk(conv.WeightShape())
		ldx := mk(conv.OutputShape())
		// The same layers planned for inference, run on the same tensors.
		inf := func(d backend.ConvDesc) backend.ConvDesc { d.Inference = true; return d }(conv)
		icp, err := b.Conv(inf)
		require.NoError(t, err)
		ilp, err := b.LRN(backend.LRNDesc{Input: conv.OutputShape(), Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2, Inference: true})
		require.NoError(t, err)
		ipool := pool
		ipool.Inference = true
		ipp, err := b.MaxPool(ipool)
		require.NoError(t, err)
		ilin := lin
		ilin.Inference = true
		ifp, err := b.Linear(ilin)
		require.NoError(t, err)
		ops := []struct {
			name string
			run  func() error
		}{
			{"conv forward", func() error { return cp.Forward(x, w, bias, y) }},
			{"lrn forward", func() error { return lp.Forward(y, dy) }},
			{"lrn backward", func() error { return lp.Backward(y, dy, dy, ldx) }},
			{"relu forward", func() error { return rp.Forward(y, y) }},
			{"relu backward", func() error { return rp.Backward(y, dy, dy) }},
			{"pool forward", func() error { return pp.Forward(y, py) }},
			{"pool backward", func() error { return pp.Backward(y, py, pdy, dy) }},
			{"linear forward", func() error { return fp.Forward(py, fw, fb, fy) }},
			{"dropout forward", func() error { return dp.Forward(fy, fy, 1) }},
			{"dropout backward", func() error { return dp.Backward(fy, fy) }},
			{"loss", func() error { return sp.Forward(fy, labels, loss, dlogits) }},
			{"linear backward data", func() error { return fp.BackwardData(fy, fw, fdx) }},
			{"linear backward filter", func() error { return fp.BackwardFilter(py, fy, fdw, fdb) }},
			{"conv backward data", func() error { return cp.BackwardData(dy, w, dx) }},
			{"conv backward filter", func() error { return cp.BackwardFilter(x, dy, dw, db) }},
			{"sgd", func() error { return sgd.Step(w, dw, v, backend.SGDParams{LR: 0.01, Momentum: 0.9}) }},
			{"inference conv forward", func() error { return icp.Forward(x, w, bias, y) }},
			{"inference lrn forward", func() error { return ilp.Forward(y, dy) }},
			{"inference pool forward", func() error { return ipp.Forward(y, py) }},
			{"inference linear forward", func() error { return ifp.Forward(py, fw, fb, fy) }},
		}
		for _, op := range ops {
			require.NoError(t, op.run(), op.name)
			allocs := testing.AllocsPerRun(5, func() { _ = op.run() })
			require.Zero(t, allocs, "batch=%d: allocations per %s", n, op.name)
		}
		require.NoError(t, b.Close())
	}
}
