//go:build onednn

package onednn

// Softmax with mean cross-entropy: a loop in the shim with float64
// accumulation (the logits are tiny next to the network), on the plain
// layout.

/*
#include "dnngo_onednn.h"
*/
import "C"

import (
	"unsafe"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// lossPlan is softmax cross-entropy over logits of one shape; it holds no
// C state.
type lossPlan struct {
	e *engine
	d backend.SoftmaxDesc
}

// SoftmaxCrossEntropy plans softmax with mean cross-entropy.
func (e *engine) SoftmaxCrossEntropy(d backend.SoftmaxDesc) (driver.LossPlan[*tensor], error) {
	return &lossPlan{e: e, d: d}, nil
}

// Close releases nothing: the plan holds no memory.
func (p *lossPlan) Close() error { return nil }

func (p *lossPlan) Forward(logits *tensor, labels []int32, loss, dlogits *tensor) error {
	rc := C.dno_softmax_xent(p.e.c, logits.t, (*C.int32_t)(unsafe.Pointer(&labels[0])), loss.t, handle(dlogits))
	return check(p.e, rc, "softmax_cross_entropy.forward", p.d.Logits)
}

func (p *lossPlan) Softmax(logits, probs *tensor) error {
	return check(p.e, C.dno_softmax(p.e.c, logits.t, probs.t), "softmax_cross_entropy.softmax", p.d.Logits)
}
