//go:build onednn

package onednn_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/onednn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"
)

// isaChild names the instruction set a child process of TestCappedISA runs
// oneDNN at ("" in a plain test run).
const isaChild = "DNNGO_TEST_ONEDNN_ISA"

// ISA says what oneDNN dispatches to: the CPU's widest vector ISA, or the
// cap a parent test set; the backend's Info names it.
func TestISA(t *testing.T) {
	b, err := onednn.Open(backend.Options{})
	require.NoError(t, err)
	defer b.Close()
	assert.Contains(t, b.Info().Library, onednn.ISA())
	if want := os.Getenv(isaChild); want != "" {
		require.Equal(t, want, onednn.ISA(), "ONEDNN_MAX_CPU_ISA=%s", os.Getenv("ONEDNN_MAX_CPU_ISA"))
		return
	}
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512DQ:
		assert.True(t, strings.HasPrefix(onednn.ISA(), "avx512_core"), onednn.ISA())
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		assert.Equal(t, "avx2", onednn.ISA())
	}
}

// With oneDNN capped at AVX2 on an AVX-512 machine (ONEDNN_MAX_CPU_ISA,
// which oneDNN reads once per process, so in a child process of this test
// binary), the backend runs the kernels of an AVX2 machine such as a Zen 3:
// the golden conformance suite passes on them, the Winograd plans fall back
// to direct convolutions and still agree with the training plans, and
// Precision bf16 is unavailable with an error that names the cap (oneDNN
// would otherwise run its reference bf16 kernels).
func TestCappedISA(t *testing.T) {
	if os.Getenv(isaChild) != "" {
		t.Skip("in the child process")
	}
	if !cpu.X86.HasAVX512F {
		t.Skip("this CPU has no AVX-512: the plain test run already uses oneDNN's AVX2 (or older) kernels")
	}
	if testing.Short() {
		t.Skip("-short: the child reruns the conformance suite")
	}
	run := "^(TestISA|TestConformance|TestWinogradInferencePlans|TestWinogradPlansShareWeights|TestBF16CappedISA)$"
	cmd := exec.Command(os.Args[0], "-test.run", run, "-test.v", "-test.count", "1")
	cmd.Env = append(os.Environ(), "ONEDNN_MAX_CPU_ISA=AVX2", "DNNL_MAX_CPU_ISA=AVX2", isaChild+"=avx2")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child process at ONEDNN_MAX_CPU_ISA=AVX2:\n%s", out)
	for _, name := range []string{"TestISA", "TestConformance", "TestWinogradInferencePlans",
		"TestWinogradPlansShareWeights", "TestBF16CappedISA"} {
		assert.Contains(t, string(out), "--- PASS: "+name+" ", "the child ran and passed %s", name)
	}
}

// In a child of TestCappedISA on a CPU with bf16 instructions, Open with
// Precision bf16 fails and says that oneDNN is capped.
func TestBF16CappedISA(t *testing.T) {
	if os.Getenv(isaChild) == "" {
		t.Skip("run by TestCappedISA in a child process with oneDNN capped at AVX2")
	}
	require.False(t, onednn.HasBF16())
	_, err := onednn.Open(backend.Options{Precision: backend.BF16})
	require.ErrorIs(t, err, backend.ErrUnavailable)
	if cpu.X86.HasAVX512BF16 || cpu.X86.HasAMXBF16 {
		require.ErrorContains(t, err, "capped at avx2")
	}
}
