package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all" // every backend compiled in
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlotSkipsNonFiniteAndExtremeValues: a diverging run's history (a
// loss of 4e22, NaN, ±Inf, a NaN accuracy) still draws a chart, without a
// panic in the tick computation.
func TestPlotSkipsNonFiniteAndExtremeValues(t *testing.T) {
	cases := []struct {
		name   string
		losses []float64
		top1   float64
	}{
		{"huge loss", []float64{2.3, 1.9, 4e22}, 0.5},
		{"NaN loss", []float64{2.3, math.NaN(), 1.5}, 0.5},
		{"Inf loss", []float64{2.3, math.Inf(1), math.Inf(-1)}, 0.5},
		{"all NaN", []float64{math.NaN(), math.NaN()}, math.NaN()},
		{"one huge epoch", []float64{4e22}, 0.5},
		{"same huge twice", []float64{4e22, 4e22}, 0.5},
		{"only huge", []float64{4e22, -3e30}, 0.5},
		{"NaN accuracy", []float64{2.3, 2.2}, math.NaN()},
		{"tiny spread", []float64{1, 1 + 1e-15}, 0.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h []Epoch
			for i, l := range c.losses {
				h = append(h, Epoch{Epoch: i + 1, TrainLoss: l, Val: Eval{N: 4, Loss: l, Top1: c.top1, Top5: 0.5}})
			}
			path := filepath.Join(t.TempDir(), "curve.png")
			require.NotPanics(t, func() { require.NoError(t, plotHistory(path, h)) })
			st, err := os.Stat(path)
			require.NoError(t, err)
			require.Greater(t, st.Size(), int64(1000), "a PNG was written")
		})
	}
}

// nanNetwork returns a Mini network whose last layer's weights are NaN.
func nanNetwork(t *testing.T) *alexnet.Network {
	net, err := alexnet.New(openCPU(t), miniConfig())
	require.NoError(t, err)
	t.Cleanup(func() { net.Close() })
	shape, err := net.ParamShape("fc8.weight")
	require.NoError(t, err)
	w := make([]float32, shape.Numel())
	for i := range w {
		w[i] = float32(math.NaN())
	}
	require.NoError(t, net.SetParam("fc8.weight", w))
	return net
}

// TestEvaluateCountsNonFiniteProbabilitiesAsWrong: a NaN network scores
// 0 %, not 100 %, and the NaN images are reported.
func TestEvaluateCountsNonFiniteProbabilitiesAsWrong(t *testing.T) {
	net := nanNetwork(t)
	for _, ten := range []bool{false, true} {
		ev, err := Evaluate(context.Background(), net, stripes{n: 6}, pre.Eval(ten), 4, 2)
		require.NoError(t, err)
		assert.Equal(t, 6, ev.N)
		assert.Equal(t, 6, ev.NonFinite, "every image is reported")
		assert.Zero(t, ev.Top1, "ten-crop=%v", ten)
		assert.Zero(t, ev.Top5, "ten-crop=%v", ten)
		assert.True(t, math.IsNaN(ev.Loss))
		assert.Contains(t, Epoch{Epoch: 1, Val: ev}.String(1), "6 with non-finite probabilities, counted as wrong")
	}
	x := make([]float32, 2*net.InputSize())
	_, correct, err := net.EvaluateBatch(x, []int32{0, 0})
	require.NoError(t, err)
	assert.Zero(t, correct, "alexnet EvaluateBatch: NaN logits are never the right class")
}

