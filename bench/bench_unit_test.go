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
	fwd, train, err := FLOPs(alexnet.SeedConfig())
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
		assert.GreaterOrEqual(t, r.OtherCPU, 0.0, "other processes' CPU share measured (Linux)")
	}
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	assert.Contains(t, table.String(), "images/s")
	assert.Contains(t, table.String(), "forward")
	assert.Contains(t, table.String(), "train")
	assert.Contains(t, table.String(), "CPU: "+rep.CPU, "the table names the CPU and its vector features")
	assert.Contains(t, table.String(), rep.Results[0].Library+", fp32; peak", "and each backend's library, kernels and precision")
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
	p, note = PeakFor(backend.Info{Name: "onednn", Threads: 2, Precision: backend.BF16}, cpu)
	assert.Zero(t, p, "no bf16 peak for a CPU: a share of the FP32 one would read above 100 %")
	assert.Contains(t, note, "FP32 one is 192 GFLOP/s")
	p, _ = PeakFor(backend.Info{Name: "cudnn", Device: "NVIDIA H100 PCIe (sm_90)", Precision: backend.TF32}, cpu)
	assert.InDelta(t, 378000.0, p, 1e-9)
	p, note = PeakFor(backend.Info{Name: "cudnn", Device: "Mystery GPU"}, cpu)
	assert.Zero(t, p)
	assert.Contains(t, note, "unknown")
}

func TestSkippedReasonIsOneClauseUnlessVerbose(t *testing.T) {
	long := "dnngo: open: backend cudnn cannot run here: the CUDA driver (libcuda.so.1) not found or not usable; looked in 7 places: " +
		"/usr/lib/x86_64-linux-gnu/libcuda.so.1 [CUDA folder]: no such file; /usr/lib64/libcuda.so.1 [CUDA folder]: no such file"
	for _, tc := range []struct {
		name, reason, want string
	}{
		{"cut at the first clause", long, "dnngo: open: backend cudnn cannot run here: the CUDA driver (libcuda.so.1) not found or not usable (-v: the details)"},
		{"cut at a line break", "first line\nsecond", "first line (-v: the details)"},
		{"short reason unchanged", "no device", "no device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Brief(tc.reason))
		})
	}
	rep := &Report{Skipped: []Skip{{"cudnn", long}}}
	var brief, full bytes.Buffer
	require.NoError(t, rep.WriteTable(&brief))
	assert.Contains(t, brief.String(), "skipped cudnn: dnngo: open: backend cudnn cannot run here: the CUDA driver (libcuda.so.1) not found or not usable (-v: the details)\n")
	assert.NotContains(t, brief.String(), "looked in")
	rep.Verbose = true
	require.NoError(t, rep.WriteTable(&full))
	assert.Contains(t, full.String(), "looked in 7 places")
}

func TestTableFlagsRowsUnderLoad(t *testing.T) {
	rep := &Report{Date: "2026-12-04", Network: "227x227 input, 1000 classes", ClockGHz: 2.45, Results: []Result{
		{Backend: "cpu", Mode: Forward, Batch: 16, Runs: []float64{1}, OtherCPU: 1.2},
		{Backend: "cpu", Mode: Train, Batch: 16, Runs: []float64{1}, OtherCPU: 41.7},
	}}
	for _, tc := range []struct {
		name      string
		other     []float64
		want, not string
	}{
		{"one row loaded", []float64{1.2, 41.7},
			"warning: other processes used more than 5% of the CPUs during cpu train 16 (41.7%): those rows are low", "at most"},
		{"quiet", []float64{1.2, 0.3}, "other processes used at most 1.2% of the CPUs during the runs", "warning"},
		{"not measured", []float64{-1, -1}, "CPU clock measured at the start: 2.45 GHz", "other processes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range rep.Results {
				rep.Results[i].OtherCPU = tc.other[i]
			}
			var b bytes.Buffer
			require.NoError(t, rep.WriteTable(&b))
			assert.Contains(t, b.String(), tc.want)
			assert.Contains(t, b.String(), "CPU clock measured at the start: 2.45 GHz")
			assert.NotContains(t, b.String(), tc.not)
		})
	}
}
