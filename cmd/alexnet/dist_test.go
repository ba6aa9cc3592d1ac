package main

import (
	"encoding/csv"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/collective"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrainDistFlag(t *testing.T) {
	root := writeFolder(t, 2)
	ck := t.TempDir() + "/m.safetensors"
	t.Run("unknown kind is a usage error", func(t *testing.T) {
		code, _, stderr := runCLI("train", "--data", root, "--variant", "mini", "--checkpoint", ck, "--dist", "tcp")
		assert.Equal(t, 2, code)
		assert.Contains(t, stderr, `--dist "tcp": want mpi or nothing`)
	})
	if !slices.Contains(collective.Kinds(), "mpi") {
		t.Run("mpi without -tags mpi is a usage error", func(t *testing.T) {
			code, _, stderr := runCLI("train", "--data", root, "--variant", "mini", "--checkpoint", ck, "--dist", "mpi")
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, "build with -tags mpi")
		})
	}
}

// --lr-batch trains at the linearly scaled rate after a warm-up from --lr:
// the first epoch's log line shows the rate rising, the second the target.
func TestTrainLinearScaling(t *testing.T) {
	root := writeFolder(t, 8) // 16 training images: 2 steps an epoch at batch 8
	dir := t.TempDir()
	code, _, stderr := runCLI("train", "--data", root, "--variant", "mini", "--epochs", "2", "--batch", "8", "--lr", "0.001",
		"--lr-batch", "4", "--warmup-epochs", "1", "--threads", "1", "--checkpoint", dir+"/m.safetensors")
	require.Equal(t, 0, code, stderr)
	raw, err := os.ReadFile(dir + "/m.csv")
	require.NoError(t, err)
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	lr := func(row []string) float64 {
		v, err := strconv.ParseFloat(row[5], 64)
		require.NoError(t, err)
		return v
	}
	assert.Equal(t, "lr", rows[0][5])
	assert.InDelta(t, 0.0015, lr(rows[1]), 1e-9, "epoch 1 starts one step into the ramp from 0.001")
	assert.InDelta(t, 0.002, lr(rows[2]), 1e-9, "after the warm-up: 0.001 × 8/4")
	for _, bad := range [][]string{{"--lr-batch", "-1"}, {"--warmup-epochs", "-2"}} {
		code, _, stderr := runCLI(append([]string{"train", "--data", root, "--variant", "mini", "--checkpoint", dir + "/x.safetensors"}, bad...)...)
		assert.Equal(t, 2, code, bad)
		assert.Contains(t, stderr, "want ≥ 0")
	}
}
