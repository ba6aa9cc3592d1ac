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
	b.reserve(d.Out * d.Input[0])
	return &linearPlan{plan: plan{b: b}, d: d, in: d.Input.Clone(), out: d.OutputShape(), wshape: d.WeightShape(), bshape: backend.Shape{d.Out},
		n: d.Input[0], k: d.In()}, nil
}

type linearPlan struct {
	plan
	d               backend.LinearDesc
	in, out, wshape backend.Shape
	bshape          backend.Shape
	n, k            int
}

func (p *linearPlan) Forward(x, w, b, y backend.Tensor) error {
	const op = "linear.forward"
	if err := p.check(op); err != nil {
		return err
	}
	xt, err := p.b.get(op, "x", x, p.in)
	if err != nil {
		return err
	}
	wt, err := p.b.get(op, "w", w, p.wshape)
	if err != nil {
		return err
	}
	bias, err := biasArg(p.b, op, "b", b, p.d.Bias, p.bshape)
	if err != nil {
		return err
	}
	yt, err := p.b.get(op, "y", y, p.out)
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
	const op = "linear.backward_data"
	if err := p.check(op); err != nil {
		return err
	}
	dyt, err := p.b.get(op, "dy", dy, p.out)
	if err != nil {
		return err
	}
	wt, err := p.b.get(op, "w", w, p.wshape)
	if err != nil {
		return err
	}
	dxt, err := p.b.get(op, "dx", dx, p.in)
	if err != nil {
		return err
	}
	p.b.gemm.Gemm(false, false, p.n, p.k, p.d.Out, 1, dyt.data, p.d.Out, wt.data, p.k, 0, dxt.data, p.k)
	return nil
}

func (p *linearPlan) BackwardFilter(x, dy, dw, db backend.Tensor) error {
	const op = "linear.backward_filter"
	if err := p.check(op); err != nil {
		return err
	}
	xt, err := p.b.get(op, "x", x, p.in)
	if err != nil {
		return err
	}
	dyt, err := p.b.get(op, "dy", dy, p.out)
	if err != nil {
		return err
	}
	dwt, err := p.b.get(op, "dw", dw, p.wshape)
	if err != nil {
		return err
	}
	dbias, err := biasArg(p.b, op, "db", db, p.d.Bias, p.bshape)
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
