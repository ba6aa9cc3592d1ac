//go:build cudnn

// Max pooling: cudnnPoolingForward/Backward.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// MaxPool plans cudnnPoolingForward/Backward in CUDNN_POOLING_MAX_DETERMINISTIC
// mode. cuDNN keeps no argmax: the backward recomputes it from x and y.
// Which of exactly tied inputs receives the gradient is cuDNN's choice
// (undocumented); the contract asks for the first in row-major order.
func (b *engine) MaxPool(d backend.PoolDesc) (driver.PoolPlan[*tensor], error) {
	const op = "maxpool2d"
	p := &poolPlan{}
	p.ds.c = b.c
	p.plan = b.newPlan(p.ds.free)
	if err := p.init(b, op, d); err != nil {
		p.ds.free()
		return nil, initErr(err)
	}
	p.register()
	return p, nil
}

type poolPlan struct {
	plan
	ds     descs
	xd, yd C.dn_cudnnTensorDescriptor_t
	pd     C.dn_cudnnPoolingDescriptor_t
}

func (p *poolPlan) init(b *engine, op string, d backend.PoolDesc) error {
	out := d.OutputShape()
	var err error
	if p.xd, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, dims4(d.Input)); err != nil {
		return err
	}
	if p.yd, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, dims4(out)); err != nil {
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
	if got != dims4(out) {
		return driver.Errorf(op, backend.ErrUnsupported, "%s: cuDNN computes output %v, the contract %v", d, got, out)
	}
	return nil
}

func (p *poolPlan) Forward(x, y *tensor) error {
	const op = "maxpool2d.forward"
	b := p.b
	xp, err := b.readFloat(op, x)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_pool_fwd(b.c, p.pd, p.xd, xp, p.yd, b.writeFloat(y)), op)
}

func (p *poolPlan) Backward(x, y, dy, dx *tensor) error {
	const op = "maxpool2d.backward"
	b := p.b
	xp, err := b.readFloat(op, x)
	if err != nil {
		return err
	}
	yp, err := b.readFloat(op, y)
	if err != nil {
		return err
	}
	dyp, err := b.readFloat(op, dy)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_pool_bwd(b.c, p.pd, p.xd, xp, p.yd, yp, dyp, b.writeFloat(dx)), op)
}
