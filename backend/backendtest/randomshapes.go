package backendtest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/internal/synth"
	"github.com/stretchr/testify/require"
)

// refTrials is the number of random shapes per op.
const refTrials = 12

// RunReference runs every op on random shapes (odd sizes, strides,
// padding, groups, fused epilogues) and compares the forward and backward
// results with the float64 reference implementations of this package,
// which share no code with any backend. This is the cross-check every
// backend gets against the same oracle, the pure-Go one included.
func RunReference(t *testing.T, open Opener) {
	e := newEnv(t, open)
	r := rand.New(rand.NewPCG(21, 22))
	for i := 0; i < refTrials; i++ {
		d := randomConv(r)
		t.Run(fmt.Sprintf("conv2d/%d/%v", i, d), func(t *testing.T) { refCheckConv(t, e, r, d) })
	}
	for i := 0; i < refTrials; i++ {
		in := backend.Shape{1 + r.IntN(5), 1 + r.IntN(20)}
		if r.IntN(2) == 0 {
			in = backend.Shape{1 + r.IntN(4), 1 + r.IntN(4), 1 + r.IntN(4), 1 + r.IntN(4)}
		}
		d := backend.LinearDesc{Input: in, Out: 1 + r.IntN(30), Bias: r.IntN(2) == 0, ReLU: r.IntN(2) == 0}
		t.Run(fmt.Sprintf("linear/%d/%v", i, d), func(t *testing.T) { refCheckLinear(t, e, r, d) })
	}
	for i := 0; i < refTrials; i++ {
		k := 1 + r.IntN(4)
		d := backend.PoolDesc{Input: backend.Shape{1 + r.IntN(2), 1 + r.IntN(3), k + r.IntN(9), k + r.IntN(9)},
			KernelH: k, KernelW: 1 + r.IntN(k), StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3), PadH: r.IntN(k/2 + 1)}
		d.PadW = r.IntN(d.KernelW/2 + 1)
		t.Run(fmt.Sprintf("maxpool2d/%d/%v", i, d), func(t *testing.T) { refCheckPool(t, e, r, d) })
	}
	for i := 0; i < refTrials; i++ {
		d := backend.LRNDesc{Input: backend.Shape{1 + r.IntN(2), 1 + r.IntN(12), 1 + r.IntN(5), 1 + r.IntN(5)},
			Size: 1 + 2*r.IntN(4), Alpha: r.Float64() * 2, Beta: 0.75, K: 0.5 + r.Float64()*2}
		if i%3 == 0 {
			d.Beta = 0.2 + r.Float64()
		}
		t.Run(fmt.Sprintf("lrn/%d/%v", i, d), func(t *testing.T) { refCheckLRN(t, e, r, d) })
	}
	for i := 0; i < refTrials; i++ {
		s := backend.Shape{1 + r.IntN(6), 2 + r.IntN(40)}
		t.Run(fmt.Sprintf("softmax_cross_entropy/%d/%v", i, s), func(t *testing.T) { refCheckSoftmax(t, e, r, s) })
	}
	for i := 0; i < refTrials/2; i++ {
		s := backend.Shape{1 + r.IntN(3), 1 + r.IntN(5), 1 + r.IntN(7)}
		t.Run(fmt.Sprintf("bias_relu/%d/%v", i, s), func(t *testing.T) { refCheckBiasReLU(t, e, r, s) })
	}
}

func randomConv(r *rand.Rand) backend.ConvDesc {
	for {
		g := 1 + r.IntN(3)
		d := backend.ConvDesc{Input: backend.Shape{1 + r.IntN(3), g * (1 + r.IntN(4)), 1 + r.IntN(12), 1 + r.IntN(12)},
			Out: g * (1 + r.IntN(4)), KernelH: 1 + r.IntN(5), KernelW: 1 + r.IntN(5), StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3),
			Groups: g, Bias: r.IntN(3) > 0, ReLU: r.IntN(3) == 0}
		d.PadH, d.PadW = r.IntN(d.KernelH), r.IntN(d.KernelW)
		if d.Validate() == nil {
			return d
		}
	}
}

