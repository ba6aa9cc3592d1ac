package augment

import (
	"fmt"
	"math"
	"slices"
)

// PCA holds the colour statistics of a training set: the mean RGB value,
// the 3×3 covariance of RGB pixel values, and its eigen-decomposition, all
// in the pixel scale the statistics were computed in ([0, 1] for the
// statistics of github.com/dnngo/dnngo/data).
type PCA struct {
	// Mean is the mean red, green and blue value over all pixels.
	Mean [3]float64 `json:"mean"`
	// Cov is the covariance of (R, G, B) over all pixels.
	Cov [3][3]float64 `json:"cov"`
	// Eigenvalues are Cov's eigenvalues λ₁ ≥ λ₂ ≥ λ₃ ≥ 0.
	Eigenvalues [3]float64 `json:"eigenvalues"`
	// Eigenvectors[i] is the unit eigenvector pᵢ of Eigenvalues[i], its
	// largest component (by magnitude) positive.
	Eigenvectors [3][3]float64 `json:"eigenvectors"`
}

// NewPCA decomposes the covariance cov (which must be symmetric, finite and
// positive semi-definite up to rounding) and returns the statistics.
// Eigenvalues that rounding makes slightly negative are set to 0.
func NewPCA(mean [3]float64, cov [3][3]float64) (*PCA, error) {
	scale := 0.0
	for i := range 3 {
		if math.IsNaN(mean[i]) || math.IsInf(mean[i], 0) {
			return nil, fmt.Errorf("augment: PCA: mean %v is not finite", mean)
		}
		for j := range 3 {
			v := cov[i][j]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("augment: PCA: covariance %v is not finite", cov)
			}
			scale = max(scale, math.Abs(v))
		}
	}
	for i := range 3 {
		for j := range i {
			if math.Abs(cov[i][j]-cov[j][i]) > 1e-9*max(scale, 1e-300) {
				return nil, fmt.Errorf("augment: PCA: covariance %v is not symmetric", cov)
			}
		}
	}
	vals, vecs := eigenSym3(cov)
	for i, v := range vals {
		if v < -1e-9*max(scale, 1e-300) {
			return nil, fmt.Errorf("augment: PCA: covariance %v is not positive semi-definite (eigenvalue %g)", cov, v)
		}
		vals[i] = max(v, 0)
	}
	return &PCA{Mean: mean, Cov: cov, Eigenvalues: vals, Eigenvectors: vecs}, nil
}

// Shift returns Σᵢ alpha[i]·λᵢ·pᵢ, the colour [PCANoise] adds for the given
// coefficients.
func (p *PCA) Shift(alpha [3]float64) [3]float64 {
	var s [3]float64
	for i := range 3 {
		a := alpha[i] * p.Eigenvalues[i]
		for c := range 3 {
			s[c] += a * p.Eigenvectors[i][c]
		}
	}
	return s
}

// MeanFloat32 returns Mean as float32 values, as [SubtractMean] takes them.
func (p *PCA) MeanFloat32() [3]float32 {
	return [3]float32{float32(p.Mean[0]), float32(p.Mean[1]), float32(p.Mean[2])}
}

// eigenSym3 diagonalises the symmetric matrix a with cyclic Jacobi
// rotations and returns its eigenvalues in decreasing order with unit
// eigenvectors (as rows), each with its largest component positive.
func eigenSym3(a [3][3]float64) ([3]float64, [3][3]float64) {
	v := [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}} // columns are eigenvectors
	for sweep := 0; sweep < 64; sweep++ {
		off := a[0][1]*a[0][1] + a[0][2]*a[0][2] + a[1][2]*a[1][2]
		diag := a[0][0]*a[0][0] + a[1][1]*a[1][1] + a[2][2]*a[2][2]
		if off <= 1e-32*diag || off == 0 {
			break
		}
		for p := 0; p < 2; p++ {
			for q := p + 1; q < 3; q++ {
				if a[p][q] == 0 {
					continue
				}
				// Rotation that zeroes a[p][q] (Numerical Recipes' form).
				theta := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range 3 {
					akp, akq := a[k][p], a[k][q]
					a[k][p] = c*akp - s*akq
					a[k][q] = s*akp + c*akq
				}
				for k := range 3 {
					apk, aqk := a[p][k], a[q][k]
					a[p][k] = c*apk - s*aqk
					a[q][k] = s*apk + c*aqk
				}
				for k := range 3 {
					vkp, vkq := v[k][p], v[k][q]
					v[k][p] = c*vkp - s*vkq
					v[k][q] = s*vkp + c*vkq
				}
			}
		}
	}
	order := []int{0, 1, 2}
	slices.SortStableFunc(order, func(i, j int) int {
		switch {
		case a[i][i] > a[j][j]:
			return -1
		case a[i][i] < a[j][j]:
			return 1
		}
		return 0
	})
	var vals [3]float64
	var vecs [3][3]float64
	for r, i := range order {
		vals[r] = a[i][i]
		norm, big := 0.0, 0
		for k := range 3 {
			vecs[r][k] = v[k][i]
			norm += v[k][i] * v[k][i]
			if math.Abs(v[k][i]) > math.Abs(v[big][i]) {
				big = k
			}
		}
		norm = math.Sqrt(norm)
		if v[big][i] < 0 {
			norm = -norm
		}
		for k := range 3 {
			vecs[r][k] /= norm
		}
	}
	return vals, vecs
}
