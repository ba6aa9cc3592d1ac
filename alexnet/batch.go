package alexnet

import (
	"errors"
	"fmt"

	"github.com/dnngo/dnngo/backend"
)

// stage is one weight layer at one batch size with what follows it:
//
//	in → conv/linear (+bias, fused ReLU) → act → [LRN → lrnOut] → [maxpool → poolOut]
//	in → linear (+bias, fused ReLU) → act → [dropout → dropOut, train mode only]
//
// Gradients run the other way through gOut (the gradient of the stage's
// output, written by the next stage's BackwardData or by the loss), gLRN,
// gAct; the backward of ReLU and dropout runs in place on the gradient.
type stage struct {
	l    *layer
	wIdx int // index of the weight in Network.params; the bias follows

	plan backend.WeightPlan
	lrn  backend.LRNPlan
	pool backend.PoolPlan
	drop backend.DropoutPlan
	relu backend.ReLUPlan // for the backward of the fused ReLU

	// The same layer planned with Inference (made by the first Eval
	// Forward at this batch size), on the same tensors.
	iplan backend.WeightPlan
	ilrn  backend.LRNPlan
	ipool backend.PoolPlan

	act, lrnOut, poolOut, dropOut backend.Tensor

	// Gradient buffers, made at the first Loss with gradients.
	gAct, gLRN, gPool backend.Tensor
}

// poolIn is what the pooling reads: the LRN output or the ReLU output.
func (s *stage) poolIn() backend.Tensor {
	if s.lrn != nil {
		return s.lrnOut
	}
	return s.act
}

// out is the stage's output in the given mode.
func (s *stage) out(m Mode) backend.Tensor {
	switch {
	case s.pool != nil:
		return s.poolOut
	case s.lrn != nil:
		return s.lrnOut
	case s.drop != nil && m == Train:
		return s.dropOut
	}
	return s.act
}

// gOut is the gradient buffer of the stage's output.
func (s *stage) gOut() backend.Tensor {
	switch {
	case s.pool != nil:
		return s.gPool
	case s.lrn != nil:
		return s.gLRN
	}
	return s.gAct
}

// batch holds everything of one batch size: the input, the plans of every
// layer at that size, the activations and, once a Loss asked for them, the
// gradient buffers.
type batch struct {
	n      int
	x      backend.Tensor
	stages []*stage
	loss   backend.LossPlan
	lossT  backend.Tensor
	probs  backend.Tensor // made by the first Predict
	grads  bool
	infer  bool      // the stages' inference plans are made
	logits []float32 // host copy for EvaluateBatch, made at its first call
	used   uint64    // Network.clock at its latest use
}

// withBatch returns a copy of s with batch size n.
func withBatch(s backend.Shape, n int) backend.Shape {
	out := s.Clone()
	out[0] = n
	return out
}

// newBatch plans every layer at batch size bn and allocates the forward
// buffers.
// On error it releases what it made and returns a nil batch.
func (n *Network) newBatch(bn int) (_ *batch, err error) {
	b := n.b
	bt := &batch{n: bn} // not the named result: every error return sets that to nil
	defer func() {
		if err != nil {
			bt.close()
		}
	}()
	mk := func(what string, s backend.Shape) (backend.Tensor, error) {
		t, err := b.NewTensor(s...)
		if err != nil {
			return nil, fmt.Errorf("alexnet: batch %d: %s %v: %w", bn, what, s, err)
		}
		return t, nil
	}
	in := backend.Shape{bn, n.cfg.Channels, n.cfg.Input, n.cfg.Input}
	if bt.x, err = mk("input", in); err != nil {
		return nil, err
	}
	for i := range n.layers {
		l := &n.layers[i]
		s := &stage{l: l, wIdx: 2 * i}
		bt.stages = append(bt.stages, s)
		wrap := func(op string, err error) error {
			return fmt.Errorf("alexnet: batch %d: %s %s: %w", bn, l.name, op, err)
		}
		if s.plan, err = weightPlan(b, l, bn, false); err != nil {
			return nil, wrap("plan", err)
		}
		outShape := withBatch(l.out, bn)
		if s.act, err = mk(l.name+" output", outShape); err != nil {
			return nil, err
		}
		if l.relu {
			if s.relu, err = b.ReLU(outShape); err != nil {
				return nil, wrap("relu plan", err)
			}
		}
		if l.lrn != nil {
			d := *l.lrn
			d.Input = outShape
			if s.lrn, err = b.LRN(d); err != nil {
				return nil, wrap("lrn plan", err)
			}
			if s.lrnOut, err = mk(l.name+" lrn output", outShape); err != nil {
				return nil, err
			}
		}
		if l.pool != nil {
			d := *l.pool
			d.Input = outShape
			if s.pool, err = b.MaxPool(d); err != nil {
				return nil, wrap("maxpool plan", err)
			}
			if s.poolOut, err = mk(l.name+" pool output", d.OutputShape()); err != nil {
				return nil, err
			}
		}
		if l.dropout {
			if s.drop, err = b.Dropout(backend.DropoutDesc{Shape: outShape, P: n.cfg.Dropout}); err != nil {
				return nil, wrap("dropout plan", err)
			}
			if s.dropOut, err = mk(l.name+" dropout output", outShape); err != nil {
				return nil, err
			}
		}
	}
	logits := bt.stages[len(bt.stages)-1].act.Shape()
	if bt.loss, err = b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: logits}); err != nil {
		return nil, fmt.Errorf("alexnet: batch %d: loss plan: %w", bn, err)
	}
	if bt.lossT, err = mk("loss", backend.Shape{1}); err != nil {
		return nil, err
	}
	return bt, nil
}

