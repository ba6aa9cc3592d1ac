package alexnet

import (
	"fmt"

	"github.com/dnngo/dnngo/backend"
)

// InputSize is the number of float32 values of one input image:
// Channels·Input·Input.
func (n *Network) InputSize() int { return n.cfg.Channels * n.cfg.Input * n.cfg.Input }

// Classes is the number of classes: the width of each row of Predict's
// probabilities and Logits (Config().Classes).
func (n *Network) Classes() int { return n.cfg.Classes }

// Forward runs the network on a batch of images, x dense NCHW float32
// ([N, Channels, Input, Input], N = len(x)/InputSize()). In Train mode the
// dropout layers drop units with the mask of the current step (a function
// of Config.Seed and Step only); in Eval mode they pass everything. The
// activations stay in the network for Loss, Backward, Logits and
// Activation.
//
// The first Forward of a batch size plans every layer at that size and
// allocates its buffers; later ones reuse them and allocate nothing, as
// long as the size stays among the few the network keeps (see
// SetMaxBatchSizes). Eval forwards run a second set of plans made with the
// backend's Inference flag (made by the first Eval Forward of the batch
// size), which may use faster inference kernels; a Backward after an Eval
// Forward first runs the training plans on the same input (one more
// forward pass, no dropout).
func (n *Network) Forward(x []float32, m Mode) error {
	if n.closed {
		return fmt.Errorf("alexnet: forward: the network is closed: %w", ErrClosed)
	}
	if m != Train && m != Eval {
		return fmt.Errorf("alexnet: forward: unknown mode %v", m)
	}
	per := n.InputSize()
	if len(x) == 0 || len(x)%per != 0 {
		return fmt.Errorf("alexnet: forward: input has %d values, want a positive multiple of %d (%d×%d×%d per image)",
			len(x), per, n.cfg.Channels, n.cfg.Input, n.cfg.Input)
	}
	bt, err := n.batchFor(len(x) / per)
	if err != nil {
		return err
	}
	infer := m == Eval
	if infer {
		if err := n.ensureInference(bt); err != nil {
			return err
		}
	}
	n.forwarded, n.lossed = false, false
	if err := n.b.Upload(bt.x, x); err != nil {
		return fmt.Errorf("alexnet: forward: input: %w", err)
	}
	if err := n.forward(bt, m, infer); err != nil {
		return err
	}
	n.cur, n.mode, n.forwarded, n.inferred = bt, m, true, infer
	return nil
}

// batchFor returns the plans and buffers of batch size bn, making them the
// first time. Before it makes a new size it releases the least recently
// used sizes beyond the bound (see SetMaxBatchSizes), so at most that many
// sets are ever held, even while the new one is made.
func (n *Network) batchFor(bn int) (*batch, error) {
	n.clock++
	if n.cur != nil && n.cur.n == bn {
		n.cur.used = n.clock
		return n.cur, nil
	}
	if bt, ok := n.batches[bn]; ok {
		bt.used = n.clock
		return bt, nil
	}
	if err := (backend.Shape{bn, n.cfg.Channels, n.cfg.Input, n.cfg.Input}).Validate(); err != nil {
		return nil, fmt.Errorf("alexnet: forward: batch of %d images: %w", bn, err)
	}
	if err := n.evictBatches(n.maxBatches() - 1); err != nil {
		return nil, err
	}
	bt, err := n.newBatch(bn)
	if err != nil {
		return nil, err
	}
	bt.used = n.clock
	n.batches[bn] = bt
	return bt, nil
}

// DefaultMaxBatchSizes is how many batch sizes a Network keeps planned at
// once unless SetMaxBatchSizes says otherwise: a training batch size, the
// last (smaller) batch of an epoch, and the same two for evaluation — a
// ten-crop evaluation's batches being their own sizes.
const DefaultMaxBatchSizes = 4

// SetMaxBatchSizes bounds how many batch sizes the network keeps planned
// (op plans, activations and gradient buffers) at once; k ≥ 1, default
// DefaultMaxBatchSizes. When a Forward needs a size it does not hold and
// it already holds k, it first releases the least recently used ones (the
// activations of a released latest Forward with them: Loss, Logits and
// the like then need a new Forward). A size used again is planned again,
// which is slow on some backends (cuDNN's algorithm search), so the bound
// should cover the sizes a loop alternates between. A smaller bound than
// the sizes held now applies from the next new size.
func (n *Network) SetMaxBatchSizes(k int) error {
	if k < 1 {
		return fmt.Errorf("alexnet: max batch sizes %d, want ≥ 1", k)
	}
	n.maxSizes = k
	return nil
}

