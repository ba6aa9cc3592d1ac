//go:build onednn

package onednn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/onednn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bf16Tol is the documented tolerance of Precision BF16 against FP32: the
// relative norm error of a layer's outputs and gradients (bf16 keeps 8
// significant bits, 2^-9 ≈ 2e-3 relative per rounded input; products are
// accumulated in f32).
const bf16Tol = 1e-2

func openBF16(t *testing.T) backend.Backend {
	t.Helper()
	if !onednn.HasBF16() {
		t.Skip("this CPU has neither AVX512_BF16 nor AMX-BF16: Open with Precision bf16 returns ErrUnavailable here")
	}
	b, err := onednn.Open(backend.Options{Precision: backend.BF16})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	require.Equal(t, backend.BF16, b.Info().Precision)
	return b
}

func TestBF16UnavailableWithoutTheInstructions(t *testing.T) {
	defer onednn.SetHasBF16(false)()
	_, err := onednn.Open(backend.Options{Precision: backend.BF16})
	require.ErrorIs(t, err, backend.ErrUnavailable)
	require.ErrorContains(t, err, "AVX512_BF16")
}

// Convolutions and fully connected layers in bf16 give the fp32 results
// within bf16Tol: forward (training and inference plans), backward data and
// backward filter.
func TestBF16LayersMatchFP32(t *testing.T) {
	b16 := openBF16(t)
	b32, err := onednn.Open(backend.Options{})
	require.NoError(t, err)
	defer b32.Close()
	conv := backend.ConvDesc{Input: backend.Shape{4, 32, 15, 15}, Out: 64, KernelH: 3, KernelW: 3, StrideH: 1,
		StrideW: 1, PadH: 1, PadW: 1, Groups: 1, Bias: true, ReLU: true}
	lin := backend.LinearDesc{Input: backend.Shape{4, 64, 3, 3}, Out: 100, Bias: true}
	cases := []struct {
		name          string
		plan          func(b backend.Backend, inference bool) (backend.WeightPlan, error)
		x, w, bias, y backend.Shape
	}{
		{"conv", func(b backend.Backend, inf bool) (backend.WeightPlan, error) {
			d := conv
			d.Inference = inf
			return b.Conv(d)
		}, conv.Input, conv.WeightShape(), backend.Shape{conv.Out}, conv.OutputShape()},
		{"linear on a 4-D input", func(b backend.Backend, inf bool) (backend.WeightPlan, error) {
			d := lin
			d.Inference = inf
			return b.Linear(d)
		}, lin.Input, lin.WeightShape(), backend.Shape{lin.Out}, lin.OutputShape()},
	}
	r := rand.New(rand.NewPCG(9, 10))
	randn := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * scale)
		}
		return v
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, w, bias, dy := randn(c.x.Numel(), 1), randn(c.w.Numel(), 0.1), randn(c.bias.Numel(), 0.1), randn(c.y.Numel(), 1)
			run := func(b backend.Backend, inference bool) (y, dx, dw, db, y2 []float32) {
				p, err := c.plan(b, inference)
				require.NoError(t, err)
				defer p.Close()
				mk := func(s backend.Shape, v []float32) backend.Tensor { return backendtest.NewTensor(t, b, s, v) }
				read := func(tt backend.Tensor) []float32 { return backendtest.Read(t, b, tt) }
				xt, wt, bt, yt := mk(c.x, x), mk(c.w, w), mk(c.bias, bias), mk(c.y, nil)
				require.NoError(t, p.Forward(xt, wt, bt, yt))
				y = read(yt)
				if inference {
					return y, nil, nil, nil, nil
				}
				dyt, dxt, dwt, dbt := mk(c.y, dy), mk(c.x, nil), mk(c.w, nil), mk(c.bias, nil)
				require.NoError(t, p.BackwardData(dyt, wt, dxt))
				require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt))
				dx, dw, db = read(dxt), read(dwt), read(dbt)
				// A step changes the weights in place: the next forward must
				// not reuse the bf16 copy of the old ones.
				sgd, err := b.SGD(c.w)
				require.NoError(t, err)
				defer sgd.Close()
				require.NoError(t, sgd.Step(wt, dwt, mk(c.w, nil), backend.SGDParams{LR: 0.05}))
				require.NoError(t, p.Forward(xt, wt, bt, yt))
				return y, dx, dw, db, read(yt)
			}
			y32, dx32, dw32, db32, y232 := run(b32, false)
			y16, dx16, dw16, db16, y216 := run(b16, false)
			yi16, _, _, _, _ := run(b16, true)
			f64 := func(v []float32) []float64 {
				o := make([]float64, len(v))
				for i, x := range v {
					o[i] = float64(x)
				}
				return o
			}
			for _, cmp := range []struct {
				what      string
				got, want []float32
			}{{"forward", y16, y32}, {"inference forward", yi16, y32}, {"backward data", dx16, dx32},
				{"backward filter", dw16, dw32}, {"bias gradient", db16, db32}, {"forward after a step", y216, y232}} {
				e := backendtest.RelErr(cmp.got, f64(cmp.want))
				assert.Less(t, e, bf16Tol, "%s: relative error against fp32", cmp.what)
				assert.Greater(t, e, 0.0, "%s: bf16 rounding shows (the layer did run in bf16)", cmp.what)
			}
		})
	}
}

// bf16TrainTol bounds the relative difference of the Mini network's loss in
// bf16 and fp32 over five training steps on one batch: the trajectories
// drift apart as the rounding differences are trained on (measured on the
// Xeon with AMX: 0.1–1.3 %).
const bf16TrainTol = 3e-2

// The Mini network trains in bf16 along the fp32 trajectory: the losses of
// five steps within bf16TrainTol of fp32's.
func TestBF16MiniTrainsLikeFP32(t *testing.T) {
	b16 := openBF16(t)
	b32, err := onednn.Open(backend.Options{})
	require.NoError(t, err)
	defer b32.Close()
	cfg := alexnet.Mini()
	const n = 8
	losses := func(b backend.Backend) []float32 {
		r := rand.New(rand.NewPCG(3, 4)) // the same batch on both
		net, err := alexnet.New(b, cfg)
		require.NoError(t, err)
		defer net.Close()
		x := make([]float32, n*net.InputSize())
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		labels := make([]int32, n)
		for i := range labels {
			labels[i] = int32(i % cfg.Classes)
		}
		var out []float32
		for step := 0; step < 5; step++ {
			l, err := net.TrainStep(x, labels)
			require.NoError(t, err)
			out = append(out, l)
		}
		return out
	}
	l32, l16 := losses(b32), losses(b16)
	for i := range l32 {
		assert.InDelta(t, 0, math.Abs(float64(l16[i]-l32[i]))/math.Abs(float64(l32[i])), bf16TrainTol,
			"step %d: loss %g in bf16, %g in fp32", i, l16[i], l32[i])
	}
}
