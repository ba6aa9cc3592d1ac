//go:build onednn

package onednn

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/dnngo/dnngo/backend"
)

// plan is what every plan of this backend embeds.
type plan struct {
	b      *Backend
	closed bool
	self   resource
}

// Close frees the plan's primitives. Closing twice is harmless.
func (p *plan) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	if !p.b.closed {
		p.self.free()
		p.b.untrack(p.self)
	}
	return nil
}

func (p *plan) check(op string) error {
	if p.closed {
		return backend.Errorf(op, backend.ErrClosed, "plan is closed")
	}
	return p.b.checkOpen(op)
}

// newPlan starts a plan: the backend must be open and the description valid.
func (b *Backend) newPlan(op string, validate func() error) error {
	if err := b.checkOpen(op); err != nil {
		return err
	}
	return validate()
}

// ---- convolution and fully connected ----

// weightPlan is a convolution or a fully connected layer.
type weightPlan struct {
	plan
	name           string    // "conv2d" or "linear"
	ops            [3]string // name.forward, name.backward_data, name.backward_filter
	desc           fmt.Stringer
	xs, ys, ws, bs backend.Shape
	bias           bool
	inference      bool // the desc's Inference: forward_inference, no backward
	conv           *C.dno_conv
	lin            *C.dno_linear
}

func (p *weightPlan) free() {
	C.dno_conv_destroy(p.conv)
	C.dno_linear_destroy(p.lin)
	p.conv, p.lin = nil, nil
}

// Conv plans a convolution: forward with bias and ReLU fused as post-ops;
// the backward primitives are made on their first use.
func (b *Backend) Conv(d backend.ConvDesc) (backend.WeightPlan, error) {
	if err := b.newPlan("conv2d", d.Validate); err != nil {
		return nil, err
	}
	p := &weightPlan{plan: plan{b: b}, name: "conv2d", desc: d, xs: d.Input.Clone(), ys: d.OutputShape(),
		ws: d.WeightShape(), bs: backend.Shape{d.Out}, bias: d.Bias}
	x := dims(d.Input)
	rc := C.dno_conv_create(b.c, &p.conv, &x[0], C.int64_t(d.Out), C.int64_t(d.KernelH), C.int64_t(d.KernelW),
		C.int64_t(d.StrideH), C.int64_t(d.StrideW), C.int64_t(d.PadH), C.int64_t(d.PadW), C.int64_t(d.Groups),
		cbool(d.Bias), cbool(d.ReLU), cbool(d.Inference))
	p.inference = d.Inference
	return b.finish(&p.plan, p, check(b, rc, "conv2d", d))
}

// Linear plans a fully connected layer on oneDNN's inner product, reading
// a 4-D input in its own (blocked) layout.
func (b *Backend) Linear(d backend.LinearDesc) (backend.WeightPlan, error) {
	if err := b.newPlan("linear", d.Validate); err != nil {
		return nil, err
	}
	p := &weightPlan{plan: plan{b: b}, name: "linear", desc: d, xs: d.Input.Clone(), ys: d.OutputShape(),
		ws: d.WeightShape(), bs: backend.Shape{d.Out}, bias: d.Bias}
	x := dims(d.Input)
	rc := C.dno_linear_create(b.c, &p.lin, C.int(len(d.Input)), &x[0], C.int64_t(d.Out), cbool(d.Bias), cbool(d.ReLU),
		cbool(d.Inference))
	p.inference = d.Inference
	return b.finish(&p.plan, p, check(b, rc, "linear", d))
}

// finish registers a new plan, or frees it when creating it failed.
func (b *Backend) finish(p *plan, r *weightPlan, err error) (backend.WeightPlan, error) {
	if err != nil {
		r.free()
		return nil, err
	}
	p.self = r
	r.ops = [3]string{r.name + ".forward", r.name + ".backward_data", r.name + ".backward_filter"}
	b.track(r)
	return r, nil
}

