package main

import (
	"path/filepath"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// librarySaved writes a Mini() checkpoint of two classes the way a program
// using package alexnet does, with the notes of train.Describe or without.
func librarySaved(t *testing.T, describe bool) string {
	b, err := backend.Open("cpu")
	require.NoError(t, err)
	defer b.Close()
	cfg := alexnet.Mini()
	cfg.Classes = 2
	net, err := alexnet.New(b, cfg)
	require.NoError(t, err)
	defer net.Close()
	if describe {
		require.NoError(t, train.Describe(net, train.DefaultPreprocess(cfg, [3]float32{0.5, 0.5, 0.5}), []string{"dark", "light"}))
	}
	path := filepath.Join(t.TempDir(), "lib.safetensors")
	require.NoError(t, net.Save(path))
	return path
}

// TestLibraryCheckpointsClassify: a checkpoint saved with net.Save alone
// is used with the documented defaults and a warning; one with
// train.Describe's notes without a warning, with its class names.
func TestLibraryCheckpointsClassify(t *testing.T) {
	root := writeFolder(t, 1)
	img := filepath.Join(root, "val", "light", "0.png")
	for _, tc := range []struct {
		name     string
		describe bool
		args     []string
		code     int
		stderr   string
		stdout   string
	}{
		{"no notes: defaults and a warning", false, nil, 0,
			`has no "preprocess" note (saved without train.Describe): using --resize 112 --mean 0,0,0 (shorter side to 112, centre 99×99 crop`, "class 1"},
		{"no notes, flags given", false, []string{"--resize", "120", "--mean", "0.5,0.4,0.3"}, 0, "using --resize 120 --mean 0.5,0.4,0.3", "class 0"},
		{"no notes, bad mean", false, []string{"--mean", "0.5,0.4"}, 2, `--mean "0.5,0.4": want three numbers R,G,B`, ""},
		{"no notes, resize below the input", false, []string{"--resize", "50"}, 2, "--resize 50: want ≥ the network's input size 99", ""},
		{"train.Describe's notes", true, nil, 0, "", "light"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck := librarySaved(t, tc.describe)
			args := append([]string{"classify", "--checkpoint", ck}, tc.args...)
			code, out, stderr := runCLI(append(args, img)...)
			require.Equal(t, tc.code, code, stderr)
			if tc.stderr == "" {
				assert.Empty(t, stderr)
			} else {
				assert.Contains(t, stderr, tc.stderr)
			}
			assert.Contains(t, out, tc.stdout)
		})
	}
}
