package backendtest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/require"
)

// Finite-difference settings: central differences with step fdEps on
// inputs of order 1, the loss L = Σ y·r summed in float64. Bugs show up as
// errors of order 1; float32 rounding and the O(eps²) truncation stay
// around 1e-4.
const (
	fdEps = 1e-2
	fdTol = 1e-2
)

// fdInput is one input of an op under a gradient check: its tensor, its
// values, and the analytic gradient the backend computed.
type fdInput struct {
	name   string
	t      backend.Tensor
	vals   []float32
	shape  backend.Shape
	grad   func() []float32 // runs the backward and returns dL/d(input)
	skipFD bool
}

// checkGradients perturbs every element of every input and compares
// (L(x+eps) − L(x−eps))/2eps with the backend's gradient.
func checkGradients(t *testing.T, e *env, loss func() float64, inputs ...*fdInput) {
	t.Helper()
	for _, in := range inputs {
		ana := in.grad()
		num := make([]float64, len(in.vals))
		for i := range in.vals {
			orig := in.vals[i]
			in.vals[i] = orig + fdEps
			require.NoError(t, e.b.Upload(in.t, in.vals))
			lp := loss()
			in.vals[i] = orig - fdEps
			require.NoError(t, e.b.Upload(in.t, in.vals))
			lm := loss()
			in.vals[i] = orig
			num[i] = (lp - lm) / (2 * fdEps)
		}
		require.NoError(t, e.b.Upload(in.t, in.vals))
		Near(t, "d/d"+in.name+" vs finite differences", ana, num, fdTol)
	}
}

// dot is Σ y·r in float64 over a downloaded tensor.
func (e *env) dot(y backend.Tensor, r []float32) float64 {
	var s float64
	for i, v := range e.read(y) {
		s += float64(v) * float64(r[i])
	}
	return s
}

