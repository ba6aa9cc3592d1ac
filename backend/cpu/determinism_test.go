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

// normals returns n values drawn from N(0, scale²).
func normals(r *rand.Rand, scale float64, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

// convPasses runs d's three passes on a fresh cpu backend with threads
// workers — forward on x, w and bias, backward data and backward filter on
// dy — and returns y, dx, dw and db (db nil without a bias). A nil input is
// zeros.
func convPasses(t *testing.T, d backend.ConvDesc, threads int, x, w, bias, dy []float32) (y, dx, dw, db []float32) {
	t.Helper()
	b, err := cpu.Open(backend.Options{Threads: threads})
	require.NoError(t, err)
	defer b.Close()
	p, err := b.Conv(d)
	require.NoError(t, err)
	mk := func(s backend.Shape, v []float32) backend.Tensor { return backendtest.NewTensor(t, b, s, v) }
	var bt, dbt backend.Tensor
	if d.Bias {
		bt, dbt = mk(backend.Shape{d.Out}, bias), mk(backend.Shape{d.Out}, nil)
	}
	xt, wt, yt := mk(d.Input, x), mk(d.WeightShape(), w), mk(d.OutputShape(), nil)
	dyt, dxt, dwt := mk(d.OutputShape(), dy), mk(d.Input, nil), mk(d.WeightShape(), nil)
	require.NoError(t, p.Forward(xt, wt, bt, yt))
	require.NoError(t, p.BackwardData(dyt, wt, dxt))
	require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt))
	get := func(tt backend.Tensor) []float32 {
		if tt == nil {
			return nil
		}
		return backendtest.Read(t, b, tt)
	}
	return get(yt), get(dxt), get(dwt), get(dbt)
}

