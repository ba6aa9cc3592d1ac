package backend_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fake is a Tensor for the rule tests.
type fake struct{ s backend.Shape }

func (f *fake) Shape() backend.Shape { return f.s }
func (f *fake) Close() error         { return nil }

func TestCheckAliases(t *testing.T) {
	a, b, c, d := &fake{}, &fake{}, &fake{}, &fake{}
	for _, tc := range []struct {
		name string
		call backend.Call
		args []backend.Tensor
		want string // "" for no error, else the message's start
	}{
		{"conv forward distinct", backend.WeightForward, []backend.Tensor{a, b, c, d}, ""},
		{"conv forward no bias", backend.WeightForward, []backend.Tensor{a, b, nil, d}, ""},
		{"conv forward y = x", backend.WeightForward, []backend.Tensor{a, b, c, a}, "y and x"},
		{"conv forward y = w", backend.WeightForward, []backend.Tensor{a, b, c, b}, "y and w"},
		{"conv forward y = b", backend.WeightForward, []backend.Tensor{a, b, c, c}, "y and b"},
		{"inputs may alias each other", backend.WeightForward, []backend.Tensor{a, a, c, d}, ""},
		{"backward data dx = w", backend.WeightBackwardData, []backend.Tensor{a, b, b}, "dx and w"},
		{"backward filter dw = x", backend.WeightBackwardFilter, []backend.Tensor{a, b, a, d}, "dw and x"},
		{"backward filter dw = dy", backend.WeightBackwardFilter, []backend.Tensor{a, b, b, d}, "dw and dy"},
		{"backward filter db = dw", backend.WeightBackwardFilter, []backend.Tensor{a, b, c, c}, "dw and db"},
		{"bias forward in place", backend.BiasForward, []backend.Tensor{a, b, a}, ""},
		{"bias forward y = b", backend.BiasForward, []backend.Tensor{a, b, b}, "y and b"},
		{"relu forward in place", backend.ReLUForward, []backend.Tensor{a, a}, ""},
		{"relu backward dx = dy", backend.ReLUBackward, []backend.Tensor{a, b, b}, ""},
		{"relu backward dx = y", backend.ReLUBackward, []backend.Tensor{a, b, a}, "dx and y"},
		{"lrn forward y = x", backend.LRNForward, []backend.Tensor{a, a}, "y and x"},
		{"pool backward dx = dy", backend.PoolBackward, []backend.Tensor{a, b, c, c}, "dx and dy"},
		{"dropout backward in place", backend.DropoutBackward, []backend.Tensor{a, a}, ""},
		{"loss dlogits = logits", backend.LossForward, []backend.Tensor{a, b, a}, "dlogits and logits"},
		{"loss = logits", backend.LossForward, []backend.Tensor{a, a, nil}, "loss and logits"},
		{"softmax probs = logits", backend.LossSoftmax, []backend.Tensor{a, a}, "probs and logits"},
		{"sgd param = grad", backend.SGDStep, []backend.Tensor{a, a, c}, "param and grad"},
		{"sgd velocity = grad", backend.SGDStep, []backend.Tensor{a, b, b}, "velocity and grad"},
		{"wrong argument count", backend.SGDStep, []backend.Tensor{a, b}, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := backend.CheckAliases("op.call", tc.call, tc.args...)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, backend.ErrInvalid)
			assert.Contains(t, err.Error(), "dnngo: op.call: "+tc.want)
		})
	}
}

func TestCheckAliasesAllocatesNothing(t *testing.T) {
	a, b, c, d := &fake{}, &fake{}, &fake{}, &fake{}
	var x, w, bias, y backend.Tensor = a, b, c, d
	allocs := testing.AllocsPerRun(100, func() {
		if backend.CheckAliases("conv2d.forward", backend.WeightForward, x, w, bias, y) != nil {
			panic("unexpected")
		}
	})
	assert.Zero(t, allocs)
	var l backend.LastForward
	allocs = testing.AllocsPerRun(100, func() {
		l.Record(x, y)
		if l.Check("lrn.backward", x, y) != nil {
			panic("unexpected")
		}
	})
	assert.Zero(t, allocs)
}

func TestCallTableDescribesEveryCall(t *testing.T) {
	for c := backend.WeightForward; c <= backend.SGDStep; c++ {
		args := c.Args()
		require.NotEmpty(t, args, "call %d", c)
		written := 0
		for i := range args {
			if c.Writes(i) {
				written++
			}
		}
		assert.Positive(t, written, "call %d writes something", c)
		if out, in, ok := c.InPlace(); ok {
			assert.True(t, c.Writes(out), "in-place output of call %d is written", c)
			assert.False(t, c.Writes(in), "in-place input of call %d is read", c)
		}
	}
}

func TestLastForward(t *testing.T) {
	x, y, other := &fake{}, &fake{}, &fake{}
	var l backend.LastForward
	require.ErrorIs(t, l.Check("lrn.backward", x, y), backend.ErrState, "before any forward")
	l.Record(x, y)
	require.NoError(t, l.Check("lrn.backward", x, y))
	err := l.Check("maxpool2d.backward", other, y)
	require.ErrorIs(t, err, backend.ErrState)
	assert.Contains(t, err.Error(), "x is not the input of this plan's latest forward")
	require.ErrorIs(t, l.Check("maxpool2d.backward", x, other), backend.ErrState)
	l.Forget()
	require.ErrorIs(t, l.Check("lrn.backward", x, y), backend.ErrState)
}

func BenchmarkCheckAliases(b *testing.B) {
	x, w, bias, y := backend.Tensor(&fake{}), backend.Tensor(&fake{}), backend.Tensor(&fake{}), backend.Tensor(&fake{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if backend.CheckAliases("conv2d.forward", backend.WeightForward, x, w, bias, y) != nil {
			b.Fatal("unexpected alias")
		}
	}
}
