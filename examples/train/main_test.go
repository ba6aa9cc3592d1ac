package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainsAndWritesAUsableCheckpoint runs the example on synthetic
// images (no Fashion-MNIST in the folder given): it says so, trains, and
// writes a checkpoint with the notes eval and classify need.
func TestTrainsAndWritesAUsableCheckpoint(t *testing.T) {
	var log bytes.Buffer
	out := filepath.Join(t.TempDir(), "m.safetensors")
	err := run(context.Background(), options{dir: t.TempDir(), images: 96, tests: 16, epochs: 2, batch: 16, lr: 0.01,
		out: out, backend: "cpu", log: &log})
	require.NoError(t, err, log.String())
	assert.Contains(t, log.String(), "data: synthetic images (ten classes of bars): Fashion-MNIST is not in")
	assert.Contains(t, log.String(), "network: mini, 10 classes, 99×99 input; backend cpu")
	assert.Regexp(t, `epoch 2/2: train loss [0-9.]+, test accuracy [0-9.]+% \(16 images\), lr 0\.005`, log.String())

	b, err := backend.Open("cpu")
	require.NoError(t, err)
	defer b.Close()
	net, err := alexnet.Load(b, out)
	require.NoError(t, err)
	defer net.Close()
	assert.Equal(t, uint64(2*96/16), net.Steps())
	pre, labels, err := train.Described(net)
	require.NoError(t, err)
	assert.Equal(t, 112, pre.Resize)
	assert.Len(t, labels, 10)
}

func TestRejectsBadFlags(t *testing.T) {
	for _, o := range []options{{epochs: 0, batch: 1, lr: 0.1}, {epochs: 1, batch: 0, lr: 0.1}, {epochs: 1, batch: 1, lr: 0}} {
		assert.ErrorContains(t, run(context.Background(), o), "want each > 0")
	}
}
