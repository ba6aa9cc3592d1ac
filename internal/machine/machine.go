// Package machine describes the computer dnngo runs on: the CPU's model,
// cores and vector features, its clock (measured, not read from a table)
// and from those an estimate of its FP32 peak, so that benchmarks can
// print "% of peak" and say how the peak was obtained.
package machine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/cpu"
)

// CPU holds what dnngo knows about the processor.
type CPU struct {
	Model    string   // "AMD EPYC 7B13" (from /proc/cpuinfo where present)
	Arch     string   // runtime.GOARCH
	Logical  int      // logical CPUs the process may use (GOMAXPROCS)
	Cores    int      // physical cores among them, where the OS says
	Features []string // the vector features that matter here: avx2, fma, avx512f (with vnni, bf16, amx where present)
	ClockGHz float64  // measured: dependent integer adds per second, 0 if not measured
	// FMALanes is the FP32 lanes × FMA pipes per core this estimate
	// assumes: 2×16 with AVX-512, 2×8 with AVX2+FMA, 8 with AVX, 4 otherwise.
	FMALanes int
}

// PeakGFLOPS estimates the FP32 peak of the cores the process may use:
// cores × FMALanes × 2 FLOP × clock. It is an estimate (marked so wherever
// printed): turbo behaviour under load, AVX clock offsets and SMT siblings
// sharing FMA pipes are invisible to it.
func (c CPU) PeakGFLOPS() float64 {
	return float64(c.Cores) * float64(c.FMALanes) * 2 * c.ClockGHz
}

// Method says how PeakGFLOPS was obtained, for printing beside it.
func (c CPU) Method() string {
	return fmt.Sprintf("estimate: %d cores × %d FP32 FMA lanes × 2 FLOP × %.2f GHz measured", c.Cores, c.FMALanes, c.ClockGHz)
}

func (c CPU) String() string {
	return fmt.Sprintf("%s (%s, %d cores / %d threads, %s, %.2f GHz measured)", c.Model, c.Arch, c.Cores, c.Logical,
		strings.Join(c.Features, "+"), c.ClockGHz)
}

// Detect reads the CPU's description and measures its clock (about 50 ms).
func Detect() CPU {
	c := CPU{Arch: runtime.GOARCH, Logical: runtime.GOMAXPROCS(0)}
	info := readCPUInfo()
	c.Model = Model()
	c.Cores = c.Logical
	if info.cores > 0 && info.threads > 0 && info.threads > info.cores {
		// SMT: count the cores behind the logical CPUs we may use.
		c.Cores = max(1, c.Logical*info.cores/info.threads)
	}
	switch {
	case cpu.X86.HasAVX512F:
		c.Features, c.FMALanes = []string{"avx512f", "avx2", "fma"}, 32
		for _, f := range []struct {
			has  bool
			name string
		}{{cpu.X86.HasAVX512VNNI, "avx512vnni"}, {cpu.X86.HasAVX512BF16, "avx512bf16"}, {cpu.X86.HasAMXBF16, "amxbf16"}} {
			if f.has {
				c.Features = append(c.Features, f.name)
			}
		}
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		c.Features, c.FMALanes = []string{"avx2", "fma"}, 16
	case cpu.X86.HasAVX:
		c.Features, c.FMALanes = []string{"avx"}, 8
	case cpu.ARM64.HasASIMD:
		c.Features, c.FMALanes = []string{"neon"}, 8
	default:
		c.Features, c.FMALanes = []string{"scalar"}, 4
	}
	c.ClockGHz = measureClock()
	return c
}

// Model is the CPU's model name where the OS says it ("AMD EPYC 7B13"),
// else "<GOARCH> CPU". Unlike Detect it measures nothing.
func Model() string {
	if m := readCPUInfo().model; m != "" {
		return m
	}
	return runtime.GOARCH + " CPU"
}

type cpuInfo struct {
	model          string
	cores, threads int // per socket: "cpu cores" and "siblings"
}

func readCPUInfo() cpuInfo {
	var info cpuInfo
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return info
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name":
			if info.model == "" {
				info.model = v
			}
		case "cpu cores":
			info.cores, _ = strconv.Atoi(v)
		case "siblings":
			info.threads, _ = strconv.Atoi(v)
		}
	}
	return info
}

// measureClock times a chain of dependent integer additions (one cycle
// each on every x86 and ARM core of the last decade) and returns the best
// of a few runs in GHz, or 0 where there is no assembly to time.
func measureClock() float64 {
	if !haveClockLoop {
		return 0
	}
	const n = 20_000_000 // iterations of 8 dependent adds: ~50 ms at 3 GHz
	clockLoop(n / 10)    // warm up, let the frequency governor wake
	best := 0.0
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		clockLoop(n / 3)
		d := time.Since(t0).Seconds()
		best = max(best, float64(n/3)*8/d/1e9)
	}
	return best
}

// MemAvailable returns the memory the kernel estimates can be allocated
// without swapping (MemAvailable in /proc/meminfo), in bytes; an error
// where there is no /proc/meminfo (not Linux) or it lacks the line.
func MemAvailable() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseMemAvailable(f)
}

func parseMemAvailable(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("machine: /proc/meminfo: MemAvailable line %q: want \"<n> kB\"", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("machine: /proc/meminfo: MemAvailable line %q: %v", sc.Text(), err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("machine: /proc/meminfo has no MemAvailable line")
}
