package augment

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// windowOffset returns the offset of the crop m taken out of a ramp image,
// checking that every pixel of m is the ramp pixel at that offset.
func windowOffset(t *testing.T, m *Image) (int, int) {
	t.Helper()
	v := int(m.At(0, 0, 0))
	y0, x0 := v/100, v%100
	for c := range m.C {
		for y := range m.H {
			for x := range m.W {
				require.Equal(t, rampValue(c, y0+y, x0+x), m.At(c, y, x), "c=%d y=%d x=%d", c, y, x)
			}
		}
	}
	return y0, x0
}

func TestRandomCrop(t *testing.T) {
	t.Run("gives a window of the image at an offset that fits", func(t *testing.T) {
		for seed := range uint64(20) {
			m := ramp(3, 7, 9)
			require.NoError(t, RandomCrop{H: 4, W: 5}.Apply(m, seeded(seed)))
			require.Equal(t, [3]int{3, 4, 5}, [3]int{m.C, m.H, m.W})
			require.Len(t, m.Pix, 3*4*5)
			y0, x0 := windowOffset(t, m)
			assert.True(t, y0 >= 0 && y0 <= 3 && x0 >= 0 && x0 <= 4, "offset %d,%d", y0, x0)
		}
	})
	t.Run("every offset occurs, uniformly", func(t *testing.T) {
		counts := map[[2]int]int{}
		const n = 3000
		r := seeded(7)
		for range n {
			m := ramp(1, 5, 5)
			require.NoError(t, RandomCrop{H: 3, W: 3}.Apply(m, r))
			y0, x0 := windowOffset(t, m)
			counts[[2]int{y0, x0}]++
		}
		require.Len(t, counts, 9, "3×3 crops of a 5×5 image have 9 positions")
		for off, c := range counts {
			assert.InDelta(t, n/9, c, 80, "offset %v", off) // σ ≈ 18
		}
	})
	t.Run("the same seed gives the same crop", func(t *testing.T) {
		a, b := ramp(3, 30, 30), ramp(3, 30, 30)
		require.NoError(t, RandomCrop{H: 10, W: 10}.Apply(a, seeded(42)))
		require.NoError(t, RandomCrop{H: 10, W: 10}.Apply(b, seeded(42)))
		assert.Equal(t, a, b)
	})
	t.Run("a crop of the full size is the identity", func(t *testing.T) {
		m := ramp(3, 4, 4)
		require.NoError(t, RandomCrop{H: 4, W: 4}.Apply(m, seeded(1)))
		assert.Equal(t, ramp(3, 4, 4), m)
	})
	t.Run("errors", func(t *testing.T) {
		assert.ErrorContains(t, RandomCrop{H: 5, W: 3}.Apply(ramp(3, 4, 4), seeded(1)), "smaller than the crop 5×3")
		assert.ErrorContains(t, RandomCrop{H: 2, W: 2}.Apply(ramp(3, 4, 4), nil), "rng is nil")
		assert.ErrorContains(t, RandomCrop{H: 0, W: 2}.Apply(ramp(3, 4, 4), seeded(1)), "must be positive")
		assert.ErrorContains(t, RandomCrop{H: 2, W: 2}.Apply(&Image{C: 3, H: 4, W: 4}, seeded(1)), "malformed image")
	})
}

func TestCenterCrop(t *testing.T) {
	tests := []struct {
		name           string
		h, w, ch, cw   int
		wantY0, wantX0 int
	}{
		{"even margins", 8, 10, 4, 6, 2, 2},
		{"odd margins round down", 7, 10, 4, 5, 1, 2},
		{"full size", 5, 5, 5, 5, 0, 0},
		{"one pixel", 6, 9, 1, 1, 2, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ramp(3, tt.h, tt.w)
			require.NoError(t, CenterCrop{H: tt.ch, W: tt.cw}.Apply(m, nil))
			require.Equal(t, [2]int{tt.ch, tt.cw}, [2]int{m.H, m.W})
			y0, x0 := windowOffset(t, m)
			assert.Equal(t, [2]int{tt.wantY0, tt.wantX0}, [2]int{y0, x0})
		})
	}
	t.Run("too large is an error", func(t *testing.T) {
		assert.ErrorContains(t, CenterCrop{H: 3, W: 9}.Apply(ramp(3, 4, 4), nil), "image is 4×4, smaller than the crop 3×9")
	})
}

