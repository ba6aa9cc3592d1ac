package backend

import (
	"bufio"
	"fmt"
	"math"
	"math/bits"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Size limits of the contract. Every description's Validate keeps each
// derived size (tensor elements, weights, the per-image im2col matrix) and
// each window parameter within them, so no product overflows int64 and no
// size overflows the 32-bit element and dimension indices that vendor
// kernels use (cuDNN's descriptors take int; some oneDNN kernels index with
// int32 although its dims are int64).
const (
	// MaxElements is the most elements any tensor, weight array or
	// per-image im2col matrix of an op may have: 2^31 − 1.
	MaxElements = 1<<31 - 1
	// MaxDim is the largest single dimension, kernel, stride, padding, output
	// feature count or LRN window: 2^31 − 1.
	MaxDim = 1<<31 - 1
	// MaxThreadsPerCPU bounds Options.Threads at this many threads per
	// logical CPU (see MaxThreads).
	MaxThreadsPerCPU = 4
)

// MaxThreads is the largest Options.Threads accepted: MaxThreadsPerCPU
// times the number of logical CPUs. More threads than that only add
// contention, and asking OpenMP or the Go runtime for a hundred thousand
// threads exhausts the machine before any work is done.
func MaxThreads() int { return MaxThreadsPerCPU * runtime.NumCPU() }

// mul returns a·b and whether it stayed within limit (both ≥ 0). It never
// overflows.
func mul(a, b, limit int64) (int64, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > uint64(limit) {
		return 0, false
	}
	return int64(lo), true
}

// Product returns the product of the factors and whether it is at most
// limit. Factors must be ≥ 0; the product is computed without overflow.
func Product(limit int64, factors ...int) (int64, bool) {
	p := int64(1)
	for _, f := range factors {
		var ok bool
		if p, ok = mul(p, int64(f), limit); !ok {
			return 0, false
		}
	}
	return p, true
}

// checkSize returns an ErrInvalid error for op when the product of the
// factors (named what) exceeds MaxElements.
func checkSize(op string, desc fmt.Stringer, what string, factors ...int) error {
	if _, ok := Product(MaxElements, factors...); ok {
		return nil
	}
	return errorf(op, ErrInvalid, "%s: %s would have %s elements, more than the limit of %d (2^31-1)", desc, what,
		productString(factors), MaxElements)
}

// productString formats the exact product of factors (which may exceed
// int64) as a decimal, or as the factors when it is too large to matter.
func productString(factors []int) string {
	f := 1.0
	parts := make([]string, len(factors))
	for i, v := range factors {
		f *= float64(v)
		parts[i] = strconv.Itoa(v)
	}
	if p, ok := Product(math.MaxInt64, factors...); ok {
		return strconv.FormatInt(p, 10)
	}
	return fmt.Sprintf("%s = %.3g", strings.Join(parts, "·"), f)
}

// checkDims returns an ErrInvalid error for op when any named parameter is
// above MaxDim.
func checkDims(op string, desc fmt.Stringer, names string, vals ...int) error {
	for _, v := range vals {
		if v > MaxDim {
			return errorf(op, ErrInvalid, "%s: %s %v, want each ≤ %d", desc, names, vals, MaxDim)
		}
	}
	return nil
}

// DefaultMemoryBudget is the budget of a backend opened with
// Options.MemoryBudget 0: the memory available to this process when it
// asks — MemAvailable of /proc/meminfo, lowered to the room left under a
// cgroup v2 memory limit when there is one. Where neither can be read (not
// Linux) it is 0, no limit. Each backend value reads it once, at Open.
func DefaultMemoryBudget() int64 {
	avail := meminfoAvailable("/proc/meminfo")
	if room, ok := cgroupRoom("/sys/fs/cgroup"); ok && (avail == 0 || room < avail) {
		avail = max(room, 1)
	}
	return avail
}

// meminfoAvailable reads MemAvailable (in kB) from a meminfo file, in
// bytes; 0 when absent.
func meminfoAvailable(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb <= 0 {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// cgroupRoom returns memory.max − memory.current of the cgroup v2
// directory dir, when a limit is set.
func cgroupRoom(dir string) (int64, bool) {
	read := func(name string) (int64, bool) {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			return 0, false
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return v, err == nil
	}
	limit, ok := read("memory.max") // "max" when unlimited: not a number
	if !ok {
		return 0, false
	}
	cur, _ := read("memory.current")
	return max(limit-cur, 0), true
}

// ---- options ----

// Validate checks the options every backend shares: Threads in
// [0, MaxThreads()], MemoryBudget ≥ 0, a known Precision, Device ≥ 0. Open
// and every backend's own Open call it; a backend then checks what only it
// knows (the precisions it computes in, the devices it has).
func (o Options) Validate() error {
	switch {
	case o.Threads < 0 || o.Threads > MaxThreads():
		return errorf("open", ErrInvalid, "threads %d, want 0 (the default) to %d (%d per logical CPU, %d CPUs)",
			o.Threads, MaxThreads(), MaxThreadsPerCPU, runtime.NumCPU())
	case o.MemoryBudget < 0:
		return errorf("open", ErrInvalid, "memory budget %d bytes, want ≥ 0 (0: the default, the memory available at Open)", o.MemoryBudget)
	case o.Precision < FP32 || o.Precision > FP16:
		return errorf("open", ErrInvalid, "unknown precision %v", o.Precision)
	case o.Device < 0:
		return errorf("open", ErrInvalid, "device %d, want ≥ 0", o.Device)
	}
	return nil
}

// Budget resolves MemoryBudget: the option when set, DefaultMemoryBudget()
// otherwise.
func (o Options) Budget() int64 {
	if o.MemoryBudget > 0 {
		return o.MemoryBudget
	}
	return DefaultMemoryBudget()
}
