package alexnet

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/dnngo/dnngo/backend"
)

// Conv is one convolution layer of a Config: Out filters of Kernel×Kernel
// with the given stride and zero padding, split into Groups groups (2 in
// the paper's two-GPU layers, 1 elsewhere). Every convolution has a bias
// and is followed by ReLU.
type Conv struct {
	Out    int `json:"out"`
	Kernel int `json:"kernel"`
	Stride int `json:"stride"`
	Pad    int `json:"pad"`
	Groups int `json:"groups"`
}

// LRN holds the constants of local response normalisation across
// channels, in the frameworks' convention that the backends implement:
//
//	y[c] = x[c] / (K + Alpha/Size · Σ_{|c'−c| ≤ Size/2} x[c']²)^Beta
//
// Note the division of Alpha by Size. See LRNPaper, LRNTorch and LRNCaffe.
type LRN struct {
	Size  int     `json:"size"`
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`
	K     float64 `json:"k"`
}

// The LRN presets. They differ only in Alpha (as read in the /n convention)
// and K, which is the whole of the confusion around "AlexNet's LRN".
var (
	// LRNPaper is the paper as printed: k = 2, n = 5, β = 0.75 and
	// y = x/(k + α·Σx²)^β with α = 1e-4 and no division by n, which is
	// α = 5e-4 in the /n convention. Seed and Paper use it.
	LRNPaper = LRN{Size: 5, Alpha: 5e-4, Beta: 0.75, K: 2}
	// LRNTorch is torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75,
	// k=2): α = 1e-4 divided by n, as the author's own cuda-convnet2 code
	// does and as the golden test data was made. Mini uses it.
	LRNTorch = LRN{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}
	// LRNCaffe is Caffe's reference bvlc_alexnet: α = 1e-4 divided by n and
	// Caffe's default k = 1.
	LRNCaffe = LRN{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}
)

// Pool is the max pooling after LRN1, LRN2 and conv5: Kernel×Kernel
// windows moved by Stride, no padding, floor mode. AlexNet's is 3/2
// ("overlapping" pooling).
type Pool struct {
	Kernel int `json:"kernel"`
	Stride int `json:"stride"`
}

// Init selects how New draws the initial parameters.
type Init int

const (
	// InitPaper is the paper's initialisation: every weight from
	// N(0, 0.01²); biases 1 in conv2, conv4, conv5, fc6 and fc7 (so that
	// their ReLUs start with positive inputs), 0 in conv1, conv3 and fc8.
	InitPaper Init = iota
	// InitKaiming is He et al. (2015): weights from N(0, 2/fan_in) for the
	// layers followed by ReLU and N(0, 1/fan_in) for fc8, with
	// fan_in = (C/groups)·k·k or the FC input width; biases 0. Activations
	// keep their scale through the network whatever its depth and width.
	InitKaiming
)

func (i Init) String() string {
	switch i {
	case InitPaper:
		return "paper"
	case InitKaiming:
		return "kaiming"
	}
	return fmt.Sprintf("Init(%d)", int(i))
}

// MarshalText implements encoding.TextMarshaler ("paper", "kaiming").
func (i Init) MarshalText() ([]byte, error) {
	if i != InitPaper && i != InitKaiming {
		return nil, fmt.Errorf("alexnet: unknown init %d", int(i))
	}
	return []byte(i.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (i *Init) UnmarshalText(b []byte) error {
	switch string(b) {
	case "paper":
		*i = InitPaper
	case "kaiming":
		*i = InitKaiming
	default:
		return fmt.Errorf("alexnet: unknown init %q (want paper or kaiming)", b)
	}
	return nil
}

// SGD holds the optimiser's hyper-parameters: stochastic gradient descent
// with momentum and L2 weight decay (applied to every parameter, biases
// included, as the golden data does), with one of the two update rules of
// backend.SGDRule:
//
//	PyTorchSGD: d = g + wd·w;  v = μ·v + d;          w = w − lr·v
//	PaperSGD:   v = μ·v − wd·lr·w − lr·g;            w = w + v
//
// Both start from v = 0 and give the same iterates while the learning rate
// is constant; after a change of lr the paper's v still carries the old
// rate for a few steps.
type SGD struct {
	LR          float32         `json:"lr"` // initial learning rate; the network's current rate is Optimizer.LR
	Momentum    float32         `json:"momentum"`
	WeightDecay float32         `json:"weight_decay"`
	Rule        backend.SGDRule `json:"-"`
}

type sgdJSON struct {
	LR          float32 `json:"lr"`
	Momentum    float32 `json:"momentum"`
	WeightDecay float32 `json:"weight_decay"`
	Rule        string  `json:"rule"`
}

// MarshalJSON writes the rule by name ("pytorch", "paper").
func (s SGD) MarshalJSON() ([]byte, error) {
	if s.Rule != backend.PyTorchSGD && s.Rule != backend.PaperSGD {
		return nil, fmt.Errorf("alexnet: unknown SGD rule %v", s.Rule)
	}
	return json.Marshal(sgdJSON{s.LR, s.Momentum, s.WeightDecay, s.Rule.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *SGD) UnmarshalJSON(b []byte) error {
	var j sgdJSON
	if err := strictJSON(string(b), &j); err != nil {
		return err
	}
	switch j.Rule {
	case backend.PyTorchSGD.String():
		s.Rule = backend.PyTorchSGD
	case backend.PaperSGD.String():
		s.Rule = backend.PaperSGD
	default:
		return fmt.Errorf("alexnet: unknown SGD rule %q (want pytorch or paper)", j.Rule)
	}
	s.LR, s.Momentum, s.WeightDecay = j.LR, j.Momentum, j.WeightDecay
	return nil
}

// Plateau is the learning-rate schedule "divide by 10 when the validation
// error stops improving" (Optimizer.Observe feeds it one metric per
// validation round). A round improves when the metric beats the best so far
// by more than Threshold relative to it; after Patience rounds in a row
// without improvement the rate is multiplied by Factor and the count starts
// again. After MaxDrops reductions (0: no limit) the rate stays put.
type Plateau struct {
	Factor    float64 `json:"factor"`    // in (0, 1); 0.1 divides by 10
	Patience  int     `json:"patience"`  // ≥ 1
	Threshold float64 `json:"threshold"` // ≥ 0, relative
	MaxDrops  int     `json:"max_drops"` // ≥ 0; the paper divided 3 times
	Maximize  bool    `json:"maximize"`  // the metric is better when larger (accuracy) rather than smaller (error, loss)
}

// Config describes one AlexNet variant: the fixed AlexNet topology
//
//	input Channels×Input×Input
//	conv1 → ReLU → LRN → maxpool
//	conv2 → ReLU → LRN → maxpool
//	conv3 → ReLU
//	conv4 → ReLU
//	conv5 → ReLU → maxpool
//	fc6 → ReLU → dropout
//	fc7 → ReLU → dropout
//	fc8 → softmax (with the mean cross-entropy loss in training)
//
// with every size, width and constant a field. Seed, Paper and Mini return
// the three variants this project uses; change fields of one of them for
// another. Validate (and New) reject a config whose layers do not fit,
// naming the layer.
type Config struct {
	Name     string  `json:"name"`     // a label for summaries and checkpoints
	Input    int     `json:"input"`    // side of the square input image
	Channels int     `json:"channels"` // input channels
	Classes  int     `json:"classes"`  // width of fc8
	Conv     [5]Conv `json:"conv"`     // conv1 … conv5
	Hidden   [2]int  `json:"hidden"`   // widths of fc6 and fc7
	LRN      LRN     `json:"lrn"`      // after the ReLUs of conv1 and conv2
	Pool     Pool    `json:"pool"`     // after LRN1, LRN2 and conv5's ReLU
	Dropout  float64 `json:"dropout"`  // drop probability after fc6 and fc7 in training; 0: none
	Init     Init    `json:"init"`     // how New draws the parameters
	Seed     uint64  `json:"seed"`     // seeds the initialisation and the dropout masks
	SGD      SGD     `json:"sgd"`
	Schedule Plateau `json:"schedule"`
}

// SeedConfig is the configuration of the Seed network, our spec's
// default (the "seed" variant; not to be confused with Config.Seed, the
// random seed): the single-tower AlexNet
// on 227×227×3 images, convolutions 96@11×11/4, 256@5×5 pad 2, 384, 384,
// 256 @3×3 pad 1, FC 4096-4096-1000, LRN with the paper's constants
// (LRNPaper), overlapping 3/2 max pooling, dropout 0.5; the paper's
// initialisation; SGD with momentum 0.9, weight decay 5e-4, learning rate
// 0.01 (PyTorch's update rule), divided by 10 at most 3 times when the
// validation metric stops improving for 2 rounds.
func SeedConfig() Config {
	return Config{
		Name: "seed", Input: 227, Channels: 3, Classes: 1000,
		Conv: [5]Conv{
			{Out: 96, Kernel: 11, Stride: 4, Pad: 0, Groups: 1},
			{Out: 256, Kernel: 5, Stride: 1, Pad: 2, Groups: 1},
			{Out: 384, Kernel: 3, Stride: 1, Pad: 1, Groups: 1},
			{Out: 384, Kernel: 3, Stride: 1, Pad: 1, Groups: 1},
			{Out: 256, Kernel: 3, Stride: 1, Pad: 1, Groups: 1},
		},
		Hidden:   [2]int{4096, 4096},
		LRN:      LRNPaper,
		Pool:     Pool{Kernel: 3, Stride: 2},
		Dropout:  0.5,
		Init:     InitPaper,
		Seed:     1,
		SGD:      SGD{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, Rule: backend.PyTorchSGD},
		Schedule: Plateau{Factor: 0.1, Patience: 2, Threshold: 1e-4, MaxDrops: 3},
	}
}

// Seed is SeedConfig.
//
// Deprecated: use SeedConfig; Seed reads like Config.Seed, the random seed.
func Seed() Config { return SeedConfig() }

// Paper is the original two-GPU network of Krizhevsky et al. (2012) on one
// device: Seed with groups = 2 in conv2, conv4 and conv5 (each half of those
// layers sees only the half of the previous layer's maps that lived on its
// GPU; conv3 and the FC layers see both), and the paper's own update rule
// (PaperSGD). The input is 227×227, not the paper's "224": only 227 gives
// the 55×55 conv1 output that the rest of the paper's sizes follow from.
func Paper() Config {
	c := SeedConfig()
	c.Name = "paper"
	c.Conv[1].Groups, c.Conv[3].Groups, c.Conv[4].Groups = 2, 2, 2
	c.SGD.Rule = backend.PaperSGD
	return c
}

// Mini is exactly the mini_alexnet network of the golden test data: 99×99×3
// input, convolutions 16-32-48-48-32 with AlexNet's kernels, strides and
// padding, FC 64-64-10, LRN as torch.nn.LocalResponseNorm(5, 1e-4, 0.75, 2)
// (LRNTorch), no dropout, SGD lr 0.01 with PyTorch's rule. Its parameters
// are drawn with InitKaiming (the golden's were drawn the same way, with
// PyTorch's generator). Small enough to train in tests.
func Mini() Config {
	c := SeedConfig()
	c.Name = "mini"
	c.Input, c.Classes = 99, 10
	for i, w := range []int{16, 32, 48, 48, 32} {
		c.Conv[i].Out = w
	}
	c.Hidden = [2]int{64, 64}
	c.LRN = LRNTorch
	c.Dropout = 0
	c.Init = InitKaiming
	return c
}

// Limits that keep every size computation far from integer overflow; the
// backend's own limit (2^31−1 elements per tensor) applies on top.
const (
	maxSide  = 1 << 16 // input side, kernel, stride, padding
	maxWidth = 1 << 20 // channels, filters, FC widths, classes
)

// layer is one weight layer of a config at batch 1 with what follows it,
// as New plans it and Summary counts it.
type layer struct {
	name      string             // conv1 … conv5, fc6 … fc8
	w         backend.WeightDesc // a ConvDesc or a LinearDesc
	relu      bool
	lrn       *backend.LRNDesc
	pool      *backend.PoolDesc
	dropout   bool
	out       backend.Shape // the weight op's output at batch 1
	final     backend.Shape // the stage's output (after pooling) at batch 1
	wshape    backend.Shape
	paperBias float32 // the paper's initial bias of this layer
}

// Validate checks the config and returns an error naming the first layer
// (or field) that does not fit: a width < 1, a kernel larger than its
// padded input, an output smaller than 1×1, groups that do not divide the
// channels, LRN, dropout or optimiser constants out of range.
func (c Config) Validate() error {
	_, err := c.layers()
	return err
}

func (c Config) errf(where, format string, args ...any) error {
	name := c.Name
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Errorf("alexnet: config %s: %s: %s", name, where, fmt.Sprintf(format, args...))
}

// layers validates the config and derives its eight weight layers.
func (c Config) layers() ([]layer, error) {
	switch {
	case c.Input < 1 || c.Input > maxSide:
		return nil, c.errf("input", "image side %d, want 1 to %d", c.Input, maxSide)
	case c.Channels < 1 || c.Channels > maxWidth:
		return nil, c.errf("input", "%d channels, want 1 to %d", c.Channels, maxWidth)
	case c.Classes < 1 || c.Classes > maxWidth:
		return nil, c.errf("fc8", "%d classes, want 1 to %d", c.Classes, maxWidth)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return nil, c.errf("dropout", "probability %g, want 0 ≤ p < 1", c.Dropout)
	case c.Init != InitPaper && c.Init != InitKaiming:
		return nil, c.errf("init", "unknown initialisation %v", c.Init)
	}
	for i, h := range c.Hidden {
		if h < 1 || h > maxWidth {
			return nil, c.errf(fmt.Sprintf("fc%d", 6+i), "width %d, want 1 to %d", h, maxWidth)
		}
	}
	if c.Pool.Kernel < 1 || c.Pool.Kernel > maxSide || c.Pool.Stride < 1 || c.Pool.Stride > maxSide {
		return nil, c.errf("pool", "kernel %d stride %d, want both 1 to %d", c.Pool.Kernel, c.Pool.Stride, maxSide)
	}
	if err := (backend.SGDParams{LR: c.SGD.LR, Momentum: c.SGD.Momentum, WeightDecay: c.SGD.WeightDecay, Rule: c.SGD.Rule}).Validate(); err != nil {
		return nil, c.errf("sgd", "%v", err)
	}
	s := c.Schedule
	switch {
	case !(s.Factor > 0 && s.Factor < 1):
		return nil, c.errf("schedule", "factor %g, want 0 < factor < 1", s.Factor)
	case s.Patience < 1:
		return nil, c.errf("schedule", "patience %d, want ≥ 1", s.Patience)
	case !(s.Threshold >= 0) || math.IsInf(s.Threshold, 0):
		return nil, c.errf("schedule", "threshold %g, want finite and ≥ 0", s.Threshold)
	case s.MaxDrops < 0:
		return nil, c.errf("schedule", "max drops %d, want ≥ 0", s.MaxDrops)
	}

	var out []layer
	in := backend.Shape{1, c.Channels, c.Input, c.Input}
	// Paper biases: 1 in conv2, conv4, conv5 and the hidden FC layers.
	paperBias := [8]float32{0, 1, 0, 1, 1, 1, 1, 0}
	for i, cv := range c.Conv {
		name := fmt.Sprintf("conv%d", i+1)
		switch {
		case cv.Out < 1 || cv.Out > maxWidth:
			return nil, c.errf(name, "%d filters, want 1 to %d", cv.Out, maxWidth)
		case cv.Kernel < 1 || cv.Kernel > maxSide || cv.Stride < 1 || cv.Stride > maxSide || cv.Pad < 0 || cv.Pad > maxSide:
			return nil, c.errf(name, "kernel %d stride %d pad %d, want kernel and stride 1 to %d, pad 0 to %[4]d", cv.Kernel, cv.Stride, cv.Pad, maxSide)
		case cv.Groups < 1:
			return nil, c.errf(name, "groups %d, want ≥ 1", cv.Groups)
		case in[1]%cv.Groups != 0 || cv.Out%cv.Groups != 0:
			return nil, c.errf(name, "%d input and %d output channels are not both divisible by %d groups", in[1], cv.Out, cv.Groups)
		}
		if h := in[2] + 2*cv.Pad; h < cv.Kernel {
			return nil, c.errf(name, "input %dx%d padded by %d is smaller than the %dx%d kernel: output would be smaller than 1x1",
				in[2], in[3], cv.Pad, cv.Kernel, cv.Kernel)
		}
		d := backend.ConvDesc{Input: in, Out: cv.Out, KernelH: cv.Kernel, KernelW: cv.Kernel, StrideH: cv.Stride, StrideW: cv.Stride,
			PadH: cv.Pad, PadW: cv.Pad, Groups: cv.Groups, Bias: true, ReLU: true}
		if err := d.Validate(); err != nil {
			return nil, c.errf(name, "%v", err)
		}
		l := layer{name: name, w: d, relu: true, out: d.OutputShape(), wshape: d.WeightShape(), paperBias: paperBias[i]}
		if err := checkSizes(l.out, l.wshape); err != nil {
			return nil, c.errf(name, "%v", err)
		}
		l.final = l.out
		if i < 2 {
			ld := backend.LRNDesc{Input: l.out, Size: c.LRN.Size, Alpha: c.LRN.Alpha, Beta: c.LRN.Beta, K: c.LRN.K}
			if err := ld.Validate(); err != nil {
				return nil, c.errf(fmt.Sprintf("lrn%d", i+1), "%v", err)
			}
			l.lrn = &ld
		}
		if i != 2 && i != 3 {
			pname := fmt.Sprintf("pool%d", i+1)
			if l.out[2] < c.Pool.Kernel {
				return nil, c.errf(pname, "input %dx%d is smaller than the %dx%d window: output would be smaller than 1x1",
					l.out[2], l.out[3], c.Pool.Kernel, c.Pool.Kernel)
			}
			pd := backend.PoolDesc{Input: l.out, KernelH: c.Pool.Kernel, KernelW: c.Pool.Kernel, StrideH: c.Pool.Stride, StrideW: c.Pool.Stride}
			if err := pd.Validate(); err != nil {
				return nil, c.errf(pname, "%v", err)
			}
			l.pool = &pd
			l.final = pd.OutputShape()
		}
		out = append(out, l)
		in = l.final
	}
	widths := []int{c.Hidden[0], c.Hidden[1], c.Classes}
	for i, w := range widths {
		name := fmt.Sprintf("fc%d", 6+i)
		d := backend.LinearDesc{Input: in, Out: w, Bias: true, ReLU: i < 2}
		if err := d.Validate(); err != nil {
			return nil, c.errf(name, "%v", err)
		}
		l := layer{name: name, w: d, relu: i < 2, dropout: i < 2 && c.Dropout > 0, out: d.OutputShape(), wshape: d.WeightShape(),
			paperBias: paperBias[5+i]}
		if err := checkSizes(l.out, l.wshape); err != nil {
			return nil, c.errf(name, "%v", err)
		}
		l.final = l.out
		out = append(out, l)
		in = l.final
	}
	return out, nil
}

// checkSizes applies the backend's tensor limits to a layer's output (per
// image) and weights.
func checkSizes(shapes ...backend.Shape) error {
	for _, s := range shapes {
		if err := s.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Op is one op of a config's forward pass, as Ops lists them: a weight
// layer (conv1 … conv5, fc6 … fc8: a ConvDesc or LinearDesc with the bias
// and ReLU fused where the network fuses them), an LRN (lrn1, lrn2), a
// max pooling (pool1, pool2, pool5) or a dropout (drop6, drop7, in
// training when Config.Dropout > 0).
type Op struct {
	Name string
	Desc backend.Desc // ConvDesc, LinearDesc, LRNDesc, PoolDesc or DropoutDesc
}

// Ops lists the ops of the config's forward pass at batch size n, in
// order, as New plans them: the one description of the network's layers
// that benchmarks and conformance tests derive theirs from. It returns the
// error Validate returns, or one for n < 1.
func (c Config) Ops(n int) ([]Op, error) {
	if n < 1 {
		return nil, fmt.Errorf("alexnet: ops at batch size %d, want ≥ 1", n)
	}
	layers, err := c.layers()
	if err != nil {
		return nil, err
	}
	var ops []Op
	for i, l := range layers {
		w := l.w.WithBatch(n)
		ops = append(ops, Op{Name: l.name, Desc: w})
		if l.lrn != nil {
			d := *l.lrn
			d.Input = withBatch(d.Input, n)
			ops = append(ops, Op{Name: fmt.Sprintf("lrn%d", i+1), Desc: d})
		}
		if l.pool != nil {
			d := *l.pool
			d.Input = withBatch(d.Input, n)
			ops = append(ops, Op{Name: fmt.Sprintf("pool%d", i+1), Desc: d})
		}
		if l.dropout {
			ops = append(ops, Op{Name: fmt.Sprintf("drop%d", i+1), Desc: backend.DropoutDesc{Shape: w.OutputShape(), P: c.Dropout}})
		}
	}
	return ops, nil
}
