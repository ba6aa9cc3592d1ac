package alexnet_test

import (
	"errors"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/collective"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// miniDropout is Mini with dropout 0.5 after fc6 and fc7: the small
// network on which replicas' dropout masks are checked.
func miniDropout() alexnet.Config {
	c := alexnet.Mini()
	c.Name, c.Dropout = "mini-dropout", 0.5
	return c
}

// A replica holding rows [2, 4) of a global batch of 4 draws, with
// SetRowOffset(2), the dropout masks of those rows in one network running
// all 4: its dropout outputs are rows 2–3 of the whole batch's.
func TestRowOffsetDropoutMasks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		cfg := miniDropout()
		whole, err := alexnet.New(b, cfg)
		require.NoError(t, err)
		defer whole.Close()
		x, _ := batchOf(3, 4, whole.InputSize(), cfg.Classes)
		require.NoError(t, whole.Forward(x, alexnet.Train))
		replica, err := alexnet.New(b, cfg)
		require.NoError(t, err)
		defer replica.Close()
		half := x[2*replica.InputSize():]
		for _, tc := range []struct {
			name   string
			offset int
			same   bool
		}{
			{"without the offset the masks are those of rows 0-1", 0, false},
			{"with offset 2 the masks are those of rows 2-3", 2, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				require.NoError(t, replica.SetRowOffset(tc.offset))
				require.NoError(t, replica.Forward(half, alexnet.Train))
				for _, name := range []string{"drop6", "drop7"} {
					w, err := whole.Activation(name)
					require.NoError(t, err)
					got, err := replica.Activation(name)
					require.NoError(t, err)
					want := w[len(w)/2:]
					if tc.same {
						backendtest.Near(t, name, got, want, 1e-5)
						continue
					}
					assert.Greater(t, backendtest.RelErr(got, want), 0.1, "%s: masks of other rows differ", name)
				}
			})
		}
		assert.ErrorContains(t, replica.SetRowOffset(-1), "want ≥ 0")
	})
}

func TestAverageGradsLocalAndBuckets(t *testing.T) {
	b := openCPU(t, 1)
	cfg := alexnet.Mini()
	net, err := alexnet.New(b, cfg)
	require.NoError(t, err)
	defer net.Close()
	c := collective.Local()
	t.Run("before Backward is an ordering error", func(t *testing.T) {
		err := net.AverageGrads(c)
		assert.True(t, errors.Is(err, alexnet.ErrState), "%v", err)
	})
	x, labels := batchOf(5, 2, net.InputSize(), cfg.Classes)
	require.NoError(t, net.Forward(x, alexnet.Train))
	_, err = net.Loss(labels)
	require.NoError(t, err)
	require.NoError(t, net.Backward())
	before, err := net.Grad("conv1.weight")
	require.NoError(t, err)
	t.Run("a Comm of one rank leaves the gradients", func(t *testing.T) {
		require.NoError(t, net.AverageGrads(c))
		after, err := net.Grad("conv1.weight")
		require.NoError(t, err)
		assert.Equal(t, before, after)
		assert.Zero(t, net.DistStats().Calls)
		require.NoError(t, net.BroadcastParams(c, 0))
	})
	t.Run("buckets", func(t *testing.T) {
		assert.Equal(t, 1, net.Buckets(), "Mini's parameters fit one default bucket (25 MiB)")
		require.NoError(t, net.SetBucketBytes(4))
		assert.Equal(t, len(net.ParamNames()), net.Buckets(), "4-byte buckets: one per parameter")
		require.NoError(t, net.SetBucketBytes(200_000))
		assert.Less(t, net.Buckets(), len(net.ParamNames()))
		assert.Greater(t, net.Buckets(), 1)
		assert.ErrorContains(t, net.SetBucketBytes(3), "want ≥ 4")
	})
}