func TestFlip(t *testing.T) {
	t.Run("p=1 mirrors every row", func(t *testing.T) {
		m := ramp(3, 4, 5)
		require.NoError(t, Flip{P: 1}.Apply(m, nil))
		for c := range 3 {
			for y := range 4 {
				for x := range 5 {
					require.Equal(t, rampValue(c, y, 4-x), m.At(c, y, x))
				}
			}
		}
	})
	t.Run("p=1 on an odd width keeps the middle column", func(t *testing.T) {
		m := ramp(1, 1, 3)
		require.NoError(t, Flip{P: 1}.Apply(m, nil))
		assert.Equal(t, []float32{2, 1, 0}, m.Pix)
	})
	t.Run("twice is the identity", func(t *testing.T) {
		m := ramp(3, 6, 7)
		require.NoError(t, Flip{P: 1}.Apply(m, nil))
		require.NoError(t, Flip{P: 1}.Apply(m, nil))
		assert.Equal(t, ramp(3, 6, 7), m)
	})
	t.Run("p=0 never flips", func(t *testing.T) {
		m := ramp(3, 3, 3)
		require.NoError(t, Flip{P: 0}.Apply(m, nil))
		assert.Equal(t, ramp(3, 3, 3), m)
	})
	t.Run("p=0.5 flips about half the time, reproducibly", func(t *testing.T) {
		const n = 4000
		flips := 0
		r := seeded(3)
		for range n {
			m := ramp(1, 1, 2)
			require.NoError(t, Flip{P: 0.5}.Apply(m, r))
			if m.Pix[0] == 1 {
				flips++
			}
		}
		assert.InDelta(t, 0.5, float64(flips)/n, 0.03) // σ ≈ 0.008
		a, b := ramp(1, 1, 2), ramp(1, 1, 2)
		for seed := range uint64(10) {
			require.NoError(t, Flip{P: 0.5}.Apply(a, seeded(seed)))
			require.NoError(t, Flip{P: 0.5}.Apply(b, seeded(seed)))
			require.Equal(t, a, b)
		}
	})
	t.Run("p=0.5 needs a generator", func(t *testing.T) {
		assert.ErrorContains(t, Flip{P: 0.5}.Apply(ramp(1, 2, 2), nil), "rng is nil")
	})
}

func testPCA(t *testing.T) *PCA {
	t.Helper()
	// A covariance like natural images': strongly correlated channels.
	p, err := NewPCA([3]float64{0.48, 0.45, 0.40}, [3][3]float64{
		{0.070, 0.062, 0.055},
		{0.062, 0.066, 0.060},
		{0.055, 0.060, 0.071},
	})
	require.NoError(t, err)
	return p
}

func TestPCANoise(t *testing.T) {
	pca := testPCA(t)
	step := PCANoise{PCA: pca, Std: 0.1}

	t.Run("adds the same colour to every pixel, geometry untouched", func(t *testing.T) {
		orig := ramp(3, 5, 6)
		for i := range orig.Pix {
			orig.Pix[i] /= 30000 // keep values near [0, 1]
		}
		m := orig.Clone()
		require.NoError(t, step.Apply(m, seeded(9)))
		require.Equal(t, [3]int{orig.C, orig.H, orig.W}, [3]int{m.C, m.H, m.W})

		// The shift is Σ αᵢλᵢpᵢ with α drawn from the same generator.
		r := seeded(9)
		var alpha [3]float64
		for i := range alpha {
			alpha[i] = r.NormFloat64() * 0.1
		}
		want := pca.Shift(alpha)
		for c := range 3 {
			for y := range 5 {
				for x := range 6 {
					assert.InDelta(t, want[c], float64(m.At(c, y, x)-orig.At(c, y, x)), 1e-6)
				}
			}
		}
		// Hence the per-channel spread (the picture) is unchanged.
		for c := range 3 {
			assert.InDelta(t, channelStd(orig, c), channelStd(m, c), 1e-6)
		}
	})
	t.Run("coefficients along each eigenvector have std 0.1·λ", func(t *testing.T) {
		const n = 20000
		r := seeded(11)
		var sum, sq [3]float64
		var cov [3][3]float64
		for range n {
			m := NewImage(3, 1, 1)
			require.NoError(t, step.Apply(m, r))
			d := [3]float64{float64(m.Pix[0]), float64(m.Pix[1]), float64(m.Pix[2])}
			for i := range 3 {
				// Project the shift onto pᵢ: that is αᵢλᵢ.
				proj := 0.0
				for c := range 3 {
					proj += d[c] * pca.Eigenvectors[i][c]
				}
				a := proj / pca.Eigenvalues[i]
				sum[i] += a
				sq[i] += a * a
				for j := range 3 {
					cov[i][j] += d[i] * d[j]
				}
			}
		}
		for i := range 3 {
			mean := sum[i] / n
			std := math.Sqrt(sq[i]/n - mean*mean)
			assert.InDelta(t, 0, mean, 0.004, "α%d mean", i+1) // σ ≈ 0.0007
			assert.InDelta(t, 0.1, std, 0.004, "α%d std", i+1)
		}
		// The colour shifts' covariance is Σ (0.1λᵢ)² pᵢpᵢᵀ.
		for i := range 3 {
			for j := range 3 {
				want := 0.0
				for k := range 3 {
					want += 0.01 * pca.Eigenvalues[k] * pca.Eigenvalues[k] * pca.Eigenvectors[k][i] * pca.Eigenvectors[k][j]
				}
				assert.InDelta(t, want, cov[i][j]/n, 0.05*want+1e-9, "cov[%d][%d]", i, j)
			}
		}
	})
	t.Run("std 0 changes nothing", func(t *testing.T) {
		m := ramp(3, 2, 2)
		require.NoError(t, PCANoise{PCA: pca, Std: 0}.Apply(m, seeded(1)))
		assert.Equal(t, ramp(3, 2, 2), m)
	})
	t.Run("errors", func(t *testing.T) {
		assert.ErrorContains(t, PCANoise{Std: 0.1}.Apply(ramp(3, 2, 2), seeded(1)), "no PCA statistics")
		assert.ErrorContains(t, step.Apply(ramp(1, 2, 2), seeded(1)), "1 channels, want 3")
		assert.ErrorContains(t, step.Apply(ramp(3, 2, 2), nil), "rng is nil")
	})
}

