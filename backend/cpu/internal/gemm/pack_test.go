package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

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
