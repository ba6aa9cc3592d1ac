//go:build cudnn

package cudnn_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/cudnn"
	"github.com/stretchr/testify/require"
)

// openOrSkip opens the backend or skips the test with one line saying what
// is missing (a library, a driver, a GPU) — never a silent pass.
//
// In CI ($CI=true) or with $DNNGO_REQUIRE_FAKECUDA=1 (set by build.sh test,
// which builds the test double and points $DNNGO_CUDA_LIB_DIR at it) a
// missing library is a failure, not a skip.
func openOrSkip(t testing.TB, o backend.Options) *cudnn.Backend {
	t.Helper()
	b, err := cudnn.Open(o)
	if errors.Is(err, backend.ErrUnavailable) {
		skip := t.Skipf
		if requireLibs() {
			skip = t.Fatalf
		}
		var le *cudnn.LoadError
		if errors.As(err, &le) {
			skip("cudnn backend unavailable: %s", le.Summary())
		}
		skip("cudnn backend unavailable: %v", err)
	}
	require.NoError(t, err)
	return b
}

// requireLibs reports whether a missing CUDA library must fail the tests:
// with $DNNGO_REQUIRE_FAKECUDA=1 (build.sh test, which always builds the
// test double) or in CI ($CI=true) unless $DNNGO_REQUIRE_FAKECUDA=0 says
// the run checks the skips on purpose.
func requireLibs() bool {
	if v := os.Getenv("DNNGO_REQUIRE_FAKECUDA"); v != "" {
		return v == "1"
	}
	return os.Getenv("CI") == "true"
}

// TestConformance runs the whole conformance suite (golden cases, gradient
// checks, reference shapes, bad input, dropout, SGD, resources) on the GPU
// in strict FP32.
func TestConformance(t *testing.T) {
	b := openOrSkip(t, backend.Options{})
	t.Logf("%s on %s: %s", b.Info().Name, b.Info().Device, b.Info().Library)
	require.NoError(t, b.Close())
	backendtest.Run(t, func() (backend.Backend, error) { return cudnn.Open(backend.Options{}) })
}

// TestPrecisions runs a convolution (forward, both backwards) and a fully
// connected layer in every reduced precision and compares them with strict
// FP32 on the same GPU, within what each format allows.
func TestPrecisions(t *testing.T) {
	ref := openOrSkip(t, backend.Options{})
	defer ref.Close()
	conv := backend.ConvDesc{Input: backend.Shape{8, 32, 27, 27}, Out: 64, KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1,
		PadH: 2, PadW: 2, Groups: 2, Bias: true, ReLU: true}
	lin := backend.LinearDesc{Input: backend.Shape{8, 64, 3, 3}, Out: 100, Bias: true}
	r := rand.New(rand.NewPCG(5, 6))
	want := runLayers(t, ref, conv, lin, r)
	for _, tc := range []struct {
		p   backend.Precision
		tol float64
	}{{backend.TF32, 5e-3}, {backend.BF16, 3e-2}, {backend.FP16, 5e-3}} {
		t.Run(tc.p.String(), func(t *testing.T) {
			b := openOrSkip(t, backend.Options{Precision: tc.p})
			defer b.Close()
			require.Equal(t, tc.p, b.Info().Precision)
			got := runLayers(t, b, conv, lin, rand.New(rand.NewPCG(5, 6)))
			for name, w := range want {
				e := backendtest.RelErr(got[name], w)
				t.Logf("%-10s rel err %.2e (tol %.0e)", name, e, tc.tol)
				require.LessOrEqual(t, e, tc.tol, name)
				if name == "conv db" && tc.p == backend.TF32 {
					continue // a plain reduction in float32: TF32 has nothing to round
				}
				require.Greater(t, e, 0.0, "%s: bit-identical to fp32, so %v was not used", name, tc.p)
			}
		})
	}
}

func runLayers(t *testing.T, b backend.Backend, conv backend.ConvDesc, lin backend.LinearDesc, r *rand.Rand) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	mk := func(s backend.Shape, scale float64) backend.Tensor {
		x, err := b.NewTensor(s...)
		require.NoError(t, err)
		v := make([]float32, s.Numel())
		for i := range v {
			v[i] = float32(r.NormFloat64() * scale)
		}
		if scale != 0 {
			require.NoError(t, b.Upload(x, v))
		}
		return x
	}
	read := func(x backend.Tensor) []float32 {
		v := make([]float32, x.Shape().Numel())
		require.NoError(t, b.Download(v, x))
		return v
	}
	cp, err := b.Conv(conv)
	require.NoError(t, err)
	x, w, bias := mk(conv.Input, 1), mk(conv.WeightShape(), 0.05), mk(backend.Shape{conv.Out}, 0.1)
	y, dy := mk(conv.OutputShape(), 0), mk(conv.OutputShape(), 1)
	dx, dw, db := mk(conv.Input, 0), mk(conv.WeightShape(), 0), mk(backend.Shape{conv.Out}, 0)
	require.NoError(t, cp.Forward(x, w, bias, y))
	require.NoError(t, cp.BackwardData(dy, w, dx))
	require.NoError(t, cp.BackwardFilter(x, dy, dw, db))
	out["conv y"], out["conv dx"], out["conv dw"], out["conv db"] = read(y), read(dx), read(dw), read(db)
	lp, err := b.Linear(lin)
	require.NoError(t, err)
	lx, lw, lb, ly := mk(lin.Input, 1), mk(lin.WeightShape(), 0.05), mk(backend.Shape{lin.Out}, 0.1), mk(lin.OutputShape(), 0)
	require.NoError(t, lp.Forward(lx, lw, lb, ly))
	out["linear y"] = read(ly)
	return out
}
