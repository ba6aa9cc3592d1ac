package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	goldendata "github.com/dnngo/dnngo/internal/golden"
	"github.com/dnngo/dnngo/internal/synth"
	"github.com/stretchr/testify/require"
)

// Opener opens a fresh backend for one group of tests. The suite closes
// every backend it opens.
type Opener func() (backend.Backend, error)

// env is one open backend inside one test.
type env struct {
	t testing.TB
	b backend.Backend
}

func newEnv(t testing.TB, open Opener) *env {
	t.Helper()
	b, err := open()
	require.NoError(t, err, "opening the backend")
	require.NotNil(t, b)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return &env{t: t, b: b}
}

// NewTensor makes a tensor of b holding data (zeros when data is nil),
// failing t on an error. Closing b frees it.
func NewTensor(t testing.TB, b backend.Backend, shape backend.Shape, data []float32) backend.Tensor {
	t.Helper()
	x, err := b.NewTensor(shape...)
	require.NoError(t, err, "NewTensor(%v)", shape)
	if data != nil {
		require.NoError(t, b.Upload(x, data), "Upload to %v", shape)
	}
	return x
}

// Read downloads x from b, failing t on an error.
func Read(t testing.TB, b backend.Backend, x backend.Tensor) []float32 {
	t.Helper()
	out := make([]float32, x.Shape().Numel())
	require.NoError(t, b.Download(out, x), "Download %v", x.Shape())
	return out
}

// tensor makes a tensor holding data (zeros when data is nil), closed at
// the end of the test.
func (e *env) tensor(shape backend.Shape, data []float32) backend.Tensor {
	e.t.Helper()
	x := NewTensor(e.t, e.b, shape, data)
	e.t.Cleanup(func() { x.Close() })
	return x
}

// read downloads x.
func (e *env) read(x backend.Tensor) []float32 {
	e.t.Helper()
	return Read(e.t, e.b, x)
}

// RelErr is the relative norm error ‖got − want‖ / ‖want‖ in float64 (the
// absolute norm ‖got − want‖ when want is all zeros), want in float32 or
// float64. Lengths must match.
func RelErr[W float32 | float64](got []float32, want []W) float64 {
	return goldendata.RelErr(got, want)
}

// Near requires got to be finite and to match want within tol in relative
// norm error (RelErr), and logs the error.
func Near[W float32 | float64](t testing.TB, name string, got []float32, want []W, tol float64) {
	t.Helper()
	require.Len(t, got, len(want), "%s: length", name)
	for i, v := range got {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			require.Failf(t, "non-finite output", "%s[%d] = %v", name, i, v)
		}
	}
	err := RelErr(got, want)
	t.Logf("%-22s rel err %.2e (tol %.0e)", name, err, tol)
	require.LessOrEqual(t, err, tol, "%s: relative norm error %.3g exceeds %.1g (max abs diff %.3g)", name, err, tol, maxAbsDiff(got, want))
}

func maxAbsDiff[W float32 | float64](got []float32, want []W) float64 {
	var m float64
	for i, w := range want {
		m = max(m, math.Abs(float64(got[i])-float64(w)))
	}
	return m
}

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func f32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func randn(r *rand.Rand, n int, scale float64) []float32 { return synth.Normal(r, n, scale) }

// tieFree returns n distinct values spaced gap apart, shuffled, centred on
// zero: max-pool windows get a unique argmax and ReLU inputs stay ≥ gap/2
// away from 0.
func tieFree(r *rand.Rand, n int, gap float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((float64(i) - float64(n)/2 + 0.5) * gap)
	}
	r.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// noPanic runs f and turns a panic into a test failure naming what.
func noPanic(t testing.TB, what string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}
