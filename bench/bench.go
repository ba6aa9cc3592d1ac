// Package bench measures AlexNet on every dnngo backend compiled into the
// binary, the same way for each: build the network, plan and run every
// batch size once (warm-up, algorithm search), then time whole batches
// — an Eval-mode forward pass, or a training step (forward with dropout,
// softmax cross-entropy, backward, SGD on all parameters) — repeatedly for
// a fixed duration, waiting for the device after each, and report the
// median and the spread.
//
// Throughput is reported as images/s, milliseconds per batch, GFLOP/s
// (FLOPs counted from the network's config: 2 per multiply-add; a training
// step is three forward passes' worth, less conv1's data gradient, which
// is never computed) and the percentage of the machine's FP32 peak, where
// the peak is an estimate: for a CPU from its core count, vector width and
// measured clock (package internal/machine), for a GPU from its datasheet.
//
// The CLI's "alexnet bench" prints the results as a table and a chart; the
// go test benchmarks of this package report the same numbers for
// benchstat.
package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/internal/machine"
	"github.com/dnngo/dnngo/internal/synth"
)

// Mode is what one measurement times.
type Mode string

// The two modes.
const (
	Forward Mode = "forward" // Eval-mode forward pass
	Train   Mode = "train"   // one training step
)

// Options choose what Run measures.
type Options struct {
	Backends []string       // backend names; nil: every compiled-in backend
	Batches  []int          // forward batch sizes; nil: 1 and 16
	Train    []int          // training-step batch sizes; nil: none
	Duration time.Duration  // timing per measurement after warm-up; 0: 3 s
	MinRuns  int            // at least this many timed batches; 0: 3
	Config   alexnet.Config // the network; zero value: alexnet.SeedConfig()
	Options  backend.Options
	// Progress, if set, is called as the measurement goes: often with
	// final false (a status to overwrite on a terminal), once per
	// measurement with final true (its result).
	Progress func(msg string, final bool)
}

// Result is one measurement.
type Result struct {
	Backend    string    `json:"backend"`
	Device     string    `json:"device"`
	Library    string    `json:"library"`
	Precision  string    `json:"precision"`
	Mode       Mode      `json:"mode"`
	Batch      int       `json:"batch"`
	Runs       []float64 `json:"runs_s"` // seconds per batch, every timed run
	Median     float64   `json:"median_s"`
	Min        float64   `json:"min_s"`
	Max        float64   `json:"max_s"`
	ImagesPerS float64   `json:"images_per_s"`
	GFLOPS     float64   `json:"gflops"`
	Peak       float64   `json:"peak_gflops"` // 0 when unknown
	PeakNote   string    `json:"peak_note"`   // how the peak was obtained
	PctPeak    float64   `json:"pct_peak"`
	Ratio      float64   `json:"ratio_to_fastest"` // images/s over the fastest backend's, same mode and batch
	// OtherCPU is the percentage of the machine's CPU capacity (every CPU,
	// the whole timed interval) that other processes used while this
	// measurement ran: /proc/stat's busy time less this process's own;
	// -1 where the system does not say. Above OtherCPUWarn the row's
	// numbers are low because the CPUs were shared.
	OtherCPU float64 `json:"other_cpu_pct"`
}

// OtherCPUWarn is the share of the CPUs (%) other processes may use during
// a measurement before its row is flagged.
const OtherCPUWarn = 5.0

// Skip records a backend that could not be measured, with the reason.
type Skip struct {
	Backend string `json:"backend"`
	Reason  string `json:"reason"`
}

// Report is everything Run measured.
type Report struct {
	Date     string   `json:"date"`
	CPU      string   `json:"cpu"`
	Network  string   `json:"network"`
	ClockGHz float64  `json:"clock_ghz"` // the CPU clock measured at the start (a timed dependent-add loop); 0: not measured here
	Results  []Result `json:"results"`
	Skipped  []Skip   `json:"skipped"`
	// Verbose makes WriteTable print the skipped backends' reasons in
	// full; otherwise each is cut to its first clause (Brief).
	Verbose bool `json:"-"`
}

