package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/dnngo/dnngo/backend/cpu/internal/parallel"
	"github.com/stretchr/testify/require"
)

// naive is the float64 reference: C = alpha·op(A)·op(B) + beta·C.
func naive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				av, bv := a[i*lda+p], b[p*ldb+j]
				if transA {
					av = a[p*lda+i]
				}
				if transB {
					bv = b[j*ldb+p]
				}
				s += float64(av) * float64(bv)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = v
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// Kernels lists every kernel this build can run, for the tests to cover.
func testKernels() []Kernel { return Kernels() }

func TestGemmMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {4, 4, 4}, {5, 7, 3}, {17, 33, 65}, {1, 300, 257}, {150, 20, 513}, {145, 3073, 2}, {6, 16, 0}}
	for _, kern := range testKernels() {
		for _, workers := range []int{1, 3} {
			pool := parallel.New(workers)
			ctx := New(kern, pool)
			for _, sz := range sizes {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
						m, n, k := sz[0], sz[1], sz[2]
						name := fmt.Sprintf("%s/w%d/m%d_n%d_k%d/tA=%v_tB=%v/alpha=%g_beta=%g", kern.Name, workers, m, n, k, tr[0], tr[1], ab[0], ab[1])
						t.Run(name, func(t *testing.T) {
							lda, ldb, ldc := k+3, n+1, n+2
							if tr[0] {
								lda = m + 3
							}
							if tr[1] {
								ldb = k + 1
							}
							a := randSlice(r, max(m, k)*lda+1)
							b := randSlice(r, max(n, k)*ldb+1)
							c := randSlice(r, m*ldc)
							if ab[1] == 0 {
								for i := range c {
									c[i] = float32(math.NaN()) // beta == 0 must not read C
								}
							}
							want := naive(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
							orig := append([]float32(nil), c...)
							ctx.Gemm(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
							for i := 0; i < m; i++ {
								for j := 0; j < ldc; j++ {
									got := c[i*ldc+j]
									if j >= n {
										require.Equal(t, math.Float32bits(orig[i*ldc+j]), math.Float32bits(got), "padding column %d of row %d was written", j, i)
										continue
									}
									w := want[i*n+j]
									require.InDelta(t, w, float64(got), 1e-4*(1+math.Abs(w))*math.Sqrt(float64(k+1)), "C[%d][%d]", i, j)
								}
							}
						})
					}
				}
			}
			pool.Close()
		}
	}
}

func TestGemmSerialMatchesParallel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pool := parallel.New(2)
	defer pool.Close()
	ctx := New(Generic, pool)
	m, n, k := 37, 51, 300
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	c1, c2 := make([]float32, m*n), make([]float32, m*n)
	ctx.Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c1, n)
	ctx.GemmSerial(1, false, false, m, n, k, 1, a, k, b, n, 0, c2, n)
	require.Equal(t, c1, c2, "the same blocking gives bit-identical results")
}

func TestGemmAllocatesNothing(t *testing.T) {
	pool := parallel.New(2)
	defer pool.Close()
	ctx := New(Generic, pool)
	m, n, k := 64, 200, 300
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	allocs := testing.AllocsPerRun(10, func() { ctx.Gemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n) })
	require.Zero(t, allocs)
}

