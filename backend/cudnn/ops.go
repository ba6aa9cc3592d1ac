//go:build cudnn

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
)

// ---- bias ----

// BiasAdd plans y = x + b per channel with cudnnAddTensor; the gradient is
// cudnnConvolutionBackwardBias.
func (b *Backend) BiasAdd(d backend.BiasDesc) (backend.BiasPlan, error) {
	const op = "bias"
	if err := b.checkOpen(op); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	p := &biasPlan{shape: d.Shape.Clone(), bshape: backend.Shape{d.Shape[1]}}
	p.ds.c = b.c
	p.plan = b.newPlan(p.ds.free)
	var err error
	if p.xd, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, dims4(p.shape)); err == nil {
		p.bd, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, [4]C.int{1, C.int(d.Shape[1]), 1, 1})
	}
	if err != nil {
		p.ds.free()
		return nil, initErr(op, err)
	}
	p.register()
	return p, nil
}

type biasPlan struct {
	plan
	shape, bshape backend.Shape
	ds            descs
	xd, bd        C.dn_cudnnTensorDescriptor_t
}

func (p *biasPlan) Forward(x, bias, y backend.Tensor) error {
	const op = "bias.forward"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	xt, err := b.get(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	bt, err := b.get(op, "b", bias, p.bshape)
	if err != nil {
		return err
	}
	yt, err := b.get(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.BiasForward, xt, bt, yt); err != nil {
		return err
	}
	xp, err := b.rd(op, xt)
	if err != nil {
		return err
	}
	bp, err := b.rd(op, bt)
	if err != nil {
		return err
	}
	yp := b.wr(yt)
	if xt != yt {
		if err := b.ok(C.dn_copy(b.c, yp, xp, C.size_t(4*xt.n)), op); err != nil {
			return err
		}
	}
	return b.ok(C.dn_add_bias(b.c, p.bd, bp, p.xd, yp), op)
}

func (p *biasPlan) Backward(dy, db backend.Tensor) error {
	const op = "bias.backward"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	dyt, err := b.get(op, "dy", dy, p.shape)
	if err != nil {
		return err
	}
	dbt, err := b.get(op, "db", db, p.bshape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.BiasBackward, dyt, dbt); err != nil {
		return err
	}
	dyp, err := b.rd(op, dyt)
	if err != nil {
		return err
	}
	return b.ok(C.dn_bias_grad(b.c, p.xd, dyp, p.bd, b.wr(dbt)), op)
}

// ---- ReLU ----

// ReLU plans cudnnActivationForward/Backward over the tensor as a flat
// 1×n×1×1 array.
func (b *Backend) ReLU(s backend.Shape) (backend.ReLUPlan, error) {
	const op = "relu"
	if err := b.checkOpen(op); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, backend.Errorf(op, backend.ErrShape, "shape %v, want 1 to %d dimensions, each ≥ 1", s, backend.MaxRank)
	}
	p := &reluPlan{shape: s.Clone()}
	p.ds.c = b.c
	p.plan = b.newPlan(p.ds.free)
	var err error
	if p.d, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, flat(s.Numel())); err != nil {
		p.ds.free()
		return nil, initErr(op, err)
	}
	p.register()
	return p, nil
}

type reluPlan struct {
	plan
	shape backend.Shape
	ds    descs
	d     C.dn_cudnnTensorDescriptor_t
}

