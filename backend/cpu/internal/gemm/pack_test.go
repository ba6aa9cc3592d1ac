package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend/cpu/internal/parallel"
	"github.com/stretchr/testify/require"
)

// TestPackColsMatchesGo checks packCols (AVX-512 gathers where the CPU has
// them) against its portable definition bit for bit: one and several
// panels, 16- and 32-wide, depths with and without an odd last row, and a
// row stride longer than the depth (a block of a wider B).
func TestPackColsMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, nr := range []int{16, 32} {
		for _, panels := range []int{1, 3} {
			for _, kc := range []int{1, 2, 3, 17, 256} {
				ldb := kc + 5
				t.Run(fmt.Sprintf("nr=%d/panels=%d/kc=%d", nr, panels, kc), func(t *testing.T) {
					src := randSlice(r, panels*nr*ldb)
					got, want := randSlice(r, panels*nr*kc), make([]float32, panels*nr*kc)
					packCols(got, src, ldb, kc, panels, nr)
					packColsGo(want, src, ldb, kc, panels, nr)
					require.Equal(t, want, got)
					if panels > 1 {
						require.Equal(t, src[(nr+1)*ldb+kc-1], got[nr*kc+(kc-1)*nr+1], "panel 1, column 1, last row")
					}
				})
			}
		}
	}
}

// TestHalfKernels checks every kernel's Half (the left NR/2 columns, beta
// 0, from an NR-wide panel) against a float64 sum: it overwrites the NaN
// already in C's left half and leaves the right half and the columns past
// the tile untouched.
func TestHalfKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, kern := range Kernels() {
		if kern.Half == nil {
			continue
		}
		for _, kc := range []int{1, 3, 4, 5, 169, 256} {
			t.Run(fmt.Sprintf("%s/kc=%d", kern.Name, kc), func(t *testing.T) {
				mr, nr := kern.MR, kern.NR
				ldc := nr + 3
				pa, b := randSlice(r, mr*kc), randSlice(r, kc*nr)
				c := randSlice(r, mr*ldc)
				for i := range c {
					if i%ldc < nr/2 {
						c[i] = float32(math.NaN())
					}
				}
				orig := append([]float32(nil), c...)
				kern.Half(kc, pa, b, c, ldc)
				for i := 0; i < mr; i++ {
					for j := 0; j < ldc; j++ {
						got := c[i*ldc+j]
						if j >= nr/2 {
							require.Equal(t, math.Float32bits(orig[i*ldc+j]), math.Float32bits(got), "C[%d][%d] outside the half tile was written", i, j)
							continue
						}
						var want float64
						for p := 0; p < kc; p++ {
							want += float64(pa[p*mr+i]) * float64(b[p*nr+j])
						}
						require.InDelta(t, want, float64(got), 1e-5*math.Sqrt(float64(kc))*(1+math.Abs(want)), "C[%d][%d]", i, j)
					}
				}
			})
		}
	}
}

// TestGemmPackedRowsMatchesWhole multiplies a packed A block of rows by
// block of rows (RowBlock rows, the last one ragged) and checks each
// block's C against the same rows of the whole product, bit for bit, for
// every kernel, with k spanning one and several KC slices.
func TestGemmPackedRowsMatchesWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, kern := range Kernels() {
		pool := parallel.New(2)
		ctx := New(kern, pool)
		for _, sz := range [][3]int{{300, 169, 96}, {600, 50, 384}, {13, 40, 700}} {
			m, n, k := sz[0], sz[1], sz[2]
			t.Run(fmt.Sprintf("%s/m%d_n%d_k%d", kern.Name, m, n, k), func(t *testing.T) {
				a, b := randSlice(r, k*m), randSlice(r, k*n) // A transposed (k×m), as conv's Wᵀ
				pa := make([]float32, ctx.PackedSize(m, k))
				ctx.PackA(pa, true, m, k, 1, a, m)
				want := make([]float32, m*n)
				ctx.GemmPackedSerial(1, m, n, k, pa, false, b, n, 0, want, n)
				rb := ctx.RowBlock()
				require.Zero(t, rb%kern.MR)
				for row := 0; row < m; row += rb {
					mb := min(rb, m-row)
					got := randSlice(r, mb*n)
					ctx.GemmPackedRowsSerial(0, row, mb, m, n, k, pa, false, b, n, 0, got, n)
					require.Equal(t, want[row*n:(row+mb)*n], got, "rows %d..%d", row, row+mb)
				}
			})
		}
		pool.Close()
	}
	require.Panics(t, func() {
		ctx := New(Generic, parallel.New(1))
		ctx.GemmPackedRowsSerial(0, 1, 4, 8, 4, 4, make([]float32, 64), false, make([]float32, 16), 4, 0, make([]float32, 16), 4)
	}, "a row not on a panel boundary")
}
