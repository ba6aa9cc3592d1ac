package backend

import (
	"fmt"
	"math"
)

// ConvDesc describes a 2-D convolution (cross-correlation) over an NCHW
// input with OIHW weights [Out, C/Groups, KernelH, KernelW].
type ConvDesc struct {
	Input            Shape // [N, C, H, W]
	Out              int   // output channels
	KernelH, KernelW int   // ≥ 1
	StrideH, StrideW int   // ≥ 1
	PadH, PadW       int   // zero padding on both sides, 0 ≤ pad < kernel
	Groups           int   // ≥ 1, dividing C and Out
	Bias             bool  // Forward adds a bias [Out]; BackwardFilter computes db
	ReLU             bool  // Forward applies max(·, 0) after the bias
	Inference        bool  // Forward only: see the package doc, "Inference plans"
}

func (d ConvDesc) String() string {
	s := fmt.Sprintf("conv2d(in %v, out %d, kernel %dx%d, stride %dx%d, pad %dx%d, groups %d", d.Input, d.Out,
		d.KernelH, d.KernelW, d.StrideH, d.StrideW, d.PadH, d.PadW, d.Groups)
	if d.Bias {
		s += ", bias"
	}
	if d.ReLU {
		s += ", relu"
	}
	return s + inferenceSuffix(d.Inference) + ")"
}

// Validate checks the description and returns an ErrShape or ErrInvalid
// error naming the offending field. Besides the ranges of each field it
// bounds every derived size — weights, output, the im2col matrix of one
// image — by MaxElements, and kernel, stride, padding and Out by MaxDim.
func (d ConvDesc) Validate() error {
	const op = "conv2d"
	if err := validateRank(op, "input", d.Input, 4); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return errorf(op, ErrInvalid, "%s: %s", d, fmt.Sprintf(format, args...))
	}
	switch {
	case d.Out < 1:
		return bad("output channels %d, want ≥ 1", d.Out)
	case d.KernelH < 1 || d.KernelW < 1:
		return bad("kernel %dx%d, want ≥ 1", d.KernelH, d.KernelW)
	case d.StrideH < 1 || d.StrideW < 1:
		return bad("stride %dx%d, want ≥ 1", d.StrideH, d.StrideW)
	case d.PadH < 0 || d.PadW < 0 || d.PadH >= d.KernelH || d.PadW >= d.KernelW:
		return bad("padding %dx%d, want 0 ≤ pad < kernel", d.PadH, d.PadW)
	case d.Groups < 1:
		return bad("groups %d, want ≥ 1", d.Groups)
	case d.Input[1]%d.Groups != 0 || d.Out%d.Groups != 0:
		return bad("%d input and %d output channels are not divisible by %d groups", d.Input[1], d.Out, d.Groups)
	}
	if err := checkDims(op, d, "output channels, kernel, stride and padding", d.Out, d.KernelH, d.KernelW,
		d.StrideH, d.StrideW, d.PadH, d.PadW); err != nil {
		return err
	}
	oh, ow := outSize(d.Input[2], d.KernelH, d.StrideH, d.PadH), outSize(d.Input[3], d.KernelW, d.StrideW, d.PadW)
	if oh < 1 || ow < 1 {
		return bad("output would be %dx%d, want ≥ 1x1", oh, ow)
	}
	// Every derived size: the weights, the output, and the im2col matrix of
	// one image ([C·KH·KW, OH·OW], the columns an im2col + GEMM
	// implementation builds).
	if err := checkSize(op, d, "the weights [Out, C/Groups, KH, KW]", d.Out, d.Input[1]/d.Groups, d.KernelH, d.KernelW); err != nil {
		return err
	}
	if err := checkSize(op, d, "the output [N, Out, OH, OW]", d.Input[0], d.Out, oh, ow); err != nil {
		return err
	}
	return checkSize(op, d, "one image's im2col matrix [C·KH·KW, OH·OW]", d.Input[1], d.KernelH, d.KernelW, oh, ow)
}

// OutputShape is the shape of y: [N, Out, OH, OW]. Valid only for a
// description that passes Validate.
func (d ConvDesc) OutputShape() Shape {
	return Shape{d.Input[0], d.Out, outSize(d.Input[2], d.KernelH, d.StrideH, d.PadH), outSize(d.Input[3], d.KernelW, d.StrideW, d.PadW)}
}

// WeightShape is the OIHW shape of w: [Out, C/Groups, KernelH, KernelW].
func (d ConvDesc) WeightShape() Shape {
	return Shape{d.Out, d.Input[1] / d.Groups, d.KernelH, d.KernelW}
}

