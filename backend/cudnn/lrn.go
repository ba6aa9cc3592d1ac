//go:build cudnn

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
)

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
		err = b.statusErr(C.dn_lrn_desc(b.c, &p.ld, C.unsigned(d.Size), C.double(d.Alpha), C.double(d.Beta), C.double(d.K)), op)
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
	xp, err := b.readFloat(op, xt)
	if err != nil {
		return err
	}
	p.last.Forget()
	if err := b.statusErr(C.dn_lrn_fwd(b.c, p.ld, p.d, xp, b.writeFloat(yt)), op); err != nil {
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
		v, err := b.readFloat(op, ts[i])
		if err != nil {
			return err
		}
		ps[i] = v
	}
	return b.statusErr(C.dn_lrn_bwd(b.c, p.ld, p.d, ps[0], ps[1], ps[2], b.writeFloat(ts[3])), op)
}
