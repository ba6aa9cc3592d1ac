//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecondTrainOnALockedCheckpointFailsAtOnce: while another process
// trains on the checkpoint (holds the flock on <checkpoint>.lock), train
// --resume on it fails with a clear message before any work.
func TestSecondTrainOnALockedCheckpointFailsAtOnce(t *testing.T) {
	root := writeFolder(t, 4)
	ck := filepath.Join(t.TempDir(), "l.safetensors")
	code, _, stderr := runCLI("train", "--data", root, "--variant", "mini", "--epochs", "1", "--batch", "4", "--checkpoint", ck)
	require.Equal(t, 0, code, stderr)
	other, err := os.OpenFile(ck+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	code, out, stderr := runCLI("train", "--resume", "--checkpoint", ck, "--epochs", "2")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "checkpoint is locked by another training run")
	assert.NotContains(t, out, "colour statistics")
}
