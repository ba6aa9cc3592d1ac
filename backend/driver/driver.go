package driver

import (
	"fmt"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/internal/registry"
)

// Tensor is what a driver's tensor type must have. T, the type parameter
// of every interface below, is the driver's own tensor type (typically a
// pointer to its struct): the rulebook hands a driver only tensors that the
// same driver value made, still open, of the shape the op needs, so a
// driver never type-asserts, never checks for nil (except the optional
// bias, db and dlogits arguments, documented below) and never compares
// shapes.
type Tensor interface {
	// Close releases the tensor's memory. The rulebook calls it at most
	// once per tensor, and never after the driver's Close.
	Close() error
}

// Backend is a driver: the arithmetic of one library, behind the
// rulebook. Every method receives arguments that the rulebook has already
// checked (see the package documentation for exactly what is checked), on
// a driver that is open; a driver checks only what its own library cannot
// do, ideally in Supports so that callers can ask before planning.
type Backend[T Tensor] interface {
	// Info describes the driver; Name is the name it registered under.
	Info() backend.Info
	// NewTensor allocates a zero-filled tensor of a valid shape (a clone
	// the driver may keep).
	NewTensor(s backend.Shape) (T, error)
	// Upload copies src (exactly dst's element count) into dst.
	Upload(dst T, src []float32) error
	// Download copies src into dst (exactly src's element count).
	Download(dst []float32, src T) error
	// Sync waits for all submitted work.
	Sync() error
	// Close releases the driver and everything it made; it is called once.
	Close() error

	// Conv plans a convolution whose description passed Validate and
	// Supports.
	Conv(backend.ConvDesc) (WeightPlan[T], error)
	// Linear plans a fully connected layer (valid, supported).
	Linear(backend.LinearDesc) (WeightPlan[T], error)
	// BiasAdd plans a per-channel bias add (valid, supported).
	BiasAdd(backend.BiasDesc) (BiasPlan[T], error)
	// ReLU plans a ReLU over a valid shape.
	ReLU(backend.Shape) (ReLUPlan[T], error)
	// LRN plans local response normalisation (valid, supported).
	LRN(backend.LRNDesc) (LRNPlan[T], error)
	// MaxPool plans max pooling (valid, supported).
	MaxPool(backend.PoolDesc) (PoolPlan[T], error)
	// Dropout plans inverted dropout (valid, supported).
	Dropout(backend.DropoutDesc) (DropoutPlan[T], error)
	// SoftmaxCrossEntropy plans the loss (valid, supported).
	SoftmaxCrossEntropy(backend.SoftmaxDesc) (LossPlan[T], error)
	// SGD plans the update of parameters of a valid shape.
	SGD(backend.Shape) (SGDPlan[T], error)
}

// Supporter is implemented by a driver whose library cannot run every
// valid description (cuDNN's LRN window is at most 16 channels, for
// instance). Supports is called with a description that passed Validate:
// a ConvDesc, LinearDesc, BiasDesc, LRNDesc, PoolDesc, DropoutDesc,
// SoftmaxDesc, or a Shape for ReLU and SGD. It returns nil, or an
// [backend.ErrUnsupported] error (see [Errorf]) that says which limit the
// description breaks. The rulebook calls it before every plan call and
// for backend.Backend.Supports.
type Supporter interface {
	Supports(d backend.Desc) error
}

// Plan is what every driver plan has. The rulebook calls Close once, and
// never after the driver's Close.
type Plan interface {
	Close() error
}

// WeightPlan is a driver's convolution or fully connected plan: the
// methods of backend.WeightPlan with checked arguments. b and db are the
// zero T (nil) exactly when the description has no bias. The backward
// methods are never called on a plan made with Inference set.
type WeightPlan[T Tensor] interface {
	Plan
	Forward(x, w, b, y T) error
	BackwardData(dy, w, dx T) error
	BackwardFilter(x, dy, dw, db T) error
}

// BiasPlan is a driver's bias add; y may be x.
type BiasPlan[T Tensor] interface {
	Plan
	Forward(x, b, y T) error
	Backward(dy, db T) error
}

// ReLUPlan is a driver's ReLU; Forward's y may be x, Backward's dx may be
// dy.
type ReLUPlan[T Tensor] interface {
	Plan
	Forward(x, y T) error
	Backward(y, dy, dx T) error
}

// LRNPlan is a driver's LRN. Backward is called only with the x and y of
// the plan's latest successful Forward, and never on an inference plan.
type LRNPlan[T Tensor] interface {
	Plan
	Forward(x, y T) error
	Backward(x, y, dy, dx T) error
}

// PoolPlan is a driver's max pooling, with the same Backward guarantee as
// LRNPlan.
type PoolPlan[T Tensor] interface {
	Plan
	Forward(x, y T) error
	Backward(x, y, dy, dx T) error
}

// DropoutPlan is a driver's dropout; Backward is called only after a
// successful Forward. y may be x, dx may be dy.
type DropoutPlan[T Tensor] interface {
	Plan
	Forward(x, y T, seed uint64) error
	Backward(dy, dx T) error
}

// LossPlan is a driver's softmax cross-entropy. labels has one valid class
// per row; dlogits is the zero T (nil) when only the loss is wanted.
type LossPlan[T Tensor] interface {
	Plan
	Forward(logits T, labels []int32, loss, dlogits T) error
	Softmax(logits, probs T) error
}

// SGDPlan is a driver's SGD update, with valid hyper-parameters.
type SGDPlan[T Tensor] interface {
	Plan
	Step(param, grad, velocity T, p backend.SGDParams) error
}

// Register makes a driver available to backend.Open under name, behind the
// rulebook. It is called from the init function of the driver's package
// and panics, like database/sql.Register, if name is empty, open is nil or
// the name is taken. open receives options that passed
// backend.Options.Validate.
func Register[T Tensor](name string, open func(backend.Options) (Backend[T], error)) {
	if open == nil {
		registry.Add(name, nil)
		return
	}
	registry.Add(name, func(o backend.Options) (backend.Backend, error) {
		d, err := open(o)
		if err != nil {
			return nil, err
		}
		return Wrap(d), nil
	})
}

// Errorf returns a *backend.OpError for op of the given kind (one of the
// backend package's sentinel errors) with a formatted message.
func Errorf(op string, kind error, format string, args ...any) error {
	return &backend.OpError{Op: op, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Wrap puts the rulebook in front of an open driver: the returned
// backend.Backend checks every call as the package documentation says and
// passes only valid calls on to d. Register wraps the drivers it opens; a
// driver package's own Open function wraps with Wrap.
func Wrap[T Tensor](d Backend[T]) backend.Backend {
	return &front[T]{d: d, name: d.Info().Name}
}

// Unwrap returns the driver value behind a value the rulebook made: the
// driver of a backend.Backend from Wrap, the driver plan of a plan, the
// driver tensor (a T) of a tensor. ok is false for anything else (a nil,
// another backend's value). It is for a driver package's own extras —
// naming the kernels a plan runs, for instance — never for calling a
// driver around the rulebook.
func Unwrap(v any) (d any, ok bool) {
	u, ok := v.(unwrapper)
	if !ok {
		return nil, false
	}
	return u.unwrap(), true
}

// unwrapper is implemented by the rulebook's backends, tensors and plans.
type unwrapper interface{ unwrap() any }
