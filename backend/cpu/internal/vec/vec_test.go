package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func rnd(r *rand.Rand, n int, lo, hi float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return s
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

// TestMatchesGo compares every exported function (assembly where the CPU
// has AVX2) with its portable Go definition on lengths that exercise both
// the 8-wide body and the tail.
func TestMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	t.Logf("assembly in use: %v", Accelerated())
	for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 64, 203} {
		a, b, c := rnd(r, n, -3, 3), rnd(r, n, -3, 3), rnd(r, n, 0, 50)
		d, e := rnd(r, n, -1, 1), rnd(r, n, -1, 1)
		cases := []struct {
			name      string
			got, want func() []float32
			ulps      float64
		}{
			{"MaxInto", func() []float32 { x := clone(a); MaxInto(x, b); return x }, func() []float32 { x := clone(a); maxIntoGo(x, b); return x }, 0},
			{"SquareAcc", func() []float32 { x := clone(a); SquareAcc(x, b); return x }, func() []float32 { x := clone(a); squareAccGo(x, b); return x }, 2},
			{"Add", func() []float32 { x := clone(a); Add(x, b); return x }, func() []float32 { x := clone(a); addGo(x, b); return x }, 0},
			{"LRNScale", func() []float32 { y := make([]float32, n); LRNScale(y, a, c, 2, 1e-4); return y }, func() []float32 { y := make([]float32, n); lrnScaleGo(y, a, c, 2, 1e-4); return y }, 4},
			{"LRNBwdPrep pw", func() []float32 {
				pw, tt := make([]float32, n), make([]float32, n)
				LRNBwdPrep(pw, tt, c, a, b, 1, 0.3)
				return pw
			},
				func() []float32 {
					pw, tt := make([]float32, n), make([]float32, n)
					lrnBwdPrepGo(pw, tt, c, a, b, 1, 0.3)
					return pw
				}, 4},
			{"LRNBwdPrep t", func() []float32 {
				pw, tt := make([]float32, n), make([]float32, n)
				LRNBwdPrep(pw, tt, c, a, b, 1, 0.3)
				return tt
			},
				func() []float32 {
					pw, tt := make([]float32, n), make([]float32, n)
					lrnBwdPrepGo(pw, tt, c, a, b, 1, 0.3)
					return tt
				}, 4},
			{"LRNBwdOut", func() []float32 { x := make([]float32, n); LRNBwdOut(x, a, b, d, e, 0.7); return x },
				func() []float32 { x := make([]float32, n); lrnBwdOutGo(x, a, b, d, e, 0.7); return x }, 64},
			{"ReLU", func() []float32 { y := make([]float32, n); ReLU(y, a); return y }, func() []float32 { y := make([]float32, n); reluGo(y, a); return y }, 0},
			{"ReLUMask", func() []float32 { x := make([]float32, n); ReLUMask(x, b, a); return x }, func() []float32 { x := make([]float32, n); reluMaskGo(x, b, a); return x }, 0},
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/n=%d", tc.name, n), func(t *testing.T) {
				got, want := tc.got(), tc.want()
				require.Len(t, got, n)
				for i := range want {
					tol := tc.ulps * math.Abs(float64(want[i])) * 6e-8
					if tc.name == "LRNBwdOut" || tc.name == "SquareAcc" { // cancellation: compare on the operands' scale (FMA rounds once)
						tol = 2e-6
					}
					require.InDelta(t, float64(want[i]), float64(got[i]), tol, "element %d", i)
				}
			})
		}
	}
}

func TestPow075(t *testing.T) {
	for _, d := range []float32{1, 2, 2.25, 16, 1e-3, 1e6} {
		require.InDelta(t, math.Pow(float64(d), -0.75), float64(pow075(d)), 3e-7*math.Pow(float64(d), -0.75))
	}
}

