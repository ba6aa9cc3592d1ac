package driver_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a driver that does no arithmetic: it counts the calls that
// reach it, so that the tests can tell what the rulebook let through. It
// refuses LRN windows wider than 3 channels, as a library limit.
type recorder struct {
	calls  map[string]int
	closed bool
}

type rt struct {
	r      *recorder
	closed bool
}

func (t *rt) Close() error {
	if t.closed || t.r.closed {
		t.r.calls["bad: tensor closed twice or after the driver"]++
	}
	t.closed = true
	t.r.calls["tensor.close"]++
	return nil
}

type rplan struct {
	r    *recorder
	name string
	keys map[string]string // what → name.what, built once so that counting allocates nothing
}

func newPlan(r *recorder, name string) *rplan {
	p := &rplan{r: r, name: name, keys: map[string]string{}}
	for _, w := range []string{"close", "forward", "backward", "step"} {
		p.keys[w] = name + "." + w
	}
	return p
}

func (p *rplan) call(what string) error {
	if p.r.closed {
		p.r.calls["bad: plan used after the driver's close"]++
	}
	p.r.calls[p.keys[what]]++
	return nil
}
func (p *rplan) Close() error                                              { return p.call("close") }
func (p *rplan) Forward(x, y *rt) error                                    { return p.call("forward") }
func (p *rplan) Backward(x, y, dy, dx *rt) error                           { return p.call("backward") }
func (p *rplan) Step(param, grad, velocity *rt, _ backend.SGDParams) error { return p.call("step") }

type rrelu struct{ *rplan }

func (p rrelu) Backward(y, dy, dx *rt) error { return p.call("backward") }

func newRecorder() *recorder { return &recorder{calls: map[string]int{}} }

func (r *recorder) Info() backend.Info { return backend.Info{Name: "recorder"} }
func (r *recorder) NewTensor(s backend.Shape) (*rt, error) {
	r.calls["new tensor"]++
	return &rt{r: r}, nil
}
func (r *recorder) Upload(dst *rt, src []float32) error   { r.calls["upload"]++; return nil }
func (r *recorder) Download(dst []float32, src *rt) error { r.calls["download"]++; return nil }
func (r *recorder) Sync() error                           { r.calls["sync"]++; return nil }
func (r *recorder) Close() error {
	if r.closed {
		r.calls["bad: driver closed twice"]++
	}
	r.closed = true
	r.calls["close"]++
	return nil
}
func (r *recorder) Conv(backend.ConvDesc) (driver.WeightPlan[*rt], error)     { panic("not used") }
func (r *recorder) Linear(backend.LinearDesc) (driver.WeightPlan[*rt], error) { panic("not used") }
func (r *recorder) BiasAdd(backend.BiasDesc) (driver.BiasPlan[*rt], error)    { panic("not used") }
func (r *recorder) ReLU(backend.Shape) (driver.ReLUPlan[*rt], error) {
	r.calls["relu"]++
	return rrelu{newPlan(r, "relu")}, nil
}
func (r *recorder) LRN(backend.LRNDesc) (driver.LRNPlan[*rt], error) {
	r.calls["lrn"]++
	return newPlan(r, "lrn"), nil
}
func (r *recorder) MaxPool(backend.PoolDesc) (driver.PoolPlan[*rt], error)       { panic("not used") }
func (r *recorder) Dropout(backend.DropoutDesc) (driver.DropoutPlan[*rt], error) { panic("not used") }
func (r *recorder) SoftmaxCrossEntropy(backend.SoftmaxDesc) (driver.LossPlan[*rt], error) {
	panic("not used")
}
func (r *recorder) SGD(backend.Shape) (driver.SGDPlan[*rt], error) {
	r.calls["sgd"]++
	return newPlan(r, "sgd"), nil
}

func (r *recorder) Supports(d backend.Desc) error {
	if l, ok := d.(backend.LRNDesc); ok && l.Size > 3 {
		return driver.Errorf("lrn", backend.ErrUnsupported, "%v: this library's LRN window is at most 3 channels", l)
	}
	return nil
}

func tensors(t *testing.T, b backend.Backend, shapes ...backend.Shape) []backend.Tensor {
	t.Helper()
	out := make([]backend.Tensor, len(shapes))
	for i, s := range shapes {
		var err error
		out[i], err = b.NewTensor(s...)
		require.NoError(t, err)
	}
	return out
}