func channelStd(m *Image, c int) float64 {
	plane := m.Pix[c*m.H*m.W : (c+1)*m.H*m.W]
	var s, sq float64
	for _, v := range plane {
		s += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(plane))
	return math.Sqrt(sq/n - (s/n)*(s/n))
}

func TestSubtractMeanAndScale(t *testing.T) {
	t.Run("subtract mean per channel", func(t *testing.T) {
		m := ramp(3, 2, 3)
		require.NoError(t, SubtractMean{Mean: [3]float32{1, 10000, 20000}}.Apply(m, nil))
		for c := range 3 {
			for y := range 2 {
				for x := range 3 {
					assert.Equal(t, rampValue(c, y, x)-[3]float32{1, 10000, 20000}[c], m.At(c, y, x))
				}
			}
		}
		assert.ErrorContains(t, SubtractMean{}.Apply(ramp(2, 2, 2), nil), "want 3")
	})
	t.Run("scale multiplies every value", func(t *testing.T) {
		m := ramp(3, 2, 3)
		require.NoError(t, Scale{Factor: 0.5}.Apply(m, nil))
		for i, v := range ramp(3, 2, 3).Pix {
			assert.Equal(t, v*0.5, m.Pix[i])
		}
	})
}

func TestStepOutSize(t *testing.T) {
	pca := testPCA(t)
	tests := []struct {
		name   string
		step   Step
		h, w   int
		wh, ww int
		errSub string
	}{
		{"random crop from a known size", RandomCrop{227, 227}, 256, 256, 227, 227, ""},
		{"random crop from an unknown size", RandomCrop{227, 227}, 0, 0, 227, 227, ""},
		{"random crop too large", RandomCrop{227, 227}, 99, 99, 0, 0, "does not fit"},
		{"centre crop", CenterCrop{9, 8}, 10, 10, 9, 8, ""},
		{"centre crop too large", CenterCrop{9, 11}, 10, 10, 0, 0, "does not fit"},
		{"flip keeps the size", Flip{0.5}, 5, 6, 5, 6, ""},
		{"flip keeps an unknown size", Flip{0.5}, 0, 0, 0, 0, ""},
		{"pca keeps the size", PCANoise{pca, 0.1}, 5, 6, 5, 6, ""},
		{"pca without statistics", PCANoise{nil, 0.1}, 5, 6, 0, 0, "no PCA"},
		{"mean keeps the size", SubtractMean{}, 5, 6, 5, 6, ""},
		{"scale keeps the size", Scale{2}, 5, 6, 5, 6, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, w, err := tt.step.OutSize(tt.h, tt.w)
			if tt.errSub != "" {
				assert.ErrorContains(t, err, tt.errSub)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, [2]int{tt.wh, tt.ww}, [2]int{h, w})
			assert.NotEmpty(t, tt.step.String())
		})
	}
}