func (p *weightPlan) Forward(x, w, bias, y backend.Tensor) error {
	op := p.ops[0]
	if err := p.check(op); err != nil {
		return err
	}
	xt, err := p.b.get(op, "x", x, p.xs)
	if err != nil {
		return err
	}
	wt, err := p.b.get(op, "w", w, p.ws)
	if err != nil {
		return err
	}
	bt, err := p.optional(op, "b", bias)
	if err != nil {
		return err
	}
	yt, err := p.b.get(op, "y", y, p.ys)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.WeightForward, xt, wt, arg(bt), yt); err != nil {
		return err
	}
	var rc C.int
	if p.conv != nil {
		rc = C.dno_conv_forward(p.b.c, p.conv, xt.t, wt.t, ptr(bt), yt.t)
	} else {
		rc = C.dno_linear_forward(p.b.c, p.lin, xt.t, wt.t, ptr(bt), yt.t)
	}
	return check(p.b, rc, op, p.desc)
}

func (p *weightPlan) BackwardData(dy, w, dx backend.Tensor) error {
	op := p.ops[1]
	if err := p.check(op); err != nil {
		return err
	}
	if err := backend.CheckTrainable(op, p.inference, p.desc); err != nil {
		return err
	}
	dyt, err := p.b.get(op, "dy", dy, p.ys)
	if err != nil {
		return err
	}
	wt, err := p.b.get(op, "w", w, p.ws)
	if err != nil {
		return err
	}
	dxt, err := p.b.get(op, "dx", dx, p.xs)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.WeightBackwardData, dyt, wt, dxt); err != nil {
		return err
	}
	var rc C.int
	if p.conv != nil {
		rc = C.dno_conv_backward_data(p.b.c, p.conv, dyt.t, wt.t, dxt.t)
	} else {
		rc = C.dno_linear_backward_data(p.b.c, p.lin, dyt.t, wt.t, dxt.t)
	}
	return check(p.b, rc, op, p.desc)
}

func (p *weightPlan) BackwardFilter(x, dy, dw, db backend.Tensor) error {
	op := p.ops[2]
	if err := p.check(op); err != nil {
		return err
	}
	if err := backend.CheckTrainable(op, p.inference, p.desc); err != nil {
		return err
	}
	xt, err := p.b.get(op, "x", x, p.xs)
	if err != nil {
		return err
	}
	dyt, err := p.b.get(op, "dy", dy, p.ys)
	if err != nil {
		return err
	}
	dwt, err := p.b.get(op, "dw", dw, p.ws)
	if err != nil {
		return err
	}
	dbt, err := p.optional(op, "db", db)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.WeightBackwardFilter, xt, dyt, dwt, arg(dbt)); err != nil {
		return err
	}
	var rc C.int
	if p.conv != nil {
		rc = C.dno_conv_backward_filter(p.b.c, p.conv, xt.t, dyt.t, dwt.t, ptr(dbt))
	} else {
		rc = C.dno_linear_backward_filter(p.b.c, p.lin, xt.t, dyt.t, dwt.t, ptr(dbt))
	}
	return check(p.b, rc, op, p.desc)
}

// optional resolves a bias argument, given exactly when the plan has a bias.
func (p *weightPlan) optional(op, arg string, t backend.Tensor) (*tensor, error) {
	if !p.bias {
		if t != nil {
			return nil, backend.Errorf(op, backend.ErrInvalid, "%s given but the plan has no bias", arg)
		}
		return nil, nil
	}
	return p.b.get(op, arg, t, p.bs)
}

// Impl names the oneDNN implementations a convolution plan runs
// ("jit:avx2" ...), for benchmarks and debugging; "" for other plans.
func Impl(p backend.WeightPlan) string {
	wp, ok := p.(*weightPlan)
	if !ok || wp.conv == nil || wp.closed {
		return ""
	}
	var buf [256]C.char
	C.dno_conv_impl(wp.conv, &buf[0], C.size_t(len(buf)))
	return C.GoString(&buf[0])
}

func cbool(v bool) C.int {
	if v {
		return 1
	}
	return 0
}

// ---- LRN and max pooling ----

// keyedPlan is LRN or max pooling: the shim's pair of forward and backward
// primitives made for the layout of the input, with the forward's
// workspace (the LRN scales, the max-pool argmax) kept for the backward.
type keyedPlan struct {
	plan
	ops    [2]string // "<op>.forward", "<op>.backward"
	desc   fmt.Stringer
	xs, ys backend.Shape
	lrn    *C.dno_lrn // exactly one of lrn and pool is set
	pool   *C.dno_pool
	calls  [2]backend.Call // the forward's and the backward's aliasing rules
	last   backend.LastForward
	// inference: the desc's Inference (forward_inference, no workspace, no
	// backward).
	inference bool
}

