package cpu_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/cpu"
)

// BenchmarkLayers measures every AlexNet layer's forward and backward at
// batch 16 (override nothing; compare runs with benchstat):
//
//	go test -run '^$' -bench Layers -count 6 ./backend/cpu | tee new.txt
func BenchmarkLayers(b *testing.B) {
	backendtest.BenchLayers(b, func() (backend.Backend, error) { return cpu.Open(backend.Options{}) }, 16)
}
