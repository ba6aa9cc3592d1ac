package alexnet_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/stretchr/testify/require"
)

// TestMiniOverfitsABatch is the classic sanity check of a training loop:
// on a fixed batch of 4 random images with random labels, Mini() with its
// default settings (Kaiming init, SGD lr 0.01, momentum 0.9, weight decay
// 5e-4) drives the loss below 10 % of its start within 50 steps.
func TestMiniOverfitsABatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		cfg := alexnet.Mini()
		net, err := alexnet.New(b, cfg)
		require.NoError(t, err)
		defer net.Close()
		x, labels := batchOf(11, 4, net.InputSize(), cfg.Classes)
		var first, last float32
		for step := 0; step < 50; step++ {
			loss, err := net.TrainStep(x, labels)
			require.NoError(t, err)
			require.False(t, math.IsNaN(float64(loss)), "step %d: loss is NaN", step)
			if step == 0 {
				first = loss
			}
			last = loss
			if step%10 == 0 {
				t.Logf("step %2d loss %.4f", step, loss)
			}
		}
		final, _, err := net.EvaluateBatch(x, labels)
		require.NoError(t, err)
		t.Logf("start %.4f, step 49 %.4f, after 50 steps %.4f", first, last, final)
		require.Less(t, final, first/10, "loss after 50 steps vs start")
		probs, err := net.Predict(x)
		require.NoError(t, err)
		for i, l := range labels {
			top := alexnet.TopK(probs[i*cfg.Classes:(i+1)*cfg.Classes], 1)
			require.Equal(t, int(l), top[0].Class, "image %d: the memorised label is the top class", i)
		}
	})
}

// TestTrainStepAllocatesNothing: once a batch size has been planned, a
// training step (forward with dropout, loss, backward, SGD update) and an
// evaluation allocate nothing on the cpu backend.
func TestTrainStepAllocatesNothing(t *testing.T) {
	for _, threads := range []int{1, 2} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			cfg := alexnet.Mini()
			cfg.Dropout = 0.5
			net, err := alexnet.New(openCPU(t, threads), cfg)
			require.NoError(t, err)
			defer net.Close()
			x, labels := batchOf(3, 2, net.InputSize(), cfg.Classes)
			for range 2 {
				_, err := net.TrainStep(x, labels)
				require.NoError(t, err)
				_, _, err = net.EvaluateBatch(x, labels)
				require.NoError(t, err)
			}
			var stepErr error
			allocs := testing.AllocsPerRun(5, func() {
				if _, err := net.TrainStep(x, labels); err != nil {
					stepErr = err
				}
			})
			require.NoError(t, stepErr)
			require.Zero(t, allocs, "allocations per training step")
			allocs = testing.AllocsPerRun(5, func() {
				if _, _, err := net.EvaluateBatch(x, labels); err != nil {
					stepErr = err
				}
			})
			require.NoError(t, stepErr)
			require.Zero(t, allocs, "allocations per evaluation")
		})
	}
}

// oneBackward runs Forward, Loss and Backward on a fixed batch.
func oneBackward(t *testing.T, net *alexnet.Network, x []float32, labels []int32) {
	t.Helper()
	require.NoError(t, net.Forward(x, alexnet.Train))
	_, err := net.Loss(labels)
	require.NoError(t, err)
	require.NoError(t, net.Backward())
}

func param(t *testing.T, net *alexnet.Network, name string, get func(string) ([]float32, error)) []float32 {
	t.Helper()
	v, err := get(name)
	require.NoError(t, err, name)
	return v
}