func (n *Network) maxBatches() int {
	if n.maxSizes == 0 {
		return DefaultMaxBatchSizes
	}
	return n.maxSizes
}

// evictBatches releases the least recently used batch sizes until at most
// keep remain.
func (n *Network) evictBatches(keep int) error {
	for len(n.batches) > keep {
		var lru *batch
		for _, bt := range n.batches {
			if lru == nil || bt.used < lru.used {
				lru = bt
			}
		}
		delete(n.batches, lru.n)
		if n.cur == lru {
			n.cur, n.forwarded, n.lossed = nil, false, false
		}
		if err := lru.close(); err != nil {
			return fmt.Errorf("alexnet: forward: releasing the plans of batch size %d: %w", lru.n, err)
		}
	}
	return nil
}

// Loss computes the mean softmax cross-entropy of the latest Forward's
// logits against labels (one per image, each in [0, Classes)) and the
// gradient of the loss with respect to the logits, which Backward starts
// from. It returns the loss (waiting for the backend to compute it).
func (n *Network) Loss(labels []int32) (float32, error) {
	if n.closed {
		return 0, fmt.Errorf("alexnet: loss: the network is closed: %w", ErrClosed)
	}
	if !n.forwarded {
		return 0, fmt.Errorf("alexnet: loss: no activations: call Forward first: %w", ErrState)
	}
	bt := n.cur
	if len(labels) != bt.n {
		return 0, fmt.Errorf("alexnet: loss: %d labels for a batch of %d images", len(labels), bt.n)
	}
	if err := n.ensureGrads(bt); err != nil {
		return 0, err
	}
	n.lossed = false
	last := bt.stages[len(bt.stages)-1]
	if err := bt.loss.Forward(last.act, labels, bt.lossT, last.gAct); err != nil {
		return 0, fmt.Errorf("alexnet: loss: %w", err)
	}
	n.lossed = true
	return n.readLoss(bt)
}

func (n *Network) readLoss(bt *batch) (float32, error) {
	if err := n.b.Download(n.lossHost[:], bt.lossT); err != nil {
		return 0, fmt.Errorf("alexnet: loss: %w", err)
	}
	return n.lossHost[0], nil
}

// Backward computes the gradient of the latest Loss with respect to every
// parameter (read them with Grad), back through the activations of the
// latest Forward in its mode (through its dropout masks in Train mode).
func (n *Network) Backward() error {
	if n.closed {
		return fmt.Errorf("alexnet: backward: the network is closed: %w", ErrClosed)
	}
	if !n.lossed {
		return fmt.Errorf("alexnet: backward: no loss gradient: call Forward, then Loss: %w", ErrState)
	}
	n.backwarded = false
	if n.inferred {
		// An Eval forward ran the inference plans, which keep nothing for a
		// backward pass: run the training plans (still without dropout) on
		// the same input first. The loss gradient stays the Loss's.
		if err := n.forward(n.cur, n.mode, false); err != nil {
			return err
		}
		n.inferred = false
	}
	if err := n.backward(n.cur, n.mode); err != nil {
		return err
	}
	n.backwarded = true
	return nil
}

// Step applies one SGD update to every parameter with the gradients of the
// latest Backward and the optimiser's learning rate (see Optimizer),
// momentum and weight decay of Config.SGD, then counts the step (Step,
// which also moves the dropout masks on). Each Backward feeds one Step.
func (n *Network) Step() error {
	if n.closed {
		return fmt.Errorf("alexnet: step: the network is closed: %w", ErrClosed)
	}
	if !n.backwarded {
		return fmt.Errorf("alexnet: step: no fresh gradients: call Backward first: %w", ErrState)
	}
	if err := n.opt.step(); err != nil {
		return err
	}
	n.backwarded = false
	n.step++
	return nil
}

// TrainStep is one training step on a batch: Forward in Train mode, Loss,
// Backward and Step. It returns the loss before the update. In steady state
// (same batch size as before) it allocates nothing.
func (n *Network) TrainStep(x []float32, labels []int32) (float32, error) {
	if err := n.Forward(x, Train); err != nil {
		return 0, err
	}
	loss, err := n.Loss(labels)
	if err != nil {
		return 0, err
	}
	if err := n.Backward(); err != nil {
		return 0, err
	}
	if err := n.Step(); err != nil {
		return 0, err
	}
	return loss, nil
}

// Steps is the number of optimiser steps taken (restored by Load).
func (n *Network) Steps() uint64 { return n.step }
