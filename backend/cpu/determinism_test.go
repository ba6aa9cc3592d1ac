package cpu_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/cpu"
	"github.com/stretchr/testify/require"
)

// TestDeterministicWithThreads runs a convolution's three passes twice on
// fresh backends with several workers: results must be bit-identical, so
// that multi-threaded training runs reproduce (and resume) exactly.
func TestDeterministicWithThreads(t *testing.T) {
	d := backend.ConvDesc{Input: backend.Shape{7, 6, 11, 11}, Out: 8, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 2, Bias: true}
	r := rand.New(rand.NewPCG(3, 3))
	x, w := make([]float32, d.Input.Numel()), make([]float32, d.WeightShape().Numel())
	dy := make([]float32, d.OutputShape().Numel())
	for _, s := range [][]float32{x, w, dy} {
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
	}
	run := func(threads int) [][]float32 {
		b, err := cpu.Open(backend.Options{Threads: threads})
		require.NoError(t, err)
		defer b.Close()
		p, err := b.Conv(d)
		require.NoError(t, err)
		mk := func(s backend.Shape, v []float32) backend.Tensor {
			tt, err := b.NewTensor(s...)
			require.NoError(t, err)
			if v != nil {
				require.NoError(t, b.Upload(tt, v))
			}
			return tt
		}
		xt, wt, bt, yt := mk(d.Input, x), mk(d.WeightShape(), w), mk(backend.Shape{8}, nil), mk(d.OutputShape(), nil)
		dyt, dxt, dwt, dbt := mk(d.OutputShape(), dy), mk(d.Input, nil), mk(d.WeightShape(), nil), mk(backend.Shape{8}, nil)
		require.NoError(t, p.Forward(xt, wt, bt, yt))
		require.NoError(t, p.BackwardData(dyt, wt, dxt))
		require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt))
		var out [][]float32
		for _, tt := range []backend.Tensor{yt, dxt, dwt, dbt} {
			v := make([]float32, tt.Shape().Numel())
			require.NoError(t, b.Download(v, tt))
			out = append(out, v)
		}
		return out
	}
	for _, threads := range []int{2, 3} {
		first := run(threads)
		for rep := 0; rep < 5; rep++ {
			require.Equal(t, first, run(threads), "threads=%d run %d", threads, rep)
		}
	}
}

// TestConvBiasGradSameWithThreads checks that the bias gradient, whose
// channels the workers share out, is bit for bit the one a single thread
// computes, for channel counts below, at and above the worker count.
func TestConvBiasGradSameWithThreads(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, out := range []int{1, 3, 8} {
		d := backend.ConvDesc{Input: backend.Shape{5, 2, 9, 9}, Out: out, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Groups: 1, Bias: true}
		x, dy := make([]float32, d.Input.Numel()), make([]float32, d.OutputShape().Numel())
		for _, s := range [][]float32{x, dy} {
			for i := range s {
				s[i] = float32(r.NormFloat64() * 1e3)
			}
		}
		db := func(threads int) []float32 {
			b, err := cpu.Open(backend.Options{Threads: threads})
			require.NoError(t, err)
			defer b.Close()
			p, err := b.Conv(d)
			require.NoError(t, err)
			mk := func(s backend.Shape, v []float32) backend.Tensor {
				tt, err := b.NewTensor(s...)
				require.NoError(t, err)
				if v != nil {
					require.NoError(t, b.Upload(tt, v))
				}
				return tt
			}
			xt, dyt, dwt, dbt := mk(d.Input, x), mk(d.OutputShape(), dy), mk(d.WeightShape(), nil), mk(backend.Shape{out}, nil)
			require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt))
			v := make([]float32, out)
			require.NoError(t, b.Download(v, dbt))
			return v
		}
		t.Run(fmt.Sprintf("out=%d", out), func(t *testing.T) {
			want := db(1)
			for _, threads := range []int{2, 3} {
				require.Equal(t, want, db(threads), "threads=%d", threads)
			}
			require.NotEqual(t, make([]float32, out), want, "a gradient, not zeros")
		})
	}
}

// TestConvBlockedIm2colMatchesWholeColumns compares the per-image path
// (two workers: im2col, col2im and the GEMMs a block of about KC rows at
// a time) with one worker (the whole column matrix, one GEMM) on
// convolutions whose C·KH·KW spans two and three blocks, grouped and
// strided: the forward and the data gradient bit for bit,
// dW (summed over the images in another order) to float rounding. Every
// output has more than 64 pixels, so neither path reads A unpacked.
func TestConvBlockedIm2colMatchesWholeColumns(t *testing.T) {
	cases := []backend.ConvDesc{
		{Input: backend.Shape{4, 30, 9, 9}, Out: 20, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1, Bias: true, ReLU: true},
		{Input: backend.Shape{3, 60, 9, 9}, Out: 10, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 2, Bias: true},
		{Input: backend.Shape{2, 6, 43, 43}, Out: 16, KernelH: 11, KernelW: 11, StrideH: 4, StrideW: 4, Groups: 1, Bias: true, ReLU: true},
	}
	r := rand.New(rand.NewPCG(5, 5))
	for _, d := range cases {
		t.Run(fmt.Sprintf("in=%v/k=%d/s=%d/g=%d", d.Input, d.KernelH, d.StrideH, d.Groups), func(t *testing.T) {
			x, w := make([]float32, d.Input.Numel()), make([]float32, d.WeightShape().Numel())
			bias, dy := make([]float32, d.Out), make([]float32, d.OutputShape().Numel())
			for _, s := range [][]float32{x, w, bias, dy} {
				for i := range s {
					s[i] = float32(r.NormFloat64())
				}
			}
			run := func(threads int) (y, dx, dw []float32) {
				b, err := cpu.Open(backend.Options{Threads: threads})
				require.NoError(t, err)
				defer b.Close()
				p, err := b.Conv(d)
				require.NoError(t, err)
				mk := func(s backend.Shape, v []float32) backend.Tensor {
					tt, err := b.NewTensor(s...)
					require.NoError(t, err)
					if v != nil {
						require.NoError(t, b.Upload(tt, v))
					}
					return tt
				}
				xt, wt, bt, yt := mk(d.Input, x), mk(d.WeightShape(), w), mk(backend.Shape{d.Out}, bias), mk(d.OutputShape(), nil)
				dyt, dxt, dwt, dbt := mk(d.OutputShape(), dy), mk(d.Input, nil), mk(d.WeightShape(), nil), mk(backend.Shape{d.Out}, nil)
				require.NoError(t, p.Forward(xt, wt, bt, yt))
				require.NoError(t, p.BackwardData(dyt, wt, dxt))
				require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt))
				y, dx, dw = make([]float32, d.OutputShape().Numel()), make([]float32, d.Input.Numel()), make([]float32, d.WeightShape().Numel())
				require.NoError(t, b.Download(y, yt))
				require.NoError(t, b.Download(dx, dxt))
				require.NoError(t, b.Download(dw, dwt))
				return y, dx, dw
			}
			y1, dx1, dw1 := run(1)
			y2, dx2, dw2 := run(2)
			require.Equal(t, y1, y2, "forward")
			require.Equal(t, dx1, dx2, "backward data")
			require.Less(t, backendtest.RelErr(dw2, dw1), 1e-5, "dW")
			require.NotEqual(t, make([]float32, len(dw1)), dw1)
		})
	}
}
