//go:build mpi

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnngo/dnngo/internal/mpitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const dirEnv = "DNNGO_CLI_MPI_DIR"

// The ranks' entry point: TestMPI* below start it under mpirun.
func TestMPIChild(t *testing.T) {
	mpitest.Child(t, map[string]func(*testing.T){"train": func(t *testing.T) {
		dir := os.Getenv(dirEnv)
		code := run([]string{"train", "--dist", "mpi", "--data", filepath.Join(dir, "data"), "--variant", "mini", "--epochs", "1",
			"--batch", "8", "--threads", "1", "--workers", "1", "--checkpoint", filepath.Join(dir, "m.safetensors")}, os.Stdout, os.Stderr)
		require.Equal(t, 0, code)
	}, "fail": func(t *testing.T) {
		// Rank 1 cannot open its data; rank 0 goes on into the first
		// collective. Exits like main does.
		dir := os.Getenv(dirEnv)
		data := filepath.Join(dir, "data")
		if os.Getenv("OMPI_COMM_WORLD_RANK") == "1" {
			data = filepath.Join(dir, "no-such-data")
		}
		os.Exit(run([]string{"train", "--dist", "mpi", "--data", data, "--variant", "mini", "--epochs", "1",
			"--batch", "8", "--threads", "1", "--checkpoint", filepath.Join(dir, "m.safetensors")}, os.Stdout, os.Stderr))
	}, "eval": func(t *testing.T) {
		dir := os.Getenv(dirEnv)
		code := run([]string{"eval", "--dist", "mpi", "--data", filepath.Join(dir, "data"), "--batch", "4", "--threads", "1",
			"--checkpoint", filepath.Join(dir, "m.safetensors")}, os.Stdout, os.Stderr)
		require.Equal(t, 0, code)
	}})
}

// alexnet train --dist mpi under mpirun -np 2 trains, prints once and
// writes one checkpoint, log and chart; eval --dist mpi then reports what
// one process reports.
func TestMPITrainCLI(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Rename(writeFolder(t, 8), filepath.Join(dir, "data")))
	out := mpitest.Run(t, "TestMPIChild", 2, "train", dirEnv+"="+dir)
	assert.Equal(t, 1, strings.Count(out, "data-parallel: 2 ranks over MPI"), out)
	assert.Equal(t, 1, strings.Count(out, "images per rank per step"), out)
	assert.Equal(t, 1, strings.Count(out, "\nfinal: epochs=1"), out)
	assert.Equal(t, 1, strings.Count(out, "epoch 1/1: train loss"), out)
	for _, f := range []string{"m.safetensors", "m.csv", "m.png"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	// MPI starts once per process: eval is a job of its own.
	out = mpitest.Run(t, "TestMPIChild", 2, "eval", dirEnv+"="+dir)
	code, one, stderr := runCLI("eval", "--data", filepath.Join(dir, "data"), "--batch", "4", "--threads", "1", "--checkpoint", filepath.Join(dir, "m.safetensors"))
	require.Equal(t, 0, code, stderr)
	// The result line (the last): progress lines differ, a rank sees its shard.
	lines := strings.Split(strings.TrimSpace(one), "\n")
	line := lines[len(lines)-1]
	require.Contains(t, line, "16 images: top-1 error")
	assert.Equal(t, 1, strings.Count(out, line), "the 2-rank eval prints the 1-process line, once:\n%s\n%s", line, out)
}

// An error on one rank (before or between collectives) ends the whole job,
// non-zero, within 60 s: the failing rank exits without MPI_Finalize, which
// would wait for the others, and mpirun then stops them.
func TestMPITrainCLIOneRankFails(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Rename(writeFolder(t, 4), filepath.Join(dir, "data")))
	r := mpitest.Launch(t, "TestMPIChild", 2, "fail", dirEnv+"="+dir)
	require.Error(t, r.Err, r.Output)
	var ee interface{ ExitCode() int }
	if errors.As(r.Err, &ee) {
		assert.NotEqual(t, 0, ee.ExitCode())
	}
	assert.Less(t, r.Elapsed, 60*time.Second, r.Output)
	assert.Contains(t, r.Output, "no-such-data", r.Output)
	t.Logf("mpirun ended after %v", r.Elapsed.Round(time.Millisecond))
}
