//go:build unix

package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecondRunOnALockedCheckpointFails: while another process holds the
// checkpoint's lock (an flock on <checkpoint>.lock, taken here through a
// separate open file, as another process would), Run fails at once with
// ErrLocked and reads no image; once released, it runs and removes the
// lock file at the end.
func TestSecondRunOnALockedCheckpointFails(t *testing.T) {
	net, err := alexnet.New(openCPU(t), miniConfig())
	require.NoError(t, err)
	defer net.Close()
	o := options(net, t.TempDir(), 1)
	var reads atomic.Int64
	o.Train = stripes{n: 24, onRead: func(int) { reads.Add(1) }}
	other, err := os.OpenFile(o.Checkpoint+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))

	_, err = Run(context.Background(), o)
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), o.Checkpoint+".lock")
	assert.Zero(t, reads.Load(), "nothing was read before the lock was refused")

	require.NoError(t, other.Close()) // the other process ends
	_, err = Run(context.Background(), o)
	require.NoError(t, err)
	assert.NotZero(t, reads.Load(), "the counter counts")
	assert.NoFileExists(t, o.Checkpoint+".lock", "the lock file goes with the run")
}

// TestRunRemovesStaleTempFilesAndChecksWritability: temporary files of
// saves that were killed are removed when a run starts; an unwritable
// checkpoint path fails before the first image is read.
func TestRunRemovesStaleTempFilesAndChecksWritability(t *testing.T) {
	net, err := alexnet.New(openCPU(t), miniConfig())
	require.NoError(t, err)
	defer net.Close()
	t.Run("stale temporary files", func(t *testing.T) {
		o := options(net, t.TempDir(), 1)
		dir := filepath.Dir(o.Checkpoint)
		for _, n := range []string{".ck.safetensors.tmp1234", ".ck.safetensors.tmp99"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("half a checkpoint"), 0o644))
		}
		_, err := Run(context.Background(), o)
		require.NoError(t, err)
		matches, err := filepath.Glob(filepath.Join(dir, ".ck.safetensors.tmp*"))
		require.NoError(t, err)
		assert.Empty(t, matches)
	})
	for _, c := range []struct{ name, path, want string }{
		{"250-character name", strings.Repeat("c", 250), "file name too long"},
		{"missing directory", filepath.Join("nope", "ck.safetensors"), "no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			o := options(net, dir, 1)
			var reads atomic.Int64
			o.Train = stripes{n: 24, onRead: func(int) { reads.Add(1) }}
			o.Checkpoint = filepath.Join(dir, c.path)
			_, err := Run(context.Background(), o)
			require.Error(t, err)
			assert.False(t, errors.Is(err, ErrInterrupted))
			assert.Contains(t, err.Error(), c.want)
			assert.Zero(t, reads.Load(), "failed before training")
		})
	}
}
