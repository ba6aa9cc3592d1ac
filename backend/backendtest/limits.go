package backendtest

import (
	"errors"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// OptionsOpener opens a fresh backend with the given options.
type OptionsOpener func(backend.Options) (backend.Backend, error)

// RunLimits checks the contract's limits (see the package doc of backend):
// options out of range are refused at Open; descriptions whose derived
// sizes overflow the limits are ErrInvalid from the plan call (each of
// these used to crash a backend: SIGFPE inside oneDNN, a fatal out of
// memory or a makeslice panic in the Go backend); tensors beyond the memory
// budget are ErrMemory with the byte count, before anything is allocated,
// and the budget is given back when a tensor is closed. It is not part of
// Run because it needs to open backends with options.
func RunLimits(t *testing.T, open OptionsOpener) {
	t.Run("threads", func(t *testing.T) {
		for _, threads := range []int{100000, backend.MaxThreads() + 1, -1} {
			b, err := open(backend.Options{Threads: threads})
			if err == nil {
				b.Close()
			}
			require.ErrorIs(t, err, backend.ErrInvalid, "threads %d", threads)
			assert.Contains(t, err.Error(), "threads")
		}
	})

	t.Run("oversized descriptions", func(t *testing.T) {
		e := newEnv(t, func() (backend.Backend, error) { return open(backend.Options{}) })
		conv := func(in backend.Shape, out, k int) backend.ConvDesc {
			return backend.ConvDesc{Input: in, Out: out, KernelH: k, KernelW: k, StrideH: 1, StrideW: 1, Groups: 1}
		}
		for _, c := range []struct {
			name string
			plan func() (backend.Plan, error)
		}{
			{"linear in 2^30 out 2^32", func() (backend.Plan, error) {
				return e.b.Linear(backend.LinearDesc{Input: backend.Shape{1, 1 << 30}, Out: 1 << 32})
			}},
			{"linear in 2^29 out 2^33", func() (backend.Plan, error) {
				return e.b.Linear(backend.LinearDesc{Input: backend.Shape{1, 1 << 29}, Out: 1 << 33})
			}},
			{"linear out 2^31", func() (backend.Plan, error) {
				return e.b.Linear(backend.LinearDesc{Input: backend.Shape{1, 1}, Out: 1 << 31})
			}},
			{"conv 46340x46340 kernel 11", func() (backend.Plan, error) { return e.b.Conv(conv(backend.Shape{1, 1, 46340, 46340}, 1, 11)) }},
			{"conv weights 65536x65536x3x3", func() (backend.Plan, error) { return e.b.Conv(conv(backend.Shape{1, 65536, 3, 3}, 65536, 3)) }},
			{"conv out 2^40", func() (backend.Plan, error) { return e.b.Conv(conv(backend.Shape{1, 1, 4, 4}, 1<<40, 1)) }},
			{"pool kernel 2^62", func() (backend.Plan, error) {
				return e.b.MaxPool(backend.PoolDesc{Input: backend.Shape{1, 1, 4, 4}, KernelH: 1 << 62, KernelW: 1, StrideH: 1, StrideW: 1, PadH: 1 << 60})
			}},
			{"lrn size 2^40+1", func() (backend.Plan, error) {
				return e.b.LRN(backend.LRNDesc{Input: backend.Shape{1, 4, 2, 2}, Size: 1<<40 + 1, Alpha: 1, Beta: 1, K: 1})
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				var p backend.Plan
				err := noPanic(t, c.name, func() (err error) { p, err = c.plan(); return err })
				if err == nil && p != nil {
					p.Close()
				}
				require.ErrorIs(t, err, backend.ErrInvalid)
				var oe *backend.OpError
				require.True(t, errors.As(err, &oe))
			})
		}
	})

	t.Run("memory budget", func(t *testing.T) {
		const budget = 64 << 20
		e := newEnv(t, func() (backend.Backend, error) { return open(backend.Options{MemoryBudget: budget}) })
		// The tensor: 2^31 − 1 floats are 8 GiB.
		_, err := e.b.NewTensor(1<<31 - 1)
		require.ErrorIs(t, err, backend.ErrMemory)
		assert.Contains(t, err.Error(), "8589934588 bytes")
		assert.Contains(t, err.Error(), "67108864")

		// 40 MiB fits, a second 40 MiB does not, and fits again once the
		// first is closed.
		const n = 10 << 20
		a, err := e.b.NewTensor(n)
		require.NoError(t, err)
		_, err = e.b.NewTensor(n)
		require.ErrorIs(t, err, backend.ErrMemory)
		require.NoError(t, a.Close())
		c, err := e.b.NewTensor(n)
		require.NoError(t, err, "closing a tensor gives its bytes back to the budget")
		require.NoError(t, c.Close())

		_, err = open(backend.Options{MemoryBudget: -1})
		require.ErrorIs(t, err, backend.ErrInvalid)
	})
}
