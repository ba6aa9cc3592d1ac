package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu"
	"github.com/dnngo/dnngo/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// libraryCheckpoint saves a Mini network with two classes, described with
// pre (or with the given raw preprocess note when raw is not ""), and
// returns its path and a small PNG to classify.
func libraryCheckpoint(t *testing.T, raw string) (ckpt, img string) {
	t.Helper()
	b, err := cpu.Open(backend.Options{Threads: 1})
	require.NoError(t, err)
	defer b.Close()
	cfg := alexnet.Mini()
	cfg.Classes = 2
	net, err := alexnet.New(b, cfg)
	require.NoError(t, err)
	defer net.Close()
	require.NoError(t, train.Describe(net, train.Preprocess{Resize: 113, Crop: 99, Mean: [3]float32{0.5, 0.5, 0.5}}, []string{"a", "b"}))
	if raw != "" {
		require.NoError(t, net.SetNote(train.NotePreprocess, raw))
	}
	dir := t.TempDir()
	ckpt = filepath.Join(dir, "lib.safetensors")
	require.NoError(t, net.Save(ckpt))
	img = filepath.Join(dir, "x.png")
	f, err := os.Create(img)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, image.NewGray(image.Rect(0, 0, 30, 20))))
	require.NoError(t, f.Close())
	return ckpt, img
}

// TestClassifyRejectsHugeResizeNote: a checkpoint whose preprocess note
// asks for a 10⁹-pixel resize is an error naming the value, not a panic.
func TestClassifyRejectsHugeResizeNote(t *testing.T) {
	for _, resize := range []string{"1000000000", "30000"} {
		t.Run("resize "+resize, func(t *testing.T) {
			ckpt, img := libraryCheckpoint(t, `{"resize":`+resize+`,"crop":99,"mean":[0.5,0.5,0.5]}`)
			code, _, stderr := runCLI("classify", "--checkpoint", ckpt, img)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, "resize "+resize)
			assert.NotContains(t, stderr, "goroutine")
		})
	}
}
