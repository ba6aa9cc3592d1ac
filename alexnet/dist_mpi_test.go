//go:build mpi

package alexnet_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/collective"
	"github.com/dnngo/dnngo/internal/mpitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The ranks' entry point: TestMPI* below start it under mpirun.
func TestMPIChild(t *testing.T) {
	mpitest.Child(t, map[string]func(*testing.T){"equivalence": childEquivalence})
}

// 2 ranks × batch B for a few steps are 1 process × batch 2B: every
// parameter within 1e-5 relative norm error, and the loss sequence too.
// Checked on Mini (5 steps of 2 × 16 against 32) and on Mini with dropout
// 0.5 (3 steps of 2 × 4 against 8: the masks of the replicas' rows are
// those of the whole batch), on every backend compiled in.
func TestMPIDataParallelEquivalence(t *testing.T) {
	out := mpitest.Run(t, "TestMPIChild", 2, "equivalence")
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "rel err") && strings.Contains(l, "loss") {
			t.Log(strings.TrimSpace(l))
		}
	}
}

func childEquivalence(t *testing.T) {
	c, err := collective.Open("mpi")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	require.Equal(t, 2, c.Size())
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		for _, tc := range []struct {
			name     string
			cfg      alexnet.Config
			steps, B int
		}{
			{"mini 2x16 vs 32, 5 steps", alexnet.Mini(), 5, 16},
			{"mini with dropout 2x4 vs 8, 3 steps", miniDropout(), 3, 4},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkEquivalence(t, c, b, tc.cfg, tc.steps, tc.B)
			})
		}
	})
}

func checkEquivalence(t *testing.T, c collective.Comm, b backend.Backend, cfg alexnet.Config, steps, B int) {
	r, N := c.Rank(), c.Size()
	net, err := alexnet.New(b, cfg)
	require.NoError(t, err)
	defer net.Close()
	if r != 0 {
		// Start the other replicas elsewhere: BroadcastParams must fix it.
		perturb(t, net)
	}
	require.NoError(t, net.BroadcastParams(c, 0))
	require.NoError(t, net.SetRowOffset(r*B))
	size := net.InputSize()
	var losses []float32
	for s := range steps {
		x, labels := batchOf(uint64(100+s), N*B, size, cfg.Classes)
		loss, err := net.DistTrainStep(c, x[r*B*size:(r+1)*B*size], labels[r*B:(r+1)*B])
		require.NoError(t, err)
		losses = append(losses, loss)
	}
	st := net.DistStats()
	assert.Equal(t, steps, st.Steps)
	assert.Equal(t, steps*net.Buckets(), st.Calls)

	// Every replica ends with rank 0's parameters.
	for _, name := range net.ParamNames() {
		mine, err := net.Param(name)
		require.NoError(t, err)
		root := append([]float32(nil), mine...)
		require.NoError(t, c.Broadcast(root, 0))
		backendtest.Near(t, "replica "+name, mine, root, 1e-6)
	}
	if r != 0 {
		return
	}
	// Rank 0 also runs the single process at batch N·B.
	ref, err := alexnet.New(b, cfg)
	require.NoError(t, err)
	defer ref.Close()
	var refLosses []float32
	for s := range steps {
		x, labels := batchOf(uint64(100+s), N*B, size, cfg.Classes)
		loss, err := ref.TrainStep(x, labels)
		require.NoError(t, err)
		refLosses = append(refLosses, loss)
	}
	backendtest.Near(t, "loss sequence", losses, refLosses, 1e-5)
	for _, name := range net.ParamNames() {
		got, err := net.Param(name)
		require.NoError(t, err)
		want, err := ref.Param(name)
		require.NoError(t, err)
		backendtest.Near(t, name, got, want, 1e-5)
	}
	assert.NotEqual(t, refLosses[0], refLosses[len(refLosses)-1], "the network trained")
}

// perturb adds noise to every parameter.
func perturb(t *testing.T, net *alexnet.Network) {
	rng := rand.New(rand.NewPCG(99, 1))
	for _, name := range net.ParamNames() {
		p, err := net.Param(name)
		require.NoError(t, err)
		for i := range p {
			p[i] += float32(rng.NormFloat64() * 0.1)
		}
		require.NoError(t, net.SetParam(name, p))
	}
}
