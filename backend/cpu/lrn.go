package cpu

import (
	"math"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/parallel"
)

// LRN plans local response normalisation across channels. It works on
// strips of pixels of one image at a time: the channel window slides over
// C with a running sum of squares per pixel (add the channel entering,
// subtract the one leaving, in float64), so the cost per element is
// constant whatever the window size. For β = 0.75 the power is
// D^−0.75 = 1/(√D·√√D), two square roots instead of a pow.
func (b *Backend) LRN(d backend.LRNDesc) (backend.LRNPlan, error) {
	if err := b.checkOpen("lrn"); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	p := &lrnPlan{plan: plan{b: b}, d: d, shape: d.Input.Clone(), n: d.Input[0], c: d.Input[1], hw: d.Input[2] * d.Input[3]}
	// Enough strips that every worker is busy even for a batch of one.
	p.strips = max(1, min(p.hw/64, (2*b.threads+p.n-1)/p.n))
	p.stripLen = (p.hw + p.strips - 1) / p.strips
	p.sums = make([][]float64, b.threads)
	for w := range p.sums {
		p.sums[w] = make([]float64, 2*p.stripLen)
	}
	b.reserve(b.threads * 2 * p.c * p.stripLen)
	p.fwdFn, p.bwdFn = p.forwardStrip, p.backwardStrip
	return p, nil
}

type lrnPlan struct {
	plan
	d                backend.LRNDesc
	shape            backend.Shape
	n, c, hw         int
	strips, stripLen int
	sums             [][]float64 // per worker: running sums for one strip
	x, y, dy, dx     []float32
	fwdFn, bwdFn     func(worker, i int)
}