// TestReLUEdgeValues checks NaN and −0 in the 8-wide body and the tail:
// both give 0, as the Go definition (v > 0 ? v : 0) does.
func TestReLUEdgeValues(t *testing.T) {
	nan, negz := float32(math.NaN()), float32(math.Copysign(0, -1))
	x := []float32{negz, nan, -1, 2, 0, 3, -4, 5, nan, negz}
	y := make([]float32, len(x))
	ReLU(y, x)
	require.Equal(t, []float32{0, 0, 0, 2, 0, 3, 0, 5, 0, 0}, y)
	require.False(t, math.Signbit(float64(y[0])), "−0 becomes +0")
	dx := make([]float32, len(x))
	ReLUMask(dx, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, x)
	require.Equal(t, []float32{0, 0, 0, 1, 0, 1, 0, 1, 0, 0}, dx)
}

// TestMaxPool3s2RowMatchesGo compares the pooling rows (assembly where the
// CPU has AVX-512) with their Go definitions: output counts around the
// 16-lane groups, rows just wide enough and wider, many ties (values drawn
// from a few integers, ±0) and NaNs, dx accumulating onto nonzero values.
func TestMaxPool3s2RowMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	t.Logf("AVX-512 rows in use: %v", avx512)
	for _, n := range []int{0, 1, 2, 7, 15, 16, 17, 27, 31, 32, 33, 48, 55} {
		for _, extra := range []int{1, 2, 3, 17} {
			for _, vals := range []string{"random", "ties", "nan"} {
				w := 2*n + extra
				t.Run(fmt.Sprintf("n=%d/w=%d/%s", n, w, vals), func(t *testing.T) {
					x := rnd(r, 3*w, -3, 3)
					for i := range x {
						switch vals {
						case "ties":
							x[i] = float32(r.IntN(3))
							if x[i] == 0 && r.IntN(2) == 0 {
								x[i] = float32(math.Copysign(0, -1))
							}
						case "nan":
							if r.IntN(5) == 0 {
								x[i] = float32(math.NaN())
							}
						}
					}
					got, want := make([]float32, n), make([]float32, n)
					MaxPool3s2Row(got, x, w)
					maxPool3s2RowGo(want, x, w)
					for i := range want {
						require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "y[%d]", i)
					}
					dy := rnd(r, n, -1, 1)
					dx0 := rnd(r, 3*w, -1, 1)
					gotDx, wantDx := clone(dx0), clone(dx0)
					MaxPool3s2RowBackward(gotDx, x, want, dy, w)
					maxPool3s2RowBackwardGo(wantDx, x, want, dy, w)
					for i := range wantDx {
						require.InDelta(t, wantDx[i], gotDx[i], 1e-6, "dx[%d]", i)
					}
				})
			}
		}
	}
}

func TestMaxPool3s2RowRejectsBadSizes(t *testing.T) {
	require.Panics(t, func() { MaxPool3s2Row(make([]float32, 5), make([]float32, 30), 10) }, "2n = w")
	require.Panics(t, func() { MaxPool3s2Row(make([]float32, 2), make([]float32, 20), 10) }, "x shorter than 3 rows")
}

// TestWindowSumMatchesRows compares WindowSum (AVX-512 where the CPU has
// it) with the row-by-row sum through SquareAcc and Add.
func TestWindowSumMatchesRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 7, 16, 17, 40, 512} {
		for _, cnt := range []int{0, 1, 3, 5} {
			for _, square := range []bool{true, false} {
				t.Run(fmt.Sprintf("n=%d/cnt=%d/square=%v", n, cnt, square), func(t *testing.T) {
					stride := n + 3
					src := rnd(r, max(cnt-1, 0)*stride+n, -3, 3)
					got, want := rnd(r, n, -1, 1), rnd(r, n, -1, 1) // overwritten, not added to
					WindowSum(got, src, stride, cnt, square)
					windowSumRows(want, src, stride, cnt, square)
					for i := range want {
						require.InDelta(t, want[i], got[i], 1e-5*(1+math.Abs(float64(want[i]))), "sum[%d]", i)
					}
				})
			}
		}
	}
}

