package cpu_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/cpu"
)

// TestConformance runs the conformance suite with every GEMM kernel this
// CPU has (the assembly one where there is one, and the portable one).
func TestConformance(t *testing.T) {
	for _, k := range cpu.Kernels() {
		t.Run("kernel="+k.Name, func(t *testing.T) {
			backendtest.Run(t, func() (backend.Backend, error) { return cpu.OpenKernel(backend.Options{}, k) })
		})
	}
}