func (p *lrnPlan) Forward(x, y backend.Tensor) error {
	const op = "lrn.forward"
	if err := p.check(op); err != nil {
		return err
	}
	xt, err := p.b.get(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	yt, err := p.b.get(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	if xt == yt {
		return backend.Errorf(op, backend.ErrInvalid, "y must not be x")
	}
	p.x, p.y = xt.data, yt.data
	p.b.pool.Run(p.n*p.strips, p.fwdFn)
	p.x, p.y = nil, nil
	return nil
}

// strip returns the image and pixel range of task i.
func (p *lrnPlan) strip(i int) (img, lo, hi int) {
	img, s := i/p.strips, i%p.strips
	lo, hi = parallel.Chunks(p.hw, p.strips, s)
	return img, lo, hi
}

// pow returns D^−β.
func (p *lrnPlan) pow(d float64) float64 {
	if p.d.Beta == 0.75 {
		s := math.Sqrt(d)
		return 1 / (s * math.Sqrt(s))
	}
	return math.Pow(d, -p.d.Beta)
}

// window slides the channel window over the pixels [lo, hi) of image img
// and calls fn(c, sum) with the window's sum of squares for channel c.
func (p *lrnPlan) window(x []float32, sum []float64, lo, hi int, fn func(c int, sum []float64)) {
	half := p.d.Size / 2
	n := hi - lo
	sum = sum[:n]
	clear(sum)
	for c := 0; c < min(half, p.c); c++ {
		for i, v := range x[c*p.hw+lo : c*p.hw+hi] {
			sum[i] += float64(v) * float64(v)
		}
	}
	for c := 0; c < p.c; c++ {
		if in := c + half; in < p.c {
			for i, v := range x[in*p.hw+lo : in*p.hw+hi] {
				sum[i] += float64(v) * float64(v)
			}
		}
		if out := c - half - 1; out >= 0 {
			for i, v := range x[out*p.hw+lo : out*p.hw+hi] {
				sum[i] -= float64(v) * float64(v)
			}
		}
		fn(c, sum)
	}
}

func (p *lrnPlan) forwardStrip(worker, i int) {
	img, lo, hi := p.strip(i)
	base := img * p.c * p.hw
	x, y := p.x[base:base+p.c*p.hw], p.y[base:base+p.c*p.hw]
	k, an := p.d.K, p.d.Alpha/float64(p.d.Size)
	p.window(x, p.sums[worker], lo, hi, func(c int, sum []float64) {
		xs, ys := x[c*p.hw+lo:c*p.hw+hi], y[c*p.hw+lo:c*p.hw+hi]
		for j, v := range xs {
			ys[j] = float32(float64(v) * p.pow(k+an*max(sum[j], 0)))
		}
	})
}

// Backward computes, with D[c] = k + α/n·Σ_window x² and y = x·D^−β,
//
//	dx[j] = dy[j]·D[j]^−β − (2αβ/n)·x[j]·Σ_{c: |c−j| ≤ n/2} dy[c]·y[c]/D[c].
//
// D is recomputed from x (cheaper than keeping it), so this backward needs
// no state from the forward beyond its x and y.
func (p *lrnPlan) Backward(x, y, dy, dx backend.Tensor) error {
	const op = "lrn.backward"
	if err := p.check(op); err != nil {
		return err
	}
	var ts [4]*tensor
	for i, a := range [4]struct {
		name string
		t    backend.Tensor
	}{{"x", x}, {"y", y}, {"dy", dy}, {"dx", dx}} {
		t, err := p.b.get(op, a.name, a.t, p.shape)
		if err != nil {
			return err
		}
		ts[i] = t
	}
	if ts[3] == ts[0] || ts[3] == ts[1] || ts[3] == ts[2] {
		return backend.Errorf(op, backend.ErrInvalid, "dx must not alias x, y or dy")
	}
	p.x, p.y, p.dy, p.dx = ts[0].data, ts[1].data, ts[2].data, ts[3].data
	p.b.pool.Run(p.n*p.strips, p.bwdFn)
	p.x, p.y, p.dy, p.dx = nil, nil, nil, nil
	return nil
}

func (p *lrnPlan) backwardStrip(worker, i int) {
	img, lo, hi := p.strip(i)
	n := hi - lo
	base := img * p.c * p.hw
	x, y := p.x[base:base+p.c*p.hw], p.y[base:base+p.c*p.hw]
	dy, dx := p.dy[base:base+p.c*p.hw], p.dx[base:base+p.c*p.hw]
	// Per worker: pw[c] = D^−β and t[c] = dy·y/D for the strip's pixels.
	scr := p.b.scratch(p.b.threads * 2 * p.c * p.stripLen)[worker*2*p.c*p.stripLen:]
	pw, t := scr[:p.c*n], scr[p.c*n:2*p.c*n]
	k, an := p.d.K, p.d.Alpha/float64(p.d.Size)
	p.window(x, p.sums[worker], lo, hi, func(c int, sum []float64) {
		ys, dys := y[c*p.hw+lo:c*p.hw+hi], dy[c*p.hw+lo:c*p.hw+hi]
		pc, tc := pw[c*n:(c+1)*n], t[c*n:(c+1)*n]
		for j := range ys {
			d := k + an*max(sum[j], 0)
			pc[j] = float32(p.pow(d))
			tc[j] = float32(float64(dys[j]) * float64(ys[j]) / d)
		}
	})
	// Slide a second window over t.
	half := p.d.Size / 2
	coef := 2 * p.d.Alpha * p.d.Beta / float64(p.d.Size)
	s := p.sums[worker][n : 2*n]
	clear(s)
	for c := 0; c < min(half, p.c); c++ {
		for j, v := range t[c*n : (c+1)*n] {
			s[j] += float64(v)
		}
	}
	for c := 0; c < p.c; c++ {
		if in := c + half; in < p.c {
			for j, v := range t[in*n : (in+1)*n] {
				s[j] += float64(v)
			}
		}
		if out := c - half - 1; out >= 0 {
			for j, v := range t[out*n : (out+1)*n] {
				s[j] -= float64(v)
			}
		}
		xs, dys, dxs := x[c*p.hw+lo:c*p.hw+hi], dy[c*p.hw+lo:c*p.hw+hi], dx[c*p.hw+lo:c*p.hw+hi]
		pc := pw[c*n : (c+1)*n]
		for j := range dxs {
			dxs[j] = float32(float64(dys[j])*float64(pc[j]) - coef*float64(xs[j])*s[j])
		}
	}
}
