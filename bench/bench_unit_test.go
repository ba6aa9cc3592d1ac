package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/internal/machine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFLOPsOfSeed(t *testing.T) {
	fwd, train, err := FLOPs(alexnet.Seed())
	require.NoError(t, err)
	assert.InDelta(t, 2.2705e9, fwd, 1e6, "2 × 1.135 G multiply-adds")
	assert.Greater(t, train, 2.5*fwd)
	assert.Less(t, train, 3*fwd)
}

// TestRunMiniOnCPU measures the small Mini() network for real, briefly, and
// checks the report's arithmetic, its table, JSON and chart.
func TestRunMiniOnCPU(t *testing.T) {
	rep, err := Run(Options{Backends: []string{"cpu"}, Batches: []int{2}, Train: []int{2}, Duration: 50 * time.Millisecond,
		MinRuns: 3, Config: alexnet.Mini()})
	require.NoError(t, err)
	require.Len(t, rep.Results, 2)
	for _, r := range rep.Results {
		assert.GreaterOrEqual(t, len(r.Runs), 3)
		assert.LessOrEqual(t, r.Min, r.Median)
		assert.LessOrEqual(t, r.Median, r.Max)
		assert.InDelta(t, float64(r.Batch)/r.Median, r.ImagesPerS, 1e-9)
		assert.InDelta(t, 1.0, r.Ratio, 1e-12, "one backend: it is the fastest")
	}
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	assert.Contains(t, table.String(), "images/s")
	assert.Contains(t, table.String(), "forward")
	assert.Contains(t, table.String(), "train")
	assert.Contains(t, table.String(), "CPU: "+rep.CPU, "the table names the CPU and its vector features")
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, rep.Results[0].ImagesPerS, back.Results[0].ImagesPerS)
	png := filepath.Join(t.TempDir(), "bench.png")
	require.NoError(t, rep.Plot(png))
	st, err := os.Stat(png)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000))
}

func TestRunRejects(t *testing.T) {
	_, err := Run(Options{Backends: []string{"cpu"}, Batches: []int{0}})
	assert.ErrorContains(t, err, "batch 0")
	_, err = Run(Options{Backends: []string{"tpu"}, Batches: []int{1}, Config: alexnet.Mini()})
	assert.ErrorIs(t, err, backend.ErrUnknown)
}

func TestPeakFor(t *testing.T) {
	cpu := machine.CPU{Cores: 4, FMALanes: 16, ClockGHz: 3}
	p, note := PeakFor(backend.Info{Name: "cpu", Threads: 2}, cpu)
	assert.InDelta(t, 192.0, p, 1e-9, "only the backend's 2 threads count")
	assert.Contains(t, note, "estimate")
	p, _ = PeakFor(backend.Info{Name: "cudnn", Device: "NVIDIA H100 PCIe (sm_90)", Precision: backend.TF32}, cpu)
	assert.InDelta(t, 378000.0, p, 1e-9)
	p, note = PeakFor(backend.Info{Name: "cudnn", Device: "Mystery GPU"}, cpu)
	assert.Zero(t, p)
	assert.Contains(t, note, "unknown")
}
