package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/examples/internal/exdata"
	"github.com/dnngo/dnngo/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithoutACheckpointSaysSo(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(filepath.Join(t.TempDir(), "none.safetensors"), t.TempDir(), 3, &out))
	assert.Contains(t, out.String(), "data: synthetic images")
	assert.Contains(t, out.String(), "an untrained network, so the guesses are random")
	assert.Equal(t, 3, strings.Count(out.String(), "\nimage "))
	assert.Regexp(t, `\d of 3 right; backend \w+`, out.String())
}

// TestClassifiesWithACheckpoint: a checkpoint with train.Describe's notes;
// every image gets its three most probable classes, named.
func TestClassifiesWithACheckpoint(t *testing.T) {
	b, err := backend.Open("cpu")
	require.NoError(t, err)
	defer b.Close()
	net, err := alexnet.New(b, alexnet.Mini())
	require.NoError(t, err)
	defer net.Close()
	require.NoError(t, train.Describe(net, train.DefaultPreprocess(alexnet.Mini(), [3]float32{0.3, 0.3, 0.3}), exdata.Bars{}.Classes()))
	ck := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, net.Save(ck))

	var out bytes.Buffer
	require.NoError(t, run(ck, t.TempDir(), 5, &out))
	assert.NotContains(t, out.String(), "untrained")
	assert.Regexp(t, `(?m)^image 0 \(bar \d\):  bar \d [0-9.]+%  bar \d [0-9.]+%  bar \d [0-9.]+%$`, out.String())
	assert.Equal(t, 5, strings.Count(out.String(), "\nimage "))
}

func TestRejectsEmptyBatch(t *testing.T) {
	assert.ErrorContains(t, run("x", t.TempDir(), 0, &bytes.Buffer{}), "-n 0")
}