func (p *reluPlan) Forward(x, y backend.Tensor) error {
	const op = "relu.forward"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	xt, err := b.get(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	yt, err := b.get(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.ReLUForward, xt, yt); err != nil {
		return err
	}
	xp, err := b.rd(op, xt)
	if err != nil {
		return err
	}
	return b.ok(C.dn_relu_fwd(b.c, p.d, xp, b.wr(yt)), op)
}

func (p *reluPlan) Backward(y, dy, dx backend.Tensor) error {
	const op = "relu.backward"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	yt, err := b.get(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	dyt, err := b.get(op, "dy", dy, p.shape)
	if err != nil {
		return err
	}
	dxt, err := b.get(op, "dx", dx, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.ReLUBackward, yt, dyt, dxt); err != nil {
		return err
	}
	yp, err := b.rd(op, yt)
	if err != nil {
		return err
	}
	dyp, err := b.rd(op, dyt)
	if err != nil {
		return err
	}
	return b.ok(C.dn_relu_bwd(b.c, p.d, yp, dyp, b.wr(dxt)), op)
}

// ---- LRN ----

// LRN plans cudnnLRNCrossChannelForward/Backward. cuDNN's LRN takes the
// frameworks' convention (α divided by the window) and limits the window
// to 1..16 channels, k ≥ 1e-5 and β ≥ 0.01: descriptions outside those
// limits are rejected with ErrInvalid.
func (b *Backend) LRN(d backend.LRNDesc) (backend.LRNPlan, error) {
	const op = "lrn"
	if err := b.checkOpen(op); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	switch {
	case d.Size > C.DN_CUDNN_LRN_MAX_N:
		return nil, backend.Errorf(op, backend.ErrInvalid, "%s: cuDNN's LRN window is at most %d channels", d, C.DN_CUDNN_LRN_MAX_N)
	case d.K < C.DN_CUDNN_LRN_MIN_K:
		return nil, backend.Errorf(op, backend.ErrInvalid, "%s: cuDNN's LRN needs k ≥ %g", d, C.DN_CUDNN_LRN_MIN_K)
	case d.Beta < C.DN_CUDNN_LRN_MIN_BETA:
		return nil, backend.Errorf(op, backend.ErrInvalid, "%s: cuDNN's LRN needs beta ≥ %g", d, C.DN_CUDNN_LRN_MIN_BETA)
	}
	p := &lrnPlan{shape: d.Input.Clone(), desc: d}
	p.ds.c = b.c
	p.plan = b.newPlan(p.ds.free)
	var err error
	if p.d, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, dims4(p.shape)); err == nil {
		err = b.ok(C.dn_lrn_desc(b.c, &p.ld, C.unsigned(d.Size), C.double(d.Alpha), C.double(d.Beta), C.double(d.K)), op)
		if err == nil {
			p.ds.lrns = append(p.ds.lrns, p.ld)
		}
	}
	if err != nil {
		p.ds.free()
		return nil, initErr(op, err)
	}
	p.register()
	return p, nil
}

type lrnPlan struct {
	plan
	shape backend.Shape
	ds    descs
	d     C.dn_cudnnTensorDescriptor_t
	ld    C.dn_cudnnLRNDescriptor_t
	desc  backend.LRNDesc
	last  backend.LastForward // cuDNN recomputes from x and y; the contract asks for the latest forward's
}

func (p *lrnPlan) Forward(x, y backend.Tensor) error {
	const op = "lrn.forward"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	xt, err := b.get(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	yt, err := b.get(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.LRNForward, xt, yt); err != nil {
		return err
	}
	xp, err := b.rd(op, xt)
	if err != nil {
		return err
	}
	p.last.Forget()
	if err := b.ok(C.dn_lrn_fwd(b.c, p.ld, p.d, xp, b.wr(yt)), op); err != nil {
		return err
	}
	p.last.Record(xt, yt)
	return nil
}

func (p *lrnPlan) Backward(x, y, dy, dx backend.Tensor) error {
	const op = "lrn.backward"
	if err := p.check(op); err != nil {
		return err
	}
	if err := backend.CheckTrainable(op, p.desc.Inference, p.desc); err != nil {
		return err
	}
	b := p.b
	var ts [4]*tensor
	for i, a := range []struct {
		name string
		t    backend.Tensor
	}{{"x", x}, {"y", y}, {"dy", dy}, {"dx", dx}} {
		t, err := b.get(op, a.name, a.t, p.shape)
		if err != nil {
			return err
		}
		ts[i] = t
	}
	if err := backend.CheckAliases(op, backend.LRNBackward, ts[0], ts[1], ts[2], ts[3]); err != nil {
		return err
	}
	if err := p.last.Check(op, ts[0], ts[1]); err != nil {
		return err
	}
	var ps [3]C.dn_dptr
	for i := range ps {
		v, err := b.rd(op, ts[i])
		if err != nil {
			return err
		}
		ps[i] = v
	}
	return b.ok(C.dn_lrn_bwd(b.c, p.ld, p.d, ps[0], ps[1], ps[2], b.wr(ts[3])), op)
}

// ---- max pooling ----

// MaxPool plans cudnnPoolingForward/Backward in CUDNN_POOLING_MAX_DETERMINISTIC
// mode. cuDNN keeps no argmax: the backward recomputes it from x and y.
// Which of exactly tied inputs receives the gradient is cuDNN's choice
// (undocumented); the contract asks for the first in row-major order.
func (b *Backend) MaxPool(d backend.PoolDesc) (backend.PoolPlan, error) {
	const op = "maxpool2d"
	if err := b.checkOpen(op); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	p := &poolPlan{in: d.Input.Clone(), out: d.OutputShape(), desc: d}
	p.ds.c = b.c
	p.plan = b.newPlan(p.ds.free)
	if err := p.init(b, op, d); err != nil {
		p.ds.free()
		return nil, initErr(op, err)
	}
	p.register()
	return p, nil
}

type poolPlan struct {
	plan
	in, out backend.Shape
	ds      descs
	xd, yd  C.dn_cudnnTensorDescriptor_t
	pd      C.dn_cudnnPoolingDescriptor_t
	desc    backend.PoolDesc
	last    backend.LastForward // cuDNN recomputes the argmax from x and y; the contract asks for the latest forward's
}

func (p *poolPlan) init(b *Backend, op string, d backend.PoolDesc) error {
	var err error
	if p.xd, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, dims4(p.in)); err != nil {
		return err
	}
	if p.yd, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, dims4(p.out)); err != nil {
		return err
	}
	if err := b.ok(C.dn_pool_desc(b.c, &p.pd, C.int(d.KernelH), C.int(d.KernelW), C.int(d.PadH), C.int(d.PadW),
		C.int(d.StrideH), C.int(d.StrideW)), op); err != nil {
		return err
	}
	p.ds.pools = append(p.ds.pools, p.pd)
	var got [4]C.int
	if err := b.ok(C.dn_pool_out_dim(b.c, p.pd, p.xd, &got[0]), op); err != nil {
		return err
	}
	if got != dims4(p.out) {
		return backend.Errorf(op, backend.ErrInvalid, "%s: cuDNN computes output %v, the contract %v", d, got, p.out)
	}
	return nil
}