func refCheckConv(t *testing.T, e *env, r *rand.Rand, d backend.ConvDesc) {
	p, err := e.b.Conv(d)
	require.NoError(t, err)
	defer p.Close()
	ws, ys := d.WeightShape(), d.OutputShape()
	x, w, dy := randn(r, d.Input.Numel(), 1), randn(r, ws.Numel(), 1), randn(r, ys.Numel(), 1)
	var b []float32
	var bt, dbt backend.Tensor
	if d.Bias {
		b = randn(r, d.Out, 1)
		bt, dbt = e.tensor(backend.Shape{d.Out}, b), e.tensor(backend.Shape{d.Out}, nil)
	}
	xt, wt, yt, dyt := e.tensor(d.Input, x), e.tensor(ws, w), e.tensor(ys, nil), e.tensor(ys, dy)
	dxt, dwt := e.tensor(d.Input, nil), e.tensor(ws, nil)
	require.NoError(t, p.Forward(xt, wt, bt, yt))
	var bf []float64
	if b != nil {
		bf = f64(b)
	}
	Near(t, "y", e.read(yt), refConvForward(d, f64(x), f64(w), bf), LayerTol)
	require.NoError(t, p.BackwardData(dyt, wt, dxt))
	require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt))
	dx, dw, db := refConvBackward(d, f64(x), f64(w), f64(dy))
	Near(t, "dx", e.read(dxt), dx, LayerTol)
	Near(t, "dw", e.read(dwt), dw, LayerTol)
	if d.Bias {
		Near(t, "db", e.read(dbt), db, LayerTol)
	}
}

func refCheckLinear(t *testing.T, e *env, r *rand.Rand, d backend.LinearDesc) {
	p, err := e.b.Linear(d)
	require.NoError(t, err)
	defer p.Close()
	ws, ys := d.WeightShape(), d.OutputShape()
	x, w, dy := randn(r, d.Input.Numel(), 1), randn(r, ws.Numel(), 1), randn(r, ys.Numel(), 1)
	var bf []float64
	var bt, dbt backend.Tensor
	if d.Bias {
		b := randn(r, d.Out, 1)
		bf = f64(b)
		bt, dbt = e.tensor(backend.Shape{d.Out}, b), e.tensor(backend.Shape{d.Out}, nil)
	}
	xt, wt, yt, dyt := e.tensor(d.Input, x), e.tensor(ws, w), e.tensor(ys, nil), e.tensor(ys, dy)
	dxt, dwt := e.tensor(d.Input, nil), e.tensor(ws, nil)
	require.NoError(t, p.Forward(xt, wt, bt, yt))
	Near(t, "y", e.read(yt), refLinearForward(d, f64(x), f64(w), bf), LayerTol)
	require.NoError(t, p.BackwardData(dyt, wt, dxt))
	require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt))
	dx, dw, db := refLinearBackward(d, f64(x), f64(w), f64(dy))
	Near(t, "dx", e.read(dxt), dx, LayerTol)
	Near(t, "dw", e.read(dwt), dw, LayerTol)
	if d.Bias {
		Near(t, "db", e.read(dbt), db, LayerTol)
	}
}

func refCheckPool(t *testing.T, e *env, r *rand.Rand, d backend.PoolDesc) {
	p, err := e.b.MaxPool(d)
	require.NoError(t, err)
	defer p.Close()
	ys := d.OutputShape()
	x, dy := tieFree(r, d.Input.Numel(), 0.01), randn(r, ys.Numel(), 1)
	xt, yt, dyt, dxt := e.tensor(d.Input, x), e.tensor(ys, nil), e.tensor(ys, dy), e.tensor(d.Input, nil)
	require.NoError(t, p.Forward(xt, yt))
	require.NoError(t, p.Backward(xt, yt, dyt, dxt))
	y, dx := refPool(d, f64(x), f64(dy))
	Near(t, "y", e.read(yt), y, LayerTol)
	Near(t, "dx", e.read(dxt), dx, LayerTol)
}