// FLOPs is the forward pass's floating-point operation count, two per
// multiply-add (the backward passes cost as much each).
func (d ConvDesc) FLOPs() int64 {
	y := d.OutputShape()
	return 2 * int64(y.Numel()) * int64(d.Input[1]/d.Groups*d.KernelH*d.KernelW)
}

func outSize(in, k, stride, pad int) int {
	if in+2*pad < k {
		return 0
	}
	return (in+2*pad-k)/stride + 1
}

// LinearDesc describes a fully connected layer y = x·wᵀ + b with weights
// [Out, In]. The input may have rank 2 to 4; it is read as [N, In] with In
// the product of all but the first dimension.
type LinearDesc struct {
	Input Shape // [N, In] or [N, C, H, W]
	Out   int   // output features
	Bias  bool  // Forward adds a bias [Out]; BackwardFilter computes db
	ReLU  bool  // Forward applies max(·, 0) after the bias
	// Inference plans Forward only: see the package doc, "Inference plans".
	Inference bool
}

func (d LinearDesc) String() string {
	s := fmt.Sprintf("linear(in %v, out %d", d.Input, d.Out)
	if d.Bias {
		s += ", bias"
	}
	if d.ReLU {
		s += ", relu"
	}
	return s + inferenceSuffix(d.Inference) + ")"
}

// Validate checks the description: the input shape, Out ≥ 1, and the
// weights [Out, In] and output [N, Out] within MaxElements.
func (d LinearDesc) Validate() error {
	const op = "linear"
	if len(d.Input) < 2 || len(d.Input) > MaxRank {
		return errorf(op, ErrShape, "%s: input rank %d, want 2 to %d", d, len(d.Input), MaxRank)
	}
	if err := d.Input.Validate(); err != nil {
		return errorf(op, ErrShape, "%s: every input dimension must be ≥ 1", d)
	}
	if d.Out < 1 {
		return errorf(op, ErrInvalid, "%s: output features %d, want ≥ 1", d, d.Out)
	}
	if err := checkSize(op, d, "the weights [Out, In]", d.Out, d.In()); err != nil {
		return err
	}
	return checkSize(op, d, "the output [N, Out]", d.Input[0], d.Out)
}

// In is the number of input features: the product of all but the first
// input dimension.
func (d LinearDesc) In() int { return d.Input[1:].Numel() }

// OutputShape is [N, Out].
func (d LinearDesc) OutputShape() Shape { return Shape{d.Input[0], d.Out} }

// WeightShape is [Out, In].
func (d LinearDesc) WeightShape() Shape { return Shape{d.Out, d.In()} }

// FLOPs is the forward pass's floating-point operation count.
func (d LinearDesc) FLOPs() int64 { return 2 * int64(d.Input[0]) * int64(d.In()) * int64(d.Out) }

// Desc is the description of one plan, as Backend.Supports takes it: a
// ConvDesc, LinearDesc, BiasDesc, LRNDesc, PoolDesc, DropoutDesc,
// SoftmaxDesc, or a Shape (the description of a ReLU or SGD plan).
type Desc interface {
	// Validate checks the description against the contract; a backend's
	// own limits are Supports' business.
	Validate() error
}

var (
	_ Desc = ConvDesc{}
	_ Desc = LinearDesc{}
	_ Desc = BiasDesc{}
	_ Desc = LRNDesc{}
	_ Desc = PoolDesc{}
	_ Desc = DropoutDesc{}
	_ Desc = SoftmaxDesc{}
	_ Desc = Shape{}
)

// WeightDesc describes a layer with a weight and an optional bias, planned
// as a WeightPlan: a ConvDesc or a LinearDesc (no other type implements
// it). Code that treats both alike (a network's layer loop, a benchmark)
// holds a WeightDesc and plans it with PlanWeight.
type WeightDesc interface {
	// InputShape is the shape of x.
	InputShape() Shape
	// OutputShape is the shape of y. Valid only for a description that
	// passes Validate.
	OutputShape() Shape
	// WeightShape is the shape of w; the bias has WeightShape()[0]
	// elements.
	WeightShape() Shape
	// FLOPs is the forward pass's floating-point operation count.
	FLOPs() int64
	// WithBatch returns a copy of the description with batch size n (the
	// first input dimension); the receiver is not changed.
	WithBatch(n int) WeightDesc
	// WithInference returns a copy of the description with its Inference
	// flag set to on (see "Inference plans" in the package doc).
	WithInference(on bool) WeightDesc
	// Validate checks the description.
	Validate() error
	String() string

	weightDesc() // only ConvDesc and LinearDesc
}

var (
	_ WeightDesc = ConvDesc{}
	_ WeightDesc = LinearDesc{}
)

