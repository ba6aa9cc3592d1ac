package cpu

import (
	"github.com/dnngo/dnngo/backend"
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
	return &linearPlan{plan: plan{b: b}, d: d, n: d.Input[0], k: d.In()}, nil
}

type linearPlan struct {
	plan
	d    backend.LinearDesc
	n, k int
}

func (p *linearPlan) Forward(xt, wt, b, yt *tensor) error {
	bias := b.slice()
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
