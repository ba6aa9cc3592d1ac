package driver

import (
	"errors"

	"github.com/dnngo/dnngo/backend"
)

// The rulebook: the one layer that checks every call of the backend
// contract before a driver sees it. Wrap puts a front[T] in front of a
// driver; every tensor the user sees is a *handle[T] around the driver's
// T, every plan a checking plan around the driver's plan.
//
// The order of the checks in every call, as the backend package documents
// it: the backend (and the plan) being open; scalar arguments (SGD's
// hyper-parameters); each tensor in argument order — nil, foreign, closed,
// shape — and the labels; aliasing (the table in alias.go); then the
// out-of-order rules (ErrState). Only then is the driver called. The
// success path allocates nothing: op names are constants, handles are
// compared as pointers, shapes against slices kept by the plan.

// front is the rulebook wrapped around one open driver.
type front[T Tensor] struct {
	d      Backend[T]
	name   string
	closed bool
}

// handle is the user's view of a driver tensor.
type handle[T Tensor] struct {
	f      *front[T]
	shape  backend.Shape
	t      T
	closed bool
}

func (h *handle[T]) Shape() backend.Shape { return h.shape }

func (h *handle[T]) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	t := h.t
	var zero T
	h.t = zero
	if h.f.closed {
		return nil // the driver released everything when it closed
	}
	return t.Close()
}

// tensorOf is h's driver tensor, or the zero T (nil) for an absent
// optional argument.
func tensorOf[T Tensor](h *handle[T]) T {
	if h == nil {
		var zero T
		return zero
	}
	return h.t
}

func (f *front[T]) open(op string) error {
	if f.closed {
		return Errorf(op, backend.ErrClosed, "backend is closed")
	}
	return nil
}

// arg resolves a tensor argument: not nil, made by this backend value,
// open, and (when want is not nil) of shape want.
func (f *front[T]) arg(op, name string, x backend.Tensor, want backend.Shape) (*handle[T], error) {
	h, ok := x.(*handle[T])
	switch {
	case x == nil || (ok && h == nil):
		return nil, Errorf(op, backend.ErrNil, "%s is nil", name)
	case !ok || h.f != f:
		return nil, Errorf(op, backend.ErrForeign, "%s (%T) was not made by this %s backend", name, x, f.name)
	case h.closed:
		return nil, Errorf(op, backend.ErrClosed, "%s %v is closed", name, h.shape)
	case want != nil && !h.shape.Equal(want):
		return nil, Errorf(op, backend.ErrShape, "%s has shape %v, want %v", name, h.shape, want)
	}
	return h, nil
}

// optional resolves an argument that is given exactly when present is
// true (a bias, its gradient); absent, it must be nil.
func (f *front[T]) optional(op, name string, x backend.Tensor, present bool, want backend.Shape) (*handle[T], error) {
	if !present {
		if x != nil {
			return nil, Errorf(op, backend.ErrInvalid, "%s given but the plan has no bias", name)
		}
		return nil, nil
	}
	return f.arg(op, name, x, want)
}

// Info describes the driver.
func (f *front[T]) Info() backend.Info { return f.d.Info() }

func (f *front[T]) NewTensor(shape ...int) (backend.Tensor, error) {
	if err := f.open("new tensor"); err != nil {
		return nil, err
	}
	s := backend.Shape(shape).Clone()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	t, err := f.d.NewTensor(s)
	if err != nil {
		return nil, err
	}
	return &handle[T]{f: f, shape: s, t: t}, nil
}

func (f *front[T]) Upload(dst backend.Tensor, src []float32) error {
	const op = "upload"
	if err := f.open(op); err != nil {
		return err
	}
	h, err := f.arg(op, "dst", dst, nil)
	if err != nil {
		return err
	}
	if n := h.shape.Numel(); len(src) != n {
		return Errorf(op, backend.ErrShape, "source has %d values, tensor %v holds %d", len(src), h.shape, n)
	}
	return f.d.Upload(h.t, src)
}

func (f *front[T]) Download(dst []float32, src backend.Tensor) error {
	const op = "download"
	if err := f.open(op); err != nil {
		return err
	}
	h, err := f.arg(op, "src", src, nil)
	if err != nil {
		return err
	}
	if n := h.shape.Numel(); len(dst) != n {
		return Errorf(op, backend.ErrShape, "destination has room for %d values, tensor %v holds %d", len(dst), h.shape, n)
	}
	return f.d.Download(dst, h.t)
}