// PlanWeight plans d on b: b.Conv for a ConvDesc, b.Linear for a
// LinearDesc. A nil d is an ErrInvalid error.
func PlanWeight(b Backend, d WeightDesc) (WeightPlan, error) {
	switch d := d.(type) {
	case ConvDesc:
		return b.Conv(d)
	case LinearDesc:
		return b.Linear(d)
	}
	return nil, errorf("plan", ErrInvalid, "weight description is nil")
}

// InputShape is the shape of x: [N, C, H, W].
func (d ConvDesc) InputShape() Shape { return d.Input }

// WithBatch returns a copy of d with batch size n.
func (d ConvDesc) WithBatch(n int) WeightDesc {
	d.Input = withBatch(d.Input, n)
	return d
}

// WithInference returns a copy of d with Inference set to on.
func (d ConvDesc) WithInference(on bool) WeightDesc {
	d.Inference = on
	return d
}

func (ConvDesc) weightDesc() {}

// InputShape is the shape of x: [N, In] or [N, C, H, W].
func (d LinearDesc) InputShape() Shape { return d.Input }

// WithBatch returns a copy of d with batch size n.
func (d LinearDesc) WithBatch(n int) WeightDesc {
	d.Input = withBatch(d.Input, n)
	return d
}

// WithInference returns a copy of d with Inference set to on.
func (d LinearDesc) WithInference(on bool) WeightDesc {
	d.Inference = on
	return d
}

func (LinearDesc) weightDesc() {}

// withBatch returns a copy of s with its first dimension n (s itself, nil
// or empty, unchanged).
func withBatch(s Shape, n int) Shape {
	if len(s) == 0 {
		return s
	}
	out := s.Clone()
	out[0] = n
	return out
}

// BiasDesc describes a per-channel bias addition over tensors of Shape
// (rank 2 to 4); the bias has Shape[1] elements.
type BiasDesc struct {
	Shape Shape
}

// Validate checks the description.
func (d BiasDesc) Validate() error {
	if len(d.Shape) < 2 || len(d.Shape) > MaxRank || d.Shape.Validate() != nil {
		return errorf("bias", ErrShape, "shape %v, want rank 2 to %d with every dimension ≥ 1", d.Shape, MaxRank)
	}
	return nil
}

// LRNDesc describes local response normalisation across channels:
// y[c] = x[c] / (K + Alpha/Size · Σ x[c']²)^Beta over the Size channels
// centred on c (the frameworks' convention; see the package doc).
type LRNDesc struct {
	Input Shape   // [N, C, H, W]
	Size  int     // window, odd, ≥ 1 (AlexNet: 5)
	Alpha float64 // ≥ 0, divided by Size in the formula
	Beta  float64 // ≥ 0
	K     float64 // > 0
	// Inference plans Forward only: see the package doc, "Inference plans".
	Inference bool
}

func (d LRNDesc) String() string {
	return fmt.Sprintf("lrn(in %v, size %d, alpha %g, beta %g, k %g%s)", d.Input, d.Size, d.Alpha, d.Beta, d.K,
		inferenceSuffix(d.Inference))
}

// Validate checks the description.
func (d LRNDesc) Validate() error {
	const op = "lrn"
	if err := validateRank(op, "input", d.Input, 4); err != nil {
		return err
	}
	switch {
	case d.Size < 1 || d.Size%2 == 0 || d.Size > MaxDim:
		return errorf(op, ErrInvalid, "%s: size %d, want an odd number from 1 to %d", d, d.Size, MaxDim)
	case !(d.Alpha >= 0) || math.IsInf(d.Alpha, 0):
		return errorf(op, ErrInvalid, "%s: alpha %g, want finite and ≥ 0", d, d.Alpha)
	case !(d.Beta >= 0) || math.IsInf(d.Beta, 0):
		return errorf(op, ErrInvalid, "%s: beta %g, want finite and ≥ 0", d, d.Beta)
	case !(d.K > 0) || math.IsInf(d.K, 0):
		return errorf(op, ErrInvalid, "%s: k %g, want finite and > 0", d, d.K)
	}
	return nil
}

// PoolDesc describes 2-D max pooling in floor mode. Padded positions never
// win; each window contains at least one real input (pad ≤ kernel/2).
type PoolDesc struct {
	Input            Shape // [N, C, H, W]
	KernelH, KernelW int   // ≥ 1
	StrideH, StrideW int   // ≥ 1
	PadH, PadW       int   // 0 ≤ pad ≤ kernel/2
	Inference        bool  // Forward only: see the package doc, "Inference plans"
}

func (d PoolDesc) String() string {
	return fmt.Sprintf("maxpool2d(in %v, kernel %dx%d, stride %dx%d, pad %dx%d%s)", d.Input, d.KernelH, d.KernelW,
		d.StrideH, d.StrideW, d.PadH, d.PadW, inferenceSuffix(d.Inference))
}