// TestStepFollowsTheRule recomputes two SGD steps on the host, with a
// learning rate changed between them, for both update rules, and compares
// every parameter and momentum buffer.
func TestStepFollowsTheRule(t *testing.T) {
	for _, rule := range []backend.SGDRule{backend.PyTorchSGD, backend.PaperSGD} {
		t.Run("rule="+rule.String(), func(t *testing.T) {
			cfg := alexnet.Mini()
			cfg.SGD.Rule = rule
			net, err := alexnet.New(openCPU(t, 1), cfg)
			require.NoError(t, err)
			defer net.Close()
			x, labels := batchOf(5, 2, net.InputSize(), cfg.Classes)
			mu, wd := cfg.SGD.Momentum, cfg.SGD.WeightDecay
			w := map[string][]float32{}
			v := map[string][]float32{}
			for _, p := range net.ParamNames() {
				w[p] = param(t, net, p, net.Param)
				v[p] = make([]float32, len(w[p]))
			}
			for i, lr := range []float32{0.02, 0.005} {
				oneBackward(t, net, x, labels)
				require.NoError(t, net.Optimizer().SetLR(lr))
				require.Equal(t, lr, net.Optimizer().LR())
				g := map[string][]float32{}
				for _, p := range net.ParamNames() {
					g[p] = param(t, net, p, net.Grad)
				}
				require.NoError(t, net.Step())
				require.Equal(t, uint64(i+1), net.Steps())
				for _, p := range net.ParamNames() {
					for j := range w[p] {
						if rule == backend.PaperSGD {
							v[p][j] = mu*v[p][j] - wd*lr*w[p][j] - lr*g[p][j]
							w[p][j] += v[p][j]
						} else {
							v[p][j] = mu*v[p][j] + (g[p][j] + wd*w[p][j])
							w[p][j] -= lr * v[p][j]
						}
					}
					backendtest.Near(t, p, param(t, net, p, net.Param), w[p], 1e-6)
					backendtest.Near(t, "momentum."+p, param(t, net, p, net.Optimizer().Momentum), v[p], 1e-6)
				}
			}
		})
	}
}

// TestRulesAgreeAtConstantLR: the two rules give the same iterates while the
// learning rate stays put and part once it changes.
func TestRulesAgreeAtConstantLR(t *testing.T) {
	run := func(rule backend.SGDRule, lrs []float32) []float32 {
		cfg := alexnet.Mini()
		cfg.SGD.Rule = rule
		net, err := alexnet.New(openCPU(t, 1), cfg)
		require.NoError(t, err)
		defer net.Close()
		x, labels := batchOf(6, 2, net.InputSize(), cfg.Classes)
		for _, lr := range lrs {
			require.NoError(t, net.Optimizer().SetLR(lr))
			_, err := net.TrainStep(x, labels)
			require.NoError(t, err)
		}
		return param(t, net, "conv2.weight", net.Param)
	}
	constant := []float32{0.01, 0.01, 0.01}
	backendtest.Near(t, "constant lr", run(backend.PaperSGD, constant), run(backend.PyTorchSGD, constant), 1e-5)
	changed := []float32{0.01, 0.01, 0.001}
	require.Greater(t, backendtest.RelErr(run(backend.PaperSGD, changed), run(backend.PyTorchSGD, changed)), 1e-4,
		"after a change of lr the paper's velocity still carries the old rate")
}

// TestDropout checks inverted dropout in Train mode only, with a mask that
// is a function of the seed and the step.
func TestDropout(t *testing.T) {
	cfg := alexnet.Mini()
	cfg.Dropout = 0.5
	net, err := alexnet.New(openCPU(t, 1), cfg)
	require.NoError(t, err)
	defer net.Close()
	x, labels := batchOf(8, 4, net.InputSize(), cfg.Classes)
	act := func(name string) []float32 { return param(t, net, name, net.Activation) }

	require.NoError(t, net.Forward(x, alexnet.Eval))
	eval := act("fc8")
	_, err = net.Activation("drop6")
	require.ErrorContains(t, err, "eval mode", "no dropout output in Eval mode")
	require.NoError(t, net.Forward(x, alexnet.Eval))
	require.Equal(t, eval, act("fc8"), "Eval is deterministic")

	require.NoError(t, net.Forward(x, alexnet.Train))
	train := act("fc8")
	require.NotEqual(t, eval, train, "Train mode drops units")
	for _, layer := range []string{"6", "7"} {
		relu, drop := act("fc"+layer), act("drop"+layer)
		kept, positive := 0, 0
		for i, a := range relu {
			if a <= 0 {
				require.Zero(t, drop[i])
				continue
			}
			positive++
			if drop[i] != 0 {
				kept++
				require.Equal(t, a*2, drop[i], "kept units are scaled by 1/(1-p)")
			}
		}
		frac := float64(kept) / float64(positive)
		t.Logf("fc%s: %d of %d positive units kept (%.2f)", layer, kept, positive, frac)
		require.InDelta(t, 0.5, frac, 0.15)
	}
	mask := act("drop6")
	require.NoError(t, net.Forward(x, alexnet.Train))
	require.Equal(t, mask, act("drop6"), "the same step draws the same mask")
	_, err = net.Loss(labels)
	require.NoError(t, err)
	require.NoError(t, net.Backward())
	require.NoError(t, net.Step())
	require.NoError(t, net.Forward(x, alexnet.Eval))
	require.NoError(t, net.Forward(x, alexnet.Train))
	require.NotEqual(t, mask, act("drop6"), "the next step draws another mask")
}

