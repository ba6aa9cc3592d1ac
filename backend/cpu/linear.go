package cpu

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/parallel"
	"github.com/dnngo/dnngo/backend/cpu/internal/vec"
	"github.com/dnngo/dnngo/backend/driver"
)

// Linear plans a fully connected layer on the parallel GEMM:
//
//	forward          y (N × Out)   = x (N × In) · wᵀ, + b, then ReLU
//	backward data    dx (N × In)   = dy · w
//	backward filter  dw (Out × In) = dyᵀ · x,  db = Σ_n dy
func (b *engine) Linear(d backend.LinearDesc) (driver.WeightPlan[*tensor], error) {
	if err := b.reserve("linear", d.Out*d.Input[0]); err != nil {
		return nil, err
	}
	p := &linearPlan{plan: plan{b: b}, d: d, n: d.Input[0], k: d.In()}
	p.rowsFn = p.forwardRows
	return p, nil
}

type linearPlan struct {
	plan
	d    backend.LinearDesc
	n, k int

	// Operands of a small-batch forward, for forwardRows.
	x, w, bias, y []float32
	rowsFn        func(worker, i int)
}

// smallBatch is the largest batch whose forward streams the weights once
// through vec.Dot4, four rows at a time per image, instead of the GEMM:
// with so few columns the GEMM's narrow kernel broadcasts the weights one
// float at a time and stays well below the memory bandwidth the layer is
// bound by (fc6 reads 151 MB per batch).
const smallBatch = 4

func (p *linearPlan) Forward(xt, wt, b, yt *tensor) error {
	bias := b.slice()
	if p.n <= smallBatch && p.d.Out >= 4*p.b.threads {
		p.x, p.w, p.bias, p.y = xt.data, wt.data, bias, yt.out()
		p.b.pool.Run(p.b.threads, p.rowsFn)
		p.x, p.w, p.bias, p.y = nil, nil, nil, nil
		return nil
	}
	// yᵀ (Out × N) = w · xᵀ: the weights, by far the largest operand, are
	// then read row by row as the GEMM's A (packed a block at a time, in
	// cache) rather than gathered column-wise as a transposed B.
	yt2 := p.b.scratch(p.d.Out * p.n)
	p.b.gemm.Gemm(false, true, p.d.Out, p.n, p.k, 1, wt.data, p.k, xt.data, p.k, 0, yt2, p.n)
	y := yt.out()
	for r := 0; r < p.n; r++ {
		row := y[r*p.d.Out : (r+1)*p.d.Out]
		for o := range row {
			v := yt2[o*p.n+r]
			if bias != nil {
				v += bias[o]
			}
			if p.d.ReLU {
				v = max(v, 0)
			}
			row[o] = v
		}
	}
	return nil
}

func (p *linearPlan) BackwardData(dyt, wt, dxt *tensor) error {
	p.b.gemm.Gemm(false, false, p.n, p.k, p.d.Out, 1, dyt.data, p.d.Out, wt.data, p.k, 0, dxt.out(), p.k)
	return nil
}

func (p *linearPlan) BackwardFilter(xt, dyt, dwt, db *tensor) error {
	dbias := db.outOrNil()
	p.b.gemm.Gemm(true, false, p.d.Out, p.k, p.n, 1, dyt.data, p.d.Out, xt.data, p.k, 0, dwt.out(), p.k)
	if dbias != nil {
		clear(dbias)
		for r := 0; r < p.n; r++ {
			for i, v := range dyt.data[r*p.d.Out : (r+1)*p.d.Out] {
				dbias[i] += v
			}
		}
	}
	return nil
}

// forwardRows computes share i of the output rows (in blocks of 4; the
// last share takes the rest) for every image of a small batch: each block
// of weight rows is read from memory once and reused from cache for the
// other images. A row's sum is taken in one order whatever the number of
// workers.
func (p *linearPlan) forwardRows(_, i int) {
	blocks := p.d.Out / 4
	lo, hi := parallel.Chunks(blocks, p.b.threads, i)
	lo, hi = 4*lo, 4*hi
	if i == p.b.threads-1 {
		hi = p.d.Out
	}
	var out [4]float32
	for o := lo; o < hi; o += 4 {
		rows := min(4, hi-o)
		for n := 0; n < p.n; n++ {
			x := p.x[n*p.k : (n+1)*p.k]
			if rows == 4 {
				vec.Dot4(&out, p.w[o*p.k:], p.k, x)
			} else {
				for r := range rows {
					out[r] = vec.Dot(p.w[(o+r)*p.k:(o+r+1)*p.k], x)
				}
			}
			y := p.y[n*p.d.Out:]
			for r := range rows {
				v := out[r]
				if p.bias != nil {
					v += p.bias[o+r]
				}
				if p.d.ReLU {
					v = max(v, 0)
				}
				y[o+r] = v
			}
		}
	}
}
