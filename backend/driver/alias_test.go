package driver

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fake is a driver tensor for the rule tests.
type fake struct{}

func (fake) Close() error { return nil }

type h = *handle[fake]

func TestCheckAliases(t *testing.T) {
	a, b, c, d := &handle[fake]{}, &handle[fake]{}, &handle[fake]{}, &handle[fake]{}
	for _, tc := range []struct {
		name string
		call call
		args []h
		want string // "" for no error, else the message's start
	}{
		{"conv forward distinct", weightForward, []h{a, b, c, d}, ""},
		{"conv forward no bias", weightForward, []h{a, b, nil, d}, ""},
		{"conv forward y = x", weightForward, []h{a, b, c, a}, "y and x"},
		{"conv forward y = w", weightForward, []h{a, b, c, b}, "y and w"},
		{"conv forward y = b", weightForward, []h{a, b, c, c}, "y and b"},
		{"inputs may alias each other", weightForward, []h{a, a, c, d}, ""},
		{"backward data dx = w", weightBackwardData, []h{a, b, b}, "dx and w"},
		{"backward filter dw = x", weightBackwardFilter, []h{a, b, a, d}, "dw and x"},
		{"backward filter dw = dy", weightBackwardFilter, []h{a, b, b, d}, "dw and dy"},
		{"backward filter db = dw", weightBackwardFilter, []h{a, b, c, c}, "dw and db"},
		{"bias forward in place", biasForward, []h{a, b, a}, ""},
		{"bias forward y = b", biasForward, []h{a, b, b}, "y and b"},
		{"relu forward in place", reluForward, []h{a, a}, ""},
		{"relu backward dx = dy", reluBackward, []h{a, b, b}, ""},
		{"relu backward dx = y", reluBackward, []h{a, b, a}, "dx and y"},
		{"lrn forward y = x", lrnForward, []h{a, a}, "y and x"},
		{"pool backward dx = dy", poolBackward, []h{a, b, c, c}, "dx and dy"},
		{"dropout backward in place", dropoutBackward, []h{a, a}, ""},
		{"loss dlogits = logits", lossForward, []h{a, b, a}, "dlogits and logits"},
		{"loss = logits", lossForward, []h{a, a, nil}, "loss and logits"},
		{"softmax probs = logits", lossSoftmax, []h{a, a}, "probs and logits"},
		{"sgd param = grad", sgdStep, []h{a, a, c}, "param and grad"},
		{"sgd velocity = grad", sgdStep, []h{a, b, b}, "velocity and grad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAliases("op.call", tc.call, tc.args...)
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
	a, b, c, d := &handle[fake]{}, &handle[fake]{}, &handle[fake]{}, &handle[fake]{}
	allocs := testing.AllocsPerRun(100, func() {
		if checkAliases("conv2d.forward", weightForward, a, b, c, d) != nil {
			panic("unexpected")
		}
	})
	assert.Zero(t, allocs)
}

func TestCallTableDescribesEveryCall(t *testing.T) {
	for c := weightForward; c < numCalls; c++ {
		r := rules[c]
		require.NotEmpty(t, r.args, "call %d", c)
		assert.NotZero(t, r.written, "call %d writes something", c)
		assert.Less(t, int(r.written), 1<<len(r.args), "call %d writes only its arguments", c)
		if r.inPlace != none {
			assert.NotZero(t, r.written&(1<<r.inPlace[0]), "in-place output of call %d is written", c)
			assert.Zero(t, r.written&(1<<r.inPlace[1]), "in-place input of call %d is read", c)
		}
	}
}

func BenchmarkCheckAliases(b *testing.B) {
	x, w, bias, y := &handle[fake]{}, &handle[fake]{}, &handle[fake]{}, &handle[fake]{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if checkAliases("conv2d.forward", weightForward, x, w, bias, y) != nil {
			b.Fatal("unexpected alias")
		}
	}
}