func (p *poolPlan) Forward(x, y backend.Tensor) error {
	const op = "maxpool2d.forward"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	xt, err := b.get(op, "x", x, p.in)
	if err != nil {
		return err
	}
	yt, err := b.get(op, "y", y, p.out)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.PoolForward, xt, yt); err != nil {
		return err
	}
	xp, err := b.rd(op, xt)
	if err != nil {
		return err
	}
	p.last.Forget()
	if err := b.ok(C.dn_pool_fwd(b.c, p.pd, p.xd, xp, p.yd, b.wr(yt)), op); err != nil {
		return err
	}
	p.last.Record(xt, yt)
	return nil
}

func (p *poolPlan) Backward(x, y, dy, dx backend.Tensor) error {
	const op = "maxpool2d.backward"
	if err := p.check(op); err != nil {
		return err
	}
	if err := backend.CheckTrainable(op, p.desc.Inference, p.desc); err != nil {
		return err
	}
	b := p.b
	xt, err := b.get(op, "x", x, p.in)
	if err != nil {
		return err
	}
	yt, err := b.get(op, "y", y, p.out)
	if err != nil {
		return err
	}
	dyt, err := b.get(op, "dy", dy, p.out)
	if err != nil {
		return err
	}
	dxt, err := b.get(op, "dx", dx, p.in)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.PoolBackward, xt, yt, dyt, dxt); err != nil {
		return err
	}
	if err := p.last.Check(op, xt, yt); err != nil {
		return err
	}
	xp, err := b.rd(op, xt)
	if err != nil {
		return err
	}
	yp, err := b.rd(op, yt)
	if err != nil {
		return err
	}
	dyp, err := b.rd(op, dyt)
	if err != nil {
		return err
	}
	return b.ok(C.dn_pool_bwd(b.c, p.pd, p.xd, xp, p.yd, yp, dyp, b.wr(dxt)), op)
}

// ---- dropout ----

// Dropout plans inverted dropout. The mask is drawn on the host with
// backend.DropoutBits, exactly as on every other backend, as float32
// factors (0 or 1/(1−p)) in a pinned buffer, uploaded asynchronously, and
// applied with cublasSdgmm (y = diag(mask)·x): no custom kernel, and the
// same seed gives the same mask as the cpu backend.
func (b *Backend) Dropout(d backend.DropoutDesc) (backend.DropoutPlan, error) {
	const op = "dropout"
	if err := b.checkOpen(op); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	n := d.Shape.Numel()
	p := &dropoutPlan{shape: d.Shape.Clone(), n: n, scale: float32(1 / (1 - d.P)), threshold: backend.DropoutThreshold(d.P)}
	p.plan = b.newPlan(p.free)
	var err error
	if p.mask, p.cls, err = b.alloc(uint64(4 * n)); err != nil {
		return nil, err
	}
	if p.host, err = b.newPinned(op, n); err != nil {
		b.release(p.mask, p.cls)
		return nil, err
	}
	p.register()
	return p, nil
}

