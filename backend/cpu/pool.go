package cpu

import (
	"math"

	"github.com/dnngo/dnngo/backend"
)

// MaxPool plans max pooling. Forward records each window's argmax (an
// index into the input plane) so that Backward is a scatter-add; the plan
// keeps the indices of its latest Forward.
func (b *Backend) MaxPool(d backend.PoolDesc) (backend.PoolPlan, error) {
	if err := b.checkOpen("maxpool2d"); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	out := d.OutputShape()
	p := &poolPlan{plan: plan{b: b}, d: d, in: d.Input.Clone(), out: out, argmax: make([]int32, out.Numel()),
		planes: d.Input[0] * d.Input[1], h: d.Input[2], w: d.Input[3], oh: out[2], ow: out[3]}
	p.fwdFn, p.bwdFn = p.forwardPlanes, p.backwardPlanes
	return p, nil
}

type poolPlan struct {
	plan
	d            backend.PoolDesc
	in, out      backend.Shape
	argmax       []int32
	last         *tensor // x of the latest Forward
	planes       int
	h, w, oh, ow int
	x, y         []float32
	fwdFn, bwdFn func(worker, i int)
}

// chunks splits the planes into a few tasks per worker.
func (p *poolPlan) chunks() int { return min(p.planes, 4*p.b.threads) }

func (p *poolPlan) Forward(x, y backend.Tensor) error {
	const op = "maxpool2d.forward"
	if err := p.check(op); err != nil {
		return err
	}
	xt, err := p.b.get(op, "x", x, p.in)
	if err != nil {
		return err
	}
	yt, err := p.b.get(op, "y", y, p.out)
	if err != nil {
		return err
	}
	p.x, p.y = xt.data, yt.data
	p.b.pool.Run(p.chunks(), p.fwdFn)
	p.x, p.y, p.last = nil, nil, xt
	return nil
}

func (p *poolPlan) forwardPlanes(_, i int) {
	d := &p.d
	k := p.chunks()
	for pl := p.planes * i / k; pl < p.planes*(i+1)/k; pl++ {
		x := p.x[pl*p.h*p.w : (pl+1)*p.h*p.w]
		y := p.y[pl*p.oh*p.ow : (pl+1)*p.oh*p.ow]
		arg := p.argmax[pl*p.oh*p.ow : (pl+1)*p.oh*p.ow]
		for oh := 0; oh < p.oh; oh++ {
			h0 := oh*d.StrideH - d.PadH
			hlo, hhi := max(h0, 0), min(h0+d.KernelH, p.h)
			for ow := 0; ow < p.ow; ow++ {
				w0 := ow*d.StrideW - d.PadW
				wlo, whi := max(w0, 0), min(w0+d.KernelW, p.w)
				best, at := float32(math.Inf(-1)), hlo*p.w+wlo
				for ih := hlo; ih < hhi; ih++ {
					for iw := wlo; iw < whi; iw++ {
						// Strictly greater: the first maximum in row-major
						// order wins ties; a NaN wins and propagates.
						if v := x[ih*p.w+iw]; v > best || v != v {
							best, at = v, ih*p.w+iw
							if v != v {
								ih, iw = hhi, whi
							}
						}
					}
				}
				y[oh*p.ow+ow], arg[oh*p.ow+ow] = best, int32(at)
			}
		}
	}
}

func (p *poolPlan) Backward(x, y, dy, dx backend.Tensor) error {
	const op = "maxpool2d.backward"
	if err := p.check(op); err != nil {
		return err
	}
	xt, err := p.b.get(op, "x", x, p.in)
	if err != nil {
		return err
	}
	if _, err := p.b.get(op, "y", y, p.out); err != nil {
		return err
	}
	dyt, err := p.b.get(op, "dy", dy, p.out)
	if err != nil {
		return err
	}
	dxt, err := p.b.get(op, "dx", dx, p.in)
	if err != nil {
		return err
	}
	if p.last == nil || p.last != xt {
		return backend.Errorf(op, backend.ErrState, "x %v is not the input of this plan's latest forward", p.in)
	}
	if dxt == xt {
		return backend.Errorf(op, backend.ErrInvalid, "dx must not be x")
	}
	p.x, p.y = dyt.data, dxt.data
	p.b.pool.Run(p.chunks(), p.bwdFn)
	p.x, p.y = nil, nil
	return nil
}

func (p *poolPlan) backwardPlanes(_, i int) {
	k := p.chunks()
	for pl := p.planes * i / k; pl < p.planes*(i+1)/k; pl++ {
		dy := p.x[pl*p.oh*p.ow : (pl+1)*p.oh*p.ow]
		dx := p.y[pl*p.h*p.w : (pl+1)*p.h*p.w]
		arg := p.argmax[pl*p.oh*p.ow : (pl+1)*p.oh*p.ow]
		clear(dx)
		for j, v := range dy {
			dx[arg[j]] += v
		}
	}
}

func (p *poolPlan) Close() error {
	p.closed, p.argmax, p.last = true, nil, nil
	return nil
}