// Validate checks the description.
func (d PoolDesc) Validate() error {
	const op = "maxpool2d"
	if err := validateRank(op, "input", d.Input, 4); err != nil {
		return err
	}
	switch {
	case d.KernelH < 1 || d.KernelW < 1:
		return errorf(op, ErrInvalid, "%s: kernel, want ≥ 1", d)
	case d.StrideH < 1 || d.StrideW < 1:
		return errorf(op, ErrInvalid, "%s: stride, want ≥ 1", d)
	case d.PadH < 0 || d.PadW < 0 || d.PadH > d.KernelH/2 || d.PadW > d.KernelW/2:
		return errorf(op, ErrInvalid, "%s: padding, want 0 ≤ pad ≤ kernel/2", d)
	}
	if err := checkDims(op, d, "kernel, stride and padding", d.KernelH, d.KernelW, d.StrideH, d.StrideW, d.PadH, d.PadW); err != nil {
		return err
	}
	oh, ow := outSize(d.Input[2], d.KernelH, d.StrideH, d.PadH), outSize(d.Input[3], d.KernelW, d.StrideW, d.PadW)
	if oh < 1 || ow < 1 {
		return errorf(op, ErrInvalid, "%s: output would be %dx%d, want ≥ 1x1", d, oh, ow)
	}
	return nil
}

// OutputShape is [N, C, OH, OW].
func (d PoolDesc) OutputShape() Shape {
	return Shape{d.Input[0], d.Input[1], outSize(d.Input[2], d.KernelH, d.StrideH, d.PadH), outSize(d.Input[3], d.KernelW, d.StrideW, d.PadW)}
}

// DropoutDesc describes inverted dropout over tensors of Shape, dropping
// each element with probability P.
type DropoutDesc struct {
	Shape Shape
	P     float64 // 0 ≤ P < 1
}

// Validate checks the description.
func (d DropoutDesc) Validate() error {
	if err := d.Shape.Validate(); err != nil {
		return errorf("dropout", ErrShape, "shape %v, want 1 to %d dimensions, each ≥ 1", d.Shape, MaxRank)
	}
	if !(d.P >= 0 && d.P < 1) {
		return errorf("dropout", ErrInvalid, "probability %g, want 0 ≤ p < 1", d.P)
	}
	return nil
}

// SoftmaxDesc describes softmax with cross-entropy over logits [N, Classes].
type SoftmaxDesc struct {
	Logits Shape // [N, Classes]
}

// Validate checks the description.
func (d SoftmaxDesc) Validate() error {
	return validateRank("softmax_cross_entropy", "logits", d.Logits, 2)
}

// SGDRule selects the momentum SGD update rule.
type SGDRule int

const (
	// PyTorchSGD is torch.optim.SGD (dampening 0, not Nesterov):
	//   d = g + wd·w;  v = μ·v + d;  w = w − lr·v.
	PyTorchSGD SGDRule = iota
	// PaperSGD is Krizhevsky et al. (2012):
	//   v = μ·v − wd·lr·w − lr·g;  w = w + v.
	// With a constant learning rate both give the same iterates (this v is
	// −lr times PyTorch's); they differ once lr changes, since this v
	// carries the old rate.
	PaperSGD
)

func (r SGDRule) String() string {
	switch r {
	case PyTorchSGD:
		return "pytorch"
	case PaperSGD:
		return "paper"
	}
	return fmt.Sprintf("SGDRule(%d)", int(r))
}

// SGDParams are the hyper-parameters of one SGD step.
type SGDParams struct {
	LR          float32 // learning rate, ≥ 0
	Momentum    float32 // μ, 0 ≤ μ < 1
	WeightDecay float32 // L2 decay added to the gradient, ≥ 0
	Rule        SGDRule
}

// Validate checks the hyper-parameters.
func (p SGDParams) Validate() error {
	f := func(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
	switch {
	case !f(p.LR) || p.LR < 0:
		return errorf("sgd", ErrInvalid, "learning rate %g, want finite and ≥ 0", p.LR)
	case !f(p.Momentum) || p.Momentum < 0 || p.Momentum >= 1:
		return errorf("sgd", ErrInvalid, "momentum %g, want 0 ≤ μ < 1", p.Momentum)
	case !f(p.WeightDecay) || p.WeightDecay < 0:
		return errorf("sgd", ErrInvalid, "weight decay %g, want finite and ≥ 0", p.WeightDecay)
	case p.Rule != PyTorchSGD && p.Rule != PaperSGD:
		return errorf("sgd", ErrInvalid, "unknown rule %v", p.Rule)
	}
	return nil
}

// inferenceSuffix is the String of a description's Inference flag.
func inferenceSuffix(inference bool) string {
	if inference {
		return ", inference"
	}
	return ""
}