// TestSGDMatchesGo compares both SGD rules (assembly where the CPU has
// AVX2) with their Go definitions, parameters and velocities both, on
// lengths around the 8-lane body, with and without weight decay.
func TestSGDMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type sgdFn func(w, g, v []float32, lr, mu, wd float32)
	rules := []struct {
		name      string
		fast, ref sgdFn
	}{{"torch", SGDTorch, sgdTorchGo}, {"paper", SGDPaper, sgdPaperGo}}
	for _, rule := range rules {
		for _, n := range []int{0, 1, 7, 8, 9, 64, 203} {
			for _, wd := range []float32{0, 5e-4} {
				t.Run(fmt.Sprintf("%s/n=%d/wd=%g", rule.name, n, wd), func(t *testing.T) {
					w, g, v := rnd(r, n, -2, 2), rnd(r, n, -1, 1), rnd(r, n, -0.5, 0.5)
					gw, gv := clone(w), clone(v)
					ww, wv := clone(w), clone(v)
					rule.fast(gw, g, gv, 0.01, 0.9, wd)
					rule.ref(ww, g, wv, 0.01, 0.9, wd)
					for i := range ww {
						require.InDelta(t, ww[i], gw[i], 1e-6*(1+math.Abs(float64(ww[i]))), "w[%d]", i)
						require.InDelta(t, wv[i], gv[i], 1e-6*(1+math.Abs(float64(wv[i]))), "v[%d]", i)
						require.NotEqual(t, w[i], ww[i], "w[%d] was updated", i)
					}
				})
			}
		}
	}
}

// TestStridedMatchesGo compares Strided (AVX-512 gathers where the CPU has
// them) with its Go loop bit for bit, on lengths around the 16-lane groups
// and conv1's stride 4, with the source cut just long enough; and checks
// that a source too short panics instead of being read past its end.
func TestStridedMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, stride := range []int{1, 2, 4, 11} {
		for _, n := range []int{0, 1, 15, 16, 17, 55, 64} {
			t.Run(fmt.Sprintf("stride=%d/n=%d", stride, n), func(t *testing.T) {
				src := rnd(r, max(n-1, 0)*stride+1, -3, 3)
				got, want := rnd(r, n, -1, 1), make([]float32, n)
				tail := rnd(r, 3, -1, 1)
				got = append(got, tail...)[:n] // elements past dst stay untouched
				Strided(got, src, stride)
				stridedGo(want, src, stride)
				require.Equal(t, want, got)
				require.Equal(t, tail, got[n:n+3])
			})
		}
	}
	require.Panics(t, func() { Strided(make([]float32, 5), make([]float32, 16), 4) }, "needs 17 source elements")
	require.Panics(t, func() { Strided(make([]float32, 5), make([]float32, 100), 0) }, "stride 0")
}

// Dot4 gives each of the 4 rows' dot products with x within float32
// rounding of a float64 sum: lengths around the 8-lane blocks (the tail in
// Go), fc6's 9216, rows packed (lda = len(x)) and strided.
func TestDot4(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, k := range []int{0, 1, 7, 8, 9, 15, 16, 33, 100, 9216} {
		for _, pad := range []int{0, 5} {
			t.Run(fmt.Sprintf("k=%d/lda=k+%d", k, pad), func(t *testing.T) {
				lda := k + pad
				a, x := make([]float32, 3*lda+k), make([]float32, k)
				for i := range a {
					a[i] = float32(r.NormFloat64())
				}
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				var out [4]float32
				out[2] = 99 // overwritten, not added to
				Dot4(&out, a, lda, x)
				for row := range 4 {
					var want, scale float64
					for j := range k {
						p := float64(a[row*lda+j]) * float64(x[j])
						want += p
						scale += math.Abs(p)
					}
					require.InDelta(t, want, float64(out[row]), 1e-6*(scale+1), "row %d", row)
				}
			})
		}
	}
}
