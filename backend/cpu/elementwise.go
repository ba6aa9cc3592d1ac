package cpu

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/vec"
)

// ReLU plans y = max(x, 0).
func (b *Backend) ReLU(s backend.Shape) (backend.ReLUPlan, error) {
	if err := b.checkOpen("relu"); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, backend.Errorf("relu", backend.ErrShape, "shape %v, want 1 to %d dimensions, each ≥ 1", s, backend.MaxRank)
	}
	p := &reluPlan{plan: plan{b: b}, shape: s.Clone()}
	p.fwd, p.bwd = newLoop(b, p.forward), newLoop(b, p.backward)
	return p, nil
}

type reluPlan struct {
	plan
	shape      backend.Shape
	x, y, mask []float32
	fwd, bwd   *loop
}

func (p *reluPlan) Forward(x, y backend.Tensor) error {
	const op = "relu.forward"
	xt, yt, err := p.get2(op, x, "x", y, "y")
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.ReLUForward, xt, yt); err != nil {
		return err
	}
	p.x, p.y = xt.data, yt.data
	p.fwd.do(len(p.x))
	return nil
}

func (p *reluPlan) forward(lo, hi int) { vec.ReLU(p.y[lo:hi], p.x[lo:hi]) }

func (p *reluPlan) Backward(y, dy, dx backend.Tensor) error {
	const op = "relu.backward"
	yt, dyt, err := p.get2(op, y, "y", dy, "dy")
	if err != nil {
		return err
	}
	dxt, err := p.b.get(op, "dx", dx, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.ReLUBackward, yt, dyt, dxt); err != nil {
		return err
	}
	p.mask, p.x, p.y = yt.data, dyt.data, dxt.data
	p.bwd.do(len(p.x))
	return nil
}

func (p *reluPlan) backward(lo, hi int) { vec.ReLUMask(p.y[lo:hi], p.x[lo:hi], p.mask[lo:hi]) }

// get2 resolves two tensors of the plan's shape.
func (p *reluPlan) get2(op string, a backend.Tensor, an string, c backend.Tensor, cn string) (*tensor, *tensor, error) {
	if err := p.check(op); err != nil {
		return nil, nil, err
	}
	at, err := p.b.get(op, an, a, p.shape)
	if err != nil {
		return nil, nil, err
	}
	ct, err := p.b.get(op, cn, c, p.shape)
	return at, ct, err
}

// BiasAdd plans y = x + b per channel.
func (b *Backend) BiasAdd(d backend.BiasDesc) (backend.BiasPlan, error) {
	if err := b.checkOpen("bias"); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	p := &biasPlan{plan: plan{b: b}, shape: d.Shape.Clone(), c: d.Shape[1], bshape: backend.Shape{d.Shape[1]}, inner: d.Shape[2:].Numel()}
	return p, nil
}

type biasPlan struct {
	plan
	shape    backend.Shape
	bshape   backend.Shape
	c, inner int
}

func (p *biasPlan) Forward(x, bias, y backend.Tensor) error {
	const op = "bias.forward"
	if err := p.check(op); err != nil {
		return err
	}
	xt, err := p.b.get(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	bt, err := p.b.get(op, "b", bias, p.bshape)
	if err != nil {
		return err
	}
	yt, err := p.b.get(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.BiasForward, xt, bt, yt); err != nil {
		return err
	}
	addBias(xt.data, bt.data, yt.data, p.inner, false)
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

func (p *biasPlan) Backward(dy, db backend.Tensor) error {
	const op = "bias.backward"
	if err := p.check(op); err != nil {
		return err
	}
	dyt, err := p.b.get(op, "dy", dy, p.shape)
	if err != nil {
		return err
	}
	dbt, err := p.b.get(op, "db", db, p.bshape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.BiasBackward, dyt, dbt); err != nil {
		return err
	}
	biasGrad(dyt.data, dbt.data, p.inner)
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
func (b *Backend) SGD(s backend.Shape) (backend.SGDPlan, error) {
	if err := b.checkOpen("sgd"); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, backend.Errorf("sgd", backend.ErrShape, "shape %v, want 1 to %d dimensions, each ≥ 1", s, backend.MaxRank)
	}
	p := &sgdPlan{plan: plan{b: b}, shape: s.Clone()}
	p.loop = newLoop(b, p.update)
	return p, nil
}

type sgdPlan struct {
	plan
	shape   backend.Shape
	w, g, v []float32
	hp      backend.SGDParams
	loop    *loop
}

func (p *sgdPlan) Step(param, grad, velocity backend.Tensor, hp backend.SGDParams) error {
	const op = "sgd.step"
	if err := p.check(op); err != nil {
		return err
	}
	if err := hp.Validate(); err != nil {
		return err
	}
	wt, err := p.b.get(op, "param", param, p.shape)
	if err != nil {
		return err
	}
	gt, err := p.b.get(op, "grad", grad, p.shape)
	if err != nil {
		return err
	}
	vt, err := p.b.get(op, "velocity", velocity, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.SGDStep, wt, gt, vt); err != nil {
		return err
	}
	p.w, p.g, p.v, p.hp = wt.data, gt.data, vt.data, hp
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
func (b *Backend) Dropout(d backend.DropoutDesc) (backend.DropoutPlan, error) {
	if err := b.checkOpen("dropout"); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := b.mem.Reserve("dropout", "the mask of "+d.Shape.String(), int64(d.Shape.Numel())); err != nil {
		return nil, err
	}
	p := &dropoutPlan{plan: plan{b: b}, shape: d.Shape.Clone(), p: d.P, mask: make([]bool, d.Shape.Numel()),
		scale: float32(1 / (1 - d.P)), threshold: backend.DropoutThreshold(d.P)}
	p.fwd, p.bwd = newLoop(b, p.forward), newLoop(b, p.backward)
	return p, nil
}

type dropoutPlan struct {
	plan
	shape     backend.Shape
	p         float64
	scale     float32
	threshold uint32
	mask      []bool
	haveMask  bool
	seed      uint64
	x, y      []float32
	fwd, bwd  *loop
}

func (p *dropoutPlan) Forward(x, y backend.Tensor, seed uint64) error {
	const op = "dropout.forward"
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
	if err := backend.CheckAliases(op, backend.DropoutForward, xt, yt); err != nil {
		return err
	}
	p.x, p.y, p.seed = xt.data, yt.data, seed
	p.fwd.do(len(p.x))
	p.haveMask = true
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

func (p *dropoutPlan) Backward(dy, dx backend.Tensor) error {
	const op = "dropout.backward"
	if err := p.check(op); err != nil {
		return err
	}
	dyt, err := p.b.get(op, "dy", dy, p.shape)
	if err != nil {
		return err
	}
	dxt, err := p.b.get(op, "dx", dx, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.DropoutBackward, dyt, dxt); err != nil {
		return err
	}
	if !p.haveMask {
		return backend.Errorf(op, backend.ErrState, "backward before any forward: there is no mask yet")
	}
	p.x, p.y = dyt.data, dxt.data
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
	p.closed, p.mask = true, nil
	return nil
}
