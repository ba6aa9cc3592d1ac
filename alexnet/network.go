package alexnet

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/dnngo/dnngo/backend"
)

// Mode selects how Forward treats dropout.
type Mode int

const (
	// Eval is inference: dropout is the identity.
	Eval Mode = iota
	// Train drops units (inverted dropout) with the mask of the current
	// training step.
	Train
)

func (m Mode) String() string {
	switch m {
	case Eval:
		return "eval"
	case Train:
		return "train"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ErrState is wrapped by the errors of calls made out of order: Backward
// before Loss, Step before Backward, and so on. It is backend.ErrState, so
// one errors.Is test covers the network and its backend.
var ErrState = backend.ErrState

// ErrClosed is wrapped by the errors of calls on a closed Network. It is
// backend.ErrClosed, so one errors.Is test covers the network, its
// backend and their tensors and plans.
var ErrClosed = backend.ErrClosed

// param is one parameter tensor with its gradient, made at the first Loss
// (the momentum buffer and update plan are the Optimizer's).
type param struct {
	name  string // conv1.weight, conv1.bias, …
	shape backend.Shape
	index int // in Network.params
	w     backend.Tensor
	g     backend.Tensor
}

// Network is an AlexNet on one backend: its parameters, and for the batch
// sizes it has run most recently (at most DefaultMaxBatchSizes, see
// SetMaxBatchSizes), the op plans and the activation and gradient buffers
// of that size, made once and reused. A Network is not safe for
// concurrent use (nor is its backend); Close releases what it holds.
type Network struct {
	b      backend.Backend
	cfg    Config
	layers []layer
	params []*param // weight then bias of every layer, in layer order

	batches  map[int]*batch // at most maxBatches(), least recently used released first
	cur      *batch         // the batch of the latest Forward
	clock    uint64         // counts batchFor calls, for batch.used
	maxSizes int            // SetMaxBatchSizes; 0: DefaultMaxBatchSizes

	// Training state, saved in checkpoints.
	step uint64 // completed optimiser steps
	opt  Optimizer

	// Where the latest pass left things.
	mode       Mode
	forwarded  bool // cur holds the activations of a Forward
	inferred   bool // ... made by the inference plans (an Eval Forward): Backward reruns the training plans first
	lossed     bool // cur's dlogits belong to that Forward
	backwarded bool // the parameter gradients are those of the latest Backward and no Step used them yet

	lossHost [1]float32
	closed   bool

	notes map[string]string // saved with checkpoints; see SetNote

	dist distState // data-parallel replica state; see dist.go
}

// SetNote records a free-form string that checkpoints carry and Load
// restores: the class names, the input preprocessing, the dataset — what a
// later user of the checkpoint needs to feed it and read its outputs.
// Keys must be non-empty and printable.
func (n *Network) SetNote(key, value string) error {
	if key == "" || strings.ContainsFunc(key, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' }) {
		return fmt.Errorf("alexnet: note key %q: want a non-empty key without spaces or control characters", key)
	}
	if n.notes == nil {
		n.notes = map[string]string{}
	}
	n.notes[key] = value
	return nil
}

// Note returns the note recorded under key ("" if none).
func (n *Network) Note(key string) string { return n.notes[key] }

// New builds the network cfg describes on b and initialises its parameters
// as cfg.Init says, from cfg.Seed. Plans and activation buffers are made
// by the first Forward of each batch size. The network uses b until Close;
// closing the network does not close b.
func New(b backend.Backend, cfg Config) (*Network, error) {
	n, err := build(b, cfg)
	if err != nil {
		return nil, err
	}
	if err := n.initParams(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// build validates cfg and allocates the parameter tensors (zero).
func build(b backend.Backend, cfg Config) (*Network, error) {
	if b == nil {
		return nil, errors.New("alexnet: new: backend is nil")
	}
	layers, err := cfg.layers()
	if err != nil {
		return nil, err
	}
	n := &Network{b: b, cfg: cfg, layers: layers, batches: map[int]*batch{}}
	n.opt = Optimizer{n: n, lr: cfg.SGD.LR}
	for _, l := range layers {
		for _, p := range []*param{
			{name: l.name + ".weight", shape: l.wshape, index: len(n.params)},
			{name: l.name + ".bias", shape: backend.Shape{l.wshape[0]}, index: len(n.params) + 1},
		} {
			p.w, err = b.NewTensor(p.shape...)
			if err != nil {
				n.Close()
				return nil, fmt.Errorf("alexnet: new: parameter %s %v: %w", p.name, p.shape, err)
			}
			n.params = append(n.params, p)
		}
	}
	return n, nil
}

// initStream is the PCG stream of the parameter initialisation ("alexnet").
const initStream = 0x616c65786e6574

// initParams draws every parameter as n.cfg.Init says, in parameter order
// (conv1.weight row-major, conv1.bias, conv2.weight, …) from one PCG
// generator seeded with cfg.Seed, and uploads it.
func (n *Network) initParams() error {
	r := rand.New(rand.NewPCG(n.cfg.Seed, initStream))
	for li, l := range n.layers {
		wp, bp := n.params[2*li], n.params[2*li+1]
		w := make([]float32, wp.shape.Numel())
		std := 0.01
		if n.cfg.Init == InitKaiming {
			fanIn := float64(wp.shape[1:].Numel())
			gain := 2.0
			if !l.relu {
				gain = 1
			}
			std = math.Sqrt(gain / fanIn)
		}
		for i := range w {
			w[i] = float32(r.NormFloat64() * std)
		}
		bias := make([]float32, bp.shape.Numel())
		if n.cfg.Init == InitPaper {
			for i := range bias {
				bias[i] = l.paperBias
			}
		}
		if err := n.b.Upload(wp.w, w); err != nil {
			return fmt.Errorf("alexnet: init %s: %w", wp.name, err)
		}
		if err := n.b.Upload(bp.w, bias); err != nil {
			return fmt.Errorf("alexnet: init %s: %w", bp.name, err)
		}
	}
	return nil
}

// Config returns the network's configuration.
func (n *Network) Config() Config { return n.cfg }

// Backend returns the backend the network runs on.
func (n *Network) Backend() backend.Backend { return n.b }

// ParamNames lists the parameters in order: conv1.weight, conv1.bias, …,
// fc8.bias. These are also the tensor names of checkpoints.
func (n *Network) ParamNames() []string {
	names := make([]string, len(n.params))
	for i, p := range n.params {
		names[i] = p.name
	}
	return names
}

// ParamShape returns the shape of the named parameter (OIHW for conv
// weights, [out, in] for FC weights, [out] for biases).
func (n *Network) ParamShape(name string) (backend.Shape, error) {
	p, err := n.param("param shape", name)
	if err != nil {
		return nil, err
	}
	return p.shape.Clone(), nil
}

func (n *Network) param(op, name string) (*param, error) {
	if n.closed {
		return nil, fmt.Errorf("alexnet: %s: the network is closed: %w", op, ErrClosed)
	}
	for _, p := range n.params {
		if p.name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("alexnet: %s: no parameter %q (have %s)", op, name, strings.Join(n.ParamNames(), ", "))
}

// Param downloads the named parameter, dense row-major.
func (n *Network) Param(name string) ([]float32, error) {
	p, err := n.param("param", name)
	if err != nil {
		return nil, err
	}
	return n.download("param "+name, p.w)
}

// SetParam uploads data, dense row-major in the parameter's shape, into the
// named parameter. The momentum buffer is left as it is.
func (n *Network) SetParam(name string, data []float32) error {
	p, err := n.param("set param", name)
	if err != nil {
		return err
	}
	if len(data) != p.shape.Numel() {
		return fmt.Errorf("alexnet: set param %s: %d values, want %d for shape %v", name, len(data), p.shape.Numel(), p.shape)
	}
	if err := n.b.Upload(p.w, data); err != nil {
		return fmt.Errorf("alexnet: set param %s: %w", name, err)
	}
	return nil
}

// Grad downloads the gradient of the named parameter left by the latest
// Backward.
func (n *Network) Grad(name string) ([]float32, error) {
	p, err := n.param("grad", name)
	if err != nil {
		return nil, err
	}
	if p.g == nil {
		return nil, fmt.Errorf("alexnet: grad %s: no gradient yet: call Backward first: %w", name, ErrState)
	}
	return n.download("grad "+name, p.g)
}

func (n *Network) download(what string, t backend.Tensor) ([]float32, error) {
	out := make([]float32, t.Shape().Numel())
	if err := n.b.Download(out, t); err != nil {
		return nil, fmt.Errorf("alexnet: %s: %w", what, err)
	}
	return out, nil
}

// Close releases every tensor and plan the network made. The backend stays
// open. Closing twice is harmless; other methods of a closed network return
// an error wrapping ErrClosed.
func (n *Network) Close() error {
	if n.closed {
		return nil
	}
	n.closed = true
	var errs []error
	for _, bt := range n.batches {
		errs = append(errs, bt.close())
	}
	n.batches, n.cur = nil, nil
	for _, p := range n.params {
		errs = append(errs, closeAll(p.w, p.g))
	}
	errs = append(errs, n.opt.close())
	return errors.Join(errs...)
}

func closeAll(ts ...backend.Tensor) error {
	var errs []error
	for _, t := range ts {
		if t != nil {
			errs = append(errs, t.Close())
		}
	}
	return errors.Join(errs...)
}

func closePlans(ps ...backend.Plan) error {
	var errs []error
	for _, p := range ps {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}
