package augment

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewPCA(t *testing.T) {
	s2 := 1 / math.Sqrt2
	s3 := 1 / math.Sqrt(3)
	tests := []struct {
		name    string
		cov     [3][3]float64
		vals    [3]float64
		vecs    [3][3]float64
		checked bool // whether vecs are compared (not for repeated eigenvalues)
	}{
		{
			name: "diagonal, sorted by eigenvalue",
			cov:  [3][3]float64{{1, 0, 0}, {0, 3, 0}, {0, 0, 2}},
			vals: [3]float64{3, 2, 1}, vecs: [3][3]float64{{0, 1, 0}, {0, 0, 1}, {1, 0, 0}}, checked: true,
		},
		{
			name: "coupled pair",
			cov:  [3][3]float64{{4, 1, 0}, {1, 4, 0}, {0, 0, 1}},
			vals: [3]float64{5, 3, 1}, vecs: [3][3]float64{{s2, s2, 0}, {s2, -s2, 0}, {0, 0, 1}}, checked: true,
		},
		{
			name: "grey images: rank one along (1,1,1)",
			cov:  [3][3]float64{{0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}},
			vals: [3]float64{0.3, 0, 0},
		},
		{
			name: "zero covariance",
			cov:  [3][3]float64{},
			vals: [3]float64{0, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPCA([3]float64{0.5, 0.5, 0.5}, tt.cov)
			require.NoError(t, err)
			for i := range 3 {
				assert.InDelta(t, tt.vals[i], p.Eigenvalues[i], 1e-12, "λ%d", i+1)
			}
			if tt.checked {
				for i := range 3 {
					for c := range 3 {
						assert.InDelta(t, tt.vecs[i][c], p.Eigenvectors[i][c], 1e-12, "p%d[%d]", i+1, c)
					}
				}
			}
			checkDecomposition(t, p)
			if tt.name == "grey images: rank one along (1,1,1)" {
				for c := range 3 {
					assert.InDelta(t, s3, p.Eigenvectors[0][c], 1e-12)
				}
			}
		})
	}
	t.Run("random covariances decompose exactly", func(t *testing.T) {
		r := seeded(5)
		for range 200 {
			// cov = AᵀA is positive semi-definite.
			var a, cov [3][3]float64
			for i := range 3 {
				for j := range 3 {
					a[i][j] = r.NormFloat64()
				}
			}
			for i := range 3 {
				for j := range 3 {
					for k := range 3 {
						cov[i][j] += a[k][i] * a[k][j]
					}
				}
			}
			p, err := NewPCA([3]float64{}, cov)
			require.NoError(t, err)
			checkDecomposition(t, p)
		}
	})
	t.Run("rejects bad matrices", func(t *testing.T) {
		_, err := NewPCA([3]float64{}, [3][3]float64{{1, 2, 0}, {0, 1, 0}, {0, 0, 1}})
		assert.ErrorContains(t, err, "not symmetric")
		_, err = NewPCA([3]float64{}, [3][3]float64{{-1, 0, 0}, {0, 1, 0}, {0, 0, 1}})
		assert.ErrorContains(t, err, "not positive semi-definite")
		_, err = NewPCA([3]float64{}, [3][3]float64{{math.NaN(), 0, 0}, {0, 1, 0}, {0, 0, 1}})
		assert.ErrorContains(t, err, "not finite")
		_, err = NewPCA([3]float64{math.Inf(1)}, [3][3]float64{})
		assert.ErrorContains(t, err, "not finite")
	})
}

// checkDecomposition checks that the eigenvectors are orthonormal, sorted,
// sign-normalised and reproduce the covariance.
func checkDecomposition(t *testing.T, p *PCA) {
	t.Helper()
	scale := 1e-12 * max(1, p.Eigenvalues[0])
	assert.GreaterOrEqual(t, p.Eigenvalues[0], p.Eigenvalues[1])
	assert.GreaterOrEqual(t, p.Eigenvalues[1], p.Eigenvalues[2])
	assert.GreaterOrEqual(t, p.Eigenvalues[2], 0.0)
	for i := range 3 {
		big := 0
		for j := range 3 {
			dot := 0.0
			for c := range 3 {
				dot += p.Eigenvectors[i][c] * p.Eigenvectors[j][c]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			assert.InDelta(t, want, dot, 1e-12, "p%d·p%d", i+1, j+1)
			if math.Abs(p.Eigenvectors[i][j]) > math.Abs(p.Eigenvectors[i][big]) {
				big = j
			}
		}
		assert.Positive(t, p.Eigenvectors[i][big], "largest component of p%d", i+1)
	}
	for a := range 3 {
		for b := range 3 {
			got := 0.0
			for i := range 3 {
				got += p.Eigenvalues[i] * p.Eigenvectors[i][a] * p.Eigenvectors[i][b]
			}
			assert.InDelta(t, p.Cov[a][b], got, 10*scale, "reconstructed cov[%d][%d]", a, b)
		}
	}
}
