package alexnet_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all" // every backend compiled in
	"github.com/dnngo/dnngo/backend/cpu"
	"github.com/stretchr/testify/require"
)

// forEachBackend runs f as a subtest backend=<name> for every backend
// compiled into this test binary; one that does not open on this machine is
// skipped with its reason.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend.Backend)) {
	names := backend.Available()
	require.NotEmpty(t, names, "no backend registered")
	for _, name := range names {
		t.Run("backend="+name, func(t *testing.T) {
			b, err := backend.Open(name)
			if err != nil {
				t.Skipf("backend %s does not open here: %v", name, err)
			}
			t.Cleanup(func() { require.NoError(t, b.Close()) })
			f(t, b)
		})
	}
}

// openCPU opens the pure-Go backend with the given number of threads.
func openCPU(t testing.TB, threads int) backend.Backend {
	t.Helper()
	b, err := cpu.Open(backend.Options{Threads: threads})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return b
}

// relErr is ‖got − want‖/‖want‖ in float64 (‖got‖ when want is zero).
func relErr(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// near requires got to match want within tol in relative norm error.
func near(t testing.TB, name string, got, want []float32, tol float64) {
	t.Helper()
	require.Len(t, got, len(want), "%s: length", name)
	for i, v := range got {
		require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "%s[%d] = %v", name, i, v)
	}
	e := relErr(got, want)
	t.Logf("%-22s rel err %.2e (tol %.0e)", name, e, tol)
	require.LessOrEqual(t, e, tol, "%s: relative norm error %.3g exceeds %.1g", name, e, tol)
}

// batchOf returns n random N(0,1) images for cfg and labels in [0, classes).
func batchOf(seed uint64, n, size, classes int) ([]float32, []int32) {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*size)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(r.IntN(classes))
	}
	return x, labels
}