// TestDeterministicWithThreads runs a convolution's three passes twice on
// fresh backends with several workers: results must be bit-identical, so
// that multi-threaded training runs reproduce (and resume) exactly.
func TestDeterministicWithThreads(t *testing.T) {
	d := backend.ConvDesc{Input: backend.Shape{7, 6, 11, 11}, Out: 8, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 2, Bias: true}
	r := rand.New(rand.NewPCG(3, 3))
	x, w, dy := normals(r, 1, d.Input.Numel()), normals(r, 1, d.WeightShape().Numel()), normals(r, 1, d.OutputShape().Numel())
	run := func(threads int) [][]float32 {
		y, dx, dw, db := convPasses(t, d, threads, x, w, nil, dy)
		return [][]float32{y, dx, dw, db}
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
		x, dy := normals(r, 1e3, d.Input.Numel()), normals(r, 1e3, d.OutputShape().Numel())
		db := func(threads int) []float32 {
			_, _, _, db := convPasses(t, d, threads, x, nil, nil, dy)
			return db
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
			x, w := normals(r, 1, d.Input.Numel()), normals(r, 1, d.WeightShape().Numel())
			bias, dy := normals(r, 1, d.Out), normals(r, 1, d.OutputShape().Numel())
			run := func(threads int) (y, dx, dw []float32) {
				y, dx, dw, _ = convPasses(t, d, threads, x, w, bias, dy)
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

// TestConvOneImageSharedColumns runs the forward of one image on two and
// three workers — the weights packed once, the output's columns shared out
// — and on one, and requires the same y bit for bit: a stride-4 11×11
// kernel, a 3×3 one on a 13×13 map, two groups, a 1×1 convolution, with
// and without bias and ReLU.
func TestConvOneImageSharedColumns(t *testing.T) {
	cases := []backend.ConvDesc{
		{Input: backend.Shape{1, 3, 47, 47}, Out: 24, KernelH: 11, KernelW: 11, StrideH: 4, StrideW: 4, Groups: 1, Bias: true, ReLU: true},
		{Input: backend.Shape{1, 40, 13, 13}, Out: 50, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1, Bias: true},
		{Input: backend.Shape{1, 16, 9, 9}, Out: 20, KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2, Groups: 2, ReLU: true},
		{Input: backend.Shape{1, 8, 7, 7}, Out: 12, KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, Groups: 1, Bias: true},
	}
	r := rand.New(rand.NewPCG(6, 6))
	for _, d := range cases {
		t.Run(d.String(), func(t *testing.T) {
			x, w := normals(r, 1, d.Input.Numel()), normals(r, 1, d.WeightShape().Numel())
			bias, dy := normals(r, 1, d.Out), normals(r, 1, d.OutputShape().Numel())
			want, _, _, _ := convPasses(t, d, 1, x, w, bias, dy)
			require.NotEqual(t, make([]float32, len(want)), want)
			for _, threads := range []int{2, 3} {
				y, _, _, _ := convPasses(t, d, threads, x, w, bias, dy)
				require.Equal(t, want, y, "threads=%d", threads)
			}
		})
	}
}

// TestInferencePlanRepacksChangedWeights: an inference plan keeps its
// packed weights between calls and must pack again whenever they change —
// an Upload, an SGD step, another weights tensor — at batch 1 (columns
// shared out) and batch 4 (one image per worker). Its output is the
// training plan's after every change.
func TestInferencePlanRepacksChangedWeights(t *testing.T) {
	for _, n := range []int{1, 4} {
		t.Run(fmt.Sprintf("batch=%d", n), func(t *testing.T) {
			d := backend.ConvDesc{Input: backend.Shape{n, 8, 9, 9}, Out: 12, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1,
				PadH: 1, PadW: 1, Groups: 2, Bias: true, ReLU: true}
			b, err := cpu.Open(backend.Options{Threads: 2})
			require.NoError(t, err)
			defer b.Close()
			id := d
			id.Inference = true
			train, err := b.Conv(d)
			require.NoError(t, err)
			infer, err := b.Conv(id)
			require.NoError(t, err)
			sgd, err := b.SGD(d.WeightShape())
			require.NoError(t, err)
			r := rand.New(rand.NewPCG(8, 8))
			tensor := func(s backend.Shape) backend.Tensor { return backendtest.NewTensor(t, b, s, normals(r, 1, s.Numel())) }
			x, w, w2, bias := tensor(d.Input), tensor(d.WeightShape()), tensor(d.WeightShape()), tensor(backend.Shape{d.Out})
			dw, vel := tensor(d.WeightShape()), backendtest.NewTensor(t, b, d.WeightShape(), nil)
			yt, yi := backendtest.NewTensor(t, b, d.OutputShape(), nil), backendtest.NewTensor(t, b, d.OutputShape(), nil)
			check := func(what string, wt backend.Tensor) {
				require.NoError(t, train.Forward(x, wt, bias, yt))
				require.NoError(t, infer.Forward(x, wt, bias, yi))
				want := backendtest.Read(t, b, yt)
				require.Equal(t, want, backendtest.Read(t, b, yi), what)
			}
			check("first call", w)
			check("same weights again (kept packing)", w)
			require.NoError(t, b.Upload(w, normals(r, 1, d.WeightShape().Numel())))
			check("after an Upload", w)
			require.NoError(t, sgd.Step(w, dw, vel, backend.SGDParams{LR: 0.1, Momentum: 0.9}))
			check("after an SGD step", w)
			check("another weights tensor", w2)
			check("back to the first", w)
		})
	}
}

// TestLinearSmallBatch: batches of up to 4 images run the fully connected
// forward as dot products of whole weight rows (vec.Dot4); they give a
// float64 reference within float32 rounding and the same bits on 1, 2 and
// 3 workers — an output count that is not a multiple of 4, a 4-D input,
// bias and ReLU — and a batch of 5 (the GEMM) agrees as well.
func TestLinearSmallBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{1, 2, 4, 5} {
		for _, d := range []backend.LinearDesc{
			{Input: backend.Shape{n, 300}, Out: 26, Bias: true, ReLU: true},
			{Input: backend.Shape{n, 16, 3, 3}, Out: 40},
		} {
			d.Input[0] = n
			t.Run(d.String(), func(t *testing.T) {
				x, w, bias := normals(r, 1, d.Input.Numel()), normals(r, 1, d.Out*d.In()), normals(r, 1, d.Out)
				want := make([]float64, n*d.Out)
				for i := range n {
					for o := range d.Out {
						s := 0.0
						if d.Bias {
							s = float64(bias[o])
						}
						for j := range d.In() {
							s += float64(w[o*d.In()+j]) * float64(x[i*d.In()+j])
						}
						if d.ReLU {
							s = max(s, 0)
						}
						want[i*d.Out+o] = s
					}
				}
				var first []float32
				for _, threads := range []int{1, 2, 3} {
					b, err := cpu.Open(backend.Options{Threads: threads})
					require.NoError(t, err)
					p, err := b.Linear(d)
					require.NoError(t, err)
					var bt backend.Tensor
					if d.Bias {
						bt = backendtest.NewTensor(t, b, backend.Shape{d.Out}, bias)
					}
					xt, wt := backendtest.NewTensor(t, b, d.Input, x), backendtest.NewTensor(t, b, d.WeightShape(), w)
					yt := backendtest.NewTensor(t, b, backend.Shape{n, d.Out}, nil)
					require.NoError(t, p.Forward(xt, wt, bt, yt))
					y := backendtest.Read(t, b, yt)
					require.Less(t, backendtest.RelErr(y, want), 1e-6, "threads=%d", threads)
					if first == nil {
						first = y
					} else if n <= 4 {
						require.Equal(t, first, y, "threads=%d: the same bits", threads)
					}
					require.NoError(t, b.Close())
				}
			})
		}
	}
}
