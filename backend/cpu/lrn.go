package cpu

import (
	"math"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/parallel"
	"github.com/dnngo/dnngo/backend/cpu/internal/vec"
	"github.com/dnngo/dnngo/backend/driver"
)

// lrnStrip is the most pixels one task normalises at a time: a strip of
// one image, all channels, small enough that a channel window's rows stay
// in L1.
const lrnStrip = 512

// LRN plans local response normalisation across channels. It works on
// strips of pixels of one image: for each channel the window's sum of
// squares is summed afresh (n fused multiply-adds per element, exact, with
// none of the drift of a running add-and-subtract sum), then
// y = x·(k + α/n·Σ)^−β. For β = 0.75 the power is 1/(√D·√√D) — two square
// roots and a division, 8 lanes at a time on AVX2 — instead of a pow.
func (b *engine) LRN(d backend.LRNDesc) (driver.LRNPlan[*tensor], error) {
	p := &lrnPlan{plan: plan{b: b}, d: d, shape: d.Input.Clone(), n: d.Input[0], c: d.Input[1], hw: d.Input[2] * d.Input[3],
		k: float32(d.K), an: float32(d.Alpha / float64(d.Size)), coef: float32(2 * d.Alpha * d.Beta / float64(d.Size)),
		fast: d.Beta == 0.75}
	// Strips short enough for L1 and numerous enough that every worker is
	// busy even for a batch of one.
	p.strips = max((p.hw+lrnStrip-1)/lrnStrip, min(p.hw, (2*b.threads+p.n-1)/p.n))
	p.stripLen = (p.hw + p.strips - 1) / p.strips
	p.per = (2*p.c + 2) * p.stripLen
	n, err := b.scratchSize("lrn", p.per, 0)
	if err != nil {
		return nil, err
	}
	if err := b.reserve("lrn", n); err != nil {
		return nil, err
	}
	p.fwdFn, p.bwdFn = p.forwardStrip, p.backwardStrip
	return p, nil
}

type lrnPlan struct {
	plan
	d                backend.LRNDesc
	shape            backend.Shape
	n, c, hw         int
	k, an, coef      float32
	fast             bool // β = 0.75
	strips, stripLen int
	per              int // scratch floats per worker
	x, y, dy, dx     []float32
	fwdFn, bwdFn     func(worker, i int)
}

func (p *lrnPlan) Forward(xt, yt *tensor) error {
	p.x, p.y = xt.data, yt.out()
	p.b.pool.Run(p.n*p.strips, p.fwdFn)
	p.x, p.y = nil, nil
	return nil
}

// strip returns the first element of image img and the pixel range of
// task i, and the worker's scratch.
func (p *lrnPlan) strip(worker, i int) (base, lo, hi int, scr []float32) {
	img, s := i/p.strips, i%p.strips
	lo, hi = parallel.Chunks(p.hw, p.strips, s)
	scr = p.b.scratch(p.b.threads * p.per)[worker*p.per : (worker+1)*p.per]
	return img * p.c * p.hw, lo, hi, scr
}

// windowSum sets sum to Σ src[c']² (square) or Σ src[c'] over the channel
// window of c, where channel c' of the strip starts at src[c'·stride].
func (p *lrnPlan) windowSum(sum []float32, c int, square bool, src []float32, stride int) {
	half := p.d.Size / 2
	lo, hi := max(0, c-half), min(p.c-1, c+half)
	vec.WindowSum(sum, src[lo*stride:], stride, hi-lo+1, square)
}

func (p *lrnPlan) forwardStrip(worker, i int) {
	base, lo, hi, scr := p.strip(worker, i)
	n := hi - lo
	sum := scr[:n]
	xrow := func(c int) []float32 { return p.x[base+c*p.hw+lo : base+c*p.hw+hi] }
	xs := p.x[base+lo : base+(p.c-1)*p.hw+hi]
	for c := 0; c < p.c; c++ {
		p.windowSum(sum, c, true, xs, p.hw)
		x, y := xrow(c), p.y[base+c*p.hw+lo:base+c*p.hw+hi]
		if p.fast {
			vec.LRNScale(y, x, sum, p.k, p.an)
			continue
		}
		for j := range y {
			y[j] = float32(float64(x[j]) * math.Pow(float64(p.k+p.an*sum[j]), -p.d.Beta))
		}
	}
}

// Backward computes, with D[c] = k + α/n·Σ_window x² and y = x·D^−β,
//
//	dx[j] = dy[j]·D[j]^−β − (2αβ/n)·x[j]·Σ_{c: |c−j| ≤ n/2} dy[c]·y[c]/D[c].
//
// D is recomputed from x (as cheap as reading a saved copy), so this
// backward needs nothing from the forward beyond its x and y (which the
// rulebook guarantees are the latest forward's, as on every backend).
func (p *lrnPlan) Backward(xt, yt, dyt, dxt *tensor) error {
	p.x, p.y, p.dy, p.dx = xt.data, yt.data, dyt.data, dxt.out()
	p.b.pool.Run(p.n*p.strips, p.bwdFn)
	p.x, p.y, p.dy, p.dx = nil, nil, nil, nil
	return nil
}

func (p *lrnPlan) backwardStrip(worker, i int) {
	base, lo, hi, scr := p.strip(worker, i)
	n := hi - lo
	// Scratch: pw[c] = D^−β and t[c] = dy·y/D for every channel, then the
	// window sums.
	pw, t := scr[:p.c*n], scr[p.c*n:2*p.c*n]
	sum := scr[2*p.c*n : 2*p.c*n+n]
	at := func(s []float32, c int) []float32 { return s[base+c*p.hw+lo : base+c*p.hw+hi] }
	xrow := func(c int) []float32 { return at(p.x, c) }
	xs := p.x[base+lo : base+(p.c-1)*p.hw+hi]
	for c := 0; c < p.c; c++ {
		p.windowSum(sum, c, true, xs, p.hw)
		pc, tc, yc, dyc := pw[c*n:(c+1)*n], t[c*n:(c+1)*n], at(p.y, c), at(p.dy, c)
		if p.fast {
			vec.LRNBwdPrep(pc, tc, sum, yc, dyc, p.k, p.an)
			continue
		}
		for j := range pc {
			d := float64(p.k + p.an*sum[j])
			pc[j] = float32(math.Pow(d, -p.d.Beta))
			tc[j] = float32(float64(dyc[j]) * float64(yc[j]) / d)
		}
	}
	for c := 0; c < p.c; c++ {
		p.windowSum(sum, c, false, t, n)
		vec.LRNBwdOut(at(p.dx, c), at(p.dy, c), pw[c*n:(c+1)*n], xrow(c), sum, p.coef)
	}
}
