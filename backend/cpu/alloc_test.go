package cpu_test

import (
	"fmt"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/cpu"
)

// TestExecuteAllocatesNothing: executing a plan must not allocate, with one
// worker or several.
func TestExecuteAllocatesNothing(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			backendtest.RunAllocations(t, func() (backend.Backend, error) { return cpu.Open(backend.Options{Threads: threads}) })
		})
	}
}
