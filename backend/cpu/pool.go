package cpu

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/vec"
	"github.com/dnngo/dnngo/backend/driver"
)

// MaxPool plans max pooling. A 3×3, stride-2 window over three input rows
// (AlexNet's pools) runs one output row at a time in vec.MaxPool3s2Row
// (16 outputs at once on AVX-512). Otherwise the forward is separable: for
// each output row the maximum over the window's rows is taken across the
// whole input row at once (8 lanes at a time on AVX2), then each output
// takes the maximum of its window's columns of that. The backward needs no saved argmax: the
// window's maximum is y, so dy goes to the first position (row-major) in
// the window whose x equals it — the same first-maximum rule on ties.
func (b *engine) MaxPool(d backend.PoolDesc) (driver.PoolPlan[*tensor], error) {
	out := d.OutputShape()
	p := &poolPlan{plan: plan{b: b}, d: d, in: d.Input.Clone(), out: out,
		planes: d.Input[0] * d.Input[1], h: d.Input[2], w: d.Input[3], oh: out[2], ow: out[3]}
	// Each output row's input rows and each output column's input columns,
	// clipped to the input (padding never wins).
	p.rowLo, p.rowHi = window(p.oh, d.StrideH, d.PadH, d.KernelH, p.h)
	p.colLo, p.colHi = window(p.ow, d.StrideW, d.PadW, d.KernelW, p.w)
	p.k3s2 = d.KernelW == 3 && d.StrideW == 2 && d.PadW == 0
	if err := b.reserve("maxpool2d", b.threads*p.w); err != nil {
		return nil, err
	}
	p.fwdFn, p.bwdFn = p.forwardPlanes, p.backwardPlanes
	return p, nil
}

type poolPlan struct {
	plan
	d            backend.PoolDesc
	in, out      backend.Shape
	planes       int
	h, w, oh, ow int
	k3s2         bool // 3 wide, stride 2, no padding horizontally
	rowLo, rowHi []int
	colLo, colHi []int
	x, y, dy, dx []float32
	fwdFn, bwdFn func(worker, i int)
}

// chunks splits the planes into a few tasks per worker.
func (p *poolPlan) chunks() int { return min(p.planes, 4*p.b.threads) }

func (p *poolPlan) Forward(xt, yt *tensor) error {
	p.x, p.y = xt.data, yt.out()
	p.b.pool.Run(p.chunks(), p.fwdFn)
	p.x, p.y = nil, nil
	return nil
}

// window returns, for each of n outputs, the input range [lo, hi) its
// window covers inside [0, size).
func window(n, stride, pad, k, size int) (lo, hi []int) {
	lo, hi = make([]int, n), make([]int, n)
	for o := range lo {
		start := o*stride - pad
		lo[o], hi[o] = max(start, 0), min(start+k, size)
	}
	return lo, hi
}

func (p *poolPlan) forwardPlanes(worker, i int) {
	k := p.chunks()
	colmax := p.b.scratch(p.b.threads * p.w)[worker*p.w : (worker+1)*p.w]
	for pl := p.planes * i / k; pl < p.planes*(i+1)/k; pl++ {
		x := p.x[pl*p.h*p.w : (pl+1)*p.h*p.w]
		y := p.y[pl*p.oh*p.ow : (pl+1)*p.oh*p.ow]
		for oh := 0; oh < p.oh; oh++ {
			hlo, hhi := p.rowLo[oh], p.rowHi[oh]
			if p.k3s2 && hhi-hlo == 3 { // AlexNet's pools: 3×3, stride 2
				vec.MaxPool3s2Row(y[oh*p.ow:(oh+1)*p.ow], x[hlo*p.w:hhi*p.w], p.w)
				continue
			}
			copy(colmax, x[hlo*p.w:(hlo+1)*p.w])
			for ih := hlo + 1; ih < hhi; ih++ {
				vec.MaxInto(colmax, x[ih*p.w:(ih+1)*p.w])
			}
			yr := y[oh*p.ow : (oh+1)*p.ow]
			if p.k3s2 { // AlexNet's pools: 3 wide, stride 2, no padding
				for ow := range yr {
					c := colmax[2*ow : 2*ow+3 : 2*ow+3]
					yr[ow] = max3(c[0], c[1], c[2])
				}
				continue
			}
			clo, chi := p.colLo[:len(yr)], p.colHi[:len(yr)]
			for ow := range yr {
				m := colmax[clo[ow]]
				for j := clo[ow] + 1; j < chi[ow]; j++ {
					if v := colmax[j]; v > m {
						m = v
					}
				}
				yr[ow] = m
			}
		}
	}
}

func (p *poolPlan) Backward(xt, yt, dyt, dxt *tensor) error {
	p.x, p.y, p.dy, p.dx = xt.data, yt.data, dyt.data, dxt.out()
	p.b.pool.Run(p.chunks(), p.bwdFn)
	p.x, p.y, p.dy, p.dx = nil, nil, nil, nil
	return nil
}

func (p *poolPlan) backwardPlanes(_, i int) {
	k := p.chunks()
	for pl := p.planes * i / k; pl < p.planes*(i+1)/k; pl++ {
		x := p.x[pl*p.h*p.w : (pl+1)*p.h*p.w]
		y := p.y[pl*p.oh*p.ow : (pl+1)*p.oh*p.ow]
		dy := p.dy[pl*p.oh*p.ow : (pl+1)*p.oh*p.ow]
		dx := p.dx[pl*p.h*p.w : (pl+1)*p.h*p.w]
		clear(dx)
		for oh := 0; oh < p.oh; oh++ {
			hlo, hhi := p.rowLo[oh], p.rowHi[oh]
			yr, dyr := y[oh*p.ow:(oh+1)*p.ow], dy[oh*p.ow:(oh+1)*p.ow]
			clo, chi := p.colLo[:len(yr)], p.colHi[:len(yr)]
			if p.k3s2 && hhi-hlo == 3 {
				vec.MaxPool3s2RowBackward(dx[hlo*p.w:hhi*p.w], x[hlo*p.w:hhi*p.w], yr, dyr, p.w)
				continue
			}
			if p.k3s2 {
				for ow, m := range yr {
					if at := argmax3(x, p.w, hlo, hhi, 2*ow, m); at >= 0 {
						dx[at] += dyr[ow]
					}
				}
				continue
			}
		window:
			for ow, m := range yr {
				// The first position (row-major) holding the maximum; none
				// when m is NaN.
				for ih := hlo; ih < hhi; ih++ {
					row := x[ih*p.w : (ih+1)*p.w]
					for j := clo[ow]; j < chi[ow]; j++ {
						if row[j] == m {
							dx[ih*p.w+j] += dyr[ow]
							continue window
						}
					}
				}
			}
		}
	}
}

// max3 is the first-wins maximum of three values.
func max3(a, b, c float32) float32 {
	if b > a {
		a = b
	}
	if c > a {
		a = c
	}
	return a
}

// argmax3 returns the first position (row-major) in rows [hlo, hhi) ×
// columns [j, j+3) of the plane x (row length w) holding m, or −1.
func argmax3(x []float32, w, hlo, hhi, j int, m float32) int {
	for ih := hlo; ih < hhi; ih++ {
		r := x[ih*w+j : ih*w+j+3 : ih*w+j+3]
		switch m {
		case r[0]:
			return ih*w + j
		case r[1]:
			return ih*w + j + 1
		case r[2]:
			return ih*w + j + 2
		}
	}
	return -1
}
