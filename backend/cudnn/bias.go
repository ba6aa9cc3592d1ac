//go:build cudnn

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
)

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
	xp, err := b.readFloat(op, xt)
	if err != nil {
		return err
	}
	bp, err := b.readFloat(op, bt)
	if err != nil {
		return err
	}
	yp := b.writeFloat(yt)
	if xt != yt {
		if err := b.statusErr(C.dn_copy(b.c, yp, xp, C.size_t(4*xt.n)), op); err != nil {
			return err
		}
	}
	return b.statusErr(C.dn_add_bias(b.c, p.bd, bp, p.xd, yp), op)
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
	dyp, err := b.readFloat(op, dyt)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_bias_grad(b.c, p.xd, dyp, p.bd, b.writeFloat(dbt)), op)
}