// TestDropoutBackward checks the gradients of a dropout network against a
// numerical derivative of the loss in a direction, through the same mask.
func TestDropoutBackward(t *testing.T) {
	cfg := alexnet.Mini()
	cfg.Dropout = 0.5
	net, err := alexnet.New(openCPU(t, 1), cfg)
	require.NoError(t, err)
	defer net.Close()
	x, labels := batchOf(9, 2, net.InputSize(), cfg.Classes)
	oneBackward(t, net, x, labels)
	const name = "fc6.weight"
	g := param(t, net, name, net.Grad)
	w := param(t, net, name, net.Param)
	r := rand.New(rand.NewPCG(1, 2))
	dir := make([]float32, len(w))
	var want float64
	for i := range dir {
		dir[i] = float32(r.NormFloat64())
		want += float64(dir[i]) * float64(g[i])
	}
	loss := func(eps float32) float64 {
		moved := make([]float32, len(w))
		for i := range w {
			moved[i] = w[i] + eps*dir[i]
		}
		require.NoError(t, net.SetParam(name, moved))
		require.NoError(t, net.Forward(x, alexnet.Train)) // step 0: the same mask
		l, err := net.Loss(labels)
		require.NoError(t, err)
		return float64(l)
	}
	const eps = 1e-3
	got := (loss(eps) - loss(-eps)) / (2 * eps)
	t.Logf("directional derivative: backward %.6f, finite difference %.6f", want, got)
	require.InDelta(t, want, got, 2e-2*math.Abs(want)+1e-4)
}

func TestInit(t *testing.T) {
	b := openCPU(t, 1)
	stats := func(v []float32) (mean, std float64) {
		for _, x := range v {
			mean += float64(x)
		}
		mean /= float64(len(v))
		for _, x := range v {
			std += (float64(x) - mean) * (float64(x) - mean)
		}
		return mean, math.Sqrt(std / float64(len(v)))
	}
	t.Run("paper", func(t *testing.T) {
		cfg := alexnet.Mini()
		cfg.Init = alexnet.InitPaper
		net, err := alexnet.New(b, cfg)
		require.NoError(t, err)
		defer net.Close()
		ones := map[string]bool{"conv2": true, "conv4": true, "conv5": true, "fc6": true, "fc7": true}
		for _, layer := range []string{"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"} {
			bias := param(t, net, layer+".bias", net.Param)
			want := float32(0)
			if ones[layer] {
				want = 1
			}
			for _, v := range bias {
				require.Equal(t, want, v, "%s.bias", layer)
			}
			mean, std := stats(param(t, net, layer+".weight", net.Param))
			require.InDelta(t, 0, mean, 0.002, "%s.weight mean", layer)
			require.InDelta(t, 0.01, std, 0.001, "%s.weight std", layer)
		}
	})
	t.Run("kaiming", func(t *testing.T) {
		net, err := alexnet.New(b, alexnet.Mini())
		require.NoError(t, err)
		defer net.Close()
		for _, layer := range []string{"conv1", "conv3", "fc6", "fc8"} {
			shape, err := net.ParamShape(layer + ".weight")
			require.NoError(t, err)
			gain := 2.0
			if layer == "fc8" {
				gain = 1
			}
			want := math.Sqrt(gain / float64(shape[1:].Numel()))
			_, std := stats(param(t, net, layer+".weight", net.Param))
			require.InDelta(t, want, std, 0.05*want, "%s.weight std", layer)
			for _, v := range param(t, net, layer+".bias", net.Param) {
				require.Zero(t, v)
			}
		}
	})
	t.Run("seeded", func(t *testing.T) {
		get := func(seed uint64) []float32 {
			cfg := alexnet.Mini()
			cfg.Seed = seed
			net, err := alexnet.New(b, cfg)
			require.NoError(t, err)
			defer net.Close()
			return param(t, net, "conv3.weight", net.Param)
		}
		require.Equal(t, get(5), get(5))
		require.NotEqual(t, get(5), get(6))
	})
}