type dropoutPlan struct {
	plan
	shape     backend.Shape
	n         int
	scale     float32
	threshold uint32
	mask      C.dn_dptr
	cls       uint64
	host      *pinned
	haveMask  bool
}

func (p *dropoutPlan) free() {
	p.b.freePinned(p.host)
	p.b.release(p.mask, p.cls)
	p.mask = 0
}

func (p *dropoutPlan) Forward(x, y backend.Tensor, seed uint64) error {
	const op = "dropout.forward"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	xt, err := b.get(op, "x", x, p.shape)
	if err != nil {
		return err
	}
	yt, err := b.get(op, "y", y, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.DropoutForward, xt, yt); err != nil {
		return err
	}
	xp, err := b.rd(op, xt)
	if err != nil {
		return err
	}
	m, err := b.floats(op, p.host)
	if err != nil {
		return err
	}
	for i := range m {
		if backend.DropoutBits(seed, i) >= p.threshold {
			m[i] = p.scale
		} else {
			m[i] = 0
		}
	}
	if err := b.send(op, p.host, p.mask); err != nil {
		return err
	}
	if err := b.ok(C.dn_dgmm(b.c, C.int(p.n), xp, p.mask, b.wr(yt)), op); err != nil {
		return err
	}
	p.haveMask = true
	return nil
}

func (p *dropoutPlan) Backward(dy, dx backend.Tensor) error {
	const op = "dropout.backward"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	dyt, err := b.get(op, "dy", dy, p.shape)
	if err != nil {
		return err
	}
	dxt, err := b.get(op, "dx", dx, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.DropoutBackward, dyt, dxt); err != nil {
		return err
	}
	if !p.haveMask {
		return backend.Errorf(op, backend.ErrState, "backward before any forward: there is no mask yet")
	}
	dyp, err := b.rd(op, dyt)
	if err != nil {
		return err
	}
	return b.ok(C.dn_dgmm(b.c, C.int(p.n), dyp, p.mask, b.wr(dxt)), op)
}

// ---- softmax with cross-entropy ----

// SoftmaxCrossEntropy plans the loss without a custom kernel: cuDNN's
// log-softmax, a one-hot matrix built on the host holding −1/N at each
// row's label (pinned, uploaded asynchronously, only the changed entries
// rewritten), the loss as their cuBLAS dot product written straight into
// the loss tensor, and dlogits = softmax/N + onehot with cublasSgeam.
func (b *Backend) SoftmaxCrossEntropy(d backend.SoftmaxDesc) (backend.LossPlan, error) {
	const op = "softmax_cross_entropy"
	if err := b.checkOpen(op); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	n, k := d.Logits[0], d.Logits[1]
	p := &lossPlan{shape: d.Logits.Clone(), n: n, k: k, prev: make([]int32, n)}
	p.ds.c = b.c
	p.plan = b.newPlan(p.free)
	if err := p.init(b, op); err != nil {
		p.free()
		return nil, initErr(op, err)
	}
	p.register()
	return p, nil
}

type lossPlan struct {
	plan
	shape        backend.Shape
	n, k         int
	ds           descs
	d            C.dn_cudnnTensorDescriptor_t
	logp, onehot C.dn_dptr
	lc, oc       uint64
	host         *pinned
	prev         []int32 // the labels the host one-hot holds
	fresh        bool    // the host one-hot is all zero
}

func (p *lossPlan) init(b *Backend, op string) error {
	var err error
	if p.d, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, [4]C.int{C.int(p.n), C.int(p.k), 1, 1}); err != nil {
		return err
	}
	nk := uint64(4 * p.n * p.k)
	if p.logp, p.lc, err = b.alloc(nk); err != nil {
		return err
	}
	if p.onehot, p.oc, err = b.alloc(nk); err != nil {
		return err
	}
	if p.host, err = b.newPinned(op, p.n*p.k); err != nil {
		return err
	}
	m, err := b.floats(op, p.host)
	if err != nil {
		return err
	}
	clear(m)
	p.fresh = true
	return nil
}

func (p *lossPlan) free() {
	p.ds.free()
	p.b.freePinned(p.host)
	p.b.release(p.logp, p.lc)
	p.b.release(p.onehot, p.oc)
	p.logp, p.onehot = 0, 0
}

