//go:build cudnn

// ReLU: cudnnActivationForward/Backward.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// ReLU plans cudnnActivationForward/Backward over the tensor as a flat
// 1×n×1×1 array.
func (b *engine) ReLU(s backend.Shape) (driver.ReLUPlan[*tensor], error) {
	const op = "relu"
	p := &reluPlan{}
	p.ds.c = b.c
	p.plan = b.newPlan(p.ds.free)
	var err error
	if p.d, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, flat(s.Numel())); err != nil {
		p.ds.free()
		return nil, initErr(err)
	}
	p.register()
	return p, nil
}

type reluPlan struct {
	plan
	ds descs
	d  C.dn_cudnnTensorDescriptor_t
}

func (p *reluPlan) Forward(x, y *tensor) error {
	const op = "relu.forward"
	b := p.b
	xp, err := b.readFloat(op, x)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_relu_fwd(b.c, p.d, xp, b.writeFloat(y)), op)
}

func (p *reluPlan) Backward(y, dy, dx *tensor) error {
	const op = "relu.backward"
	b := p.b
	yp, err := b.readFloat(op, y)
	if err != nil {
		return err
	}
	dyp, err := b.readFloat(op, dy)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_relu_bwd(b.c, p.d, yp, dyp, b.writeFloat(dx)), op)
}