// FLOPs returns the floating-point operations per image of a forward pass
// and of a training step of the network cfg describes.
func FLOPs(cfg alexnet.Config) (forward, train float64, err error) {
	s, err := cfg.Summary()
	if err != nil {
		return 0, 0, err
	}
	forward = 2 * float64(s.MACs)
	return forward, 3*forward - 2*float64(s.Layers[0].MACs), nil
}

// Run measures every (backend, mode, batch) the options ask for. A backend
// that does not open here is skipped with its reason; any other failure
// stops the run.
func Run(o Options) (*Report, error) {
	if o.Config.Input == 0 {
		o.Config = alexnet.SeedConfig()
	}
	if o.Backends == nil {
		o.Backends = backend.Available()
	}
	if o.Batches == nil && o.Train == nil {
		o.Batches = []int{1, 16}
	}
	if o.Duration <= 0 {
		o.Duration = 3 * time.Second
	}
	if o.MinRuns <= 0 {
		o.MinRuns = 3
	}
	for _, n := range append(slices.Clone(o.Batches), o.Train...) {
		if n < 1 {
			return nil, fmt.Errorf("bench: batch %d: want ≥ 1", n)
		}
	}
	fwdFLOPs, trainFLOPs, err := FLOPs(o.Config)
	if err != nil {
		return nil, err
	}
	cpu := machine.Detect()
	rep := &Report{Date: time.Now().UTC().Format("2006-01-02"), CPU: cpu.String(), ClockGHz: cpu.ClockGHz,
		Network: fmt.Sprintf("%dx%d input, %d classes", o.Config.Input, o.Config.Input, o.Config.Classes)}
	for _, name := range o.Backends {
		b, err := backend.OpenWith(name, o.Options)
		if err != nil {
			if errors.Is(err, backend.ErrNotCompiled) || errors.Is(err, backend.ErrUnknown) {
				return nil, err
			}
			rep.Skipped = append(rep.Skipped, Skip{name, err.Error()})
			continue
		}
		if b.Info().TestDouble {
			b.Close()
			rep.Skipped = append(rep.Skipped, Skip{name, "test double — not a GPU: no throughput is measured on it"})
			continue
		}
		rs, err := measure(b, o, fwdFLOPs, trainFLOPs, cpu)
		b.Close()
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", name, err)
		}
		rep.Results = append(rep.Results, rs...)
	}
	rep.ratios()
	return rep, nil
}

// measure runs the modes and batches on one backend.
func measure(b backend.Backend, o Options, fwdFLOPs, trainFLOPs float64, cpu machine.CPU) ([]Result, error) {
	info := b.Info()
	net, err := alexnet.New(b, o.Config)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	peak, note := PeakFor(info, cpu)
	r := rand.New(rand.NewPCG(1, 2))
	var out []Result
	type job struct {
		mode  Mode
		batch int
	}
	var jobs []job
	for _, n := range o.Batches {
		jobs = append(jobs, job{Forward, n})
	}
	for _, n := range o.Train {
		jobs = append(jobs, job{Train, n})
	}
	for _, j := range jobs {
		x, labels := synth.Batch(r, j.batch, net.InputSize(), o.Config.Classes) // realistic values: never zeros
		step := func() error { return net.Forward(x, alexnet.Eval) }
		flops := fwdFLOPs
		if j.mode == Train {
			step = func() error { _, err := net.TrainStep(x, labels); return err }
			flops = trainFLOPs
		}
		label := fmt.Sprintf("%s %s batch %d", info.Name, j.mode, j.batch)
		progress(o.Progress, label+": warming up", false)
		if err := step(); err != nil { // plans, buffers, algorithm search
			return nil, err
		}
		if err := b.Sync(); err != nil {
			return nil, err
		}
		var runs []float64
		load0, loadErr := machine.SampleLoad()
		start := time.Now()
		for time.Since(start) < o.Duration || len(runs) < o.MinRuns {
			t0 := time.Now()
			if err := step(); err != nil {
				return nil, err
			}
			if err := b.Sync(); err != nil {
				return nil, err
			}
			runs = append(runs, time.Since(t0).Seconds())
			progress(o.Progress, fmt.Sprintf("%s: %d runs, last %.1f ms", label, len(runs), 1e3*runs[len(runs)-1]), false)
		}
		res := Result{Backend: info.Name, Device: info.Device, Library: info.Library, Precision: info.Precision.String(),
			Mode: j.mode, Batch: j.batch, Runs: runs, Peak: peak, PeakNote: note, OtherCPU: -1}
		if load, err := machine.SampleLoad(); err == nil && loadErr == nil {
			res.OtherCPU = 100 * load.OthersSince(load0)
		}
		res.summarise(flops)
		progress(o.Progress, fmt.Sprintf("%s: %.1f images/s (median of %d runs, %.1f ms/batch)", label, res.ImagesPerS, len(runs), 1e3*res.Median), true)
		out = append(out, res)
	}
	return out, nil
}

