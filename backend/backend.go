package backend

// Backend is one compute backend: a factory of tensors and op plans on one
// in-order stream. See the package documentation for the rules every
// implementation follows.
type Backend interface {
	// Info describes the backend: its name, device, library versions.
	Info() Info

	// NewTensor allocates a zero-filled tensor with the given logical shape
	// (1 to 4 dimensions, each ≥ 1).
	NewTensor(shape ...int) (Tensor, error)
	// Upload copies src, dense row-major float32 in the tensor's logical
	// shape, into dst. src may be reused as soon as Upload returns.
	Upload(dst Tensor, src []float32) error
	// Download waits for the work that writes src and copies it, dense
	// row-major, into dst, which must have exactly src's element count.
	Download(dst []float32, src Tensor) error
	// Sync waits until all submitted work has finished and reports the
	// first asynchronous error, if any.
	Sync() error
	// Close releases the backend and everything it made. Closing twice is
	// harmless.
	Close() error

	// Supports reports whether the backend can plan d: nil, the error
	// d.Validate gives (ErrInvalid, ErrShape), or ErrUnsupported naming
	// the limit of this backend's library that d breaks. Every plan call
	// makes the same check first.
	Supports(d Desc) error

	// Conv plans a 2-D convolution.
	Conv(ConvDesc) (WeightPlan, error)
	// Linear plans a fully connected layer.
	Linear(LinearDesc) (WeightPlan, error)
	// BiasAdd plans a per-channel bias addition.
	BiasAdd(BiasDesc) (BiasPlan, error)
	// ReLU plans a rectified linear unit over tensors of one shape.
	ReLU(Shape) (ReLUPlan, error)
	// LRN plans local response normalisation across channels.
	LRN(LRNDesc) (LRNPlan, error)
	// MaxPool plans 2-D max pooling.
	MaxPool(PoolDesc) (PoolPlan, error)
	// Dropout plans inverted dropout.
	Dropout(DropoutDesc) (DropoutPlan, error)
	// SoftmaxCrossEntropy plans softmax with mean cross-entropy loss.
	SoftmaxCrossEntropy(SoftmaxDesc) (LossPlan, error)
	// SGD plans the momentum SGD update of parameters of one shape.
	SGD(Shape) (SGDPlan, error)
}

// Tensor is a backend-owned array of float32 with a logical shape.
type Tensor interface {
	// Shape is the logical shape. The caller must not modify it.
	Shape() Shape
	// Close releases the tensor's memory. Closing twice is harmless.
	Close() error
}

// Plan is what every op plan has: a way to release it.
type Plan interface {
	// Close releases the plan and its saved state. Closing twice is
	// harmless; executing a closed plan returns ErrClosed.
	Close() error
}

// WeightPlan is the plan of a layer with weights: a convolution or a fully
// connected layer.
type WeightPlan interface {
	Plan
	// Forward computes y = x ⊛ w (+ b) (then ReLU when the desc asks for
	// it). b must be nil exactly when the desc has no bias.
	Forward(x, w, b, y Tensor) error
	// BackwardData computes dx, the gradient with respect to the input,
	// from the output gradient dy.
	BackwardData(dy, w, dx Tensor) error
	// BackwardFilter computes dw and db (nil when the desc has no bias)
	// from the input x and the output gradient dy, overwriting both.
	BackwardFilter(x, dy, dw, db Tensor) error
}

// BiasPlan adds a per-channel bias (dimension 1 of the shape).
type BiasPlan interface {
	Plan
	// Forward computes y = x + b broadcast over every dimension but 1. y
	// may be x.
	Forward(x, b, y Tensor) error
	// Backward computes db[c] = Σ dy[:, c, ...], overwriting db.
	Backward(dy, db Tensor) error
}

// ReLUPlan is a rectified linear unit.
type ReLUPlan interface {
	Plan
	// Forward computes y = max(x, 0). y may be x.
	Forward(x, y Tensor) error
	// Backward computes dx = dy·[y > 0] from the forward's output y (or its
	// input: the mask is the same). dx may be dy.
	Backward(y, dy, dx Tensor) error
}

// LRNPlan is local response normalisation across channels.
type LRNPlan interface {
	Plan
	// Forward computes y = LRN(x).
	Forward(x, y Tensor) error
	// Backward computes dx from the x and y of the latest Forward and dy.
	Backward(x, y, dy, dx Tensor) error
}

// PoolPlan is 2-D max pooling.
type PoolPlan interface {
	Plan
	// Forward computes y = maxpool(x).
	Forward(x, y Tensor) error
	// Backward routes dy to the argmax positions of the latest Forward on
	// x (whose output was y), overwriting dx.
	Backward(x, y, dy, dx Tensor) error
}

// DropoutPlan is inverted dropout in training mode.
type DropoutPlan interface {
	Plan
	// Forward draws the mask for seed (see DropoutKeep) and computes
	// y = x·mask/(1−p). y may be x.
	Forward(x, y Tensor, seed uint64) error
	// Backward computes dx = dy·mask/(1−p) with the mask of the latest
	// Forward. dx may be dy.
	Backward(dy, dx Tensor) error
}

// LossPlan is softmax with mean cross-entropy over a batch of logits.
type LossPlan interface {
	Plan
	// Forward computes the mean cross-entropy loss (into the [1]-shaped
	// tensor loss) and its gradient with respect to the logits, for labels
	// (one per row, each in [0, classes)). dlogits may be nil when only the
	// loss is wanted. labels may be reused as soon as Forward returns.
	Forward(logits Tensor, labels []int32, loss, dlogits Tensor) error
	// Softmax computes the class probabilities of every row of logits.
	Softmax(logits, probs Tensor) error
}

// SGDPlan updates parameters of one shape in place.
type SGDPlan interface {
	Plan
	// Step updates param and its momentum buffer velocity from the gradient
	// grad, all three of the plan's shape. grad is only read. A new
	// velocity tensor is zero, which makes the first step of both rules
	// match PyTorch's (whose buffer starts at the first gradient).
	Step(param, grad, velocity Tensor, p SGDParams) error
}
