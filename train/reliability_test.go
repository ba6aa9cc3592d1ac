package train

import (
	"math"
	"os"
	"path/filepath"
	"testing"

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
