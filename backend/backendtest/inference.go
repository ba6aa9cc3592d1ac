package backendtest

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/require"
)

// RunInference checks plans made with Inference set (convolution, fully
// connected, LRN, max pooling): their Forward gives the training plan's
// output within float32 rounding, on the same tensors, interleaved with the
// training plan's passes (which must keep working); their backward calls
// are ErrInvalid saying the plan was made for inference.
func RunInference(t *testing.T, open Opener) {
	e := newEnv(t, open)
	r := rand.New(rand.NewPCG(71, 72))
	conv := backend.ConvDesc{Input: backend.Shape{2, 6, 13, 11}, Out: 8, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 1,
		PadH: 1, PadW: 1, Groups: 2, Bias: true, ReLU: true}
	// Wide enough for oneDNN's AVX-512 inference kernels (brgconv, other
	// weight layouts than training's).
	wide := backend.ConvDesc{Input: backend.Shape{2, 32, 15, 15}, Out: 64, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1,
		PadH: 1, PadW: 1, Groups: 1, Bias: true, ReLU: true}
	lin4 := backend.LinearDesc{Input: backend.Shape{3, 16, 3, 3}, Out: 10, Bias: true, ReLU: true}
	lin2 := backend.LinearDesc{Input: backend.Shape{3, 40}, Out: 7}
	lrn := backend.LRNDesc{Input: backend.Shape{2, 16, 7, 5}, Size: 5, Alpha: 1e-2, Beta: 0.75, K: 2}
	pool := backend.PoolDesc{Input: backend.Shape{2, 16, 13, 13}, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}

	// layer is one case: its training and inference plans' forwards and the
	// training backward, on tensors shared by both plans.
	type layer struct {
		name     string
		make     func(inference bool) (backend.Plan, error)
		forward  func(p backend.Plan) error
		backward func(p backend.Plan) error
		update   func() error // changes the weights in place (an SGD step); nil for layers without
		out      backend.Tensor
	}
	weightCase := func(name string, in, w, bias, out backend.Shape, hasBias bool,
		plan func(inference bool) (backend.WeightPlan, error)) layer {
		x, wt, y, dy := e.tensor(in, randn(r, in.Numel(), 1)), e.tensor(w, randn(r, w.Numel(), 0.3)), e.tensor(out, nil),
			e.tensor(out, randn(r, out.Numel(), 1))
		dx, dw, v := e.tensor(in, nil), e.tensor(w, nil), e.tensor(w, nil)
		var bt, dbt backend.Tensor
		if hasBias {
			bt, dbt = e.tensor(bias, randn(r, bias.Numel(), 0.1)), e.tensor(bias, nil)
		}
		sgd, err := e.b.SGD(w)
		require.NoError(e.t, err)
		e.t.Cleanup(func() { sgd.Close() })
		return layer{name: name, out: y,
			update:  func() error { return sgd.Step(wt, dw, v, backend.SGDParams{LR: 0.5}) },
			make:    func(inf bool) (backend.Plan, error) { return plan(inf) },
			forward: func(p backend.Plan) error { return p.(backend.WeightPlan).Forward(x, wt, bt, y) },
			backward: func(p backend.Plan) error {
				wp := p.(backend.WeightPlan)
				if err := wp.BackwardData(dy, wt, dx); err != nil {
					return err
				}
				return wp.BackwardFilter(x, dy, dw, dbt)
			}}
	}
	keyedCase := func(name string, in, out backend.Shape, x []float32, plan func(inference bool) (backend.Plan, error)) layer {
		xt, y, dy, dx := e.tensor(in, x), e.tensor(out, nil), e.tensor(out, randn(r, out.Numel(), 1)), e.tensor(in, nil)
		type fb interface {
			Forward(x, y backend.Tensor) error
			Backward(x, y, dy, dx backend.Tensor) error
		}
		return layer{name: name, out: y, make: plan,
			forward:  func(p backend.Plan) error { return p.(fb).Forward(xt, y) },
			backward: func(p backend.Plan) error { return p.(fb).Backward(xt, y, dy, dx) }}
	}
	layers := []layer{
		weightCase("conv", conv.Input, conv.WeightShape(), backend.Shape{conv.Out}, conv.OutputShape(), true,
			func(inf bool) (backend.WeightPlan, error) { d := conv; d.Inference = inf; return e.b.Conv(d) }),
		weightCase("wide conv", wide.Input, wide.WeightShape(), backend.Shape{wide.Out}, wide.OutputShape(), true,
			func(inf bool) (backend.WeightPlan, error) { d := wide; d.Inference = inf; return e.b.Conv(d) }),
		weightCase("linear 4-D input", lin4.Input, lin4.WeightShape(), backend.Shape{lin4.Out}, lin4.OutputShape(), true,
			func(inf bool) (backend.WeightPlan, error) { d := lin4; d.Inference = inf; return e.b.Linear(d) }),
		weightCase("linear 2-D input", lin2.Input, lin2.WeightShape(), nil, lin2.OutputShape(), false,
			func(inf bool) (backend.WeightPlan, error) { d := lin2; d.Inference = inf; return e.b.Linear(d) }),
		keyedCase("lrn", lrn.Input, lrn.Input, randn(r, lrn.Input.Numel(), 1),
			func(inf bool) (backend.Plan, error) { d := lrn; d.Inference = inf; return e.b.LRN(d) }),
		keyedCase("maxpool", pool.Input, pool.OutputShape(), tieFree(r, pool.Input.Numel(), 1e-3),
			func(inf bool) (backend.Plan, error) { d := pool; d.Inference = inf; return e.b.MaxPool(d) }),
	}
	for _, l := range layers {
		t.Run(l.name, func(t *testing.T) {
			train, err := l.make(false)
			require.NoError(t, err)
			defer train.Close()
			inf, err := l.make(true)
			require.NoError(t, err)
			defer inf.Close()

			require.NoError(t, l.forward(train))
			want := f64(e.read(l.out))
			require.NoError(t, l.backward(train), "training backward after a training forward")
			// Twice each, alternating: the plans share the tensors and
			// whatever layouts the other left them in.
			for i := 0; i < 2; i++ {
				require.NoError(t, l.forward(inf))
				require.Less(t, RelErr(e.read(l.out), want), 1e-5, "inference forward %d against the training forward", i)
				require.NoError(t, l.forward(train))
				require.Less(t, RelErr(e.read(l.out), want), 1e-5, "training forward %d after an inference one", i)
				require.NoError(t, l.backward(train), "training backward %d after an inference forward", i)
			}

			if l.update != nil {
				// New weights, changed in place by a step: the inference plan
				// must not reuse what it saw of the old ones.
				require.NoError(t, l.update())
				require.NoError(t, l.forward(train))
				newWant := f64(e.read(l.out))
				require.Greater(t, RelErr(e.read(l.out), want), 1e-3, "the step changed the output")
				require.NoError(t, l.forward(inf))
				require.Less(t, RelErr(e.read(l.out), newWant), 1e-5, "inference forward after the weights changed")
			}

			require.NoError(t, l.forward(inf))
			err = l.backward(inf)
			require.Error(t, err, "backward of an inference plan")
			require.True(t, errors.Is(err, backend.ErrInvalid), "backward of an inference plan: %v, want ErrInvalid", err)
			require.ErrorContains(t, err, "inference")
		})
	}
}
