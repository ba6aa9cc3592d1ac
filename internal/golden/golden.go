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

	"github.com/dnngo/dnngo/alexnet"
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
	ops, err := alexnet.SeedConfig().Ops(n)
	if err != nil {
		panic("golden: the Seed network's ops: " + err.Error()) // a fixed, valid config: a bug
	}
	var layers []Layer
	for _, op := range ops {
		switch d := op.Desc.(type) {
		case backend.ConvDesc:
			layers = append(layers, Layer{Name: op.Name, Conv: &d, Input: d.Input})
			if op.Name == "conv1" { // the goldens also check a stand-alone ReLU, on conv1's output
				out := d.OutputShape()
				layers = append(layers, Layer{Name: "relu1", ReLU: out, Input: out})
			}
		case backend.LinearDesc:
			layers = append(layers, Layer{Name: op.Name, Lin: &d, Input: d.Input})
		case backend.LRNDesc:
			layers = append(layers, Layer{Name: op.Name, LRN: &d, Input: d.Input})
		case backend.PoolDesc:
			layers = append(layers, Layer{Name: op.Name, Pool: &d, Input: d.Input})
		}
	}
	return layers
}