var scalarShape = backend.Shape{1}

func (p *lossPlan) Forward(logits backend.Tensor, labels []int32, loss, dlogits backend.Tensor) error {
	const op = "softmax_cross_entropy.forward"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	lt, err := b.get(op, "logits", logits, p.shape)
	if err != nil {
		return err
	}
	if err := (backend.SoftmaxDesc{Logits: p.shape}).CheckLabels(op, labels); err != nil {
		return err
	}
	losst, err := b.get(op, "loss", loss, scalarShape)
	if err != nil {
		return err
	}
	var gt *tensor
	if dlogits != nil {
		if gt, err = b.get(op, "dlogits", dlogits, p.shape); err != nil {
			return err
		}
	}
	if err := backend.CheckAliases(op, backend.LossForward, lt, losst, arg(gt)); err != nil {
		return err
	}
	var gp C.dn_dptr
	if gt != nil {
		gp = b.wr(gt)
	}
	lp, err := b.rd(op, lt)
	if err != nil {
		return err
	}
	m, err := b.floats(op, p.host)
	if err != nil {
		return err
	}
	v := float32(-1 / float64(p.n))
	for r, l := range labels {
		if !p.fresh {
			m[r*p.k+int(p.prev[r])] = 0
		}
		m[r*p.k+int(l)] = v
		p.prev[r] = l
	}
	p.fresh = false
	if err := b.send(op, p.host, p.onehot); err != nil {
		return err
	}
	return b.ok(C.dn_xent(b.c, p.d, C.int(p.n), C.int(p.k), lp, p.logp, p.onehot, b.wr(losst), gp), op)
}

func (p *lossPlan) Softmax(logits, probs backend.Tensor) error {
	const op = "softmax_cross_entropy.softmax"
	if err := p.check(op); err != nil {
		return err
	}
	b := p.b
	lt, err := b.get(op, "logits", logits, p.shape)
	if err != nil {
		return err
	}
	pt, err := b.get(op, "probs", probs, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.LossSoftmax, lt, pt); err != nil {
		return err
	}
	lp, err := b.rd(op, lt)
	if err != nil {
		return err
	}
	return b.ok(C.dn_softmax(b.c, C.DN_CUDNN_SOFTMAX_ACCURATE, p.d, lp, b.wr(pt)), op)
}

// ---- SGD ----

// SGD plans the momentum update with cuBLAS (geam and two axpys, see
// dn_sgd in shim.c) on float32 parameters, gradients and velocities.
func (b *Backend) SGD(s backend.Shape) (backend.SGDPlan, error) {
	const op = "sgd"
	if err := b.checkOpen(op); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, backend.Errorf(op, backend.ErrShape, "shape %v, want 1 to %d dimensions, each ≥ 1", s, backend.MaxRank)
	}
	p := &sgdPlan{shape: s.Clone()}
	p.plan = b.newPlan(func() {})
	p.register()
	return p, nil
}

type sgdPlan struct {
	plan
	shape backend.Shape
}

func (p *sgdPlan) Step(param, grad, velocity backend.Tensor, hp backend.SGDParams) error {
	const op = "sgd.step"
	if err := p.check(op); err != nil {
		return err
	}
	if err := hp.Validate(); err != nil {
		return err
	}
	b := p.b
	wt, err := b.get(op, "param", param, p.shape)
	if err != nil {
		return err
	}
	gt, err := b.get(op, "grad", grad, p.shape)
	if err != nil {
		return err
	}
	vt, err := b.get(op, "velocity", velocity, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.SGDStep, wt, gt, vt); err != nil {
		return err
	}
	gp, err := b.rd(op, gt)
	if err != nil {
		return err
	}
	wp, err := b.rd(op, wt)
	if err != nil {
		return err
	}
	vp, err := b.rd(op, vt)
	if err != nil {
		return err
	}
	b.wr(wt)
	b.wr(vt)
	paper := C.int(0)
	switch hp.Rule {
	case backend.PaperSGD:
		paper = 1
	case backend.PyTorchSGD:
	default:
		return backend.Errorf(op, backend.ErrInvalid, "unknown rule %v", hp.Rule)
	}
	return b.ok(C.dn_sgd(b.c, C.int(wt.n), paper, C.float(hp.LR), C.float(hp.Momentum), C.float(hp.WeightDecay), wp, gp, vp), op)
}