func refCheckLRN(t *testing.T, e *env, r *rand.Rand, d backend.LRNDesc) {
	p, err := e.b.LRN(d)
	require.NoError(t, err)
	defer p.Close()
	n := d.Input.Numel()
	x, dy := randn(r, n, 2), randn(r, n, 1)
	xt, yt, dyt, dxt := e.tensor(d.Input, x), e.tensor(d.Input, nil), e.tensor(d.Input, dy), e.tensor(d.Input, nil)
	require.NoError(t, p.Forward(xt, yt))
	require.NoError(t, p.Backward(xt, yt, dyt, dxt))
	y, dx := refLRN(d, f64(x), f64(dy))
	Near(t, "y", e.read(yt), y, LayerTol)
	Near(t, "dx", e.read(dxt), dx, LayerTol)
}

func refCheckSoftmax(t *testing.T, e *env, r *rand.Rand, s backend.Shape) {
	p, err := e.b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: s})
	require.NoError(t, err)
	defer p.Close()
	logits := randn(r, s.Numel(), 5)
	labels := synth.Labels(r, s[0], s[1])
	lt, losst, dlt, pt := e.tensor(s, logits), e.tensor(backend.Shape{1}, nil), e.tensor(s, nil), e.tensor(s, nil)
	require.NoError(t, p.Forward(lt, labels, losst, dlt))
	require.NoError(t, p.Softmax(lt, pt))
	loss, dl, probs := refSoftmaxXent(f64(logits), labels, s[1])
	Near(t, "loss", e.read(losst), []float64{loss}, LayerTol)
	Near(t, "dlogits", e.read(dlt), dl, LayerTol)
	Near(t, "probs", e.read(pt), probs, LayerTol)
}

func refCheckBiasReLU(t *testing.T, e *env, r *rand.Rand, s backend.Shape) {
	bp, err := e.b.BiasAdd(backend.BiasDesc{Shape: s})
	require.NoError(t, err)
	defer bp.Close()
	rp, err := e.b.ReLU(s)
	require.NoError(t, err)
	defer rp.Close()
	c := s[1]
	x, b, dy := randn(r, s.Numel(), 1), randn(r, c, 1), randn(r, s.Numel(), 1)
	xt, bt, dyt, dbt, dxt := e.tensor(s, x), e.tensor(backend.Shape{c}, b), e.tensor(s, dy), e.tensor(backend.Shape{c}, nil), e.tensor(s, nil)
	// In place, as the contract allows: x ← x + b, then x ← max(x, 0).
	require.NoError(t, bp.Forward(xt, bt, xt))
	require.NoError(t, rp.Forward(xt, xt))
	inner := s[2:].Numel()
	want, wantDx, wantDb := make([]float64, len(x)), make([]float64, len(x)), make([]float64, c)
	for i, v := range x {
		ch := (i / inner) % c
		want[i] = max(float64(v)+float64(b[ch]), 0)
		wantDb[ch] += float64(dy[i])
		if want[i] > 0 {
			wantDx[i] = float64(dy[i])
		}
	}
	Near(t, "y", e.read(xt), want, LayerTol)
	require.NoError(t, bp.Backward(dyt, dbt))
	Near(t, "db", e.read(dbt), wantDb, LayerTol)
	require.NoError(t, rp.Backward(xt, dyt, dxt))
	Near(t, "dx", e.read(dxt), wantDx, LayerTol)
	require.NoError(t, rp.Backward(xt, dyt, dyt), "relu backward in place (dx == dy)")
	Near(t, "dx in place", e.read(dyt), wantDx, LayerTol)
}