func (f *front[T]) Sync() error {
	if err := f.open("sync"); err != nil {
		return err
	}
	return f.d.Sync()
}

func (f *front[T]) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	return f.d.Close()
}

// Supports checks d as planning it would, without planning: the backend
// being open, d.Validate, then the driver's own limits.
func (f *front[T]) Supports(d backend.Desc) error {
	if err := f.open("supports"); err != nil {
		return err
	}
	return f.supports("supports", d)
}

func (f *front[T]) supports(op string, d backend.Desc) error {
	if d == nil {
		return Errorf(op, backend.ErrInvalid, "description is nil")
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if s, ok := f.d.(Supporter); ok {
		return s.Supports(d)
	}
	return nil
}

// planning is the check of every plan call: open, valid, supported.
func (f *front[T]) planning(op string, d backend.Desc) error {
	if err := f.open(op); err != nil {
		return err
	}
	return f.supports(op, d)
}

// shapeDesc is a Shape as the description of a ReLU or SGD plan, whose
// malformed shape is named after the op.
func shapeDesc(op string, s backend.Shape) error {
	if s.Validate() != nil {
		return Errorf(op, backend.ErrShape, "shape %v, want 1 to %d dimensions, each ≥ 1", s, backend.MaxRank)
	}
	return nil
}

func (f *front[T]) Conv(d backend.ConvDesc) (backend.WeightPlan, error) {
	if err := f.planning("conv2d", d); err != nil {
		return nil, err
	}
	p, err := f.d.Conv(d)
	if err != nil {
		return nil, err
	}
	return newWeightPlan(f, p, "conv2d", d), nil
}

func (f *front[T]) Linear(d backend.LinearDesc) (backend.WeightPlan, error) {
	if err := f.planning("linear", d); err != nil {
		return nil, err
	}
	p, err := f.d.Linear(d)
	if err != nil {
		return nil, err
	}
	return newWeightPlan(f, p, "linear", d), nil
}

func (f *front[T]) BiasAdd(d backend.BiasDesc) (backend.BiasPlan, error) {
	if err := f.planning("bias", d); err != nil {
		return nil, err
	}
	p, err := f.d.BiasAdd(d)
	if err != nil {
		return nil, err
	}
	return &biasPlan[T]{planBase: planBase[T]{f: f}, d: p, shape: d.Shape.Clone(), bshape: backend.Shape{d.Shape[1]}}, nil
}

func (f *front[T]) ReLU(s backend.Shape) (backend.ReLUPlan, error) {
	if err := f.open("relu"); err != nil {
		return nil, err
	}
	if err := shapeDesc("relu", s); err != nil {
		return nil, err
	}
	if err := f.supports("relu", s); err != nil {
		return nil, err
	}
	p, err := f.d.ReLU(s.Clone())
	if err != nil {
		return nil, err
	}
	return &reluPlan[T]{planBase: planBase[T]{f: f}, d: p, shape: s.Clone()}, nil
}

func (f *front[T]) LRN(d backend.LRNDesc) (backend.LRNPlan, error) {
	if err := f.planning("lrn", d); err != nil {
		return nil, err
	}
	p, err := f.d.LRN(d)
	if err != nil {
		return nil, err
	}
	return &statefulPlan[T]{planBase: planBase[T]{f: f}, d: p, in: d.Input.Clone(), out: d.Input.Clone(),
		inference: d.Inference, desc: d.String(), fwd: "lrn.forward", bwd: "lrn.backward",
		fwdCall: lrnForward, bwdCall: lrnBackward}, nil
}

func (f *front[T]) MaxPool(d backend.PoolDesc) (backend.PoolPlan, error) {
	if err := f.planning("maxpool2d", d); err != nil {
		return nil, err
	}
	p, err := f.d.MaxPool(d)
	if err != nil {
		return nil, err
	}
	return &statefulPlan[T]{planBase: planBase[T]{f: f}, d: p, in: d.Input.Clone(), out: d.OutputShape(),
		inference: d.Inference, desc: d.String(), fwd: "maxpool2d.forward", bwd: "maxpool2d.backward",
		fwdCall: poolForward, bwdCall: poolBackward}, nil
}

func (f *front[T]) Dropout(d backend.DropoutDesc) (backend.DropoutPlan, error) {
	if err := f.planning("dropout", d); err != nil {
		return nil, err
	}
	p, err := f.d.Dropout(d)
	if err != nil {
		return nil, err
	}
	return &dropoutPlan[T]{planBase: planBase[T]{f: f}, d: p, shape: d.Shape.Clone()}, nil
}

func (f *front[T]) SoftmaxCrossEntropy(d backend.SoftmaxDesc) (backend.LossPlan, error) {
	if err := f.planning("softmax_cross_entropy", d); err != nil {
		return nil, err
	}
	p, err := f.d.SoftmaxCrossEntropy(d)
	if err != nil {
		return nil, err
	}
	return &lossPlan[T]{planBase: planBase[T]{f: f}, d: p, logits: d.Logits.Clone(), loss: backend.Shape{1}}, nil
}

func (f *front[T]) SGD(s backend.Shape) (backend.SGDPlan, error) {
	if err := f.open("sgd"); err != nil {
		return nil, err
	}
	if err := shapeDesc("sgd", s); err != nil {
		return nil, err
	}
	if err := f.supports("sgd", s); err != nil {
		return nil, err
	}
	p, err := f.d.SGD(s.Clone())
	if err != nil {
		return nil, err
	}
	return &sgdPlan[T]{planBase: planBase[T]{f: f}, d: p, shape: s.Clone()}, nil
}

// planBase is what every checking plan has.
type planBase[T Tensor] struct {
	f      *front[T]
	closed bool
}

// open is the first check of every plan call.
func (p *planBase[T]) open(op string) error {
	if p.closed {
		return Errorf(op, backend.ErrClosed, "plan is closed")
	}
	return p.f.open(op)
}

// close closes the driver plan d once, unless the driver is closed
// already (which released it).
func (p *planBase[T]) close(d Plan) error {
	if p.closed {
		return nil
	}
	p.closed = true
	if p.f.closed {
		return nil
	}
	return d.Close()
}

// trainable is the first check after open of every backward call: a plan
// made for inference has none.
func trainable(op string, inference bool, desc string) error {
	if !inference {
		return nil
	}
	return Errorf(op, backend.ErrInvalid, "%s: the plan was made for inference (Inference set) and has no backward; "+
		"plan the layer without Inference to train it", desc)
}

// weightPlan checks a convolution's or fully connected layer's calls.
type weightPlan[T Tensor] struct {
	planBase[T]
	d              WeightPlan[T]
	xs, ys, ws, bs backend.Shape
	bias           bool
	inference      bool
	desc           string
	fwd, bd, bf    string // op names
}

func newWeightPlan[T Tensor](f *front[T], p WeightPlan[T], name string, d backend.WeightDesc) *weightPlan[T] {
	ws := d.WeightShape()
	w := &weightPlan[T]{planBase: planBase[T]{f: f}, d: p, xs: d.InputShape().Clone(), ys: d.OutputShape(), ws: ws,
		bs: backend.Shape{ws[0]}, desc: d.String(),
		fwd: name + ".forward", bd: name + ".backward_data", bf: name + ".backward_filter"}
	switch d := d.(type) {
	case backend.ConvDesc:
		w.bias, w.inference = d.Bias, d.Inference
	case backend.LinearDesc:
		w.bias, w.inference = d.Bias, d.Inference
	}
	return w
}

func (p *weightPlan[T]) Close() error { return p.close(p.d) }

func (p *weightPlan[T]) Forward(x, w, b, y backend.Tensor) error {
	op, f := p.fwd, p.f
	if err := p.open(op); err != nil {
		return err
	}
	xh, err := f.arg(op, "x", x, p.xs)
	if err != nil {
		return err
	}
	wh, err := f.arg(op, "w", w, p.ws)
	if err != nil {
		return err
	}
	bh, err := f.optional(op, "b", b, p.bias, p.bs)
	if err != nil {
		return err
	}
	yh, err := f.arg(op, "y", y, p.ys)
	if err != nil {
		return err
	}
	if err := checkAliases(op, weightForward, xh, wh, bh, yh); err != nil {
		return err
	}
	return p.d.Forward(xh.t, wh.t, tensorOf(bh), yh.t)
}

func (p *weightPlan[T]) BackwardData(dy, w, dx backend.Tensor) error {
	op, f := p.bd, p.f
	if err := p.open(op); err != nil {
		return err
	}
	if err := trainable(op, p.inference, p.desc); err != nil {
		return err
	}
	dyh, err := f.arg(op, "dy", dy, p.ys)
	if err != nil {
		return err
	}
	wh, err := f.arg(op, "w", w, p.ws)
	if err != nil {
		return err
	}
	dxh, err := f.arg(op, "dx", dx, p.xs)
	if err != nil {
		return err
	}
	if err := checkAliases(op, weightBackwardData, dyh, wh, dxh); err != nil {
		return err
	}
	return p.d.BackwardData(dyh.t, wh.t, dxh.t)
}

func (p *weightPlan[T]) BackwardFilter(x, dy, dw, db backend.Tensor) error {
	op, f := p.bf, p.f
	if err := p.open(op); err != nil {
		return err
	}
	if err := trainable(op, p.inference, p.desc); err != nil {
		return err
	}
	xh, err := f.arg(op, "x", x, p.xs)
	if err != nil {
		return err
	}
	dyh, err := f.arg(op, "dy", dy, p.ys)
	if err != nil {
		return err
	}
	dwh, err := f.arg(op, "dw", dw, p.ws)
	if err != nil {
		return err
	}
	dbh, err := f.optional(op, "db", db, p.bias, p.bs)
	if err != nil {
		return err
	}
	if err := checkAliases(op, weightBackwardFilter, xh, dyh, dwh, dbh); err != nil {
		return err
	}
	return p.d.BackwardFilter(xh.t, dyh.t, dwh.t, tensorOf(dbh))
}

// biasPlan checks a bias add's calls.
type biasPlan[T Tensor] struct {
	planBase[T]
	d             BiasPlan[T]
	shape, bshape backend.Shape
}

func (p *biasPlan[T]) Close() error { return p.close(p.d) }

func (p *biasPlan[T]) Forward(x, b, y backend.Tensor) error {
	const op = "bias.forward"
	f := p.f
	if err := p.open(op); err != nil {
		return err
	}
	xh, err := f.arg(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	bh, err := f.arg(op, "b", b, p.bshape)
	if err != nil {
		return err
	}
	yh, err := f.arg(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	if err := checkAliases(op, biasForward, xh, bh, yh); err != nil {
		return err
	}
	return p.d.Forward(xh.t, bh.t, yh.t)
}

func (p *biasPlan[T]) Backward(dy, db backend.Tensor) error {
	const op = "bias.backward"
	f := p.f
	if err := p.open(op); err != nil {
		return err
	}
	dyh, err := f.arg(op, "dy", dy, p.shape)
	if err != nil {
		return err
	}
	dbh, err := f.arg(op, "db", db, p.bshape)
	if err != nil {
		return err
	}
	if err := checkAliases(op, biasBackward, dyh, dbh); err != nil {
		return err
	}
	return p.d.Backward(dyh.t, dbh.t)
}

// reluPlan checks a ReLU's calls.
type reluPlan[T Tensor] struct {
	planBase[T]
	d     ReLUPlan[T]
	shape backend.Shape
}

func (p *reluPlan[T]) Close() error { return p.close(p.d) }

func (p *reluPlan[T]) Forward(x, y backend.Tensor) error {
	const op = "relu.forward"
	f := p.f
	if err := p.open(op); err != nil {
		return err
	}
	xh, err := f.arg(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	yh, err := f.arg(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	if err := checkAliases(op, reluForward, xh, yh); err != nil {
		return err
	}
	return p.d.Forward(xh.t, yh.t)
}

func (p *reluPlan[T]) Backward(y, dy, dx backend.Tensor) error {
	const op = "relu.backward"
	f := p.f
	if err := p.open(op); err != nil {
		return err
	}
	yh, err := f.arg(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	dyh, err := f.arg(op, "dy", dy, p.shape)
	if err != nil {
		return err
	}
	dxh, err := f.arg(op, "dx", dx, p.shape)
	if err != nil {
		return err
	}
	if err := checkAliases(op, reluBackward, yh, dyh, dxh); err != nil {
		return err
	}
	return p.d.Backward(yh.t, dyh.t, dxh.t)
}

// statefulDriver is what LRN and pooling plans share: a backward that
// uses what the latest forward saved.
type statefulDriver[T Tensor] interface {
	Plan
	Forward(x, y T) error
	Backward(x, y, dy, dx T) error
}

// statefulPlan checks an LRN's or max pooling's calls, including the
// stale-forward rule: Backward takes exactly the x and y of the latest
// successful Forward.
type statefulPlan[T Tensor] struct {
	planBase[T]
	d                statefulDriver[T]
	in, out          backend.Shape
	inference        bool
	desc             string
	fwd, bwd         string
	fwdCall, bwdCall call
	lastX, lastY     *handle[T] // of the latest successful Forward
}

func (p *statefulPlan[T]) Close() error {
	p.lastX, p.lastY = nil, nil
	return p.close(p.d)
}

func (p *statefulPlan[T]) Forward(x, y backend.Tensor) error {
	op, f := p.fwd, p.f
	if err := p.open(op); err != nil {
		return err
	}
	xh, err := f.arg(op, "x", x, p.in)
	if err != nil {
		return err
	}
	yh, err := f.arg(op, "y", y, p.out)
	if err != nil {
		return err
	}
	if err := checkAliases(op, p.fwdCall, xh, yh); err != nil {
		return err
	}
	if err := p.d.Forward(xh.t, yh.t); err != nil {
		p.lastX, p.lastY = nil, nil // what it saved belongs to no complete forward
		return err
	}
	p.lastX, p.lastY = xh, yh
	return nil
}

func (p *statefulPlan[T]) Backward(x, y, dy, dx backend.Tensor) error {
	op, f := p.bwd, p.f
	if err := p.open(op); err != nil {
		return err
	}
	if err := trainable(op, p.inference, p.desc); err != nil {
		return err
	}
	xh, err := f.arg(op, "x", x, p.in)
	if err != nil {
		return err
	}
	yh, err := f.arg(op, "y", y, p.out)
	if err != nil {
		return err
	}
	dyh, err := f.arg(op, "dy", dy, p.out)
	if err != nil {
		return err
	}
	dxh, err := f.arg(op, "dx", dx, p.in)
	if err != nil {
		return err
	}
	if err := checkAliases(op, p.bwdCall, xh, yh, dyh, dxh); err != nil {
		return err
	}
	switch {
	case p.lastX == nil:
		return Errorf(op, backend.ErrState, "backward before any forward of this plan")
	case p.lastX != xh:
		return Errorf(op, backend.ErrState, "x is not the input of this plan's latest forward (its saved state belongs to that input)")
	case p.lastY != yh:
		return Errorf(op, backend.ErrState, "y is not the output of this plan's latest forward")
	}
	return p.d.Backward(xh.t, yh.t, dyh.t, dxh.t)
}

// dropoutPlan checks a dropout's calls: Backward needs a mask, from a
// successful Forward.
type dropoutPlan[T Tensor] struct {
	planBase[T]
	d      DropoutPlan[T]
	shape  backend.Shape
	masked bool
}

func (p *dropoutPlan[T]) Close() error { return p.close(p.d) }

func (p *dropoutPlan[T]) Forward(x, y backend.Tensor, seed uint64) error {
	const op = "dropout.forward"
	f := p.f
	if err := p.open(op); err != nil {
		return err
	}
	xh, err := f.arg(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	yh, err := f.arg(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	if err := checkAliases(op, dropoutForward, xh, yh); err != nil {
		return err
	}
	err = p.d.Forward(xh.t, yh.t, seed)
	p.masked = err == nil
	return err
}

func (p *dropoutPlan[T]) Backward(dy, dx backend.Tensor) error {
	const op = "dropout.backward"
	f := p.f
	if err := p.open(op); err != nil {
		return err
	}
	dyh, err := f.arg(op, "dy", dy, p.shape)
	if err != nil {
		return err
	}
	dxh, err := f.arg(op, "dx", dx, p.shape)
	if err != nil {
		return err
	}
	if err := checkAliases(op, dropoutBackward, dyh, dxh); err != nil {
		return err
	}
	if !p.masked {
		return Errorf(op, backend.ErrState, "backward before any forward: there is no mask yet")
	}
	return p.d.Backward(dyh.t, dxh.t)
}

// lossPlan checks the softmax cross-entropy's calls.
type lossPlan[T Tensor] struct {
	planBase[T]
	d            LossPlan[T]
	logits, loss backend.Shape
}

func (p *lossPlan[T]) Close() error { return p.close(p.d) }

func (p *lossPlan[T]) Forward(logits backend.Tensor, labels []int32, loss, dlogits backend.Tensor) error {
	const op = "softmax_cross_entropy.forward"
	f := p.f
	if err := p.open(op); err != nil {
		return err
	}
	lh, err := f.arg(op, "logits", logits, p.logits)
	if err != nil {
		return err
	}
	if err := checkLabels(op, p.logits, labels); err != nil {
		return err
	}
	lossh, err := f.arg(op, "loss", loss, p.loss)
	if err != nil {
		return err
	}
	var dh *handle[T]
	if dlogits != nil {
		if dh, err = f.arg(op, "dlogits", dlogits, p.logits); err != nil {
			return err
		}
	}
	if err := checkAliases(op, lossForward, lh, lossh, dh); err != nil {
		return err
	}
	return p.d.Forward(lh.t, labels, lossh.t, tensorOf(dh))
}

// checkLabels: one label per row of logits [N, Classes], each in
// [0, Classes).
func checkLabels(op string, logits backend.Shape, labels []int32) error {
	n, k := logits[0], logits[1]
	if len(labels) != n {
		return Errorf(op, backend.ErrShape, "%d labels for logits %v, want %d", len(labels), logits, n)
	}
	for i, l := range labels {
		if l < 0 || int(l) >= k {
			return Errorf(op, backend.ErrInvalid, "label %d of row %d is outside [0, %d)", l, i, k)
		}
	}
	return nil
}

func (p *lossPlan[T]) Softmax(logits, probs backend.Tensor) error {
	const op = "softmax_cross_entropy.softmax"
	f := p.f
	if err := p.open(op); err != nil {
		return err
	}
	lh, err := f.arg(op, "logits", logits, p.logits)
	if err != nil {
		return err
	}
	ph, err := f.arg(op, "probs", probs, p.logits)
	if err != nil {
		return err
	}
	if err := checkAliases(op, lossSoftmax, lh, ph); err != nil {
		return err
	}
	return p.d.Softmax(lh.t, ph.t)
}

// sgdPlan checks an SGD plan's calls. The hyper-parameters of a training
// run change rarely (a learning-rate drop), so the last valid set is kept
// and a Step with the same values skips Validate: a network's 16
// parameter updates per step validate once.
type sgdPlan[T Tensor] struct {
	planBase[T]
	d     SGDPlan[T]
	shape backend.Shape
	valid backend.SGDParams
	seen  bool
}

func (p *sgdPlan[T]) Close() error { return p.close(p.d) }

func (p *sgdPlan[T]) Step(param, grad, velocity backend.Tensor, hp backend.SGDParams) error {
	const op = "sgd.step"
	f := p.f
	if err := p.open(op); err != nil {
		return err
	}
	if !p.seen || hp != p.valid {
		if err := hp.Validate(); err != nil {
			var oe *backend.OpError
			if errors.As(err, &oe) {
				return &backend.OpError{Op: op, Kind: oe.Kind, Msg: oe.Msg, Err: oe.Err}
			}
			return err
		}
		p.valid, p.seen = hp, true
	}
	ph, err := f.arg(op, "param", param, p.shape)
	if err != nil {
		return err
	}
	gh, err := f.arg(op, "grad", grad, p.shape)
	if err != nil {
		return err
	}
	vh, err := f.arg(op, "velocity", velocity, p.shape)
	if err != nil {
		return err
	}
	if err := checkAliases(op, sgdStep, ph, gh, vh); err != nil {
		return err
	}
	return p.d.Step(ph.t, gh.t, vh.t, hp)
}
