//go:build onednn

package onednn_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/onednn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Plans of 3x3 stride-1 convolutions run oneDNN's Winograd kernels where it
// has them (AVX-512): inference plans, and training plans in all three
// passes. An inference plan gives what the training plan gives within
// float32 rounding, also after the weights were left in the training plan's
// blocked layout (from which oneDNN has no reorder into its Winograd
// inference weights: the backend goes through a plain copy) and after they
// change. The gradients are checked against the golden cases by the
// conformance suite.
func TestWinogradInferencePlans(t *testing.T) {
	cases := []struct {
		name string
		d    backend.ConvDesc
		wino bool // expected on AVX-512
	}{
		{"3x3 stride 1, conv3 of Seed at batch 2", backend.ConvDesc{Input: backend.Shape{2, 64, 13, 13}, Out: 96,
			KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1, Bias: true, ReLU: true}, true},
		{"3x3 stride 1, one image, no bias", backend.ConvDesc{Input: backend.Shape{1, 64, 15, 15}, Out: 80,
			KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1}, true},
		{"3x3 stride 1, few channels stays direct", backend.ConvDesc{Input: backend.Shape{2, 32, 15, 15}, Out: 48,
			KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1, Bias: true}, false},
		{"3x3 stride 1, the Mini network's 5x5 maps stay direct", backend.ConvDesc{Input: backend.Shape{4, 64, 5, 5},
			Out: 64, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1, ReLU: true}, false},
		{"3x3 stride 2 stays direct", backend.ConvDesc{Input: backend.Shape{2, 64, 17, 17}, Out: 64,
			KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 1, Bias: true}, false},
		{"5x5 stays direct", backend.ConvDesc{Input: backend.Shape{2, 64, 13, 13}, Out: 64,
			KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2, Groups: 1, Bias: true, ReLU: true}, false},
		{"3x3 grouped stays direct", backend.ConvDesc{Input: backend.Shape{2, 128, 13, 13}, Out: 128,
			KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 2, Bias: true}, false},
	}
	avx512 := strings.HasPrefix(onednn.ISA(), "avx512")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := onednn.Open(backend.Options{Threads: 2})
			require.NoError(t, err)
			defer b.Close()
			train, err := b.Conv(tc.d)
			require.NoError(t, err)
			id := tc.d
			id.Inference = true
			infer, err := b.Conv(id)
			require.NoError(t, err)

			r := rand.New(rand.NewPCG(7, 8))
			xt := backendtest.NewTensor(t, b, tc.d.Input, randn(r, tc.d.Input.Numel()))
			wt := backendtest.NewTensor(t, b, tc.d.WeightShape(), randn(r, tc.d.WeightShape().Numel()))
			var bt backend.Tensor
			if tc.d.Bias {
				bt = backendtest.NewTensor(t, b, backend.Shape{tc.d.Out}, randn(r, tc.d.Out))
			}
			yTrain, yInfer := backendtest.NewTensor(t, b, tc.d.OutputShape(), nil), backendtest.NewTensor(t, b, tc.d.OutputShape(), nil)
			for step, what := range []string{"first weights", "changed weights"} {
				if step == 1 {
					require.NoError(t, b.Upload(wt, randn(r, tc.d.WeightShape().Numel())))
				}
				require.NoError(t, train.Forward(xt, wt, bt, yTrain), what)
				require.NoError(t, infer.Forward(xt, wt, bt, yInfer), what)
				want, got := backendtest.Read(t, b, yTrain), backendtest.Read(t, b, yInfer)
				assert.LessOrEqual(t, backendtest.RelErr(got, want), 1e-5, "%s: inference vs training plan", what)
			}
			dy := backendtest.NewTensor(t, b, tc.d.OutputShape(), randn(r, tc.d.OutputShape().Numel()))
			dx, dw := backendtest.NewTensor(t, b, tc.d.Input, nil), backendtest.NewTensor(t, b, tc.d.WeightShape(), nil)
			var db backend.Tensor
			if tc.d.Bias {
				db = backendtest.NewTensor(t, b, backend.Shape{tc.d.Out}, nil)
			}
			require.NoError(t, train.BackwardData(dy, wt, dx))
			require.NoError(t, train.BackwardFilter(xt, dy, dw, db))
			for _, impl := range []string{onednn.Impl(infer), onednn.Impl(train)} {
				switch {
				case !tc.wino:
					assert.NotContains(t, impl, "wino")
				case avx512:
					assert.Regexp(t, `^fwd jit_(fp32_)?wino`, impl, "oneDNN 2.6 has Winograd kernels for AVX-512")
				default:
					assert.NotContains(t, impl, "wino", "no AVX-512 (%s): direct, oneDNN has no Winograd kernel here", onednn.ISA())
					assert.NotContains(t, impl, "avx512", "oneDNN at %s", onednn.ISA())
				}
			}
			if tc.wino && avx512 {
				assert.Regexp(t, `bwd data jit_wino.*bwd weights jit_wino`, onednn.Impl(train))
			}
		})
	}
}