func (p *keyedPlan) free() {
	C.dno_lrn_destroy(p.lrn)
	C.dno_pool_destroy(p.pool)
	p.lrn, p.pool = nil, nil
	p.last.Forget()
}

func (b *Backend) newKeyed(name string, calls [2]backend.Call, desc fmt.Stringer, xs, ys backend.Shape, inference bool) *keyedPlan {
	p := &keyedPlan{plan: plan{b: b}, ops: [2]string{name + ".forward", name + ".backward"}, desc: desc,
		xs: xs.Clone(), ys: ys.Clone(), calls: calls, inference: inference}
	p.self = p
	return p
}

// LRN plans local response normalisation across channels with oneDNN's
// primitive, made for the layout of the first input it sees.
func (b *Backend) LRN(d backend.LRNDesc) (backend.LRNPlan, error) {
	if err := b.newPlan("lrn", d.Validate); err != nil {
		return nil, err
	}
	p := b.newKeyed("lrn", [2]backend.Call{backend.LRNForward, backend.LRNBackward}, d, d.Input, d.Input, d.Inference)
	// oneDNN's alpha is the frameworks' alpha (it divides by the size itself).
	rc := C.dno_lrn_create(b.c, &p.lrn, C.int64_t(d.Size), C.float(d.Alpha), C.float(d.Beta), C.float(d.K), cbool(d.Inference))
	if err := check(b, rc, "lrn", d); err != nil {
		return nil, err
	}
	b.track(p)
	return p, nil
}

// MaxPool plans max pooling with oneDNN's primitive, made for the layout
// of the first input it sees.
func (b *Backend) MaxPool(d backend.PoolDesc) (backend.PoolPlan, error) {
	if err := b.newPlan("maxpool2d", d.Validate); err != nil {
		return nil, err
	}
	p := b.newKeyed("maxpool2d", [2]backend.Call{backend.PoolForward, backend.PoolBackward}, d, d.Input, d.OutputShape(), d.Inference)
	x, y := dims(p.xs), dims(p.ys)
	rc := C.dno_pool_create(b.c, &p.pool, &x[0], &y[0], C.int64_t(d.KernelH), C.int64_t(d.KernelW),
		C.int64_t(d.StrideH), C.int64_t(d.StrideW), C.int64_t(d.PadH), C.int64_t(d.PadW), cbool(d.Inference))
	if err := check(b, rc, "maxpool2d", d); err != nil {
		return nil, err
	}
	b.track(p)
	return p, nil
}

func (p *keyedPlan) Forward(x, y backend.Tensor) error {
	op := p.ops[0]
	if err := p.check(op); err != nil {
		return err
	}
	xt, yt, err := p.b.pair(op, "x", x, p.xs, "y", y, p.ys)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, p.calls[0], xt, yt); err != nil {
		return err
	}
	// The workspace is overwritten from here: a failed forward leaves no
	// state for a backward to use.
	p.last.Forget()
	var rc C.int
	if p.lrn != nil {
		rc = C.dno_lrn_forward(p.b.c, p.lrn, xt.t, yt.t)
	} else {
		rc = C.dno_pool_forward(p.b.c, p.pool, xt.t, yt.t)
	}
	if err := check(p.b, rc, op, p.desc); err != nil {
		return err
	}
	p.last.Record(xt, yt)
	return nil
}

func (p *keyedPlan) Backward(x, y, dy, dx backend.Tensor) error {
	op := p.ops[1]
	if err := p.check(op); err != nil {
		return err
	}
	if err := backend.CheckTrainable(op, p.inference, p.desc); err != nil {
		return err
	}
	xt, yt, err := p.b.pair(op, "x", x, p.xs, "y", y, p.ys)
	if err != nil {
		return err
	}
	dyt, dxt, err := p.b.pair(op, "dy", dy, p.ys, "dx", dx, p.xs)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, p.calls[1], xt, yt, dyt, dxt); err != nil {
		return err
	}
	// The shim's backward uses the forward's workspace (the LRN scales, the
	// max-pool argmax): only the latest forward's x and y match it.
	if err := p.last.Check(op, xt, yt); err != nil {
		return err
	}
	var rc C.int
	if p.lrn != nil {
		rc = C.dno_lrn_backward(p.b.c, p.lrn, xt.t, dyt.t, dxt.t)
	} else {
		rc = C.dno_pool_backward(p.b.c, p.pool, dyt.t, dxt.t)
	}
	return check(p.b, rc, op, p.desc)
}

