package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
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
	sizes := [][3]int{{1, 1, 1}, {4, 4, 4}, {5, 7, 3}, {17, 33, 65}, {1, 300, 257}, {150, 20, 513}, {145, 3073, 2}, {6, 16, 0}, {7, 1000, 70}}
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
	// The skinny-C path (few rows, each worker its own columns).
	wide := make([]float32, k*2*skinnyMinCols)
	allocs = testing.AllocsPerRun(10, func() {
		ctx.Gemm(false, false, 3, 2*skinnyMinCols, k, 1, a, k, wide, 2*skinnyMinCols, 0, c, 2*skinnyMinCols)
	})
	require.Zero(t, allocs, "skinny C")
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

// BenchmarkGemmCurve is the SGEMM curve, n×n×n → GFLOP/s, for every
// kernel this CPU runs (fastest first) and every worker:
//
//	go test -run '^$' -bench GemmCurve -count 3 ./backend/cpu/internal/gemm
func BenchmarkGemmCurve(b *testing.B) {
	for _, kern := range Kernels() {
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
}

// BenchmarkGemmFC is the fully connected layer's forward GEMM at small
// batches (yᵀ = w·xᵀ: m = 4096 outputs, k = 9216 inputs, n = batch, B
// transposed), the case where A is read unpacked, for every kernel with
// and without its narrow kernel:
//
//	go test -run '^$' -bench GemmFC -count 3 ./backend/cpu/internal/gemm
func BenchmarkGemmFC(b *testing.B) {
	const m, k = 4096, 9216
	r := rand.New(rand.NewPCG(5, 6))
	w := randSlice(r, m*k)
	for _, kern := range Kernels() {
		variants := []Kernel{kern}
		if kern.Narrow != nil {
			wide := kern
			wide.Name, wide.Narrow = kern.Name+" (no narrow)", nil
			variants = append(variants, wide)
		}
		for _, kv := range variants {
			for _, n := range []int{1, 16, 32, 64} {
				b.Run(fmt.Sprintf("kernel=%s/n=%d", kv.Name, n), func(b *testing.B) {
					pool := parallel.New(runtime.GOMAXPROCS(0))
					defer pool.Close()
					ctx := New(kv, pool)
					x, y := randSlice(r, n*k), make([]float32, m*n)
					b.ResetTimer()
					for b.Loop() {
						ctx.Gemm(false, true, m, n, k, 1, w, k, x, k, 0, y, n)
					}
					b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestMicroKernels checks each kernel's Fn and Direct on their own against
// a float64 loop: depths around the 4-step unrolling, beta = 0 (C holds NaN
// and must not be read), beta ≠ 0, and nothing written outside the MR×NR
// block (C's rows are wider than NR).
func TestMicroKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, kern := range Kernels() {
		for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 9, 255, 256} {
			for _, beta := range []float32{0, 1, -0.5} {
				for _, direct := range []bool{false, true} {
					if direct && kern.Direct == nil {
						continue
					}
					t.Run(fmt.Sprintf("%s/kc=%d/beta=%g/direct=%v", kern.Name, kc, beta, direct), func(t *testing.T) {
						mr, nr := kern.MR, kern.NR
						ldc, lda := nr+5, kc+3
						a := randSlice(r, mr*lda) // row-major, row stride lda
						pa := make([]float32, mr*kc)
						for i := 0; i < mr; i++ {
							for p := 0; p < kc; p++ {
								pa[p*mr+i] = a[i*lda+p]
							}
						}
						b := randSlice(r, kc*nr)
						c := randSlice(r, mr*ldc)
						if beta == 0 {
							for i := range c {
								if i%ldc < nr {
									c[i] = float32(math.NaN())
								}
							}
						}
						orig := append([]float32(nil), c...)
						if direct {
							kern.Direct(kc, a, lda, b, c, ldc, beta)
						} else {
							kern.Fn(kc, pa, b, c, ldc, beta)
						}
						for i := 0; i < mr; i++ {
							for j := 0; j < ldc; j++ {
								got := c[i*ldc+j]
								if j >= nr {
									require.Equal(t, math.Float32bits(orig[i*ldc+j]), math.Float32bits(got), "C[%d][%d] outside the tile was written", i, j)
									continue
								}
								var want float64
								for p := 0; p < kc; p++ {
									want += float64(a[i*lda+p]) * float64(b[p*nr+j])
								}
								if beta != 0 {
									want += float64(beta) * float64(orig[i*ldc+j])
								}
								require.InDelta(t, want, float64(got), 1e-5*math.Sqrt(float64(kc))*(1+math.Abs(want)), "C[%d][%d]", i, j)
							}
						}
					})
				}
			}
		}
	}
}

// TestArchKernelsEdgeShapes runs every architecture kernel against the
// portable one on shapes chosen for their edges: m, n and k one either side
// of the tile sizes (6, 12, 16, 32), k = 1, the narrow-C boundaries where
// A is read unpacked (n = 16, 17, 64, 65) and the transposes the backend
// uses (conv forward NN, conv backward-data TN, backward-filter NT, FC
// forward NT with wide A).
func TestArchKernelsEdgeShapes(t *testing.T) {
	archs := archKernels()
	if len(archs) == 0 {
		t.Skip("no architecture kernel on this CPU or in this build (purego)")
	}
	cases := []struct {
		name           string
		m, n, k        int
		transA, transB bool
		alpha, beta    float32
	}{
		{"k=1", 13, 33, 1, false, false, 1, 0},
		{"k=1/beta", 25, 31, 1, false, false, 1, 0.5},
		{"m=1", 1, 97, 70, false, false, 1, 0},
		{"n=1/direct", 40, 1, 300, false, true, 1, 0},
		{"tile-1", 11, 31, 255, false, false, 1, 0},
		{"tile+1", 13, 33, 257, false, false, 1, 0},
		{"two-tiles", 24, 64, 512, false, false, 1, 0},
		{"avx2-tile", 6, 16, 4, false, false, 1, 0},
		{"avx2-tile+1", 7, 17, 5, false, false, 1, 1},
		{"direct/n=16", 50, 16, 700, false, true, 1, 0},
		{"direct/n=17", 50, 17, 700, false, true, 1, 0},
		{"direct/n=64", 37, 64, 300, false, true, 1, 0},
		{"direct/n=64/beta", 37, 64, 300, false, true, 1, 1},
		{"packed/n=65", 37, 65, 300, false, true, 1, 0},
		{"direct/deep-k", 13, 8, 9000, false, true, 1, 0},
		{"direct/deep-k/n=40", 25, 40, 7000, false, true, 1, 0.5},
		{"direct-off/alpha", 30, 16, 100, false, true, 0.5, 0},
		{"direct-off/transA", 30, 16, 100, true, true, 1, 0},
		{"half/n=169", 40, 169, 300, false, false, 1, 0},
		{"half/n=169/beta", 40, 169, 300, false, false, 1, 0.5},
		{"half/n=80", 25, 80, 70, false, false, 1, 1},
		{"half-off/n=81", 25, 81, 70, false, false, 1, 1},
		{"conv-fwd/NN", 48, 169, 1152, false, false, 1, 0},
		{"conv-bwd-data/TN", 363, 100, 96, true, false, 1, 0},
		{"conv-bwd-filter/NT", 96, 363, 200, false, true, 1, 1},
		{"fc-bwd-data/m=16", 16, 300, 260, false, false, 1, 0},
		{"skinny/m=24/beta", 24, 1000, 700, false, false, 1, 0.5},
		{"skinny/m=5/transB", 5, 700, 300, false, true, 1, 0},
		{"skinny/m=13/transA", 13, 600, 200, true, false, -1, 0},
		{"skinny/m=25 (not)", 25, 600, 200, false, false, 1, 0},
		{"fc-bwd-filter/TN", 100, 300, 16, true, false, 1, 0},
	}
	r := rand.New(rand.NewPCG(13, 14))
	pool := parallel.New(2)
	defer pool.Close()
	ref := New(Generic, pool)
	for _, kern := range archs {
		ctx := New(kern, pool)
		for _, tc := range cases {
			t.Run(kern.Name+"/"+tc.name, func(t *testing.T) {
				m, n, k := tc.m, tc.n, tc.k
				lda, ldb := k, n
				if tc.transA {
					lda = m
				}
				if tc.transB {
					ldb = k
				}
				a, b, c := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
				for _, serial := range []bool{false, true} {
					want, got := append([]float32(nil), c...), append([]float32(nil), c...)
					ref.Gemm(tc.transA, tc.transB, m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, want, n)
					if serial {
						ctx.GemmSerial(1, tc.transA, tc.transB, m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, got, n)
					} else {
						ctx.Gemm(tc.transA, tc.transB, m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, got, n)
					}
					for i := range want {
						require.InDelta(t, want[i], got[i], 2e-5*math.Sqrt(float64(k))*(1+math.Abs(float64(want[i]))), "serial=%v C[%d][%d]", serial, i/n, i%n)
					}
				}
			})
		}
	}
}

// TestChooseKernel checks which kernel a call runs: the narrow kernel for
// n ≤ its NR when A can be read in place, the context's own otherwise and
// always for prepacked A.
func TestChooseKernel(t *testing.T) {
	narrow := Kernel{Name: "narrow", MR: 2, NR: 4, Fn: kernelGeneric4x4, Direct: func(int, []float32, int, []float32, []float32, int, float32) {}}
	wide := Kernel{Name: "wide", MR: 4, NR: 4, Fn: kernelGeneric4x4, Narrow: &narrow}
	pool := parallel.New(1)
	defer pool.Close()
	ctx := New(wide, pool)
	a := []float32{1}
	for _, tc := range []struct {
		name      string
		cl        call
		prepacked bool
		kern      string
		direct    bool
	}{
		{"narrow", call{a: a, alpha: 1, n: 4}, false, "narrow", true},
		{"wider than narrow", call{a: a, alpha: 1, n: 5}, false, "wide", false},
		{"alpha", call{a: a, alpha: 2, n: 4}, false, "wide", false},
		{"transA", call{a: a, alpha: 1, n: 4, transA: true}, false, "wide", false},
		{"prepacked", call{alpha: 1, n: 4}, true, "wide", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx.choose(&tc.cl, tc.prepacked)
			require.Equal(t, tc.kern, tc.cl.kern.Name)
			require.Equal(t, tc.direct, tc.cl.direct)
		})
	}
}

// TestBestHonoursKernelEnv checks that $DNNGO_GEMM_KERNEL picks a kernel by
// name prefix and that a name this CPU cannot run falls back to the
// fastest.
func TestBestHonoursKernelEnv(t *testing.T) {
	ks := Kernels()
	for _, tc := range []struct{ env, want string }{
		{"", ks[0].Name},
		{"generic", Generic.Name},
		{"no-such-kernel", ks[0].Name},
	} {
		t.Run("env="+tc.env, func(t *testing.T) {
			t.Setenv(KernelEnv, tc.env)
			require.Equal(t, tc.want, Best().Name)
		})
	}
	for _, k := range ks {
		t.Run("env="+k.Name, func(t *testing.T) {
			t.Setenv(KernelEnv, strings.Fields(k.Name)[0]) // "avx512", "avx2", "generic"
			require.Equal(t, k.Name, Best().Name)
		})
	}
}