func TestRulebookStopsBadCallsBeforeTheDriver(t *testing.T) {
	s := backend.Shape{2, 3}
	lrnDesc := backend.LRNDesc{Input: backend.Shape{1, 4, 2, 2}, Size: 3, Alpha: 1e-4, Beta: 0.75, K: 2}
	for _, tc := range []struct {
		name       string
		kind       error
		notReached string // the driver call the failing call would have made
		call       func(b backend.Backend, other backend.Backend) error
	}{
		{"nil x", backend.ErrNil, "relu.forward", func(b, _ backend.Backend) error {
			p, _ := b.ReLU(s)
			ts := tensors(t, b, s)
			return p.Forward(nil, ts[0])
		}},
		{"wrong shape", backend.ErrShape, "relu.forward", func(b, _ backend.Backend) error {
			p, _ := b.ReLU(s)
			ts := tensors(t, b, s, backend.Shape{3, 2})
			return p.Forward(ts[0], ts[1])
		}},
		{"foreign tensor", backend.ErrForeign, "relu.forward", func(b, other backend.Backend) error {
			p, _ := b.ReLU(s)
			ts, os := tensors(t, b, s), tensors(t, other, s)
			return p.Forward(ts[0], os[0])
		}},
		{"closed tensor", backend.ErrClosed, "relu.forward", func(b, _ backend.Backend) error {
			p, _ := b.ReLU(s)
			ts := tensors(t, b, s, s)
			require.NoError(t, ts[1].Close())
			return p.Forward(ts[0], ts[1])
		}},
		{"relu backward dx = y", backend.ErrInvalid, "relu.backward", func(b, _ backend.Backend) error {
			p, _ := b.ReLU(s)
			ts := tensors(t, b, s, s)
			return p.Backward(ts[0], ts[1], ts[0])
		}},
		{"lrn backward before forward", backend.ErrState, "lrn.backward", func(b, _ backend.Backend) error {
			p, err := b.LRN(lrnDesc)
			require.NoError(t, err)
			ts := tensors(t, b, lrnDesc.Input, lrnDesc.Input, lrnDesc.Input, lrnDesc.Input)
			return p.Backward(ts[0], ts[1], ts[2], ts[3])
		}},
		{"lrn backward on another x", backend.ErrState, "lrn.backward", func(b, _ backend.Backend) error {
			p, err := b.LRN(lrnDesc)
			require.NoError(t, err)
			ts := tensors(t, b, lrnDesc.Input, lrnDesc.Input, lrnDesc.Input, lrnDesc.Input, lrnDesc.Input)
			require.NoError(t, p.Forward(ts[0], ts[1]))
			return p.Backward(ts[4], ts[1], ts[2], ts[3])
		}},
		{"inference plan backward", backend.ErrInvalid, "lrn.backward", func(b, _ backend.Backend) error {
			d := lrnDesc
			d.Inference = true
			p, err := b.LRN(d)
			require.NoError(t, err)
			ts := tensors(t, b, d.Input, d.Input, d.Input, d.Input)
			return p.Backward(ts[0], ts[1], ts[2], ts[3])
		}},
		{"sgd momentum 1", backend.ErrInvalid, "sgd.step", func(b, _ backend.Backend) error {
			p, _ := b.SGD(s)
			ts := tensors(t, b, s, s, s)
			return p.Step(ts[0], ts[1], ts[2], backend.SGDParams{LR: 0.1, Momentum: 1})
		}},
		{"upload length", backend.ErrShape, "upload", func(b, _ backend.Backend) error {
			ts := tensors(t, b, s)
			return b.Upload(ts[0], make([]float32, 5))
		}},
		{"lrn window beyond the library", backend.ErrUnsupported, "lrn", func(b, _ backend.Backend) error {
			d := lrnDesc
			d.Size = 5
			_, err := b.LRN(d)
			return err
		}},
		{"plan after backend close", backend.ErrClosed, "relu.forward", func(b, _ backend.Backend) error {
			p, _ := b.ReLU(s)
			ts := tensors(t, b, s, s)
			require.NoError(t, b.Close())
			return p.Forward(ts[0], ts[1])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, o := newRecorder(), newRecorder()
			b, other := driver.Wrap[*rt](r), driver.Wrap[*rt](o)
			err := tc.call(b, other)
			require.ErrorIs(t, err, tc.kind)
			var oe *backend.OpError
			require.ErrorAs(t, err, &oe)
			assert.NotEmpty(t, oe.Op)
			for k, n := range r.calls {
				assert.NotContains(t, k, "bad:", "%d times", n)
			}
			assert.Zero(t, r.calls[tc.notReached], "the failing call reached the driver")
		})
	}
}

