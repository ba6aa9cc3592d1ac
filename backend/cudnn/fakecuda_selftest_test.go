//go:build cudnn

package cudnn

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// buildFakeCUDA builds the CUDA/cuDNN/cuBLAS test double
// (testdata/fakecuda: host code written from NVIDIA's documented API, not a
// GPU) into dir with the system C compiler.
func buildFakeCUDA(t testing.TB, dir string) {
	t.Helper()
	if _, err := exec.LookPath(ccName()); err != nil {
		t.Skipf("no C compiler (%s) to build the test double", ccName())
	}
	out, err := exec.Command("sh", "testdata/fakecuda/build.sh", dir).CombinedOutput()
	require.NoError(t, err, "building the test double: %s", out)
}

// TestFakeCUDASelfTest runs the double's own checks (memory and object
// checks, deferred execution, math against float64 loops, fault injection,
// leak counts) in both execution modes, so a broken double cannot make the
// backend's tests pass by accident.
func TestFakeCUDASelfTest(t *testing.T) {
	dir := t.TempDir()
	buildFakeCUDA(t, dir)
	bin := filepath.Join(dir, "fc_selftest")
	out, err := exec.Command(ccName(), "-O1", "-I../../include", "-o", bin, "testdata/fakecuda/fc_selftest.c", "-ldl", "-lm").CombinedOutput()
	require.NoError(t, err, "building fc_selftest: %s", out)
	for _, mode := range []string{"immediate", "deferred"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(bin, dir)
			cmd.Env = append(os.Environ(), "DNNGO_FAKECUDA_MODE="+mode, "DNNGO_FAKECUDA_FAIL=", "DNNGO_FAKECUDA_UNSUPPORTED=")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "fc_selftest (%s mode):\n%s", mode, out)
			require.Contains(t, string(out), "PASS")
		})
	}
}

// ccName is the C compiler: $CC or cc.
func ccName() string {
	if cc := os.Getenv("CC"); cc != "" {
		return cc
	}
	return "cc"
}
