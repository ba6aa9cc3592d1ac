package cpu

import "github.com/dnngo/dnngo/backend"

// Linear plans a fully connected layer on the parallel GEMM:
//
//	forward          y (N × Out)   = x (N × In) · wᵀ, + b, then ReLU
//	backward data    dx (N × In)   = dy · w
//	backward filter  dw (Out × In) = dyᵀ · x,  db = Σ_n dy
func (b *Backend) Linear(d backend.LinearDesc) (backend.WeightPlan, error) {
	if err := b.checkOpen("linear"); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := b.reserve("linear", d.Out*d.Input[0]); err != nil {
		return nil, err
	}
	return &linearPlan{weightLayer: weightLayer{plan: plan{b: b}, xs: d.Input.Clone(), ys: d.OutputShape(), ws: d.WeightShape(),
		bs: backend.Shape{d.Out}, bias: d.Bias, inference: d.Inference, desc: d}, d: d, n: d.Input[0], k: d.In()}, nil
}

type linearPlan struct {
	weightLayer
	d    backend.LinearDesc
	n, k int
}

func (p *linearPlan) Forward(x, w, b, y backend.Tensor) error {
	xt, wt, bias, yt, err := p.forwardArgs("linear.forward", x, w, b, y)
	if err != nil {
		return err
	}
	// yᵀ (Out × N) = w · xᵀ: the weights, by far the largest operand, are
	// then read row by row as the GEMM's A (packed a block at a time, in
	// cache) rather than gathered column-wise as a transposed B.
	yt2 := p.b.scratch(p.d.Out * p.n)
	p.b.gemm.Gemm(false, true, p.d.Out, p.n, p.k, 1, wt.data, p.k, xt.data, p.k, 0, yt2, p.n)
	for r := 0; r < p.n; r++ {
		row := yt.data[r*p.d.Out : (r+1)*p.d.Out]
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

func (p *linearPlan) BackwardData(dy, w, dx backend.Tensor) error {
	dyt, wt, dxt, err := p.dataArgs("linear.backward_data", dy, w, dx)
	if err != nil {
		return err
	}
	p.b.gemm.Gemm(false, false, p.n, p.k, p.d.Out, 1, dyt.data, p.d.Out, wt.data, p.k, 0, dxt.data, p.k)
	return nil
}

func (p *linearPlan) BackwardFilter(x, dy, dw, db backend.Tensor) error {
	xt, dyt, dwt, dbias, err := p.filterArgs("linear.backward_filter", x, dy, dw, db)
	if err != nil {
		return err
	}
	p.b.gemm.Gemm(true, false, p.d.Out, p.k, p.n, 1, dyt.data, p.d.Out, xt.data, p.k, 0, dwt.data, p.k)
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
