package alexnet_test

import (
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all" // every backend compiled in
	"github.com/dnngo/dnngo/backend/cpu"
	"github.com/dnngo/dnngo/internal/synth"
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

// batchOf returns n random N(0,1) images for cfg and labels in [0, classes).
func batchOf(seed uint64, n, size, classes int) ([]float32, []int32) {
	return synth.Batch(rand.New(rand.NewPCG(seed, 7)), n, size, classes)
}
