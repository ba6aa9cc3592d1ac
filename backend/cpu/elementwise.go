package cpu

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/vec"
	"github.com/dnngo/dnngo/backend/driver"
)

// ReLU plans y = max(x, 0).
func (b *engine) ReLU(s backend.Shape) (driver.ReLUPlan[*tensor], error) {
	p := &reluPlan{plan: plan{b: b}}
	p.fwd, p.bwd = newLoop(b, p.forward), newLoop(b, p.backward)
	return p, nil
}

// reluPlan holds the operands of the running call for its parallel
// bodies: x and y for the forward, y (the mask), dy and dx for the
// backward.
type reluPlan struct {
	plan
	x, y, dy, dx []float32
	fwd, bwd     *loop
}

func (p *reluPlan) Forward(x, y *tensor) error {
	p.x, p.y = x.data, y.data
	p.fwd.do(len(p.x))
	return nil
}

func (p *reluPlan) forward(lo, hi int) { vec.ReLU(p.y[lo:hi], p.x[lo:hi]) }

func (p *reluPlan) Backward(y, dy, dx *tensor) error {
	p.y, p.dy, p.dx = y.data, dy.data, dx.data
	p.bwd.do(len(p.dx))
	return nil
}

func (p *reluPlan) backward(lo, hi int) { vec.ReLUMask(p.dx[lo:hi], p.dy[lo:hi], p.y[lo:hi]) }

// BiasAdd plans y = x + b per channel.
func (b *engine) BiasAdd(d backend.BiasDesc) (driver.BiasPlan[*tensor], error) {
	return &biasPlan{plan: plan{b: b}, inner: d.Shape[2:].Numel()}, nil
}

type biasPlan struct {
	plan
	inner int // elements per (image, channel)
}

func (p *biasPlan) Forward(x, bias, y *tensor) error {
	addBias(x.data, bias.data, y.data, p.inner, false)
	return nil
}

// addBias computes y = x + b[c] (then max(·, 0) when relu) over rows of
// inner elements, channel c = row mod len(b).
func addBias(x, b, y []float32, inner int, relu bool) {
	c := len(b)
	for r := 0; r*inner < len(x); r++ {
		bv := b[r%c]
		xs, ys := x[r*inner:(r+1)*inner], y[r*inner:(r+1)*inner]
		if relu {
			for i, v := range xs {
				ys[i] = max(v+bv, 0)
			}
		} else {
			for i, v := range xs {
				ys[i] = v + bv
			}
		}
	}
}

func (p *biasPlan) Backward(dy, db *tensor) error {
	biasGrad(dy.data, db.data, p.inner)
	return nil
}

// biasGrad computes db[c] = Σ dy over rows of inner elements whose channel
// is c, summing each row in float64.
func biasGrad(dy, db []float32, inner int) {
	c := len(db)
	for i := range db {
		db[i] = 0
	}
	for r := 0; r*inner < len(dy); r++ {
		var s float64
		for _, v := range dy[r*inner : (r+1)*inner] {
			s += float64(v)
		}
		db[r%c] += float32(s)
	}
}

// SGD plans the momentum SGD update of parameters of one shape.
func (b *engine) SGD(s backend.Shape) (driver.SGDPlan[*tensor], error) {
	p := &sgdPlan{plan: plan{b: b}}
	p.loop = newLoop(b, p.update)
	return p, nil
}

type sgdPlan struct {
	plan
	w, g, v []float32
	hp      backend.SGDParams
	loop    *loop
}

func (p *sgdPlan) Step(param, grad, velocity *tensor, hp backend.SGDParams) error {
	p.w, p.g, p.v, p.hp = param.data, grad.data, velocity.data, hp
	p.loop.do(len(p.w))
	return nil
}

func (p *sgdPlan) update(lo, hi int) {
	w, g, v := p.w[lo:hi], p.g[lo:hi], p.v[lo:hi]
	if p.hp.Rule == backend.PaperSGD {
		vec.SGDPaper(w, g, v, p.hp.LR, p.hp.Momentum, p.hp.WeightDecay)
		return
	}
	vec.SGDTorch(w, g, v, p.hp.LR, p.hp.Momentum, p.hp.WeightDecay)
}

// Dropout plans inverted dropout.
func (b *engine) Dropout(d backend.DropoutDesc) (driver.DropoutPlan[*tensor], error) {
	if err := b.mem.Reserve("dropout", "the mask of "+d.Shape.String(), int64(d.Shape.Numel())); err != nil {
		return nil, err
	}
	p := &dropoutPlan{plan: plan{b: b}, mask: make([]bool, d.Shape.Numel()),
		scale: float32(1 / (1 - d.P)), threshold: backend.DropoutThreshold(d.P)}
	p.fwd, p.bwd = newLoop(b, p.forward), newLoop(b, p.backward)
	return p, nil
}

type dropoutPlan struct {
	plan
	scale     float32
	threshold uint32
	mask      []bool
	seed      uint64
	x, y      []float32
	fwd, bwd  *loop
}

func (p *dropoutPlan) Forward(x, y *tensor, seed uint64) error {
	p.x, p.y, p.seed = x.data, y.data, seed
	p.fwd.do(len(p.x))
	return nil
}

func (p *dropoutPlan) forward(lo, hi int) {
	for i := lo; i < hi; i++ {
		keep := backend.DropoutBits(p.seed, i) >= p.threshold
		p.mask[i] = keep
		if keep {
			p.y[i] = p.x[i] * p.scale
		} else {
			p.y[i] = 0
		}
	}
}

func (p *dropoutPlan) Backward(dy, dx *tensor) error {
	p.x, p.y = dy.data, dx.data
	p.bwd.do(len(p.x))
	return nil
}

func (p *dropoutPlan) backward(lo, hi int) {
	for i := lo; i < hi; i++ {
		if p.mask[i] {
			p.y[i] = p.x[i] * p.scale
		} else {
			p.y[i] = 0
		}
	}
}

func (p *dropoutPlan) Close() error {
	if p.mask != nil {
		p.b.mem.Release(int64(len(p.mask)))
	}
	p.mask = nil
	return nil
}
