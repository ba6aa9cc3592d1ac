package main

import (
	"fmt"
	"slices"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/internal/machine"
)

// memAvailable is the memory the machine can give this run; a variable so
// that tests can set it.
var memAvailable = machine.MemAvailable

// memoryFraction is the part of the available memory a run may plan to
// use: the estimate is calibrated, not exact.
const memoryFraction = 0.9

// checkMemory refuses, before anything is allocated, a run whose estimated
// memory (alexnet.Memory: parameters, activations of every batch size,
// plus perImage bytes per image of the largest size, e.g. the loader's
// buffers) does not fit in the memory available, saying what it needs,
// what there is and the largest size that fits. what names the request
// ("--batch 50000"), hint the flag to change ("--batch"). Where the available memory is unknown (not Linux)
// nothing is checked.
func checkMemory(what string, cfg alexnet.Config, forward, train []int, perImage int64, hint string) error {
	if len(forward)+len(train) == 0 {
		return nil
	}
	avail, err := memAvailable()
	if err != nil {
		return nil
	}
	s, err := cfg.Summary()
	if err != nil {
		return err
	}
	m := s.Memory()
	need := func(limit int) int64 {
		clip := func(sizes []int) []int {
			out := make([]int, len(sizes))
			for i, n := range sizes {
				out[i] = min(n, limit)
			}
			return out
		}
		largest := slices.Max(append(clip(forward), clip(train)...))
		return m.Need(clip(forward), clip(train)) + int64(largest)*perImage
	}
	largest := slices.Max(append(slices.Clone(forward), train...))
	budget := int64(memoryFraction * float64(avail))
	if need(largest) <= budget {
		return nil
	}
	params, per := m.Training, m.PerImageTrained
	if len(train) == 0 {
		params, per = m.Inference, m.PerImage
	}
	msg := fmt.Sprintf("%s: needs ~%s of memory (estimate for %s: %s of parameters, %s per image), this machine has %s available",
		what, alexnet.GB(need(largest)), cfg.Name, alexnet.GB(params), mb(per+perImage), alexnet.GB(avail))
	// The largest size that fits: need grows with the limit.
	lo, hi := 0, largest
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if need(mid) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return usageError{msg + ": not even one image fits"}
	}
	return usageError{fmt.Sprintf("%s; try %s %d", msg, hint, lo)}
}

func mb(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }
