package backendtest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/require"
)

// alien is a Tensor no backend made.
type alien struct{}

func (alien) Shape() backend.Shape { return backend.Shape{2, 3, 8, 8} }
func (alien) Close() error         { return nil }

// badCase is one call that must fail with an error wrapping want.
type badCase struct {
	name string
	want error
	call func() error
}

// opCase is a badCase whose error must also name op (the same on every
// backend).
type opCase struct {
	name string
	want error
	call func() error
	op   string
}

// RunBadInput makes every kind of invalid call the contract names and
// checks that each returns an error of the right kind that names the op,
// and that none panics.
func RunBadInput(t *testing.T, open Opener) {
	e := newEnv(t, open)
	other := newEnv(t, open) // a second backend value: its tensors are foreign here
	b := e.b
	xs := backend.Shape{2, 3, 8, 8}
	conv := backend.ConvDesc{Input: xs, Out: 4, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1, Bias: true}
	cp, err := b.Conv(conv)
	require.NoError(t, err)
	x, w, bias, y := e.tensor(xs, nil), e.tensor(conv.WeightShape(), nil), e.tensor(backend.Shape{4}, nil), e.tensor(conv.OutputShape(), nil)
	wrongY := e.tensor(backend.Shape{2, 4, 8, 7}, nil)
	foreignX := other.tensor(xs, nil)
	closedX := e.tensor(xs, nil)
	require.NoError(t, closedX.Close())
	closedPlan, err := b.Conv(conv)
	require.NoError(t, err)
	require.NoError(t, closedPlan.Close())

	pool := backend.PoolDesc{Input: xs, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}
	pp, err := b.MaxPool(pool)
	require.NoError(t, err)
	py := e.tensor(pool.OutputShape(), nil)
	dp, err := b.Dropout(backend.DropoutDesc{Shape: xs, P: 0.5})
	require.NoError(t, err)
	ls := backend.Shape{2, 5}
	lp, err := b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: ls})
	require.NoError(t, err)
	logits, loss := e.tensor(ls, nil), e.tensor(backend.Shape{1}, nil)
	sp, err := b.SGD(backend.Shape{4})
	require.NoError(t, err)
	g4, v4 := e.tensor(backend.Shape{4}, nil), e.tensor(backend.Shape{4}, nil)
	lin, err := b.Linear(backend.LinearDesc{Input: xs, Out: 3})
	require.NoError(t, err)
	lrnD := backend.LRNDesc{Input: xs, Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}

	planErr := func(f func() (any, error)) func() error {
		return func() error {
			p, err := f()
			if err == nil {
				if c, ok := p.(interface{ Close() error }); ok {
					c.Close()
				}
			}
			return err
		}
	}
	withConv := func(mod func(*backend.ConvDesc)) func() error {
		d := conv
		d.Input = xs.Clone()
		mod(&d)
		return planErr(func() (any, error) { return b.Conv(d) })
	}
	cases := []badCase{
		// Tensors.
		{"new tensor zero dim", backend.ErrShape, func() error { _, err := b.NewTensor(2, 0, 3); return err }},
		{"new tensor negative dim", backend.ErrShape, func() error { _, err := b.NewTensor(-1); return err }},
		{"new tensor no dims", backend.ErrShape, func() error { _, err := b.NewTensor(); return err }},
		{"new tensor rank 5", backend.ErrShape, func() error { _, err := b.NewTensor(1, 1, 1, 1, 1); return err }},
		{"upload short", backend.ErrShape, func() error { return b.Upload(x, make([]float32, 5)) }},
		{"download short", backend.ErrShape, func() error { return b.Download(make([]float32, 5), x) }},
		{"upload nil tensor", backend.ErrNil, func() error { return b.Upload(nil, nil) }},
		{"upload closed tensor", backend.ErrClosed, func() error { return b.Upload(closedX, make([]float32, xs.Numel())) }},
		{"download foreign tensor", backend.ErrForeign, func() error { return b.Download(make([]float32, xs.Numel()), foreignX) }},
		{"upload alien tensor", backend.ErrForeign, func() error { return b.Upload(alien{}, make([]float32, xs.Numel())) }},

		// Descriptions.
		{"conv input rank 3", backend.ErrShape, withConv(func(d *backend.ConvDesc) { d.Input = backend.Shape{3, 8, 8} })},
		{"conv zero channels", backend.ErrShape, withConv(func(d *backend.ConvDesc) { d.Input[1] = 0 })},
		{"conv negative height", backend.ErrShape, withConv(func(d *backend.ConvDesc) { d.Input[2] = -4 })},
		{"conv zero outputs", backend.ErrInvalid, withConv(func(d *backend.ConvDesc) { d.Out = 0 })},
		{"conv zero kernel", backend.ErrInvalid, withConv(func(d *backend.ConvDesc) { d.KernelW = 0 })},
		{"conv stride 0", backend.ErrInvalid, withConv(func(d *backend.ConvDesc) { d.StrideH = 0 })},
		{"conv negative padding", backend.ErrInvalid, withConv(func(d *backend.ConvDesc) { d.PadW = -1 })},
		{"conv padding larger than kernel", backend.ErrInvalid, withConv(func(d *backend.ConvDesc) { d.PadH = 4 })},
		{"conv groups 0", backend.ErrInvalid, withConv(func(d *backend.ConvDesc) { d.Groups = 0 })},
		{"conv groups not dividing", backend.ErrInvalid, withConv(func(d *backend.ConvDesc) { d.Groups = 2 })},
		{"conv kernel larger than input", backend.ErrInvalid, withConv(func(d *backend.ConvDesc) { d.KernelH, d.PadH = 11, 0 })},
		{"linear rank 1", backend.ErrShape, planErr(func() (any, error) { return b.Linear(backend.LinearDesc{Input: backend.Shape{4}, Out: 2}) })},
		{"linear zero outputs", backend.ErrInvalid, planErr(func() (any, error) { return b.Linear(backend.LinearDesc{Input: backend.Shape{2, 4}, Out: 0}) })},
		{"pool stride 0", backend.ErrInvalid, planErr(func() (any, error) {
			return b.MaxPool(backend.PoolDesc{Input: xs, KernelH: 3, KernelW: 3, StrideW: 1})
		})},
		{"pool padding larger than half the kernel", backend.ErrInvalid, planErr(func() (any, error) {
			return b.MaxPool(backend.PoolDesc{Input: xs, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 2})
		})},
		{"pool rank 2", backend.ErrShape, planErr(func() (any, error) {
			return b.MaxPool(backend.PoolDesc{Input: backend.Shape{8, 8}, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1})
		})},
		{"lrn even size", backend.ErrInvalid, planErr(func() (any, error) { d := lrnD; d.Size = 4; return b.LRN(d) })},
		{"lrn k 0", backend.ErrInvalid, planErr(func() (any, error) { d := lrnD; d.K = 0; return b.LRN(d) })},
		{"lrn negative alpha", backend.ErrInvalid, planErr(func() (any, error) { d := lrnD; d.Alpha = -1; return b.LRN(d) })},
		{"dropout p 1", backend.ErrInvalid, planErr(func() (any, error) { return b.Dropout(backend.DropoutDesc{Shape: xs, P: 1}) })},
		{"dropout negative p", backend.ErrInvalid, planErr(func() (any, error) { return b.Dropout(backend.DropoutDesc{Shape: xs, P: -0.1}) })},
		{"softmax rank 3", backend.ErrShape, planErr(func() (any, error) {
			return b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: backend.Shape{2, 5, 1}})
		})},
		{"relu zero dim", backend.ErrShape, planErr(func() (any, error) { return b.ReLU(backend.Shape{0}) })},
		{"bias rank 1", backend.ErrShape, planErr(func() (any, error) { return b.BiasAdd(backend.BiasDesc{Shape: backend.Shape{4}}) })},
		{"sgd zero dim", backend.ErrShape, planErr(func() (any, error) { return b.SGD(backend.Shape{3, 0}) })},

		// Execution.
		{"conv forward wrong y", backend.ErrShape, func() error { return cp.Forward(x, w, bias, wrongY) }},
		{"conv forward weights as input", backend.ErrShape, func() error { return cp.Forward(w, w, bias, y) }},
		{"conv forward missing bias", backend.ErrNil, func() error { return cp.Forward(x, w, nil, y) }},
		{"conv forward foreign x", backend.ErrForeign, func() error { return cp.Forward(foreignX, w, bias, y) }},
		{"conv forward alien x", backend.ErrForeign, func() error { return cp.Forward(alien{}, w, bias, y) }},
		{"conv forward closed x", backend.ErrClosed, func() error { return cp.Forward(closedX, w, bias, y) }},
		{"conv forward closed plan", backend.ErrClosed, func() error { return closedPlan.Forward(x, w, bias, y) }},
		{"conv backward data wrong dx", backend.ErrShape, func() error { return cp.BackwardData(y, w, wrongY) }},
		{"conv backward filter wrong db", backend.ErrShape, func() error { return cp.BackwardFilter(x, y, w, g4Wrong(e)) }},
		{"linear bias given to a plan without bias", backend.ErrInvalid, func() error {
			return lin.Forward(x, e.tensor(backend.Shape{3, 192}, nil), e.tensor(backend.Shape{3}, nil), e.tensor(backend.Shape{2, 3}, nil))
		}},
		{"pool backward before forward", backend.ErrState, func() error {
			return pp.Backward(x, py, py, e.tensor(xs, nil))
		}},
		{"dropout backward before forward", backend.ErrState, func() error { return dp.Backward(x, e.tensor(xs, nil)) }},
		{"loss wrong label count", backend.ErrShape, func() error { return lp.Forward(logits, []int32{1}, loss, nil) }},
		{"loss label out of range", backend.ErrInvalid, func() error { return lp.Forward(logits, []int32{1, 5}, loss, nil) }},
		{"loss negative label", backend.ErrInvalid, func() error { return lp.Forward(logits, []int32{-1, 0}, loss, nil) }},
		{"loss wrong loss shape", backend.ErrShape, func() error { return lp.Forward(logits, []int32{1, 2}, logits, nil) }},
		{"sgd negative lr", backend.ErrInvalid, func() error {
			return sp.Step(bias, g4, v4, backend.SGDParams{LR: -1})
		}},
		{"sgd momentum 1", backend.ErrInvalid, func() error {
			return sp.Step(bias, g4, v4, backend.SGDParams{LR: 0.1, Momentum: 1})
		}},
		{"sgd wrong grad shape", backend.ErrShape, func() error {
			return sp.Step(bias, e.tensor(backend.Shape{5}, nil), v4, backend.SGDParams{LR: 0.1})
		}},
	}
	ops := map[string]string{}
	for _, c := range aliasCases(t, e) {
		cases = append(cases, badCase{c.name, c.want, c.call})
		ops[c.name] = c.op
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := noPanic(t, c.name, c.call)
			require.Error(t, err)
			require.True(t, errors.Is(err, c.want), "error %q should wrap %q", err, c.want)
			var oe *backend.OpError
			require.True(t, errors.As(err, &oe), "error %q should be a *backend.OpError", err)
			require.NotEmpty(t, oe.Op)
			if op := ops[c.name]; op != "" {
				require.Equal(t, op, oe.Op, "the op name is the same on every backend")
			}
		})
	}
}

