//go:build cudnn

// Per-channel bias add: cudnnAddTensor, and its gradient
// cudnnConvolutionBackwardBias.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// BiasAdd plans y = x + b per channel with cudnnAddTensor; the gradient is
// cudnnConvolutionBackwardBias.
func (b *engine) BiasAdd(d backend.BiasDesc) (driver.BiasPlan[*tensor], error) {
	const op = "bias"
	p := &biasPlan{}
	p.ds.c = b.c
	p.plan = b.newPlan(p.ds.free)
	var err error
	if p.xd, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, dims4(d.Shape)); err == nil {
		p.bd, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, [4]C.int{1, C.int(d.Shape[1]), 1, 1})
	}
	if err != nil {
		p.ds.free()
		return nil, initErr(err)
	}
	p.register()
	return p, nil
}

type biasPlan struct {
	plan
	ds     descs
	xd, bd C.dn_cudnnTensorDescriptor_t
}

// Forward copies x into y unless they are the same tensor, then adds the
// bias in place on y.
func (p *biasPlan) Forward(x, bias, y *tensor) error {
	const op = "bias.forward"
	b := p.b
	xp, err := b.readFloat(op, x)
	if err != nil {
		return err
	}
	bp, err := b.readFloat(op, bias)
	if err != nil {
		return err
	}
	yp := b.writeFloat(y)
	if x != y {
		if err := b.statusErr(C.dn_copy(b.c, yp, xp, C.size_t(4*x.n)), op); err != nil {
			return err
		}
	}
	return b.statusErr(C.dn_add_bias(b.c, p.bd, bp, p.xd, yp), op)
}

func (p *biasPlan) Backward(dy, db *tensor) error {
	const op = "bias.backward"
	b := p.b
	dyp, err := b.readFloat(op, dy)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_bias_grad(b.c, p.xd, dyp, p.bd, b.writeFloat(db)), op)
}
