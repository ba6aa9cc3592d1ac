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