func (r *Result) summarise(flopsPerImage float64) {
	s := slices.Clone(r.Runs)
	sort.Float64s(s)
	r.Min, r.Max = s[0], s[len(s)-1]
	if n := len(s); n%2 == 1 {
		r.Median = s[n/2]
	} else {
		r.Median = (s[n/2-1] + s[n/2]) / 2
	}
	r.ImagesPerS = float64(r.Batch) / r.Median
	r.GFLOPS = r.ImagesPerS * flopsPerImage / 1e9
	if r.Peak > 0 {
		r.PctPeak = 100 * r.GFLOPS / r.Peak
	}
}

// ratios fills Ratio: images/s over the fastest backend's for the same
// mode and batch.
func (rep *Report) ratios() {
	best := map[string]float64{}
	key := func(r Result) string { return fmt.Sprintf("%s/%d", r.Mode, r.Batch) }
	for _, r := range rep.Results {
		best[key(r)] = max(best[key(r)], r.ImagesPerS)
	}
	for i := range rep.Results {
		rep.Results[i].Ratio = rep.Results[i].ImagesPerS / best[key(rep.Results[i])]
	}
}

func progress(f func(string, bool), msg string, final bool) {
	if f != nil {
		f(msg, final)
	}
}

// PeakFor returns the FP32 (or, for a GPU in a tensor-core precision, that
// precision's) peak GFLOP/s of the device a backend runs on and how it was
// obtained, or 0 when unknown. A CPU backend in another precision than FP32
// (onednn's bf16: AVX512_BF16 dot products or AMX tiles, whose throughput
// the FMA-lane formula does not give) has no estimate: a percentage of the
// FP32 peak would read above 100 %.
func PeakFor(info backend.Info, cpu machine.CPU) (float64, string) {
	if info.Name != "cudnn" {
		// Only the threads the backend uses count.
		c := cpu
		c.Cores = min(cpu.Cores, max(1, info.Threads))
		p := c.PeakGFLOPS()
		switch {
		case p == 0:
			return 0, "unknown: the clock could not be measured on this architecture"
		case info.Precision != backend.FP32:
			return 0, fmt.Sprintf("unknown: no %v peak estimate for a CPU (the FP32 one is %.0f GFLOP/s)", info.Precision, p)
		}
		return p, c.Method()
	}
	for _, g := range gpuPeaks {
		if strings.Contains(info.Device, g.name) {
			p := g.fp32
			switch info.Precision {
			case backend.TF32:
				p = g.tf32
			case backend.BF16, backend.FP16:
				p = g.bf16
			}
			return p * 1000, fmt.Sprintf("estimate: %s datasheet, dense %v", g.name, info.Precision)
		}
	}
	return 0, "unknown GPU: not in the datasheet table"
}

// gpuPeaks are datasheet dense peaks in TFLOP/s (FP32, TF32 and BF16/FP16
// tensor cores without sparsity). More specific names come first.
var gpuPeaks = []struct {
	name             string
	fp32, tf32, bf16 float64
}{
	{"H100 PCIe", 51.2, 378, 756},
	{"H100 NVL", 60, 418, 835},
	{"H100", 67, 495, 989}, // SXM
	{"H200", 67, 495, 989},
	{"A100", 19.5, 156, 312},
	{"L40S", 91.6, 183, 366},
	{"L4", 30.3, 60, 121},
	{"A10", 31.2, 62.5, 125},
	{"RTX 4090", 82.6, 82.6, 165},
	{"T4", 8.1, 8.1, 65},
}
