package safetensors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckWritableFailsBeforeAnyWrite: what would make WriteFile fail
// after hours of training fails here, and a success leaves nothing behind.
func TestCheckWritableFailsBeforeAnyWrite(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, CheckWritable(filepath.Join(dir, "ok.safetensors")))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "the probe file is removed")

	readOnly := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(readOnly, 0o555))
	cases := []struct {
		name, path, want string
		skip             bool
	}{
		{"250-character name", filepath.Join(dir, strings.Repeat("n", 240)+".safetensors"), "file name too long", false},
		{"missing directory", filepath.Join(dir, "nope", "x.safetensors"), "no such file or directory", false},
		{"a directory", dir, "is a directory", false},
		{"read-only directory", filepath.Join(readOnly, "x.safetensors"), "permission denied", os.Geteuid() == 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip {
				t.Skip("root writes into read-only directories")
			}
			err := CheckWritable(c.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// TestRemoveStaleTempsRemovesOnlyThisFilesTemps: the temporary files a
// killed WriteFile left for a path go; every other file stays.
func TestRemoveStaleTempsRemovesOnlyThisFilesTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	stale := []string{".ck.safetensors.tmp123", ".ck.safetensors.tmp4567890"}
	kept := []string{"ck.safetensors", ".ck.safetensors.tmp", ".ck.safetensors.tmpabc", ".other.safetensors.tmp1", "ck.safetensors.tmp1"}
	for _, n := range append(append([]string{}, stale...), kept...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644))
	}
	removed, err := RemoveStaleTemps(path)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{filepath.Join(dir, stale[0]), filepath.Join(dir, stale[1])}, removed)
	for _, n := range kept {
		assert.FileExists(t, filepath.Join(dir, n))
	}
	// A temporary file WriteFile makes matches what is removed.
	tmp, err := os.CreateTemp(dir, tempPattern(path))
	require.NoError(t, err)
	require.NoError(t, tmp.Close())
	removed, err = RemoveStaleTemps(path)
	require.NoError(t, err)
	assert.Equal(t, []string{tmp.Name()}, removed)
}
