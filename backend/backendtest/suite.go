// Package backendtest is the conformance suite every dnngo backend runs, in
// the spirit of testing/fstest.TestFS: a backend's test file is one line,
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func() (backend.Backend, error) { return backend.Open("mybackend") })
//	}
//
// and the suite checks the whole contract of package backend:
//
//   - golden: every *.safetensors case of the golden directory
//     ($DNNGO_GOLDEN_DIR, default ../shared/testdata/golden beside the module),
//     PyTorch's float64 results for each AlexNet layer and a three-step
//     mini-AlexNet training run, dispatched on the file's op metadata;
//   - gradients: finite differences of every op with a backward, on tiny
//     random shapes, against the backend's own backward;
//   - reference: random shapes (odd sizes, strides, padding, groups) against
//     float64 reference implementations in this package;
//   - badinput: wrong ranks, mismatched shapes, foreign, nil and closed
//     tensors, closed plans, invalid descriptions: each must be an error of
//     the right kind, never a panic;
//   - dropout: the fraction dropped, the scaling, the seed, the backward;
//   - sgd and resources: both update rules over several steps, Close
//     semantics;
//   - inference: plans made with Inference give the training plans'
//     forward results and refuse their backward;
//   - supports: Backend.Supports accepts every AlexNet layer and agrees
//     with planning; an invalid description is invalid, not unsupported.
package backendtest

import (
	"testing"
)

// Run runs the whole conformance suite against the backend that open
// returns. open is called once per group of tests and must return a fresh
// backend each time.
func Run(t *testing.T, open Opener) {
	t.Run("golden", func(t *testing.T) { RunGolden(t, open) })
	t.Run("gradients", func(t *testing.T) { RunGradients(t, open) })
	t.Run("reference", func(t *testing.T) { RunReference(t, open) })
	t.Run("badinput", func(t *testing.T) { RunBadInput(t, open) })
	t.Run("dropout", func(t *testing.T) { RunDropout(t, open) })
	t.Run("sgd", func(t *testing.T) { RunSGD(t, open) })
	t.Run("resources", func(t *testing.T) { RunResources(t, open) })
	t.Run("inference", func(t *testing.T) { RunInference(t, open) })
	t.Run("supports", func(t *testing.T) { RunSupports(t, open) })
}
