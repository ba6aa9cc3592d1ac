//go:build onednn

package onednn_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/onednn"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func() (backend.Backend, error) { return onednn.Open(backend.Options{}) })
}

// TestExecuteAllocatesNothing: executing a plan allocates no Go memory.
func TestExecuteAllocatesNothing(t *testing.T) {
	backendtest.RunAllocations(t, func() (backend.Backend, error) { return onednn.Open(backend.Options{}) })
}
