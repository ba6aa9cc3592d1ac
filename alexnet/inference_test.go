package alexnet_test

import (
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/stretchr/testify/require"
)

// Eval forwards run the inference plans: without dropout they give the
// training plans' logits, and a Backward after an Eval forward (which runs
// the training plans first) gives the gradients of a Train forward.
func TestEvalForwardRunsInferencePlansAndBackwardStillWorks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		cfg := alexnet.Mini()
		cfg.Dropout = 0 // Train and Eval compute the same function
		net, err := alexnet.New(b, cfg)
		require.NoError(t, err)
		defer net.Close()
		x, labels := batchOf(5, 3, net.InputSize(), cfg.Classes)
		pass := func(m alexnet.Mode) (logits []float32, grads map[string][]float32) {
			require.NoError(t, net.Forward(x, m))
			logits, err := net.Logits()
			require.NoError(t, err)
			_, err = net.Loss(labels)
			require.NoError(t, err)
			require.NoError(t, net.Backward(), "backward after a %v forward", m)
			grads = map[string][]float32{}
			for _, p := range net.ParamNames() {
				g, err := net.Grad(p)
				require.NoError(t, err)
				grads[p] = g
			}
			return logits, grads
		}
		// Eval first, on a fresh network: the training plans have not run.
		evalLogits, evalGrads := pass(alexnet.Eval)
		trainLogits, trainGrads := pass(alexnet.Train)
		f64 := func(v []float32) []float64 {
			o := make([]float64, len(v))
			for i, x := range v {
				o[i] = float64(x)
			}
			return o
		}
		require.Less(t, backendtest.RelErr(evalLogits, f64(trainLogits)), 1e-5, "eval logits")
		for p, g := range trainGrads {
			require.Less(t, backendtest.RelErr(evalGrads[p], f64(g)), 1e-5, "gradient of %s after an eval forward", p)
		}
		// And an Eval pass after the Train one.
		logits, _ := pass(alexnet.Eval)
		require.Less(t, backendtest.RelErr(logits, f64(trainLogits)), 1e-5, "eval logits after a train pass")
	})
}