func TestRulebookCloses(t *testing.T) {
	r := newRecorder()
	b := driver.Wrap[*rt](r)
	p, err := b.ReLU(backend.Shape{4})
	require.NoError(t, err)
	ts := tensors(t, b, backend.Shape{4}, backend.Shape{4})
	require.NoError(t, p.Forward(ts[0], ts[1]))
	require.NoError(t, p.Forward(ts[0], ts[0]), "in place is allowed")
	require.NoError(t, ts[0].Close())
	require.NoError(t, ts[0].Close(), "twice is harmless")
	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
	require.ErrorIs(t, p.Forward(ts[1], ts[1]), backend.ErrClosed)
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	require.NoError(t, ts[1].Close(), "a tensor closed after its backend")
	assert.Equal(t, map[string]int{"new tensor": 2, "relu": 1, "relu.forward": 2, "relu.close": 1, "tensor.close": 1, "close": 1}, r.calls)
	require.ErrorIs(t, b.Sync(), backend.ErrClosed)
	_, err = b.NewTensor(1)
	require.ErrorIs(t, err, backend.ErrClosed)
}

func TestSupports(t *testing.T) {
	b := driver.Wrap[*rt](newRecorder())
	ok := backend.LRNDesc{Input: backend.Shape{1, 4, 2, 2}, Size: 3, Alpha: 1e-4, Beta: 0.75, K: 2}
	require.NoError(t, b.Supports(ok))
	wide := ok
	wide.Size = 5
	require.ErrorIs(t, b.Supports(wide), backend.ErrUnsupported)
	bad := ok
	bad.Size = 4
	require.ErrorIs(t, b.Supports(bad), backend.ErrInvalid, "Validate comes first: even windows are invalid everywhere")
	require.ErrorIs(t, b.Supports(nil), backend.ErrInvalid)
	require.ErrorIs(t, b.Supports((*backend.LRNDesc)(nil)), backend.ErrInvalid, "a typed nil is an error, not a panic")
	require.ErrorIs(t, b.Supports(&wide), backend.ErrUnsupported, "a pointer is read as the description it points to")
	require.NoError(t, b.Supports(&ok))
	require.NoError(t, b.Supports(backend.Shape{3, 3}))
	require.ErrorIs(t, b.Supports(backend.Shape{0}), backend.ErrShape)
}

func TestRulebookAllocatesNothing(t *testing.T) {
	r := newRecorder()
	b := driver.Wrap[*rt](r)
	s := backend.Shape{8}
	relu, err := b.ReLU(s)
	require.NoError(t, err)
	sgd, err := b.SGD(s)
	require.NoError(t, err)
	ts := tensors(t, b, s, s, s)
	hp := backend.SGDParams{LR: 0.01, Momentum: 0.9}
	allocs := testing.AllocsPerRun(100, func() {
		if relu.Forward(ts[0], ts[1]) != nil || relu.Backward(ts[1], ts[2], ts[2]) != nil || sgd.Step(ts[0], ts[1], ts[2], hp) != nil {
			panic("unexpected error")
		}
	})
	assert.Zero(t, allocs)
}

func TestUnwrap(t *testing.T) {
	r := newRecorder()
	b := driver.Wrap[*rt](r)
	d, ok := driver.Unwrap(b)
	require.True(t, ok)
	assert.Same(t, r, d)
	x, err := b.NewTensor(2)
	require.NoError(t, err)
	dt, ok := driver.Unwrap(x)
	require.True(t, ok)
	assert.IsType(t, &rt{}, dt)
	p, err := b.ReLU(backend.Shape{2})
	require.NoError(t, err)
	dp, ok := driver.Unwrap(p)
	require.True(t, ok)
	assert.IsType(t, rrelu{}, dp)
	_, ok = driver.Unwrap(nil)
	assert.False(t, ok)
	_, ok = driver.Unwrap(backend.Shape{2})
	assert.False(t, ok)
}