// g4Wrong is a bias-gradient tensor of the wrong length.
func g4Wrong(e *env) backend.Tensor { return e.tensor(backend.Shape{5}, nil) }

// aliasCases are the aliasing and stale-forward rules of the package doc,
// for every call of every op whose shapes allow the alias: an output that
// is another argument of the same call is ErrInvalid unless the method
// allows it in place, and a backward whose x or y is not its plan's latest
// forward's (or that comes before any forward) is ErrState. The shapes are
// chosen so that the aliased tensors have matching shapes (a shape error
// would hide the aliasing rule).
func aliasCases(t *testing.T, e *env) []opCase {
	b := e.b
	mk := func(s backend.Shape) backend.Tensor { return e.tensor(s, nil) }
	must := func(err error) {
		t.Helper()
		require.NoError(t, err)
	}
	inv, state := backend.ErrInvalid, backend.ErrState

	// A convolution whose x, y, w, dx, dy and dw are all [2 2 3 3].
	s := backend.Shape{2, 2, 3, 3}
	cd := backend.ConvDesc{Input: s, Out: 2, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1, Bias: true}
	require.True(t, cd.OutputShape().Equal(s) && cd.WeightShape().Equal(s))
	cp, err := b.Conv(cd)
	must(err)
	cx, cw, cb, cy, cdy, cdw, cdb := mk(s), mk(s), mk(backend.Shape{2}), mk(s), mk(s), mk(s), mk(backend.Shape{2})

	// The fully connected layer: x, w, y, dx, dy and dw all [300 300].
	ls := backend.Shape{300, 300}
	lp, err := b.Linear(backend.LinearDesc{Input: ls, Out: 300, Bias: true})
	must(err)
	lx, lw, lb, ldy, ldb := mk(ls), mk(ls), mk(backend.Shape{300}), mk(ls), mk(backend.Shape{300})

	rp, err := b.ReLU(s)
	must(err)
	lrn, err := b.LRN(backend.LRNDesc{Input: s, Size: 3, Alpha: 1e-4, Beta: 0.75, K: 2})
	must(err)
	lrnFresh, err := b.LRN(backend.LRNDesc{Input: s, Size: 3, Alpha: 1e-4, Beta: 0.75, K: 2})
	must(err)
	// A pool whose output has its input's shape (3x3, stride 1, pad 1).
	pd := backend.PoolDesc{Input: s, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	require.True(t, pd.OutputShape().Equal(s))
	pp, err := b.MaxPool(pd)
	must(err)
	x, y, x2, y2, dy, dx := mk(s), mk(s), mk(s), mk(s), mk(s), mk(s)
	ldx := mk(ls)

	ks := backend.Shape{2, 5}
	loss, err := b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: ks})
	must(err)
	logits, lossT := mk(ks), mk(backend.Shape{1})
	sgd, err := b.SGD(s)
	must(err)
	hp := backend.SGDParams{LR: 0.1, Momentum: 0.9}

	// forwardThen runs a forward that must succeed, then the call under test.
	forwardThen := func(fwd func() error, call func() error) func() error {
		return func() error {
			if err := fwd(); err != nil {
				return fmt.Errorf("the forward before the case failed: %w", err)
			}
			return call()
		}
	}
	lrnFwd := func() error { return lrn.Forward(x, y) }
	poolFwd := func() error { return pp.Forward(x, y) }

	// The in-place forms the contract allows, and inputs that alias each
	// other, must work.
	bp, err := b.BiasAdd(backend.BiasDesc{Shape: s})
	must(err)
	dp, err := b.Dropout(backend.DropoutDesc{Shape: s, P: 0.5})
	must(err)
	for _, ok := range []struct {
		name string
		call func() error
	}{
		{"relu forward y=x", func() error { return rp.Forward(x2, x2) }},
		{"relu backward dx=dy", func() error { return rp.Backward(x2, dy, dy) }},
		{"bias forward y=x", func() error { return bp.Forward(x2, cb, x2) }},
		{"dropout forward y=x", func() error { return dp.Forward(x2, x2, 1) }},
		{"dropout backward dx=dy", func() error { return dp.Backward(dy, dy) }},
		{"conv forward x=w (inputs may alias)", func() error { return cp.Forward(cx, cx, cb, cy) }},
		{"conv backward filter x=dy (inputs may alias)", func() error { return cp.BackwardFilter(cx, cx, cdw, cdb) }},
		{"linear backward data dy=w (inputs may alias)", func() error { return lp.BackwardData(lw, lw, ldx) }},
		{"lrn backward dy=y (inputs may alias)", forwardThen(lrnFwd, func() error { return lrn.Backward(x, y, y, dx) })},
	} {
		t.Run("allowed "+ok.name, func(t *testing.T) { require.NoError(t, noPanic(t, ok.name, ok.call)) })
	}

	return []opCase{
		{"alias conv forward y=x", inv, func() error { return cp.Forward(cx, cw, cb, cx) }, "conv2d.forward"},
		{"alias conv forward y=w", inv, func() error { return cp.Forward(cx, cw, cb, cw) }, "conv2d.forward"},
		{"alias conv backward data dx=dy", inv, func() error { return cp.BackwardData(cdy, cw, cdy) }, "conv2d.backward_data"},
		{"alias conv backward data dx=w", inv, func() error { return cp.BackwardData(cdy, cw, cw) }, "conv2d.backward_data"},
		{"alias conv backward filter dw=x", inv, func() error { return cp.BackwardFilter(cx, cdy, cx, cdb) }, "conv2d.backward_filter"},
		{"alias conv backward filter dw=dy", inv, func() error { return cp.BackwardFilter(cx, cdy, cdy, cdb) }, "conv2d.backward_filter"},
		{"alias linear forward y=x", inv, func() error { return lp.Forward(lx, lw, lb, lx) }, "linear.forward"},
		{"alias linear forward y=w", inv, func() error { return lp.Forward(lx, lw, lb, lw) }, "linear.forward"},
		{"alias linear backward data dx=dy", inv, func() error { return lp.BackwardData(ldy, lw, ldy) }, "linear.backward_data"},
		{"alias linear backward data dx=w", inv, func() error { return lp.BackwardData(ldy, lw, lw) }, "linear.backward_data"},
		{"alias linear backward filter dw=x", inv, func() error { return lp.BackwardFilter(lx, ldy, lx, ldb) }, "linear.backward_filter"},
		{"alias linear backward filter dw=dy", inv, func() error { return lp.BackwardFilter(lx, ldy, ldy, ldb) }, "linear.backward_filter"},
		{"alias relu backward dx=y", inv, func() error { return rp.Backward(y, dy, y) }, "relu.backward"},
		{"alias lrn forward y=x", inv, func() error { return lrn.Forward(x, x) }, "lrn.forward"},
		{"alias lrn backward dx=x", inv, forwardThen(lrnFwd, func() error { return lrn.Backward(x, y, dy, x) }), "lrn.backward"},
		{"alias lrn backward dx=y", inv, forwardThen(lrnFwd, func() error { return lrn.Backward(x, y, dy, y) }), "lrn.backward"},
		{"alias lrn backward dx=dy", inv, forwardThen(lrnFwd, func() error { return lrn.Backward(x, y, dy, dy) }), "lrn.backward"},
		{"alias pool forward y=x", inv, func() error { return pp.Forward(x, x) }, "maxpool2d.forward"},
		{"alias pool backward dx=x", inv, forwardThen(poolFwd, func() error { return pp.Backward(x, y, dy, x) }), "maxpool2d.backward"},
		{"alias pool backward dx=y", inv, forwardThen(poolFwd, func() error { return pp.Backward(x, y, dy, y) }), "maxpool2d.backward"},
		{"alias pool backward dx=dy", inv, forwardThen(poolFwd, func() error { return pp.Backward(x, y, dy, dy) }), "maxpool2d.backward"},
		{"alias loss dlogits=logits", inv, func() error { return loss.Forward(logits, []int32{1, 2}, lossT, logits) }, "softmax_cross_entropy.forward"},
		{"alias softmax probs=logits", inv, func() error { return loss.Softmax(logits, logits) }, "softmax_cross_entropy.softmax"},
		{"alias sgd param=grad", inv, func() error { return sgd.Step(cw, cw, cdw, hp) }, "sgd.step"},
		{"alias sgd param=velocity", inv, func() error { return sgd.Step(cw, cdw, cw, hp) }, "sgd.step"},
		{"alias sgd grad=velocity", inv, func() error { return sgd.Step(cw, cdw, cdw, hp) }, "sgd.step"},

		{"stale lrn backward before any forward", state, func() error { return lrnFresh.Backward(x, y, dy, dx) }, "lrn.backward"},
		{"stale lrn backward with another x", state, forwardThen(lrnFwd, func() error { return lrn.Backward(x2, y, dy, dx) }), "lrn.backward"},
		{"stale lrn backward with another y", state, forwardThen(lrnFwd, func() error { return lrn.Backward(x, y2, dy, dx) }), "lrn.backward"},
		{"stale lrn backward after a later forward", state, forwardThen(lrnFwd, func() error {
			if err := lrn.Forward(x2, y2); err != nil {
				return err
			}
			return lrn.Backward(x, y, dy, dx)
		}), "lrn.backward"},
		{"stale pool backward with another x", state, forwardThen(poolFwd, func() error { return pp.Backward(x2, y, dy, dx) }), "maxpool2d.backward"},
		{"stale pool backward with another y", state, forwardThen(poolFwd, func() error { return pp.Backward(x, y2, dy, dx) }), "maxpool2d.backward"},
		{"stale pool backward after a later forward", state, forwardThen(poolFwd, func() error {
			if err := pp.Forward(x2, y2); err != nil {
				return err
			}
			return pp.Backward(x, y, dy, dx)
		}), "maxpool2d.backward"},
	}
}