// weightPlan plans l's convolution or fully connected layer at batch size
// bn, for training or for inference.
func weightPlan(b backend.Backend, l *layer, bn int, inference bool) (backend.WeightPlan, error) {
	return backend.PlanWeight(b, l.w.WithBatch(bn).WithInference(inference))
}

// ensureInference makes the inference plans of every stage of bt, once:
// Eval forwards run them (a backend may pick faster inference kernels and
// save nothing for a backward pass).
func (n *Network) ensureInference(bt *batch) error {
	if bt.infer {
		return nil
	}
	b := n.b
	for _, s := range bt.stages {
		l := s.l
		wrap := func(op string, err error) error {
			return fmt.Errorf("alexnet: batch %d: %s inference %s: %w", bt.n, l.name, op, err)
		}
		var err error
		if s.iplan == nil {
			if s.iplan, err = weightPlan(b, l, bt.n, true); err != nil {
				return wrap("plan", err)
			}
		}
		outShape := withBatch(l.out, bt.n)
		if l.lrn != nil && s.ilrn == nil {
			d := *l.lrn
			d.Input, d.Inference = outShape, true
			if s.ilrn, err = b.LRN(d); err != nil {
				return wrap("lrn plan", err)
			}
		}
		if l.pool != nil && s.ipool == nil {
			d := *l.pool
			d.Input, d.Inference = outShape, true
			if s.ipool, err = b.MaxPool(d); err != nil {
				return wrap("maxpool plan", err)
			}
		}
	}
	bt.infer = true
	return nil
}

// ensureGrads allocates the gradient buffers of the batch and of the
// parameters, once.
func (n *Network) ensureGrads(bt *batch) error {
	if bt.grads {
		return nil
	}
	for _, p := range n.params {
		if p.g == nil {
			g, err := n.b.NewTensor(p.shape...)
			if err != nil {
				return fmt.Errorf("alexnet: gradient of %s %v: %w", p.name, p.shape, err)
			}
			p.g = g
		}
	}
	for _, s := range bt.stages {
		for _, g := range []struct {
			dst  *backend.Tensor
			like backend.Tensor
			what string
		}{{&s.gAct, s.act, "gradient"}, {&s.gLRN, s.lrnOut, "lrn gradient"}, {&s.gPool, s.poolOut, "pool gradient"}} {
			if *g.dst != nil || g.like == nil {
				continue // made by an earlier, interrupted call; or no such op
			}
			t, err := n.b.NewTensor(g.like.Shape()...)
			if err != nil {
				return fmt.Errorf("alexnet: batch %d: %s %s: %w", bt.n, s.l.name, g.what, err)
			}
			*g.dst = t
		}
	}
	bt.grads = true
	return nil
}