// pair resolves two tensor arguments (aliasing is the caller's check).
func (b *Backend) pair(op, in string, x backend.Tensor, xs backend.Shape, out string, y backend.Tensor, ys backend.Shape) (*tensor, *tensor, error) {
	xt, err := b.get(op, in, x, xs)
	if err != nil {
		return nil, nil, err
	}
	yt, err := b.get(op, out, y, ys)
	if err != nil {
		return nil, nil, err
	}
	return xt, yt, nil
}

// ---- element-wise steps written in the shim ----

// shapePlan is a plan over tensors of one shape with no C state.
type shapePlan struct {
	plan
	shape backend.Shape
	bytes int64 // Go memory reserved for the plan (a dropout mask)
}

func (p *shapePlan) free() {
	p.b.release(p.bytes)
	p.bytes = 0
}

func (b *Backend) newShapePlan(op string, s backend.Shape, validate func() error) (*shapePlan, error) {
	if err := b.newPlan(op, validate); err != nil {
		return nil, err
	}
	p := &shapePlan{plan: plan{b: b}, shape: s.Clone()}
	p.self = p
	return p, nil
}

type reluPlan struct{ *shapePlan }

// ReLU plans max(x, 0), in any layout.
func (b *Backend) ReLU(s backend.Shape) (backend.ReLUPlan, error) {
	p, err := b.newShapePlan("relu", s, func() error { return validShape("relu", s) })
	if err != nil {
		return nil, err
	}
	return reluPlan{p}, nil
}

func validShape(op string, s backend.Shape) error {
	if err := s.Validate(); err != nil {
		return backend.Errorf(op, backend.ErrShape, "shape %v, want 1 to %d dimensions, each ≥ 1", s, backend.MaxRank)
	}
	return nil
}

func (p reluPlan) Forward(x, y backend.Tensor) error {
	const op = "relu.forward"
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
	if err := backend.CheckAliases(op, backend.ReLUForward, xt, yt); err != nil {
		return err
	}
	return check(p.b, C.dno_relu_forward(p.b.c, xt.t, yt.t), op, p.shape)
}