// RunGradients checks every op's backward against finite differences of
// its forward on tiny random shapes.
func RunGradients(t *testing.T, open Opener) {
	r := rand.New(rand.NewPCG(11, 12))
	convCases := []backend.ConvDesc{
		{Input: backend.Shape{2, 4, 6, 5}, Out: 4, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 1, PadH: 1, PadW: 1, Groups: 2, Bias: true},
		{Input: backend.Shape{1, 3, 5, 5}, Out: 2, KernelH: 2, KernelW: 3, StrideH: 1, StrideW: 2, PadH: 0, PadW: 2, Groups: 1},
	}
	for _, d := range convCases {
		t.Run(fmt.Sprintf("conv2d/%v", d), func(t *testing.T) {
			e := newEnv(t, open)
			p, err := e.b.Conv(d)
			require.NoError(t, err)
			x, w := randn(r, d.Input.Numel(), 1), randn(r, d.WeightShape().Numel(), 0.5)
			ys := d.OutputShape()
			rr := randn(r, ys.Numel(), 1)
			xt, wt, yt, dyt := e.tensor(d.Input, x), e.tensor(d.WeightShape(), w), e.tensor(ys, nil), e.tensor(ys, rr)
			var bt, dbt backend.Tensor
			var b []float32
			if d.Bias {
				b = randn(r, d.Out, 0.5)
				bt, dbt = e.tensor(backend.Shape{d.Out}, b), e.tensor(backend.Shape{d.Out}, nil)
			}
			dxt, dwt := e.tensor(d.Input, nil), e.tensor(d.WeightShape(), nil)
			loss := func() float64 {
				require.NoError(t, p.Forward(xt, wt, bt, yt))
				return e.dot(yt, rr)
			}
			inputs := []*fdInput{
				{name: "x", t: xt, vals: x, grad: func() []float32 { require.NoError(t, p.BackwardData(dyt, wt, dxt)); return e.read(dxt) }},
				{name: "w", t: wt, vals: w, grad: func() []float32 { require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt)); return e.read(dwt) }},
			}
			if d.Bias {
				inputs = append(inputs, &fdInput{name: "b", t: bt, vals: b, grad: func() []float32 {
					require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt))
					return e.read(dbt)
				}})
			}
			checkGradients(t, e, loss, inputs...)
		})
	}

	t.Run("linear", func(t *testing.T) {
		e := newEnv(t, open)
		d := backend.LinearDesc{Input: backend.Shape{3, 2, 2, 2}, Out: 5, Bias: true}
		p, err := e.b.Linear(d)
		require.NoError(t, err)
		x, w, b := randn(r, 24, 1), randn(r, 40, 0.5), randn(r, 5, 0.5)
		rr := randn(r, 15, 1)
		xt, wt, bt := e.tensor(d.Input, x), e.tensor(d.WeightShape(), w), e.tensor(backend.Shape{5}, b)
		yt, dyt, dxt, dwt, dbt := e.tensor(d.OutputShape(), nil), e.tensor(d.OutputShape(), rr), e.tensor(d.Input, nil), e.tensor(d.WeightShape(), nil), e.tensor(backend.Shape{5}, nil)
		loss := func() float64 { require.NoError(t, p.Forward(xt, wt, bt, yt)); return e.dot(yt, rr) }
		filter := func() { require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt)) }
		checkGradients(t, e, loss,
			&fdInput{name: "x", t: xt, vals: x, grad: func() []float32 { require.NoError(t, p.BackwardData(dyt, wt, dxt)); return e.read(dxt) }},
			&fdInput{name: "w", t: wt, vals: w, grad: func() []float32 { filter(); return e.read(dwt) }},
			&fdInput{name: "b", t: bt, vals: b, grad: func() []float32 { filter(); return e.read(dbt) }})
	})

	t.Run("bias", func(t *testing.T) {
		e := newEnv(t, open)
		s := backend.Shape{2, 3, 2, 2}
		p, err := e.b.BiasAdd(backend.BiasDesc{Shape: s})
		require.NoError(t, err)
		x, b, rr := randn(r, 24, 1), randn(r, 3, 1), randn(r, 24, 1)
		xt, bt, yt, dyt, dbt := e.tensor(s, x), e.tensor(backend.Shape{3}, b), e.tensor(s, nil), e.tensor(s, rr), e.tensor(backend.Shape{3}, nil)
		loss := func() float64 { require.NoError(t, p.Forward(xt, bt, yt)); return e.dot(yt, rr) }
		checkGradients(t, e, loss, &fdInput{name: "b", t: bt, vals: b, grad: func() []float32 {
			require.NoError(t, p.Backward(dyt, dbt))
			return e.read(dbt)
		}})
	})

	t.Run("relu", func(t *testing.T) {
		e := newEnv(t, open)
		s := backend.Shape{2, 3, 4}
		p, err := e.b.ReLU(s)
		require.NoError(t, err)
		x, rr := tieFree(r, 24, 0.05), randn(r, 24, 1)
		xt, yt, dyt, dxt := e.tensor(s, x), e.tensor(s, nil), e.tensor(s, rr), e.tensor(s, nil)
		loss := func() float64 { require.NoError(t, p.Forward(xt, yt)); return e.dot(yt, rr) }
		checkGradients(t, e, loss, &fdInput{name: "x", t: xt, vals: x, grad: func() []float32 {
			loss()
			require.NoError(t, p.Backward(yt, dyt, dxt))
			return e.read(dxt)
		}})
	})

	for _, d := range []backend.LRNDesc{
		{Input: backend.Shape{2, 7, 2, 3}, Size: 5, Alpha: 0.5, Beta: 0.75, K: 1},
		{Input: backend.Shape{1, 4, 3, 2}, Size: 3, Alpha: 1, Beta: 0.6, K: 2},
		{Input: backend.Shape{1, 3, 2, 2}, Size: 7, Alpha: 0.3, Beta: 1.2, K: 0.5},
	} {
		t.Run(fmt.Sprintf("%v", d), func(t *testing.T) {
			e := newEnv(t, open)
			p, err := e.b.LRN(d)
			require.NoError(t, err)
			n := d.Input.Numel()
			x, rr := randn(r, n, 1.5), randn(r, n, 1)
			xt, yt, dyt, dxt := e.tensor(d.Input, x), e.tensor(d.Input, nil), e.tensor(d.Input, rr), e.tensor(d.Input, nil)
			loss := func() float64 { require.NoError(t, p.Forward(xt, yt)); return e.dot(yt, rr) }
			checkGradients(t, e, loss, &fdInput{name: "x", t: xt, vals: x, grad: func() []float32 {
				loss()
				require.NoError(t, p.Backward(xt, yt, dyt, dxt))
				return e.read(dxt)
			}})
		})
	}

	t.Run("maxpool2d", func(t *testing.T) {
		e := newEnv(t, open)
		d := backend.PoolDesc{Input: backend.Shape{2, 2, 7, 6}, KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 1}
		p, err := e.b.MaxPool(d)
		require.NoError(t, err)
		ys := d.OutputShape()
		x, rr := tieFree(r, d.Input.Numel(), 0.05), randn(r, ys.Numel(), 1)
		xt, yt, dyt, dxt := e.tensor(d.Input, x), e.tensor(ys, nil), e.tensor(ys, rr), e.tensor(d.Input, nil)
		loss := func() float64 { require.NoError(t, p.Forward(xt, yt)); return e.dot(yt, rr) }
		checkGradients(t, e, loss, &fdInput{name: "x", t: xt, vals: x, grad: func() []float32 {
			loss()
			require.NoError(t, p.Backward(xt, yt, dyt, dxt))
			return e.read(dxt)
		}})
	})

	t.Run("dropout", func(t *testing.T) {
		e := newEnv(t, open)
		s := backend.Shape{4, 30}
		p, err := e.b.Dropout(backend.DropoutDesc{Shape: s, P: 0.3})
		require.NoError(t, err)
		x, rr := randn(r, 120, 1), randn(r, 120, 1)
		xt, yt, dyt, dxt := e.tensor(s, x), e.tensor(s, nil), e.tensor(s, rr), e.tensor(s, nil)
		loss := func() float64 { require.NoError(t, p.Forward(xt, yt, 99)); return e.dot(yt, rr) }
		checkGradients(t, e, loss, &fdInput{name: "x", t: xt, vals: x, grad: func() []float32 {
			loss()
			require.NoError(t, p.Backward(dyt, dxt))
			return e.read(dxt)
		}})
	})

	t.Run("softmax_cross_entropy", func(t *testing.T) {
		e := newEnv(t, open)
		s := backend.Shape{3, 6}
		p, err := e.b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: s})
		require.NoError(t, err)
		logits, labels := randn(r, 18, 2), []int32{0, 5, 2}
		lt, losst, dlt := e.tensor(s, logits), e.tensor(backend.Shape{1}, nil), e.tensor(s, nil)
		loss := func() float64 {
			require.NoError(t, p.Forward(lt, labels, losst, nil))
			return float64(e.read(losst)[0])
		}
		checkGradients(t, e, loss, &fdInput{name: "logits", t: lt, vals: logits, grad: func() []float32 {
			require.NoError(t, p.Forward(lt, labels, losst, dlt))
			return e.read(dlt)
		}})
	})
}