// TestBatchSizes runs one network at several batch sizes: each size gets
// its own plans and the images' logits do not depend on their batch.
func TestBatchSizes(t *testing.T) {
	cfg := alexnet.Mini()
	net, err := alexnet.New(openCPU(t, 2), cfg)
	require.NoError(t, err)
	defer net.Close()
	x, _ := batchOf(4, 3, net.InputSize(), cfg.Classes)
	require.NoError(t, net.Forward(x, alexnet.Eval))
	all, err := net.Logits()
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, net.Forward(x[i*net.InputSize():(i+1)*net.InputSize()], alexnet.Eval))
		one, err := net.Logits()
		require.NoError(t, err)
		backendtest.Near(t, "logits of one image", one, all[i*cfg.Classes:(i+1)*cfg.Classes], 1e-5)
	}
}

func TestOutOfOrderAndBadInput(t *testing.T) {
	cfg := alexnet.Mini()
	b := openCPU(t, 1)
	fresh := func(t *testing.T) *alexnet.Network {
		net, err := alexnet.New(b, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { net.Close() })
		return net
	}
	x, labels := batchOf(1, 2, 3*99*99, cfg.Classes)
	t.Run("loss before forward", func(t *testing.T) {
		_, err := fresh(t).Loss(labels)
		require.ErrorIs(t, err, alexnet.ErrState)
	})
	t.Run("backward before loss", func(t *testing.T) {
		net := fresh(t)
		require.NoError(t, net.Forward(x, alexnet.Train))
		require.ErrorIs(t, net.Backward(), alexnet.ErrState)
	})
	t.Run("backward after evaluate", func(t *testing.T) {
		net := fresh(t)
		_, _, err := net.EvaluateBatch(x, labels)
		require.NoError(t, err)
		require.ErrorIs(t, net.Backward(), alexnet.ErrState)
	})
	t.Run("step before backward and twice", func(t *testing.T) {
		net := fresh(t)
		require.ErrorIs(t, net.Step(), alexnet.ErrState)
		oneBackward(t, net, x, labels)
		require.NoError(t, net.Step())
		require.ErrorIs(t, net.Step(), alexnet.ErrState, "each Backward feeds one Step")
	})
	t.Run("grad before backward", func(t *testing.T) {
		_, err := fresh(t).Grad("conv1.weight")
		require.ErrorIs(t, err, alexnet.ErrState)
	})
	t.Run("input not a whole number of images", func(t *testing.T) {
		net := fresh(t)
		require.ErrorContains(t, net.Forward(x[:len(x)-1], alexnet.Eval), "want a positive multiple of 29403")
		require.Error(t, net.Forward(nil, alexnet.Eval))
		require.Error(t, net.Forward(x, alexnet.Mode(7)))
	})
	t.Run("labels", func(t *testing.T) {
		net := fresh(t)
		require.NoError(t, net.Forward(x, alexnet.Train))
		_, err := net.Loss(labels[:1])
		require.ErrorContains(t, err, "1 labels for a batch of 2")
		_, err = net.Loss([]int32{0, 10})
		require.ErrorIs(t, err, backend.ErrInvalid, "a label outside [0, classes)")
		require.ErrorIs(t, net.Backward(), alexnet.ErrState, "a failed Loss leaves no gradient")
	})
	t.Run("parameters by name", func(t *testing.T) {
		net := fresh(t)
		_, err := net.Param("conv9.weight")
		require.ErrorContains(t, err, "conv9.weight")
		require.ErrorContains(t, net.SetParam("fc8.bias", make([]float32, 3)), "3 values, want 10")
		_, err = net.Activation("conv0")
		require.ErrorIs(t, err, alexnet.ErrState, "nothing ran yet")
		require.ErrorIs(t, err, backend.ErrState, "the network's sentinel is the backend's")
		require.NoError(t, net.Forward(x, alexnet.Eval))
		_, err = net.Activation("conv0")
		require.ErrorContains(t, err, `no activation "conv0"`)
		require.Error(t, net.Optimizer().SetLR(float32(math.NaN())))
		require.Error(t, net.Optimizer().SetLR(-1))
	})
	t.Run("closed", func(t *testing.T) {
		net := fresh(t)
		require.NoError(t, net.Forward(x, alexnet.Eval))
		require.NoError(t, net.Close())
		require.NoError(t, net.Close(), "closing twice is harmless")
		for _, err := range []error{
			net.Forward(x, alexnet.Eval), net.Backward(), net.Step(), net.Save(t.TempDir() + "/x"),
			func() error { _, err := net.Predict(x); return err }(),
			func() error { _, err := net.Param("conv1.weight"); return err }(),
		} {
			require.ErrorIs(t, err, alexnet.ErrClosed)
			require.ErrorIs(t, err, backend.ErrClosed, "the network's sentinel is the backend's")
			require.ErrorContains(t, err, "the network is closed")
		}
	})
	t.Run("nil backend", func(t *testing.T) {
		_, err := alexnet.New(nil, cfg)
		require.Error(t, err)
	})
	t.Run("closed backend", func(t *testing.T) {
		cb := openCPU(t, 1)
		require.NoError(t, cb.Close())
		_, err := alexnet.New(cb, cfg)
		require.ErrorIs(t, err, backend.ErrClosed)
	})
}

