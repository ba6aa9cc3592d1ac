//go:build cudnn

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
)

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
	xp, err := b.readFloat(op, xt)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_relu_fwd(b.c, p.d, xp, b.writeFloat(yt)), op)
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
	yp, err := b.readFloat(op, yt)
	if err != nil {
		return err
	}
	dyp, err := b.readFloat(op, dyt)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_relu_bwd(b.c, p.d, yp, dyp, b.writeFloat(dxt)), op)
}
