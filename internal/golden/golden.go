// Package golden says where the PyTorch golden cases are and how results
// are compared with them, for the conformance suite (backendtest) and for
// programs that check a backend without the testing package
// (examples/layer). It also lists the AlexNet layer shapes the suite's
// benchmarks and examples/layer run.
package golden

import (
	"errors"
	"math"
	"os"
	"path/filepath"

	"github.com/dnngo/dnngo/backend"
)

// Env is the environment variable that points at a directory of golden
// cases.
const Env = "DNNGO_GOLDEN_DIR"

// Tolerances, as relative norm errors ‖got − want‖/‖want‖ per tensor.
// float32 PyTorch reaches ~3e-6 on these cases; the tolerances leave room
// for other summation orders while real bugs show up at 1e-3 or more.
const (
	LayerTol = 2e-5 // per-layer cases
	MiniTol  = 1e-4 // the end-to-end mini_alexnet case
)

// Generated is where "./build.sh goldens" writes the cases it generates
// with PyTorch, relative to the module root (git-ignored).
const Generated = "testdata/golden"

// GenerateCommand is the command that generates the cases into Generated.
const GenerateCommand = "./build.sh goldens"

// Dir returns the directory of golden cases: $DNNGO_GOLDEN_DIR if set
// (explicit is then true); else ../shared/testdata/golden beside the
// module root (the reference copy CI keeps) where it exists; else the
// module's testdata/golden, which "./build.sh goldens" writes. The
// module root is found by walking up from the working directory to
// go.mod. tried lists the directories looked at.
func Dir() (dir string, explicit bool, tried []string, err error) {
	if d := os.Getenv(Env); d != "" {
		return d, true, []string{d}, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false, nil, err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			shared := filepath.Join(d, "..", "shared", "testdata", "golden")
			generated := filepath.Join(d, filepath.FromSlash(Generated))
			tried = []string{shared, generated}
			if st, err := os.Stat(shared); err == nil && st.IsDir() {
				return shared, false, tried, nil
			}
			return generated, false, tried, nil
		}
		if filepath.Dir(d) == d {
			return "", false, nil, errors.New("no go.mod above " + wd)
		}
	}
}

// RelErr is the relative norm error ‖got − want‖ / ‖want‖ in float64 (the
// absolute norm ‖got − want‖ when want is all zeros), want in float32 or
// float64. Lengths must match.
func RelErr[W float32 | float64](got []float32, want []W) float64 {
	var num, den float64
	for i, w := range want {
		d := float64(got[i]) - float64(w)
		num += d * d
		den += float64(w) * float64(w)
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// Layer is one layer of the Seed AlexNet at batch N.
type Layer struct {
	Name  string
	Conv  *backend.ConvDesc
	Lin   *backend.LinearDesc
	LRN   *backend.LRNDesc
	Pool  *backend.PoolDesc
	ReLU  backend.Shape // non-nil for the stand-alone ReLU layer
	Input backend.Shape
}

// Weight is the layer's weight op, *Conv or *Lin, as a WeightDesc; nil for
// a layer without weights.
func (l Layer) Weight() backend.WeightDesc {
	switch {
	case l.Conv != nil:
		return *l.Conv
	case l.Lin != nil:
		return *l.Lin
	}
	return nil
}

// AlexNetLayers lists the layers of the single-tower AlexNet (227×227
// input, 96-256-384-384-256 convolutions, 4096-4096-1000 FC, LRN with the
// paper's constants) at batch n, with bias and ReLU fused into the
// convolutions and hidden FC layers as a network would plan them.
func AlexNetLayers(n int) []Layer {
	conv := func(name string, c, hw, out, k, s, p int) Layer {
		d := backend.ConvDesc{Input: backend.Shape{n, c, hw, hw}, Out: out, KernelH: k, KernelW: k, StrideH: s, StrideW: s, PadH: p, PadW: p, Groups: 1, Bias: true, ReLU: true}
		return Layer{Name: name, Conv: &d, Input: d.Input}
	}
	lrn := func(name string, c, hw int) Layer {
		d := backend.LRNDesc{Input: backend.Shape{n, c, hw, hw}, Size: 5, Alpha: 5e-4, Beta: 0.75, K: 2}
		return Layer{Name: name, LRN: &d, Input: d.Input}
	}
	pool := func(name string, c, hw int) Layer {
		d := backend.PoolDesc{Input: backend.Shape{n, c, hw, hw}, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}
		return Layer{Name: name, Pool: &d, Input: d.Input}
	}
	fc := func(name string, in backend.Shape, out int, relu bool) Layer {
		d := backend.LinearDesc{Input: in, Out: out, Bias: true, ReLU: relu}
		return Layer{Name: name, Lin: &d, Input: in}
	}
	return []Layer{
		conv("conv1", 3, 227, 96, 11, 4, 0),
		{Name: "relu1", ReLU: backend.Shape{n, 96, 55, 55}, Input: backend.Shape{n, 96, 55, 55}},
		lrn("lrn1", 96, 55),
		pool("pool1", 96, 55),
		conv("conv2", 96, 27, 256, 5, 1, 2),
		lrn("lrn2", 256, 27),
		pool("pool2", 256, 27),
		conv("conv3", 256, 13, 384, 3, 1, 1),
		conv("conv4", 384, 13, 384, 3, 1, 1),
		conv("conv5", 384, 13, 256, 3, 1, 1),
		pool("pool5", 256, 13),
		fc("fc6", backend.Shape{n, 256, 6, 6}, 4096, true),
		fc("fc7", backend.Shape{n, 4096}, 4096, true),
		fc("fc8", backend.Shape{n, 4096}, 1000, false),
	}
}
