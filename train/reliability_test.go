package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
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
	_, correct, err := net.Evaluate(x, []int32{0, 0})
	require.NoError(t, err)
	assert.Zero(t, correct, "alexnet.Evaluate: NaN logits are never the right class")
}