// Inference plans at two batch sizes share one weight tensor: oneDNN picks
// F(2,3) for one image and F(4,3) for more, two Winograd weight layouts
// with no reorder between them. Each plan keeps its own staging copy (the
// tensor itself never moves into a Winograd layout), so both stay right,
// the weights can still be downloaded, and a training plan still reads them.
func TestWinogradPlansShareWeights(t *testing.T) {
	b, err := onednn.Open(backend.Options{Threads: 2})
	require.NoError(t, err)
	defer b.Close()
	conv := func(n int, inference bool) backend.ConvDesc {
		return backend.ConvDesc{Input: backend.Shape{n, 64, 13, 13}, Out: 64, KernelH: 3, KernelW: 3, StrideH: 1,
			StrideW: 1, PadH: 1, PadW: 1, Groups: 1, Bias: true, ReLU: true, Inference: inference}
	}
	r := rand.New(rand.NewPCG(9, 10))
	d := conv(1, false)
	wv := randn(r, d.WeightShape().Numel())
	wt := backendtest.NewTensor(t, b, d.WeightShape(), wv)
	bt := backendtest.NewTensor(t, b, backend.Shape{d.Out}, randn(r, d.Out))
	type run struct {
		infer, train backend.WeightPlan
		x, yi, yt    backend.Tensor
	}
	var runs []run
	for _, n := range []int{1, 16} {
		infer, err := b.Conv(conv(n, true))
		require.NoError(t, err)
		train, err := b.Conv(conv(n, false))
		require.NoError(t, err)
		ds := conv(n, false)
		runs = append(runs, run{infer, train, backendtest.NewTensor(t, b, ds.Input, randn(r, ds.Input.Numel())),
			backendtest.NewTensor(t, b, ds.OutputShape(), nil), backendtest.NewTensor(t, b, ds.OutputShape(), nil)})
	}
	// Rounds 3 and 4 change the weights in place with an SGD step, where
	// the training plans left them (blocked): the inference plans' copies
	// are then made through a plain one, with no allocation after the first.
	sgd, err := b.SGD(d.WeightShape())
	require.NoError(t, err)
	dw, vel := backendtest.NewTensor(t, b, d.WeightShape(), nil), backendtest.NewTensor(t, b, d.WeightShape(), nil)
	var allocs int64
	for round := range 5 {
		switch round {
		case 2:
			wv = randn(r, len(wv))
			require.NoError(t, b.Upload(wt, wv))
		case 3, 4:
			require.NoError(t, b.Upload(dw, randn(r, len(wv))))
			require.NoError(t, sgd.Step(wt, dw, vel, backend.SGDParams{LR: 0.01}))
			wv = backendtest.Read(t, b, wt)
		}
		if round == 4 {
			allocs = b.Allocations()
		}
		for i, q := range runs {
			require.NoError(t, q.infer.Forward(q.x, wt, bt, q.yi), "round %d, plan %d", round, i)
			require.NoError(t, q.train.Forward(q.x, wt, bt, q.yt), "round %d, plan %d", round, i)
			assert.LessOrEqual(t, backendtest.RelErr(backendtest.Read(t, b, q.yi), backendtest.Read(t, b, q.yt)), 1e-5,
				"round %d, batch %d: inference vs training plan (%s)", round, q.x.Shape()[0], onednn.Impl(q.infer))
		}
		assert.Equal(t, wv, backendtest.Read(t, b, wt), "round %d: the weights read back as written", round)
	}
	assert.Equal(t, allocs, b.Allocations(), "no allocation in a second step of the same kind")
}