func (p reluPlan) Backward(y, dy, dx backend.Tensor) error {
	const op = "relu.backward"
	if err := p.check(op); err != nil {
		return err
	}
	yt, err := p.b.get(op, "y", y, p.shape)
	if err != nil {
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
	if err := backend.CheckAliases(op, backend.ReLUBackward, yt, dyt, dxt); err != nil {
		return err
	}
	return check(p.b, C.dno_relu_backward(p.b.c, yt.t, dyt.t, dxt.t), op, p.shape)
}

type biasPlan struct {
	*shapePlan
	bs backend.Shape
}

// BiasAdd plans a per-channel bias addition.
func (b *Backend) BiasAdd(d backend.BiasDesc) (backend.BiasPlan, error) {
	p, err := b.newShapePlan("bias", d.Shape, d.Validate)
	if err != nil {
		return nil, err
	}
	return biasPlan{p, backend.Shape{d.Shape[1]}}, nil
}

func (p biasPlan) Forward(x, bias, y backend.Tensor) error {
	const op = "bias.forward"
	if err := p.check(op); err != nil {
		return err
	}
	xt, err := p.b.get(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	bt, err := p.b.get(op, "b", bias, p.bs)
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
	return check(p.b, C.dno_bias_forward(p.b.c, xt.t, bt.t, yt.t), op, p.shape)
}

func (p biasPlan) Backward(dy, db backend.Tensor) error {
	const op = "bias.backward"
	if err := p.check(op); err != nil {
		return err
	}
	dyt, err := p.b.get(op, "dy", dy, p.shape)
	if err != nil {
		return err
	}
	dbt, err := p.b.get(op, "db", db, p.bs)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.BiasBackward, dyt, dbt); err != nil {
		return err
	}
	return check(p.b, C.dno_bias_backward(p.b.c, dyt.t, dbt.t), op, p.shape)
}

// dropoutPlan keeps its mask (one byte per element) in Go memory that the
// shim writes and reads during the call.
type dropoutPlan struct {
	*shapePlan
	d         backend.DropoutDesc
	mask      []uint8
	scale     float32
	threshold uint32
	forward   bool
}

// Dropout plans inverted dropout with the contract's counter-based mask.
func (b *Backend) Dropout(d backend.DropoutDesc) (backend.DropoutPlan, error) {
	p, err := b.newShapePlan("dropout", d.Shape, d.Validate)
	if err != nil {
		return nil, err
	}
	if err := b.reserve("dropout", "the mask of "+d.Shape.String(), int64(d.Shape.Numel())); err != nil {
		return nil, err
	}
	p.bytes = int64(d.Shape.Numel())
	return &dropoutPlan{shapePlan: p, d: d, mask: make([]uint8, d.Shape.Numel()),
		scale: float32(1 / (1 - d.P)), threshold: backend.DropoutThreshold(d.P)}, nil
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
	rc := C.dno_dropout_forward(p.b.c, xt.t, yt.t, (*C.uint8_t)(unsafe.Pointer(&p.mask[0])), C.uint64_t(seed),
		C.uint32_t(p.threshold), C.float(p.scale))
	if err := check(p.b, rc, op, p.shape); err != nil {
		return err
	}
	p.forward = true
	return nil
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
	if !p.forward {
		return backend.Errorf(op, backend.ErrState, "backward before any forward (dropout over %v)", p.shape)
	}
	rc := C.dno_dropout_backward(p.b.c, dyt.t, dxt.t, (*C.uint8_t)(unsafe.Pointer(&p.mask[0])), C.float(p.scale))
	return check(p.b, rc, op, p.shape)
}

type lossPlan struct{ *shapePlan }

var scalarShape = backend.Shape{1}

// SoftmaxCrossEntropy plans softmax with mean cross-entropy (in the shim,
// in float64 accumulation; the logits are tiny next to the network).
func (b *Backend) SoftmaxCrossEntropy(d backend.SoftmaxDesc) (backend.LossPlan, error) {
	p, err := b.newShapePlan("softmax_cross_entropy", d.Logits, d.Validate)
	if err != nil {
		return nil, err
	}
	return lossPlan{p}, nil
}

func (p lossPlan) Forward(logits backend.Tensor, labels []int32, loss, dlogits backend.Tensor) error {
	const op = "softmax_cross_entropy.forward"
	if err := p.check(op); err != nil {
		return err
	}
	lt, err := p.b.get(op, "logits", logits, p.shape)
	if err != nil {
		return err
	}
	if err := (backend.SoftmaxDesc{Logits: p.shape}).CheckLabels(op, labels); err != nil {
		return err
	}
	losst, err := p.b.get(op, "loss", loss, scalarShape)
	if err != nil {
		return err
	}
	var gt *tensor
	if dlogits != nil {
		if gt, err = p.b.get(op, "dlogits", dlogits, p.shape); err != nil {
			return err
		}
	}
	if err := backend.CheckAliases(op, backend.LossForward, lt, losst, arg(gt)); err != nil {
		return err
	}
	rc := C.dno_softmax_xent(p.b.c, lt.t, (*C.int32_t)(unsafe.Pointer(&labels[0])), losst.t, ptr(gt))
	return check(p.b, rc, op, p.shape)
}

func (p lossPlan) Softmax(logits, probs backend.Tensor) error {
	const op = "softmax_cross_entropy.softmax"
	if err := p.check(op); err != nil {
		return err
	}
	lt, pt, err := p.b.pair(op, "logits", logits, p.shape, "probs", probs, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.LossSoftmax, lt, pt); err != nil {
		return err
	}
	return check(p.b, C.dno_softmax(p.b.c, lt.t, pt.t), op, p.shape)
}

type sgdPlan struct{ *shapePlan }

// SGD plans the momentum SGD update, element-wise in the parameter's
// (possibly blocked) layout.
func (b *Backend) SGD(s backend.Shape) (backend.SGDPlan, error) {
	p, err := b.newShapePlan("sgd", s, func() error { return validShape("sgd", s) })
	if err != nil {
		return nil, err
	}
	return sgdPlan{p}, nil
}

func (p sgdPlan) Step(param, grad, velocity backend.Tensor, hp backend.SGDParams) error {
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
	rc := C.dno_sgd(p.b.c, wt.t, gt.t, vt.t, C.float(hp.LR), C.float(hp.Momentum), C.float(hp.WeightDecay), C.int(hp.Rule))
	return check(p.b, rc, op, p.shape)
}