func TestPlateauSchedule(t *testing.T) {
	cases := []struct {
		name    string
		sched   alexnet.Plateau
		metrics []float64
		lrs     []float32 // the rate after each observation
	}{
		{"improving keeps the rate", alexnet.Plateau{Factor: 0.1, Patience: 1},
			[]float64{0.9, 0.8, 0.7}, []float32{0.01, 0.01, 0.01}},
		{"patience 2", alexnet.Plateau{Factor: 0.1, Patience: 2},
			[]float64{0.9, 0.9, 0.95, 0.8, 0.85, 0.85}, []float32{0.01, 0.01, 0.001, 0.001, 0.001, 0.0001}},
		{"threshold: a tiny gain is no gain", alexnet.Plateau{Factor: 0.5, Patience: 1, Threshold: 0.01},
			[]float64{1, 0.995, 0.98}, []float32{0.01, 0.005, 0.005}},
		{"max drops", alexnet.Plateau{Factor: 0.1, Patience: 1, MaxDrops: 2},
			[]float64{1, 1, 1, 1, 1}, []float32{0.01, 0.001, 0.0001, 0.0001, 0.0001}},
		{"maximize accuracy", alexnet.Plateau{Factor: 0.1, Patience: 1, Maximize: true},
			[]float64{0.5, 0.6, 0.55}, []float32{0.01, 0.01, 0.001}},
	}
	b := openCPU(t, 1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := alexnet.Mini()
			cfg.Schedule = tc.sched
			net, err := alexnet.New(b, cfg)
			require.NoError(t, err)
			defer net.Close()
			for i, m := range tc.metrics {
				lr, err := net.Optimizer().Observe(m)
				require.NoError(t, err)
				require.InDelta(t, tc.lrs[i], lr, 1e-9, "after observation %d (%g)", i, m)
				require.Equal(t, lr, net.Optimizer().LR())
			}
			_, err = net.Optimizer().Observe(math.NaN())
			require.Error(t, err)
		})
	}
}

func TestTopK(t *testing.T) {
	row := []float32{0.1, 0.4, 0.05, 0.4, 0.05}
	require.Equal(t, []alexnet.Prediction{{1, 0.4}, {3, 0.4}, {0, 0.1}}, alexnet.TopK(row, 3), "ties go to the lower class")
	require.Len(t, alexnet.TopK(row, 9), 5)
	require.Empty(t, alexnet.TopK(row, -1))
	require.Empty(t, alexnet.TopK(nil, 5))
}

// TestGroupedMiniTrains runs the paper's two-tower layout (groups = 2 in
// conv2, conv4, conv5) and its update rule at Mini's size: the grouped
// weights have half the input channels, and training lowers the loss.
func TestGroupedMiniTrains(t *testing.T) {
	cfg := alexnet.Mini()
	cfg.Conv[1].Groups, cfg.Conv[3].Groups, cfg.Conv[4].Groups = 2, 2, 2
	cfg.SGD.Rule = backend.PaperSGD
	net, err := alexnet.New(openCPU(t, 2), cfg)
	require.NoError(t, err)
	defer net.Close()
	for layer, want := range map[string]backend.Shape{
		"conv2.weight": {32, 8, 5, 5}, "conv3.weight": {48, 32, 3, 3}, "conv4.weight": {48, 24, 3, 3}, "conv5.weight": {32, 24, 3, 3},
	} {
		got, err := net.ParamShape(layer)
		require.NoError(t, err)
		require.Equal(t, want, got, layer)
	}
	x, labels := batchOf(12, 4, net.InputSize(), cfg.Classes)
	first, err := net.TrainStep(x, labels)
	require.NoError(t, err)
	for range 14 {
		_, err = net.TrainStep(x, labels)
		require.NoError(t, err)
	}
	last, _, err := net.EvaluateBatch(x, labels)
	require.NoError(t, err)
	t.Logf("loss %.4f → %.4f after 15 steps", first, last)
	require.Less(t, last, first/2)
}

