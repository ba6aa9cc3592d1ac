//go:build onednn

package onednn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/onednn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSgemm(t *testing.T) {
	b, err := onednn.Open(backend.Options{})
	require.NoError(t, err)
	defer b.Close()
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3
	m := []float32{1, 0, 0, 1, 1, 1} // 3×2
	out := make([]float32, 4)
	require.NoError(t, b.Sgemm(2, 2, 3, a, m, out))
	assert.Equal(t, []float32{4, 5, 10, 11}, out)
	require.ErrorIs(t, b.Sgemm(2, 2, 4, a, m, out), backend.ErrShape)
}

// BenchmarkSgemm is oneDNN's SGEMM at the shapes of the pure-Go GEMM's
// benchmark (backend/cpu/internal/gemm), for a side-by-side ceiling:
//
//	go test -tags onednn -run '^$' -bench Sgemm ./backend/onednn
func BenchmarkSgemm(b *testing.B) {
	be, err := onednn.Open(backend.Options{})
	require.NoError(b, err)
	defer be.Close()
	for _, sz := range [][3]int{{256, 256, 256}, {1024, 1024, 1024}, {16, 4096, 9216}, {96, 3025, 363}, {384, 169, 2304}} {
		m, n, k := sz[0], sz[1], sz[2]
		b.Run(fmt.Sprintf("m=%d/n=%d/k=%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			x, y, z := randn(r, m*k), randn(r, k*n), make([]float32, m*n)
			for b.Loop() {
				if err := be.Sgemm(m, n, k, x, y, z); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSgemmCurve is oneDNN's SGEMM curve, n×n×n → GFLOP/s, at the
// sizes of the pure-Go GEMM's BenchmarkGemmCurve.
func BenchmarkSgemmCurve(b *testing.B) {
	be, err := onednn.Open(backend.Options{})
	require.NoError(b, err)
	defer be.Close()
	for _, n := range []int{64, 128, 256, 384, 512, 768, 1024, 1536, 2048} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			x, y, z := randn(r, n*n), randn(r, n*n), make([]float32, n*n)
			for b.Loop() {
				if err := be.Sgemm(n, n, n, x, y, z); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
