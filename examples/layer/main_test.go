package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/internal/golden"
	"github.com/dnngo/dnngo/internal/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryLayerIsChecked: each layer the command offers is checked
// before it is timed — against its golden case where there is one and the
// data is here, otherwise against the float64 reference — and says which.
func TestEveryLayerIsChecked(t *testing.T) {
	dir, _, _, err := golden.Dir()
	require.NoError(t, err)
	_, statErr := os.Stat(filepath.Join(dir, "conv1.safetensors"))
	haveGolden := statErr == nil
	for _, tc := range []struct {
		layer, golden string
		noGolden      bool // run with the golden directory pointed elsewhere
	}{
		{"conv1", "golden   conv1 [2 3 227 227] → [2 96 55 55] (real) against PyTorch", false},
		{"conv4", "golden   conv4 [2 96 13 13] → [2 96 13 13] (slim: ", false},
		{"fc8", "golden   fc8 [2 64] → [2 10] (real) against PyTorch", false},
		{"fc7", "golden   fc7 has no PyTorch case", false},
		{"conv5", "not readable", true},
	} {
		t.Run(tc.layer, func(t *testing.T) {
			if tc.noGolden {
				t.Setenv(golden.Env, t.TempDir())
			} else if !haveGolden && tc.layer != "fc7" {
				t.Skipf("no golden data in %s (%s generates it)", dir, golden.GenerateCommand)
			}
			var out bytes.Buffer
			require.NoError(t, run(&out, "cpu", tc.layer, 2, 10*time.Millisecond))
			assert.Contains(t, out.String(), tc.golden)
			if tc.layer == "fc7" || tc.noGolden {
				assert.Contains(t, out.String(), "check    "+tc.layer+" [2 ")
				assert.Contains(t, out.String(), "against a float64 reference")
			}
			assert.Contains(t, out.String(), "timing   "+tc.layer+" forward, batch 2")
		})
	}
}

func TestRejects(t *testing.T) {
	assert.ErrorContains(t, run(&bytes.Buffer{}, "cpu", "lrn1", 2, time.Millisecond), `-layer "lrn1": want one of conv1..conv5, fc6..fc8`)
	assert.ErrorContains(t, run(&bytes.Buffer{}, "cpu", "conv1", 0, time.Millisecond), "-batch 0")
}

// TestReference checks the float64 reference on cases small enough to
// work out by hand.
func TestReference(t *testing.T) {
	conv := &backend.ConvDesc{Input: backend.Shape{1, 1, 3, 3}, Out: 1, KernelH: 2, KernelW: 2, StrideH: 1, StrideW: 1, Groups: 1, Bias: true}
	shape := map[string]backend.Shape{"x": {1, 1, 3, 3}, "w": {1, 1, 2, 2}, "y": {1, 1, 2, 2}}
	tensors := map[string][]float32{"x": {1, 2, 3, 4, 5, 6, 7, 8, 9}, "w": {1, 0, 0, -1}, "b": {0.5}, "dy": {1, 0, 0, 0}}
	y, dx, dw, db := reference(&layers.Layer{Conv: conv}, shape, tensors)
	assert.Equal(t, []float32{1 - 5 + 0.5, 2 - 6 + 0.5, 4 - 8 + 0.5, 5 - 9 + 0.5}, y)
	assert.Equal(t, []float32{1, 0, 0, 0, -1, 0, 0, 0, 0}, dx, "dy at y[0,0] reaches x through w")
	assert.Equal(t, []float32{1, 2, 4, 5}, dw, "the window of y[0,0]")
	assert.Equal(t, []float32{1}, db)

	lin := &backend.LinearDesc{Input: backend.Shape{2, 3}, Out: 2, Bias: true}
	shape = map[string]backend.Shape{"x": {2, 3}, "w": {2, 3}, "y": {2, 2}}
	tensors = map[string][]float32{"x": {1, 2, 3, 4, 5, 6}, "w": {1, 0, -1, 2, 1, 0}, "b": {1, -1}, "dy": {1, 2, 3, 4}}
	y, dx, dw, db = reference(&layers.Layer{Lin: lin}, shape, tensors)
	assert.Equal(t, []float32{1 - 3 + 1, 2 + 2 - 1, 4 - 6 + 1, 8 + 5 - 1}, y)
	assert.Equal(t, []float32{1 + 4, 2, -1, 3 + 8, 4, -3}, dx, "dy·w")
	assert.Equal(t, []float32{1 + 12, 2 + 15, 3 + 18, 2 + 16, 4 + 20, 6 + 24}, dw, "dyᵀ·x")
	assert.Equal(t, []float32{4, 6}, db)
}
