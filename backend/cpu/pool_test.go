package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/stretchr/testify/require"
)

// TestPool3s2RowsMatchGeneral runs 3×3, stride-2 pooling through its row
// kernel (vec.MaxPool3s2Row, AVX-512 where the CPU has it) and through the
// general separable path on the same data — AlexNet's shapes, odd and even
// widths, ties everywhere — and requires the same y and dx.
func TestPool3s2RowsMatchGeneral(t *testing.T) {
	b, err := open(backend.Options{Threads: 2}, "") // the driver itself: this test reaches into its plan
	require.NoError(t, err)
	defer b.Close()
	r := rand.New(rand.NewPCG(5, 6))
	for _, in := range []backend.Shape{{2, 3, 55, 55}, {1, 4, 27, 27}, {3, 2, 13, 13}, {1, 1, 7, 8}, {1, 2, 9, 40}, {1, 1, 3, 3}} {
		for _, ties := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/ties=%v", in, ties), func(t *testing.T) {
				d := backend.PoolDesc{Input: in, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}
				x := make([]float32, in.Numel())
				for i := range x {
					if ties {
						x[i] = float32(r.IntN(3))
					} else {
						x[i] = float32(r.NormFloat64())
					}
				}
				dy := make([]float32, d.OutputShape().Numel())
				for i := range dy {
					dy[i] = float32(r.NormFloat64())
				}
				run := func(general bool) (y, dx []float32) {
					pb, err := b.MaxPool(d)
					require.NoError(t, err)
					defer pb.Close()
					p := pb.(*poolPlan)
					require.True(t, p.k3s2)
					p.k3s2 = !general
					ts := make([]*tensor, 4)
					for i, s := range []backend.Shape{in, d.OutputShape(), d.OutputShape(), in} {
						ts[i], err = b.NewTensor(s)
						require.NoError(t, err)
					}
					require.NoError(t, b.Upload(ts[0], x))
					require.NoError(t, b.Upload(ts[2], dy))
					require.NoError(t, p.Forward(ts[0], ts[1]))
					require.NoError(t, p.Backward(ts[0], ts[1], ts[2], ts[3]))
					y, dx = make([]float32, len(dy)), make([]float32, len(x))
					require.NoError(t, b.Download(y, ts[1]))
					require.NoError(t, b.Download(dx, ts[3]))
					return y, dx
				}
				y, dx := run(false)
				wantY, wantDx := run(true)
				require.Equal(t, wantY, y)
				require.Less(t, backendtest.RelErr(dx, f64(wantDx)), 1e-6, "dx")
			})
		}
	}
}

func f64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}
