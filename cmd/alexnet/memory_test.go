package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withMemory makes the machine report avail bytes available (or err).
func withMemory(t *testing.T, avail int64, err error) {
	old := memAvailable
	memAvailable = func() (int64, error) { return avail, err }
	t.Cleanup(func() { memAvailable = old })
}

var tryBatch = regexp.MustCompile(`try (--batch|batch sizes ≤) (\d+)$`)

func TestCheckMemorySuggestsTheLargestBatchThatFits(t *testing.T) {
	withMemory(t, 8<<30, nil)
	for _, tc := range []struct {
		name           string
		cfg            alexnet.Config
		forward, train []int
		perImage       int64
		fits           bool
	}{
		{"seed training batch 128 fits", alexnet.SeedConfig(), nil, []int{128}, 1 << 20, true},
		{"seed training batch 50000 does not", alexnet.SeedConfig(), nil, []int{50000}, 1 << 20, false},
		{"seed forward 4096 does not", alexnet.SeedConfig(), []int{1, 16, 4096}, nil, 0, false},
		{"bench sizes add up", alexnet.SeedConfig(), []int{256, 512}, []int{256}, 0, false},
		{"mini training batch 4096 fits", alexnet.Mini(), nil, []int{4096}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkMemory("--batch X", tc.cfg, tc.forward, tc.train, tc.perImage, "--batch")
			if tc.fits {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.As(err, new(usageError)), "a usage error: exit status 2")
			assert.Regexp(t, `^--batch X: needs ~[0-9.]+ GB of memory \(estimate for `+tc.cfg.Name+`: .* per image\), this machine has 8\.59 GB available; try --batch \d+$`, err.Error())
			n, _ := strconv.Atoi(tryBatch.FindStringSubmatch(err.Error())[2])
			require.Positive(t, n)
			clip := func(sizes []int, limit int) []int {
				var out []int
				for _, s := range sizes {
					out = append(out, min(s, limit))
				}
				return out
			}
			// The suggestion fits and one more image does not.
			assert.NoError(t, checkMemory("x", tc.cfg, clip(tc.forward, n), clip(tc.train, n), tc.perImage, "--batch"))
			assert.Error(t, checkMemory("x", tc.cfg, clip(tc.forward, n+1), clip(tc.train, n+1), tc.perImage, "--batch"))
		})
	}
}

func TestCheckMemoryNothingFitsOrUnknown(t *testing.T) {
	withMemory(t, 100<<20, nil) // 100 MB: not even Seed's parameters
	err := checkMemory("--batch 1", alexnet.SeedConfig(), nil, []int{1}, 0, "--batch")
	assert.ErrorContains(t, err, "not even one image fits")
	withMemory(t, 0, errors.New("no /proc/meminfo"))
	assert.NoError(t, checkMemory("--batch 1", alexnet.SeedConfig(), nil, []int{1 << 30}, 0, "--batch"), "unknown memory: no check")
}

// TestTrainAndBenchRefuseBeforeAllocating: the commands of the issue end
// with the message and exit status 2 instead of Go's out-of-memory crash.
func TestTrainAndBenchRefuseBeforeAllocating(t *testing.T) {
	withMemory(t, 8<<30, nil)
	root := writeFolder(t, 1)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"train --batch 50000", []string{"train", "--data", root, "--backend", "cpu", "--batch", "50000", "--checkpoint", t.TempDir() + "/c.safetensors"},
			"alexnet train: --batch 50000: needs ~"},
		{"bench --batch 4096", []string{"bench", "--backends", "cpu", "--batch", "4096"}, `alexnet bench: --batch "4096" --train "": needs ~`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Regexp(t, tryBatch, stderr[:len(stderr)-1])
			assert.Contains(t, stderr, fmt.Sprintf("this machine has %s available", alexnet.GB(8<<30)))
		})
	}
}
