package driver

import (
	"errors"
	"reflect"

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
// shape; aliasing (the table in alias.go); the labels; then the
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

func (h *handle[T]) unwrap() any       { return h.t }
func (f *front[T]) unwrap() any        { return f.d }
func (p *weightPlan[T]) unwrap() any   { return p.d }
func (p *biasPlan[T]) unwrap() any     { return p.d }
func (p *reluPlan[T]) unwrap() any     { return p.d }
func (p *statefulPlan[T]) unwrap() any { return p.d }
func (p *dropoutPlan[T]) unwrap() any  { return p.d }
func (p *lossPlan[T]) unwrap() any     { return p.d }
func (p *sgdPlan[T]) unwrap() any      { return p.d }

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
	if v := reflect.ValueOf(d); v.Kind() == reflect.Pointer {
		// A *ConvDesc and the like: the description it points to.
		if v.IsNil() {
			return Errorf(op, backend.ErrInvalid, "description is a nil %T", d)
		}
		e, ok := v.Elem().Interface().(backend.Desc)
		if !ok {
			return Errorf(op, backend.ErrInvalid, "description %T is not one of the backend package's", d)
		}
		d = e
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
	return newWeightPlan(f, p, "conv2d", d, d.Bias, d.Inference), nil
}

func (f *front[T]) Linear(d backend.LinearDesc) (backend.WeightPlan, error) {
	if err := f.planning("linear", d); err != nil {
		return nil, err
	}
	p, err := f.d.Linear(d)
	if err != nil {
		return nil, err
	}
	return newWeightPlan(f, p, "linear", d, d.Bias, d.Inference), nil
}

func (f *front[T]) BiasAdd(d backend.BiasDesc) (backend.BiasPlan, error) {
	if err := f.planning("bias", d); err != nil {
		return nil, err
	}
	p, err := f.d.BiasAdd(d)
	if err != nil {
		return nil, err
	}
	s, b := d.Shape.Clone(), backend.Shape{d.Shape[1]}
	return &biasPlan[T]{planBase: planBase[T]{f: f}, d: p,
		fwd: sig{op: "bias.forward", call: biasForward, shapes: [4]backend.Shape{s, b, s}},
		bwd: sig{op: "bias.backward", call: biasBackward, shapes: [4]backend.Shape{s, b}}}, nil
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
	s = s.Clone()
	return &reluPlan[T]{planBase: planBase[T]{f: f}, d: p,
		fwd: sig{op: "relu.forward", call: reluForward, shapes: [4]backend.Shape{s, s}},
		bwd: sig{op: "relu.backward", call: reluBackward, shapes: [4]backend.Shape{s, s, s}}}, nil
}

func (f *front[T]) LRN(d backend.LRNDesc) (backend.LRNPlan, error) {
	if err := f.planning("lrn", d); err != nil {
		return nil, err
	}
	p, err := f.d.LRN(d)
	if err != nil {
		return nil, err
	}
	return newStatefulPlan(f, p, "lrn", lrnForward, lrnBackward, d.Input.Clone(), d.Input.Clone(), d.Inference, d.String()), nil
}

func (f *front[T]) MaxPool(d backend.PoolDesc) (backend.PoolPlan, error) {
	if err := f.planning("maxpool2d", d); err != nil {
		return nil, err
	}
	p, err := f.d.MaxPool(d)
	if err != nil {
		return nil, err
	}
	return newStatefulPlan(f, p, "maxpool2d", poolForward, poolBackward, d.Input.Clone(), d.OutputShape(), d.Inference, d.String()), nil
}

func (f *front[T]) Dropout(d backend.DropoutDesc) (backend.DropoutPlan, error) {
	if err := f.planning("dropout", d); err != nil {
		return nil, err
	}
	p, err := f.d.Dropout(d)
	if err != nil {
		return nil, err
	}
	s := d.Shape.Clone()
	return &dropoutPlan[T]{planBase: planBase[T]{f: f}, d: p,
		fwd: sig{op: "dropout.forward", call: dropoutForward, shapes: [4]backend.Shape{s, s}},
		bwd: sig{op: "dropout.backward", call: dropoutBackward, shapes: [4]backend.Shape{s, s}}}, nil
}

func (f *front[T]) SoftmaxCrossEntropy(d backend.SoftmaxDesc) (backend.LossPlan, error) {
	if err := f.planning("softmax_cross_entropy", d); err != nil {
		return nil, err
	}
	p, err := f.d.SoftmaxCrossEntropy(d)
	if err != nil {
		return nil, err
	}
	l := d.Logits.Clone()
	return &lossPlan[T]{planBase: planBase[T]{f: f}, d: p,
		fwd: sig{op: "softmax_cross_entropy.forward", call: lossForward, shapes: [4]backend.Shape{l, {1}, l},
			modes: [4]argMode{2: optional}},
		softmax: sig{op: "softmax_cross_entropy.softmax", call: lossSoftmax, shapes: [4]backend.Shape{l, l}}}, nil
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
	s = s.Clone()
	return &sgdPlan[T]{planBase: planBase[T]{f: f}, d: p, step: sig{op: "sgd.step", call: sgdStep, shapes: [4]backend.Shape{s, s, s}}}, nil
}

// argMode says how a call's tensor argument may be given.
type argMode uint8

const (
	required argMode = iota // a tensor of the argument's shape
	absent                  // nil: a bias (or its gradient) of a plan without one
	optional                // nil, or a tensor of the shape (the loss's dlogits)
)

// sig is the rulebook's view of one plan method, fixed when the plan is
// made: the op name for errors, the row of the aliasing table (which also
// names the arguments), and each tensor argument's shape and mode.
type sig struct {
	op     string
	call   call
	shapes [4]backend.Shape
	modes  [4]argMode
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

// args runs the tensor checks of one call of sig s, after the plan being
// open and any scalar checks: each argument in order (nil, foreign,
// closed, shape, by its mode), then aliasing. It returns the handles, nil
// for an absent argument.
func (p *planBase[T]) args(s *sig, args ...backend.Tensor) (h [4]*handle[T], err error) {
	names := rules[s.call].args
	for i, x := range args {
		switch s.modes[i] {
		case absent:
			if x != nil {
				return h, Errorf(s.op, backend.ErrInvalid, "%s given but the plan has no bias", names[i])
			}
			continue
		case optional:
			if x == nil {
				continue
			}
		}
		if h[i], err = p.f.arg(s.op, names[i], x, s.shapes[i]); err != nil {
			return h, err
		}
	}
	return h, checkAliases(s.op, s.call, h[:len(args)]...)
}

// check is the whole check of a forward-style call: open, then args.
func (p *planBase[T]) check(s *sig, args ...backend.Tensor) ([4]*handle[T], error) {
	if err := p.open(s.op); err != nil {
		return [4]*handle[T]{}, err
	}
	return p.args(s, args...)
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

// checkBackward is the whole check of a backward call: open, then that the
// plan was not made for inference, then args.
func (p *planBase[T]) checkBackward(s *sig, inference bool, desc string, args ...backend.Tensor) ([4]*handle[T], error) {
	if err := p.open(s.op); err != nil {
		return [4]*handle[T]{}, err
	}
	if inference {
		return [4]*handle[T]{}, Errorf(s.op, backend.ErrInvalid, "%s: the plan was made for inference (Inference set) and has no backward; "+
			"plan the layer without Inference to train it", desc)
	}
	return p.args(s, args...)
}

// weightPlan checks a convolution's or fully connected layer's calls.
type weightPlan[T Tensor] struct {
	planBase[T]
	d           WeightPlan[T]
	inference   bool
	desc        string
	fwd, bd, bf sig
}

func newWeightPlan[T Tensor](f *front[T], p WeightPlan[T], name string, d backend.WeightDesc, bias, inference bool) *weightPlan[T] {
	xs, ys, ws := d.InputShape().Clone(), d.OutputShape(), d.WeightShape()
	bs, mode := backend.Shape{ws[0]}, required
	if !bias {
		bs, mode = nil, absent
	}
	return &weightPlan[T]{planBase: planBase[T]{f: f}, d: p, inference: inference, desc: d.String(),
		fwd: sig{op: name + ".forward", call: weightForward, shapes: [4]backend.Shape{xs, ws, bs, ys}, modes: [4]argMode{2: mode}},
		bd:  sig{op: name + ".backward_data", call: weightBackwardData, shapes: [4]backend.Shape{ys, ws, xs}},
		bf:  sig{op: name + ".backward_filter", call: weightBackwardFilter, shapes: [4]backend.Shape{xs, ys, ws, bs}, modes: [4]argMode{3: mode}}}
}

func (p *weightPlan[T]) Close() error { return p.close(p.d) }

func (p *weightPlan[T]) Forward(x, w, b, y backend.Tensor) error {
	h, err := p.check(&p.fwd, x, w, b, y)
	if err != nil {
		return err
	}
	return p.d.Forward(h[0].t, h[1].t, tensorOf(h[2]), h[3].t)
}

func (p *weightPlan[T]) BackwardData(dy, w, dx backend.Tensor) error {
	h, err := p.checkBackward(&p.bd, p.inference, p.desc, dy, w, dx)
	if err != nil {
		return err
	}
	return p.d.BackwardData(h[0].t, h[1].t, h[2].t)
}

func (p *weightPlan[T]) BackwardFilter(x, dy, dw, db backend.Tensor) error {
	h, err := p.checkBackward(&p.bf, p.inference, p.desc, x, dy, dw, db)
	if err != nil {
		return err
	}
	return p.d.BackwardFilter(h[0].t, h[1].t, h[2].t, tensorOf(h[3]))
}

// biasPlan checks a bias add's calls.
type biasPlan[T Tensor] struct {
	planBase[T]
	d        BiasPlan[T]
	fwd, bwd sig
}

func (p *biasPlan[T]) Close() error { return p.close(p.d) }

func (p *biasPlan[T]) Forward(x, b, y backend.Tensor) error {
	h, err := p.check(&p.fwd, x, b, y)
	if err != nil {
		return err
	}
	return p.d.Forward(h[0].t, h[1].t, h[2].t)
}

func (p *biasPlan[T]) Backward(dy, db backend.Tensor) error {
	h, err := p.check(&p.bwd, dy, db)
	if err != nil {
		return err
	}
	return p.d.Backward(h[0].t, h[1].t)
}

// reluPlan checks a ReLU's calls.
type reluPlan[T Tensor] struct {
	planBase[T]
	d        ReLUPlan[T]
	fwd, bwd sig
}

func (p *reluPlan[T]) Close() error { return p.close(p.d) }

func (p *reluPlan[T]) Forward(x, y backend.Tensor) error {
	h, err := p.check(&p.fwd, x, y)
	if err != nil {
		return err
	}
	return p.d.Forward(h[0].t, h[1].t)
}

func (p *reluPlan[T]) Backward(y, dy, dx backend.Tensor) error {
	h, err := p.check(&p.bwd, y, dy, dx)
	if err != nil {
		return err
	}
	return p.d.Backward(h[0].t, h[1].t, h[2].t)
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
	d            statefulDriver[T]
	inference    bool
	desc         string
	fwd, bwd     sig
	lastX, lastY *handle[T] // of the latest successful Forward
}

func newStatefulPlan[T Tensor](f *front[T], p statefulDriver[T], name string, fc, bc call, in, out backend.Shape, inference bool, desc string) *statefulPlan[T] {
	return &statefulPlan[T]{planBase: planBase[T]{f: f}, d: p, inference: inference, desc: desc,
		fwd: sig{op: name + ".forward", call: fc, shapes: [4]backend.Shape{in, out}},
		bwd: sig{op: name + ".backward", call: bc, shapes: [4]backend.Shape{in, out, out, in}}}
}

func (p *statefulPlan[T]) Close() error {
	p.lastX, p.lastY = nil, nil
	return p.close(p.d)
}

func (p *statefulPlan[T]) Forward(x, y backend.Tensor) error {
	h, err := p.check(&p.fwd, x, y)
	if err != nil {
		return err
	}
	if err := p.d.Forward(h[0].t, h[1].t); err != nil {
		p.lastX, p.lastY = nil, nil // what it saved belongs to no complete forward
		return err
	}
	p.lastX, p.lastY = h[0], h[1]
	return nil
}

func (p *statefulPlan[T]) Backward(x, y, dy, dx backend.Tensor) error {
	h, err := p.checkBackward(&p.bwd, p.inference, p.desc, x, y, dy, dx)
	if err != nil {
		return err
	}
	switch op := p.bwd.op; {
	case p.lastX == nil:
		return Errorf(op, backend.ErrState, "backward before any forward of this plan")
	case p.lastX != h[0]:
		return Errorf(op, backend.ErrState, "x is not the input of this plan's latest forward (its saved state belongs to that input)")
	case p.lastY != h[1]:
		return Errorf(op, backend.ErrState, "y is not the output of this plan's latest forward")
	}
	return p.d.Backward(h[0].t, h[1].t, h[2].t, h[3].t)
}

// dropoutPlan checks a dropout's calls: Backward needs a mask, from a
// successful Forward.
type dropoutPlan[T Tensor] struct {
	planBase[T]
	d        DropoutPlan[T]
	fwd, bwd sig
	masked   bool
}

func (p *dropoutPlan[T]) Close() error { return p.close(p.d) }

func (p *dropoutPlan[T]) Forward(x, y backend.Tensor, seed uint64) error {
	h, err := p.check(&p.fwd, x, y)
	if err != nil {
		return err
	}
	err = p.d.Forward(h[0].t, h[1].t, seed)
	p.masked = err == nil
	return err
}

func (p *dropoutPlan[T]) Backward(dy, dx backend.Tensor) error {
	h, err := p.check(&p.bwd, dy, dx)
	if err != nil {
		return err
	}
	if !p.masked {
		return Errorf(p.bwd.op, backend.ErrState, "backward before any forward: there is no mask yet")
	}
	return p.d.Backward(h[0].t, h[1].t)
}

// lossPlan checks the softmax cross-entropy's calls.
type lossPlan[T Tensor] struct {
	planBase[T]
	d            LossPlan[T]
	fwd, softmax sig // fwd.shapes[0] is the logits' shape
}

func (p *lossPlan[T]) Close() error { return p.close(p.d) }

func (p *lossPlan[T]) Forward(logits backend.Tensor, labels []int32, loss, dlogits backend.Tensor) error {
	h, err := p.check(&p.fwd, logits, loss, dlogits)
	if err != nil {
		return err
	}
	if err := checkLabels(p.fwd.op, p.fwd.shapes[0], labels); err != nil {
		return err
	}
	return p.d.Forward(h[0].t, labels, h[1].t, tensorOf(h[2]))
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
	h, err := p.check(&p.softmax, logits, probs)
	if err != nil {
		return err
	}
	return p.d.Softmax(h[0].t, h[1].t)
}

// sgdPlan checks an SGD plan's calls. The hyper-parameters of a training
// run change rarely (a learning-rate drop), so the last valid set is kept
// and a Step with the same values skips Validate: a network's 16
// parameter updates per step validate once.
type sgdPlan[T Tensor] struct {
	planBase[T]
	d     SGDPlan[T]
	step  sig
	valid backend.SGDParams
	seen  bool
}

func (p *sgdPlan[T]) Close() error { return p.close(p.d) }

func (p *sgdPlan[T]) Step(param, grad, velocity backend.Tensor, hp backend.SGDParams) error {
	op := p.step.op
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
	h, err := p.args(&p.step, param, grad, velocity)
	if err != nil {
		return err
	}
	return p.d.Step(h[0].t, h[1].t, h[2].t, hp)
}
