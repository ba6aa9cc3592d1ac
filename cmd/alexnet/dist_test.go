package main

import (
	"slices"
	"testing"

	"github.com/dnngo/dnngo/collective"
	"github.com/stretchr/testify/assert"
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
