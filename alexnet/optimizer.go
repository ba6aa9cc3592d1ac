package alexnet

import (
	"errors"
	"fmt"
	"math"

	"github.com/dnngo/dnngo/backend"
)

// Optimizer is a network's SGD optimiser: the learning rate, the memory of
// the plateau schedule (Config.Schedule) and the momentum buffer and
// update plan of every parameter. Each Network has one (Network.Optimizer);
// Network.Step applies it, checkpoints save it and Load restores it. The
// training loop drives it: SetLR for a warm-up or a hand-made schedule,
// Observe after each validation. Like its network it is not safe for
// concurrent use.
type Optimizer struct {
	n     *Network
	lr    float32 // the current learning rate
	sched schedState

	// Per parameter, in Network.params order, made by the first Step (or
	// when a checkpoint restores them): the momentum buffers (zero at
	// first) and the update plans.
	v     []backend.Tensor
	plans []backend.SGDPlan
}

// schedState is the plateau schedule's memory.
type schedState struct {
	HasBest bool    `json:"has_best"`
	Best    float64 `json:"best"`
	Bad     int     `json:"bad"`   // rounds in a row without improvement
	Drops   int     `json:"drops"` // reductions so far
}

// Optimizer returns the network's optimiser.
func (n *Network) Optimizer() *Optimizer { return &n.opt }

// LR is the current learning rate.
func (o *Optimizer) LR() float32 { return o.lr }

// SetLR sets the learning rate of the following steps (it may change at
// every step). The schedule's own reductions (Observe) start from it.
func (o *Optimizer) SetLR(lr float32) error {
	if math.IsNaN(float64(lr)) || math.IsInf(float64(lr), 0) || lr < 0 {
		return fmt.Errorf("alexnet: set lr: %g, want finite and ≥ 0", lr)
	}
	o.lr = lr
	return nil
}

// Observe feeds the plateau schedule (Config.Schedule) one validation
// metric, such as the top-1 error after an epoch, and returns the learning
// rate for what follows: the current one, or the current one times the
// schedule's Factor when the metric has not improved for Patience rounds
// (at most MaxDrops times). A NaN metric is an error.
func (o *Optimizer) Observe(metric float64) (float32, error) {
	if math.IsNaN(metric) {
		return o.lr, fmt.Errorf("alexnet: observe: metric is NaN")
	}
	s, st := o.n.cfg.Schedule, &o.sched
	better := !st.HasBest
	if st.HasBest {
		margin := s.Threshold * math.Abs(st.Best)
		if s.Maximize {
			better = metric > st.Best+margin
		} else {
			better = metric < st.Best-margin
		}
	}
	if better {
		st.HasBest, st.Best, st.Bad = true, metric, 0
		return o.lr, nil
	}
	st.Bad++
	if st.Bad >= s.Patience && (s.MaxDrops == 0 || st.Drops < s.MaxDrops) {
		o.lr = float32(float64(o.lr) * s.Factor)
		st.Drops++
		st.Bad = 0
	}
	return o.lr, nil
}

// Drops is the number of learning-rate reductions the schedule has made.
func (o *Optimizer) Drops() int { return o.sched.Drops }

// Momentum downloads the momentum buffer (the SGD velocity) of the named
// parameter: zeros before the first Step.
func (o *Optimizer) Momentum(name string) ([]float32, error) {
	n := o.n
	p, err := n.param("momentum", name)
	if err != nil {
		return nil, err
	}
	if o.v == nil || o.v[p.index] == nil {
		return make([]float32, p.shape.Numel()), nil
	}
	return n.download("momentum "+name, o.v[p.index])
}

// ensure makes the momentum buffers (zero) and update plans, once. After
// a failure part-way, the next call makes what is missing.
func (o *Optimizer) ensure() error {
	n := o.n
	if o.v == nil {
		o.v, o.plans = make([]backend.Tensor, len(n.params)), make([]backend.SGDPlan, len(n.params))
	}
	for i, p := range n.params {
		if o.v[i] == nil {
			v, err := n.b.NewTensor(p.shape...)
			if err != nil {
				return fmt.Errorf("alexnet: momentum buffer of %s %v: %w", p.name, p.shape, err)
			}
			o.v[i] = v
		}
		if o.plans[i] == nil {
			s, err := n.b.SGD(p.shape)
			if err != nil {
				return fmt.Errorf("alexnet: sgd plan of %s %v: %w", p.name, p.shape, err)
			}
			o.plans[i] = s
		}
	}
	return nil
}

// step applies one SGD update to every parameter with its gradient, the
// current learning rate and Config.SGD's momentum, weight decay and rule.
func (o *Optimizer) step() error {
	n := o.n
	if err := o.ensure(); err != nil {
		return err
	}
	hp := backend.SGDParams{LR: o.lr, Momentum: n.cfg.SGD.Momentum, WeightDecay: n.cfg.SGD.WeightDecay, Rule: n.cfg.SGD.Rule}
	for i, p := range n.params {
		if err := o.plans[i].Step(p.w, p.g, o.v[i], hp); err != nil {
			return fmt.Errorf("alexnet: step %s: %w", p.name, err)
		}
	}
	return nil
}

// close releases the momentum buffers and plans.
func (o *Optimizer) close() error {
	var errs []error
	for i := range o.v {
		errs = append(errs, closeAll(o.v[i]), closePlans(o.plans[i]))
	}
	o.v, o.plans = nil, nil
	return errors.Join(errs...)
}
