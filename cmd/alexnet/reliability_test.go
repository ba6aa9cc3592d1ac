package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
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

// TestTrainRejectsNonFiniteHyperParametersAtOnce: values that are NaN or
// infinite in float32 are usage errors (exit 2) before any data is read
// (--data names a folder that does not exist: reaching it would exit 1).
func TestTrainRejectsNonFiniteHyperParametersAtOnce(t *testing.T) {
	for _, c := range []struct{ flag, value string }{
		{"--lr", "1e39"}, {"--lr", "NaN"}, {"--lr", "Inf"},
		{"--momentum", "NaN"},
		{"--weight-decay", "NaN"}, {"--weight-decay", "Inf"}, {"--weight-decay", "1e39"},
	} {
		t.Run(c.flag+" "+c.value, func(t *testing.T) {
			code, _, stderr := runCLI("train", "--data", filepath.Join(t.TempDir(), "none"), "--checkpoint", filepath.Join(t.TempDir(), "c.safetensors"), c.flag, c.value)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, c.flag)
		})
	}
}

// TestTrainCheckpointThatIsADirectorySaysSo: not "exists: add --resume".
func TestTrainCheckpointThatIsADirectorySaysSo(t *testing.T) {
	dir := t.TempDir()
	for _, resume := range []bool{false, true} {
		args := []string{"train", "--checkpoint", dir}
		if resume {
			args = append(args, "--resume")
		}
		code, _, stderr := runCLI(args...)
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, dir+" is a directory")
		assert.NotContains(t, stderr, "add --resume")
	}
}

// TestResumeSettlesConflictingFlagsFirst: on --resume, a flag that
// conflicts with the checkpoint is a usage error naming both values,
// before the colour statistics; --lr is applied and said; data settings
// not given are taken from the checkpoint.
func TestResumeSettlesConflictingFlagsFirst(t *testing.T) {
	root := writeFolder(t, 4)
	ck := filepath.Join(t.TempDir(), "r.safetensors")
	code, _, stderr := runCLI("train", "--data", root, "--variant", "mini", "--epochs", "1", "--batch", "4", "--lr", "0.005", "--checkpoint", ck)
	require.Equal(t, 0, code, stderr)
	conflicts := []struct {
		name string
		args []string
		want []string
	}{
		{"variant", []string{"--variant", "seed"}, []string{"--variant seed", "mini network"}},
		{"batch", []string{"--batch", "8"}, []string{"--batch 8", "used 4"}},
		{"limit", []string{"--limit", "6"}, []string{"--limit 6", "used 0"}},
		{"seed", []string{"--seed", "9"}, []string{"--seed 9", "used 1"}},
		{"momentum", []string{"--momentum", "0.5"}, []string{"--momentum 0.5", "momentum 0.9"}},
		{"weight decay", []string{"--weight-decay", "0.01"}, []string{"--weight-decay 0.01", "weight decay 0.0005"}},
		{"init", []string{"--init", "paper"}, []string{"--init paper", "initialised the kaiming way"}},
	}
	for _, c := range conflicts {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"train", "--resume", "--checkpoint", ck, "--epochs", "2"}, c.args...)
			code, out, stderr := runCLI(args...)
			assert.Equal(t, 2, code, stderr)
			for _, w := range c.want {
				assert.Contains(t, stderr, w)
			}
			assert.NotContains(t, out, "colour statistics", "rejected before any expensive work")
		})
	}
	t.Run("same values and a new learning rate", func(t *testing.T) {
		code, out, stderr := runCLI("train", "--resume", "--checkpoint", ck, "--epochs", "2", "--variant", "mini", "--momentum", "0.9", "--lr", "0.002")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, out, "resuming with the checkpoint's settings: --data "+root+" --batch 4")
		assert.Contains(t, out, "resuming with learning rate 0.002 from --lr (the checkpoint's was 0.005)")
		assert.Contains(t, out, "epoch 2/2")
	})
}

// TestClassifyAcceptsFlagsAfterTheImages: classify IMAGE --checkpoint X.
func TestClassifyAcceptsFlagsAfterTheImages(t *testing.T) {
	ckpt, img := libraryCheckpoint(t, "")
	code, out, stderr := runCLI("classify", img, "--checkpoint", ckpt, "--top", "1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, img+":")
	assert.Equal(t, 2, strings.Count(out, "\n"), "one image, one class: %q", out)
	code, _, stderr = runCLI("classify", "--checkpoint", ckpt, "--", "--top")
	assert.Equal(t, 1, code, "after --, --top is an image file name: %s", stderr)
	assert.Contains(t, stderr, "--top")
}
