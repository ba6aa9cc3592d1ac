//go:build cudnn

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
)

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
	xp, err := b.readFloat(op, xt)
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
	if err := b.statusErr(C.dn_dgmm(b.c, C.int(p.n), xp, p.mask, b.writeFloat(yt)), op); err != nil {
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
	dyp, err := b.readFloat(op, dyt)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_dgmm(b.c, C.int(p.n), dyp, p.mask, b.writeFloat(dxt)), op)
}
