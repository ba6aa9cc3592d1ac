package synth

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBatch(t *testing.T) {
	for _, tc := range []struct {
		name             string
		n, size, classes int
	}{
		{"one image one class", 1, 3, 1},
		{"several", 16, 27, 10},
		{"empty", 0, 5, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, labels := Batch(rand.New(rand.NewPCG(1, 2)), tc.n, tc.size, tc.classes)
			require.Len(t, x, tc.n*tc.size)
			require.Len(t, labels, tc.n)
			for _, l := range labels {
				assert.True(t, l >= 0 && int(l) < tc.classes, "label %d outside [0, %d)", l, tc.classes)
			}
			x2, labels2 := Batch(rand.New(rand.NewPCG(1, 2)), tc.n, tc.size, tc.classes)
			assert.Equal(t, x, x2, "the same generator state gives the same batch")
			assert.Equal(t, labels, labels2)
		})
	}
}

func TestNormalScale(t *testing.T) {
	for _, scale := range []float64{0.01, 1, 5} {
		v := Normal(rand.New(rand.NewPCG(3, 4)), 20000, scale)
		var sum, sq float64
		for _, x := range v {
			sum += float64(x)
			sq += float64(x) * float64(x)
		}
		mean := sum / float64(len(v))
		sd := math.Sqrt(sq/float64(len(v)) - mean*mean)
		assert.InDelta(t, 0, mean/scale, 0.05, "scale %g: mean", scale)
		assert.InDelta(t, 1, sd/scale, 0.05, "scale %g: standard deviation", scale)
	}
}
