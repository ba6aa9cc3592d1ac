//go:build cudnn

// Softmax cross-entropy: cuDNN log-softmax and softmax, a host-built one-hot
// matrix, and the loss and gradient with cuBLAS.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// SoftmaxCrossEntropy plans the loss without a custom kernel: cuDNN's
// log-softmax, a one-hot matrix built on the host holding −1/N at each
// row's label (pinned, uploaded asynchronously, only the changed entries
// rewritten), the loss as their cuBLAS dot product written straight into
// the loss tensor, and dlogits = softmax/N + onehot with cublasSgeam.
func (b *engine) SoftmaxCrossEntropy(d backend.SoftmaxDesc) (driver.LossPlan[*tensor], error) {
	const op = "softmax_cross_entropy"
	n, k := d.Logits[0], d.Logits[1]
	p := &lossPlan{n: n, k: k, prev: make([]int32, n)}
	p.ds.c = b.c
	p.plan = b.newPlan(p.free)
	if err := p.init(b, op); err != nil {
		p.free()
		return nil, initErr(err)
	}
	p.register()
	return p, nil
}

type lossPlan struct {
	plan
	n, k                   int
	ds                     descs
	d                      C.dn_cudnnTensorDescriptor_t
	logp, onehot           C.dn_dptr
	logpClass, onehotClass uint64 // pool classes of logp and onehot
	host                   *pinned
	prev                   []int32 // the labels the host one-hot holds
	fresh                  bool    // the host one-hot is all zero
}

func (p *lossPlan) init(b *engine, op string) error {
	var err error
	if p.d, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, [4]C.int{C.int(p.n), C.int(p.k), 1, 1}); err != nil {
		return err
	}
	nk := uint64(4 * p.n * p.k)
	if p.logp, p.logpClass, err = b.alloc(nk); err != nil {
		return err
	}
	if p.onehot, p.onehotClass, err = b.alloc(nk); err != nil {
		return err
	}
	if p.host, err = b.newPinned(op, p.n*p.k); err != nil {
		return err
	}
	m, err := b.floats(op, p.host)
	if err != nil {
		return err
	}
	clear(m)
	p.fresh = true
	return nil
}

func (p *lossPlan) free() {
	p.ds.free()
	p.b.freePinned(p.host)
	p.b.release(p.logp, p.logpClass)
	p.b.release(p.onehot, p.onehotClass)
	p.logp, p.onehot = 0, 0
}

// Forward writes the mean loss into loss and, when dlogits is not nil,
// the gradient softmax/N − onehot/N into it.
func (p *lossPlan) Forward(logits *tensor, labels []int32, loss, dlogits *tensor) error {
	const op = "softmax_cross_entropy.forward"
	b := p.b
	var gp C.dn_dptr
	if dlogits != nil {
		gp = b.writeFloat(dlogits)
	}
	lp, err := b.readFloat(op, logits)
	if err != nil {
		return err
	}
	m, err := b.floats(op, p.host)
	if err != nil {
		return err
	}
	v := float32(-1 / float64(p.n))
	for r, l := range labels {
		if !p.fresh {
			m[r*p.k+int(p.prev[r])] = 0
		}
		m[r*p.k+int(l)] = v
		p.prev[r] = l
	}
	p.fresh = false
	if err := b.send(op, p.host, p.onehot); err != nil {
		return err
	}
	return b.statusErr(C.dn_xent(b.c, p.d, C.int(p.n), C.int(p.k), lp, p.logp, p.onehot, b.writeFloat(loss), gp), op)
}

func (p *lossPlan) Softmax(logits, probs *tensor) error {
	const op = "softmax_cross_entropy.softmax"
	b := p.b
	lp, err := b.readFloat(op, logits)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_softmax(b.c, C.DN_CUDNN_SOFTMAX_ACCURATE, p.d, lp, b.writeFloat(probs)), op)
}