// TestDescribedRejectsOutOfBoundsNotes: notes come from a file; a size
// that would ask for gigabytes (or a malformed value) is an error before
// anything is allocated.
func TestDescribedRejectsOutOfBoundsNotes(t *testing.T) {
	net, err := alexnet.New(openCPU(t), miniConfig())
	require.NoError(t, err)
	defer net.Close()
	cases := []struct {
		name, preprocess, labels, want string
	}{
		{"resize 1e9", `{"resize":1000000000,"crop":99,"mean":[0.4,0.4,0.4]}`, "", "resize 1000000000"},
		{"resize 30000", `{"resize":30000,"crop":99,"mean":[0.4,0.4,0.4]}`, "", "resize 30000"},
		{"resize below crop", `{"resize":50,"crop":99,"mean":[0.4,0.4,0.4]}`, "", "resize 50"},
		{"negative resize", `{"resize":-5,"crop":99,"mean":[0.4,0.4,0.4]}`, "", "resize -5"},
		{"crop not the input", `{"resize":113,"crop":1000000,"mean":[0.4,0.4,0.4]}`, "", "crop 1000000"},
		{"mean out of range", `{"resize":113,"crop":99,"mean":[5,0.4,0.4]}`, "", "mean of channel 0"},
		{"mean overflows float32", `{"resize":113,"crop":99,"mean":[1e39,0.4,0.4]}`, "", "preprocess"},
		{"unknown field", `{"resize":113,"crop":99,"mean":[0.4,0.4,0.4],"rezise":7}`, "", "unknown field"},
		{"trailing data", `{"resize":113,"crop":99,"mean":[0.4,0.4,0.4]} {}`, "", "trailing"},
		{"labels not a list", `{"resize":113,"crop":99,"mean":[0.4,0.4,0.4]}`, `{"a":1}`, "labels"},
		{"huge label", `{"resize":113,"crop":99,"mean":[0.4,0.4,0.4]}`, `["top","` + strings.Repeat("x", 5000) + `"]`, "more than 1024"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, net.SetNote(NotePreprocess, c.preprocess))
			require.NoError(t, net.SetNote(NoteLabels, c.labels))
			_, _, err := Described(net)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	require.NoError(t, net.SetNote(NotePreprocess, `{"resize":4096,"crop":99,"mean":[0,1,0.5]}`))
	require.NoError(t, net.SetNote(NoteLabels, ""))
	_, _, err = Described(net)
	require.NoError(t, err, "the limits themselves are allowed")
}

// TestDivergingRunNeverOverwritesAGoodCheckpoint is the recipe
// scaled down (learning rate 1e6 on a tiny run) on every backend compiled
// in: the run stops with the step number, whatever checkpoint is on disk
// loads (it holds finite values), and the message calls a checkpoint
// intact only when one exists.
func TestDivergingRunNeverOverwritesAGoodCheckpoint(t *testing.T) {
	for _, name := range backend.Available() {
		t.Run("backend="+name, func(t *testing.T) {
			b, err := backend.Open(name)
			if err != nil {
				t.Skipf("backend %s does not open here: %v", name, err)
			}
			defer b.Close()
			t.Run("fresh run", func(t *testing.T) {
				cfg := miniConfig()
				cfg.SGD.LR = 1e6
				net, err := alexnet.New(b, cfg)
				require.NoError(t, err)
				defer net.Close()
				o := options(net, t.TempDir(), 3)
				_, err = Run(context.Background(), o)
				require.Error(t, err)
				t.Log(err)
				assert.Regexp(t, `step \d+ \((end of )?epoch \d`, err.Error())
				if _, serr := os.Stat(o.Checkpoint); serr != nil {
					assert.Contains(t, err.Error(), "no checkpoint was written yet")
					assert.NotContains(t, err.Error(), "intact")
				} else {
					loaded, lerr := alexnet.Load(b, o.Checkpoint)
					require.NoError(t, lerr, "what was written is finite")
					loaded.Close()
				}
			})
			t.Run("resumed run", func(t *testing.T) {
				net, err := alexnet.New(b, miniConfig())
				require.NoError(t, err)
				defer net.Close()
				o := options(net, t.TempDir(), 1)
				_, err = Run(context.Background(), o)
				require.NoError(t, err)
				require.NoError(t, net.Optimizer().SetLR(1e6))
				o.Epochs = 4
				_, err = Run(context.Background(), o)
				require.Error(t, err)
				t.Log(err)
				assert.Contains(t, err.Error(), "the last checkpoint "+o.Checkpoint+" is intact")
				loaded, err := alexnet.Load(b, o.Checkpoint)
				require.NoError(t, err, "the last good checkpoint still loads")
				loaded.Close()
			})
		})
	}
}

// TestNaNWeightsHiddenFromTheLossAreNotSaved: a NaN in conv1's weights
// that the backend's fused ReLU turns into numbers (oneDNN does; the loss
// stays finite) still stops the run before the checkpoint, which keeps its
// last good state.
func TestNaNWeightsHiddenFromTheLossAreNotSaved(t *testing.T) {
	for _, name := range backend.Available() {
		t.Run("backend="+name, func(t *testing.T) {
			b, err := backend.Open(name)
			if err != nil {
				t.Skipf("backend %s does not open here: %v", name, err)
			}
			defer b.Close()
			net, err := alexnet.New(b, miniConfig())
			require.NoError(t, err)
			defer net.Close()
			o := options(net, t.TempDir(), 1)
			_, err = Run(context.Background(), o)
			require.NoError(t, err)
			before, err := os.ReadFile(o.Checkpoint)
			require.NoError(t, err)

			w, err := net.Param("conv1.weight")
			require.NoError(t, err)
			w[0] = float32(math.NaN())
			require.NoError(t, net.SetParam("conv1.weight", w))
			o.Epochs = 2
			_, err = Run(context.Background(), o)
			require.Error(t, err, "a NaN network must not train on silently")
			t.Log(err)
			assert.Contains(t, err.Error(), "the last checkpoint "+o.Checkpoint+" is intact")
			after, err := os.ReadFile(o.Checkpoint)
			require.NoError(t, err)
			assert.Equal(t, before, after, "the checkpoint of epoch 1 was not overwritten")
		})
	}
}
