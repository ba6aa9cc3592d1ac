//go:build cudnn

// Inverted dropout: a mask drawn on the host, applied with cublasSdgmm.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// Dropout plans inverted dropout. The mask is drawn on the host with
// backend.DropoutBits, exactly as on every other backend, as float32
// factors (0 or 1/(1−p)) in a pinned buffer, uploaded asynchronously, and
// applied with cublasSdgmm (y = diag(mask)·x): no custom kernel, and the
// same seed gives the same mask as the cpu backend.
func (b *engine) Dropout(d backend.DropoutDesc) (driver.DropoutPlan[*tensor], error) {
	const op = "dropout"
	n := d.Shape.Numel()
	p := &dropoutPlan{n: n, scale: float32(1 / (1 - d.P)), threshold: backend.DropoutThreshold(d.P)}
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
	n         int
	scale     float32
	threshold uint32
	mask      C.dn_dptr
	cls       uint64
	host      *pinned
}

func (p *dropoutPlan) free() {
	p.b.freePinned(p.host)
	p.b.release(p.mask, p.cls)
	p.mask = 0
}

func (p *dropoutPlan) Forward(x, y *tensor, seed uint64) error {
	const op = "dropout.forward"
	b := p.b
	xp, err := b.readFloat(op, x)
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
	return b.statusErr(C.dn_dgmm(b.c, C.int(p.n), xp, p.mask, b.writeFloat(y)), op)
}

func (p *dropoutPlan) Backward(dy, dx *tensor) error {
	const op = "dropout.backward"
	b := p.b
	dyp, err := b.readFloat(op, dy)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_dgmm(b.c, C.int(p.n), dyp, p.mask, b.writeFloat(dx)), op)
}