func BenchmarkGemm(b *testing.B) {
	for _, kern := range testKernels() {
		for _, sz := range [][3]int{{256, 256, 256}, {1024, 1024, 1024}, {16, 4096, 9216}, {96, 3025, 363}, {384, 169, 2304}} {
			m, n, k := sz[0], sz[1], sz[2]
			b.Run(fmt.Sprintf("kernel=%s/m=%d/n=%d/k=%d", kern.Name, m, n, k), func(b *testing.B) {
				pool := parallel.New(runtime.GOMAXPROCS(0))
				defer pool.Close()
				ctx := New(kern, pool)
				r := rand.New(rand.NewPCG(5, 6))
				x, y, z := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
				b.ResetTimer()
				for b.Loop() {
					ctx.Gemm(false, false, m, n, k, 1, x, k, y, n, 0, z, n)
				}
				b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func TestGemmPackedMatchesGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, kern := range testKernels() {
		pool := parallel.New(2)
		ctx := New(kern, pool)
		for _, sz := range [][3]int{{1, 1, 1}, {7, 19, 300}, {150, 40, 513}, {384, 169, 600}} {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
				m, n, k := sz[0], sz[1], sz[2]
				t.Run(fmt.Sprintf("%s/m%d_n%d_k%d/tA=%v_tB=%v", kern.Name, m, n, k, tr[0], tr[1]), func(t *testing.T) {
					lda, ldb := k, n
					if tr[0] {
						lda = m
					}
					if tr[1] {
						ldb = k
					}
					a, b := randSlice(r, m*k), randSlice(r, k*n)
					c0 := randSlice(r, m*n)
					want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
					ctx.GemmSerial(1, tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, 0.25, want, n)
					pa := make([]float32, ctx.PackedSize(m, k))
					ctx.PackA(pa, tr[0], m, k, 0.5, a, lda)
					ctx.GemmPackedSerial(1, m, n, k, pa, tr[1], b, ldb, 0.25, got, n)
					cl := &call{a: a, transA: tr[0], alpha: 0.5, n: n}
					ctx.choose(cl, false)
					if cl.direct {
						t.Fatal("alpha 0.5 never reads A unpacked")
					}
					require.Equal(t, want, got, "the same blocking gives bit-identical results")
				})
			}
		}
		pool.Close()
	}
}

// TestArchKernelsMatchGeneric runs every architecture kernel against the
// portable one on random shapes: ragged edges in m, n and k, transposes,
// alpha and beta ≠ 0.
func TestArchKernelsMatchGeneric(t *testing.T) {
	archs := archKernels()
	if len(archs) == 0 {
		t.Skip("no architecture kernel on this CPU or in this build (purego)")
	}
	r := rand.New(rand.NewPCG(9, 10))
	pool := parallel.New(2)
	defer pool.Close()
	ref := New(Generic, pool)
	for _, kern := range archs {
		ctx := New(kern, pool)
		for trial := 0; trial < 40; trial++ {
			m, n, k := 1+r.IntN(200), 1+r.IntN(200), 1+r.IntN(600)
			tA, tB := r.IntN(2) == 0, r.IntN(2) == 0
			alpha, beta := float32(r.NormFloat64()), float32(r.IntN(3))*0.5
			t.Run(fmt.Sprintf("%s/m%d_n%d_k%d/tA=%v_tB=%v", kern.Name, m, n, k, tA, tB), func(t *testing.T) {
				lda, ldb := k, n
				if tA {
					lda = m
				}
				if tB {
					ldb = k
				}
				a, b, c := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
				want, got := append([]float32(nil), c...), append([]float32(nil), c...)
				ref.Gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, n)
				ctx.Gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, n)
				for i := range want {
					require.InDelta(t, want[i], got[i], 2e-5*math.Sqrt(float64(k))*(1+math.Abs(float64(want[i]))), "C[%d][%d]", i/n, i%n)
				}
			})
		}
	}
}

// curveSizes are the square sizes of BenchmarkGemmCurve (the onednn
// backend's BenchmarkSgemmCurve uses the same, for oneDNN's curve).
var curveSizes = []int{64, 128, 256, 384, 512, 768, 1024, 1536, 2048}

// BenchmarkGemmCurve is the SGEMM curve, n×n×n → GFLOP/s, with the fastest
// kernel and every worker:
//
//	go test -run '^$' -bench GemmCurve -count 3 ./backend/cpu/internal/gemm
func BenchmarkGemmCurve(b *testing.B) {
	kern := Best()
	for _, n := range curveSizes {
		b.Run(fmt.Sprintf("kernel=%s/n=%d", kern.Name, n), func(b *testing.B) {
			pool := parallel.New(runtime.GOMAXPROCS(0))
			defer pool.Close()
			ctx := New(kern, pool)
			r := rand.New(rand.NewPCG(5, 6))
			x, y, z := randSlice(r, n*n), randSlice(r, n*n), make([]float32, n*n)
			b.ResetTimer()
			for b.Loop() {
				ctx.Gemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
