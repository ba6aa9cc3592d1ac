//go:build cudnn

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
)

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
	if err := b.statusErr(C.dn_pool_desc(b.c, &p.pd, C.int(d.KernelH), C.int(d.KernelW), C.int(d.PadH), C.int(d.PadW),
		C.int(d.StrideH), C.int(d.StrideW)), op); err != nil {
		return err
	}
	p.ds.pools = append(p.ds.pools, p.pd)
	var got [4]C.int
	if err := b.statusErr(C.dn_pool_out_dim(b.c, p.pd, p.xd, &got[0]), op); err != nil {
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
	xp, err := b.readFloat(op, xt)
	if err != nil {
		return err
	}
	p.last.Forget()
	if err := b.statusErr(C.dn_pool_fwd(b.c, p.pd, p.xd, xp, p.yd, b.writeFloat(yt)), op); err != nil {
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
	xp, err := b.readFloat(op, xt)
	if err != nil {
		return err
	}
	yp, err := b.readFloat(op, yt)
	if err != nil {
		return err
	}
	dyp, err := b.readFloat(op, dyt)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_pool_bwd(b.c, p.pd, p.xd, xp, p.yd, yp, dyp, b.writeFloat(dxt)), op)
}
