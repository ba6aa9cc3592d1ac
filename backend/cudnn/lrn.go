//go:build cudnn

// Local response normalisation: cuDNN's limits on it (Supports) and the
// plan, cudnnLRNCrossChannelForward/Backward.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// lrnSupported checks cuDNN's own limits on LRN: a window of 1 to 16
// channels, k ≥ 1e-5 and β ≥ 0.01 (cudnnSetLRNDescriptor).
func lrnSupported(d backend.LRNDesc) error {
	const op = "lrn"
	switch {
	case d.Size > C.DN_CUDNN_LRN_MAX_N:
		return driver.Errorf(op, backend.ErrUnsupported, "%s: cuDNN's LRN window is at most %d channels", d, C.DN_CUDNN_LRN_MAX_N)
	case d.K < C.DN_CUDNN_LRN_MIN_K:
		return driver.Errorf(op, backend.ErrUnsupported, "%s: cuDNN's LRN needs k ≥ %g", d, C.DN_CUDNN_LRN_MIN_K)
	case d.Beta < C.DN_CUDNN_LRN_MIN_BETA:
		return driver.Errorf(op, backend.ErrUnsupported, "%s: cuDNN's LRN needs beta ≥ %g", d, C.DN_CUDNN_LRN_MIN_BETA)
	}
	return nil
}

// LRN plans cudnnLRNCrossChannelForward/Backward, which take the
// frameworks' convention (α divided by the window). cuDNN keeps nothing
// between the two: the backward recomputes from x and y.
func (b *engine) LRN(d backend.LRNDesc) (driver.LRNPlan[*tensor], error) {
	const op = "lrn"
	p := &lrnPlan{}
	p.ds.c = b.c
	p.plan = b.newPlan(p.ds.free)
	var err error
	if p.d, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, dims4(d.Input)); err == nil {
		err = b.statusErr(C.dn_lrn_desc(b.c, &p.ld, C.unsigned(d.Size), C.double(d.Alpha), C.double(d.Beta), C.double(d.K)), op)
		if err == nil {
			p.ds.lrns = append(p.ds.lrns, p.ld)
		}
	}
	if err != nil {
		p.ds.free()
		return nil, initErr(err)
	}
	p.register()
	return p, nil
}

type lrnPlan struct {
	plan
	ds descs
	d  C.dn_cudnnTensorDescriptor_t
	ld C.dn_cudnnLRNDescriptor_t
}

func (p *lrnPlan) Forward(x, y *tensor) error {
	const op = "lrn.forward"
	b := p.b
	xp, err := b.readFloat(op, x)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_lrn_fwd(b.c, p.ld, p.d, xp, b.writeFloat(y)), op)
}

func (p *lrnPlan) Backward(x, y, dy, dx *tensor) error {
	const op = "lrn.backward"
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
	return b.statusErr(C.dn_lrn_bwd(b.c, p.ld, p.d, xp, yp, dyp, b.writeFloat(dx)), op)
}