// forward runs every stage on bt.x in mode m, with the inference plans
// when infer is set (Eval only).
func (n *Network) forward(bt *batch, m Mode, infer bool) error {
	in := bt.x
	for i, s := range bt.stages {
		p := n.params[s.wIdx]
		plan, lrn, pool := s.plan, s.lrn, s.pool
		if infer {
			plan, lrn, pool = s.iplan, s.ilrn, s.ipool
		}
		if err := plan.Forward(in, p.w, n.params[s.wIdx+1].w, s.act); err != nil {
			return fmt.Errorf("alexnet: forward %s: %w", s.l.name, err)
		}
		if lrn != nil {
			if err := lrn.Forward(s.act, s.lrnOut); err != nil {
				return fmt.Errorf("alexnet: forward lrn%d: %w", i+1, err)
			}
		}
		if pool != nil {
			if err := pool.Forward(s.poolIn(), s.poolOut); err != nil {
				return fmt.Errorf("alexnet: forward pool%d: %w", i+1, err)
			}
		}
		if s.drop != nil && m == Train {
			if err := s.drop.Forward(s.act, s.dropOut, n.replicaSeed(bt, s.act, dropoutSeed(n.cfg.Seed, n.step, i))); err != nil {
				return fmt.Errorf("alexnet: forward %s dropout: %w", s.l.name, err)
			}
		}
		in = s.out(m)
	}
	return nil
}

// backward runs every stage backwards from the gradient of the logits
// (the last stage's gAct), computing every parameter gradient.
func (n *Network) backward(bt *batch, m Mode) error {
	for i := len(bt.stages) - 1; i >= 0; i-- {
		s := bt.stages[i]
		g := s.gOut()
		if s.pool != nil {
			dst := s.gAct
			if s.lrn != nil {
				dst = s.gLRN
			}
			if err := s.pool.Backward(s.poolIn(), s.poolOut, g, dst); err != nil {
				return fmt.Errorf("alexnet: backward pool%d: %w", i+1, err)
			}
			g = dst
		}
		if s.lrn != nil {
			if err := s.lrn.Backward(s.act, s.lrnOut, g, s.gAct); err != nil {
				return fmt.Errorf("alexnet: backward lrn%d: %w", i+1, err)
			}
			g = s.gAct
		}
		if s.drop != nil && m == Train {
			if err := s.drop.Backward(g, g); err != nil {
				return fmt.Errorf("alexnet: backward %s dropout: %w", s.l.name, err)
			}
		}
		if s.relu != nil {
			// The ReLU is fused into the layer's forward; its backward
			// takes the fused output.
			if err := s.relu.Backward(s.act, g, g); err != nil {
				return fmt.Errorf("alexnet: backward %s relu: %w", s.l.name, err)
			}
		}
		in := bt.x
		if i > 0 {
			in = bt.stages[i-1].out(m)
		}
		wp, bp := n.params[s.wIdx], n.params[s.wIdx+1]
		if err := s.plan.BackwardFilter(in, g, wp.g, bp.g); err != nil {
			return fmt.Errorf("alexnet: backward %s filter: %w", s.l.name, err)
		}
		if i > 0 {
			if err := s.plan.BackwardData(g, wp.w, bt.stages[i-1].gOut()); err != nil {
				return fmt.Errorf("alexnet: backward %s data: %w", s.l.name, err)
			}
		}
	}
	return nil
}

func (bt *batch) close() error {
	var errs []error
	errs = append(errs, closeAll(bt.x, bt.lossT, bt.probs), closePlans(bt.loss))
	for _, s := range bt.stages {
		errs = append(errs, closePlans(s.plan, s.lrn, s.pool, s.drop, s.relu, s.iplan, s.ilrn, s.ipool),
			closeAll(s.act, s.lrnOut, s.poolOut, s.dropOut, s.gAct, s.gLRN, s.gPool))
	}
	return errors.Join(errs...)
}

// dropoutSeed is the dropout seed of layer i at training step step: a
// SplitMix64 hash of the config seed, the step and the layer, so masks are
// reproducible from (seed, step) alone — the only random state of training.
func dropoutSeed(seed, step uint64, i int) uint64 {
	x := splitmix(seed ^ 0x6472_6f70_6f75_7421) // "dropout!"
	x = splitmix(x + step)
	return splitmix(x + uint64(i))
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	return x ^ x>>31
}
