package train

import (
	"context"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinearScaling(t *testing.T) {
	for _, tc := range []struct {
		name        string
		lr          float64
		batch, base int
		want        float64
	}{
		{"same batch", 0.1, 256, 256, 0.1},
		{"8 x 256 (Goyal et al.)", 0.1, 8192, 256, 3.2},
		{"smaller batch", 0.01, 64, 128, 0.005},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LinearScaling(tc.lr, tc.batch, tc.base)
			require.NoError(t, err)
			assert.InEpsilon(t, tc.want, got, 1e-12)
		})
	}
	_, err := LinearScaling(0.1, 32, 0)
	assert.ErrorContains(t, err, "want both ≥ 1")
}

func TestWarmupLR(t *testing.T) {
	for _, tc := range []struct {
		name  string
		step  uint64
		steps int
		want  float32
	}{
		{"first step is one step up", 0, 4, 0.25},
		{"half way", 1, 4, 0.5},
		{"last warm-up step reaches the target", 3, 4, 1},
		{"after the warm-up", 10, 4, 1},
		{"no warm-up", 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, WarmupLR(0, 1, tc.step, tc.steps), 1e-7)
		})
	}
}

// The network trains its first steps at the ramp's rates, ends the warm-up
// at its configured rate, and a run resumed inside the warm-up continues
// the ramp (the same bits as the uninterrupted run).
func TestRunWarmup(t *testing.T) {
	b := openCPU(t)
	cfg := miniConfig()
	cfg.SGD.LR = 0.02
	run := func(dir string, epochs int, net *alexnet.Network) *alexnet.Network {
		if net == nil {
			var err error
			net, err = alexnet.New(b, cfg)
			require.NoError(t, err)
		}
		o := options(net, dir, epochs)
		o.WarmupSteps, o.WarmupFrom = 9, 0.002 // 6 steps an epoch: ends in epoch 2
		_, err := Run(context.Background(), o)
		require.NoError(t, err)
		return net
	}
	dir := t.TempDir()
	net := run(dir, 1, nil)
	assert.InDelta(t, WarmupLR(0.002, 0.02, 5, 9), net.Optimizer().LR(), 1e-9, "after epoch 1: the rate of step 6 of 9")
	net = run(dir, 2, net)
	assert.InDelta(t, 0.02, net.Optimizer().LR(), 1e-9, "the warm-up is over")

	// Resume from the epoch-1 checkpoint: same result as straight through.
	straight := run(t.TempDir(), 2, nil)
	split := t.TempDir()
	run(split, 1, nil).Close()
	resumed, err := alexnet.Load(b, split+"/ck.safetensors")
	require.NoError(t, err)
	resumed = run(split, 2, resumed)
	for _, name := range straight.ParamNames() {
		want, err := straight.Param(name)
		require.NoError(t, err)
		got, err := resumed.Param(name)
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
}
