package main

import (
	"encoding/csv"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/dnngo/dnngo/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFolder makes an ImageNet-style folder of two easy classes.
func writeFolder(t *testing.T, n int) string {
	root := t.TempDir()
	for _, split := range []string{"train", "val"} {
		for c, class := range []string{"dark", "light"} {
			dir := filepath.Join(root, split, class)
			require.NoError(t, os.MkdirAll(dir, 0o755))
			for i := 0; i < n; i++ {
				img := image.NewRGBA(image.Rect(0, 0, 48, 40))
				for y := 0; y < 40; y++ {
					for x := 0; x < 48; x++ {
						v := uint8(30 + (x*7+y*13+i*29)%50 + 150*c)
						img.Set(x, y, color.RGBA{v, v / 2, 255 - v, 255})
					}
				}
				f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)+".png"))
				require.NoError(t, err)
				require.NoError(t, png.Encode(f, img))
				require.NoError(t, f.Close())
			}
		}
	}
	return root
}

func TestTrainEvalClassifyOnFolder(t *testing.T) {
	root := writeFolder(t, 12)
	dir := t.TempDir()
	ck := filepath.Join(dir, "m.safetensors")
	code, out, stderr := runCLI("train", "--data", root, "--variant", "mini", "--epochs", "2", "--batch", "8", "--lr", "0.005", "--checkpoint", ck)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "training mini (2 classes)")
	assert.Regexp(t, `(?m)^final: epochs=2 train_loss=[0-9.]+ test_top1=[0-9.]+ test_top5=1\.0000 images_per_s=[0-9.]+$`, out)
	for _, f := range []string{"m.safetensors", "m.csv", "m.png"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, f)
	}

	// eval needs only the test split: the colour statistics are in the checkpoint.
	require.NoError(t, os.Rename(filepath.Join(root, "train"), filepath.Join(dir, "train-elsewhere")))
	code, out, stderr = runCLI("eval", "--checkpoint", ck, "--data", root, "--crop", "ten")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "ten crop, 24 images: top-1 error")
	assert.Regexp(t, `evaluating .*m\.safetensors \(mini, 2 classes\) on .*: 24 test images, ten crop, batch 32; backend (cpu|onednn|cudnn) \(`, out)
	assert.Contains(t, out, "evaluated 24/24 images (100%)")
	require.NoError(t, os.Rename(filepath.Join(dir, "train-elsewhere"), filepath.Join(root, "train")))

	img := filepath.Join(root, "val", "light", "0.png")
	code, out, stderr = runCLI("classify", "--checkpoint", ck, "--top", "2", img)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, img+":")
	assert.Contains(t, out, "light")
	assert.Contains(t, out, "dark")

	// A second train must not overwrite the checkpoint silently.
	code, _, stderr = runCLI("train", "--data", root, "--variant", "mini", "--epochs", "1", "--checkpoint", ck)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "exists: add --resume")
}

func TestTrainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"train", "--epochs", "0"},
		{"train", "--batch", "-1"},
		{"train", "--lr", "0"},
		{"train", "--momentum", "1"},
		{"train", "--augment", "lots"},
		{"train", "--init", "xavier"},
		{"train", "--limit", "-5"},
		{"train", "--backend", "tpu"},
		{"eval"},
		{"eval", "--checkpoint", "x", "--crop", "six"},
		{"classify", "--checkpoint", "x"},
		{"classify", "img.png"},
	} {
		code, _, stderr := runCLI(args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
	}
}

// TestTrainFashionMNISTLossFalls is the CI check of the issue: a few
// hundred Fashion-MNIST images, Mini(), and the loss falls. It needs the
// Debian package dataset-fashion-mnist (CI installs it and sets
// DNNGO_REQUIRE_FASHION_MNIST=1 so that its absence fails).
func TestTrainFashionMNISTLossFalls(t *testing.T) {
	if _, err := data.OpenFashionMNIST(data.FashionMNISTDir, data.Test); err != nil {
		if os.Getenv("DNNGO_REQUIRE_FASHION_MNIST") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	ck := filepath.Join(dir, "fm.safetensors")
	code, out, stderr := runCLI("train", "--data", "fashion-mnist", "--variant", "mini", "--limit", "320", "--test-limit", "200",
		"--epochs", "4", "--batch", "32", "--checkpoint", ck)
	require.Equal(t, 0, code, stderr+out)
	f, err := os.Open(filepath.Join(dir, "fm.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 5)
	first, err := strconv.ParseFloat(rows[1][2], 64)
	require.NoError(t, err)
	last, err := strconv.ParseFloat(rows[4][2], 64)
	require.NoError(t, err)
	assert.Less(t, last, first, "training loss falls: epoch 1 %.4f, epoch 4 %.4f", first, last)
	t.Logf("training loss %.4f → %.4f\n%s", first, last, out)
}