// TestSeedBuilds builds the full network of the spec (62 M parameters,
// paper init) and checks every parameter's shape; nothing runs on it here
// (see the benchmarks).
func TestSeedBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates and initialises 62 M parameters")
	}
	net, err := alexnet.New(openCPU(t, 1), alexnet.SeedConfig())
	require.NoError(t, err)
	defer net.Close()
	want := []backend.Shape{
		{96, 3, 11, 11}, {96}, {256, 96, 5, 5}, {256}, {384, 256, 3, 3}, {384}, {384, 384, 3, 3}, {384}, {256, 384, 3, 3}, {256},
		{4096, 9216}, {4096}, {4096, 4096}, {4096}, {1000, 4096}, {1000},
	}
	var total int
	for i, name := range net.ParamNames() {
		got, err := net.ParamShape(name)
		require.NoError(t, err)
		require.Equal(t, want[i], got, name)
		total += got.Numel()
	}
	require.Equal(t, 62_378_344, total)
	require.Equal(t, 3*227*227, net.InputSize())
	require.Contains(t, net.String(), "62,367,776 weights")
}

// A closed backend must give errors wrapping backend.ErrClosed, never a
// panic: at a batch size the network has not planned yet (planning fails)
// and at one it has (the plans are closed).
func TestTrainStepAfterBackendCloseReturnsErrClosed(t *testing.T) {
	cfg := alexnet.Mini()
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		net, err := alexnet.New(b, cfg)
		require.NoError(t, err)
		defer net.Close()
		x, labels := batchOf(3, 2, net.InputSize(), cfg.Classes)
		_, err = net.TrainStep(x, labels)
		require.NoError(t, err)
		require.NoError(t, b.Close())
		cases := []struct {
			name string
			n    int // images
		}{{"planned batch size", 2}, {"new batch size", 1}}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				xs, ls := x[:c.n*net.InputSize()], labels[:c.n]
				_, err := net.TrainStep(xs, ls)
				require.ErrorIs(t, err, backend.ErrClosed, "train step")
				_, err = net.Predict(xs)
				require.ErrorIs(t, err, backend.ErrClosed, "predict")
			})
		}
	})
}

// TestBatchSizeBound checks that the network keeps at most the set number
// of batch sizes planned, releasing the least recently used one, and that a
// size planned again computes what it computed the first time.
func TestBatchSizeBound(t *testing.T) {
	b := openCPU(t, 1)
	cfg := tinyConfig()
	for _, tc := range []struct {
		name  string
		max   int     // 0: the default
		sizes []int   // Forward batch sizes, in order
		held  [][]int // the sizes held after each Forward
	}{
		{"default keeps four", 0, []int{1, 2, 3, 4, 5, 1},
			[][]int{{1}, {1, 2}, {1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {1, 3, 4, 5}}},
		{"one", 1, []int{2, 3, 2}, [][]int{{2}, {3}, {2}}},
		{"two, least recently used goes", 2, []int{1, 2, 1, 3, 1}, [][]int{{1}, {1, 2}, {1, 2}, {1, 3}, {1, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net, err := alexnet.New(b, cfg)
			require.NoError(t, err)
			defer net.Close()
			if tc.max > 0 {
				require.NoError(t, net.SetMaxBatchSizes(tc.max))
			}
			first := map[int][]float32{}
			for i, n := range tc.sizes {
				x, _ := batchOf(uint64(n), n, net.InputSize(), net.Classes())
				require.NoError(t, net.Forward(x, alexnet.Eval))
				logits, err := net.Logits()
				require.NoError(t, err)
				if want, ok := first[n]; ok {
					backendtest.Near(t, fmt.Sprintf("logits at batch %d again", n), logits, want, 1e-6)
				} else {
					first[n] = logits
				}
				require.Equal(t, tc.held[i], alexnet.BatchSizesHeld(net), "after Forward #%d (batch %d)", i+1, n)
			}
		})
	}
	t.Run("bound below 1", func(t *testing.T) {
		net, err := alexnet.New(b, cfg)
		require.NoError(t, err)
		defer net.Close()
		require.Error(t, net.SetMaxBatchSizes(0))
	})
}
