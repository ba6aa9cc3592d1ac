package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDir: the environment variable first, then the shared reference
// copy beside the module, then the module's generated folder.
func TestDir(t *testing.T) {
	root := t.TempDir()
	mod := filepath.Join(root, "repo")
	require.NoError(t, os.MkdirAll(filepath.Join(mod, "pkg"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module x\n"), 0o644))
	t.Chdir(filepath.Join(mod, "pkg"))
	shared := filepath.Join(mod, "..", "shared", "testdata", "golden")
	generated := filepath.Join(mod, "testdata", "golden")

	t.Setenv(Env, "")
	dir, explicit, tried, err := Dir()
	require.NoError(t, err)
	assert.Equal(t, generated, dir, "no shared copy: the generated folder")
	assert.False(t, explicit)
	assert.Equal(t, []string{shared, generated}, tried)

	require.NoError(t, os.MkdirAll(shared, 0o755))
	dir, _, _, err = Dir()
	require.NoError(t, err)
	assert.Equal(t, shared, dir, "the shared reference copy when it is there")

	t.Setenv(Env, "/somewhere/else")
	dir, explicit, _, err = Dir()
	require.NoError(t, err)
	assert.Equal(t, "/somewhere/else", dir)
	assert.True(t, explicit)
}

func TestRelErr(t *testing.T) {
	assert.InDelta(t, 0.0, RelErr([]float32{1, 2}, []float64{1, 2}), 0)
	assert.InDelta(t, 0.1, RelErr([]float32{3.3, 4.4}, []float64{3, 4}), 1e-7)
	assert.InDelta(t, 5.0, RelErr([]float32{3, 4}, []float64{0, 0}), 1e-12, "want all zero: the absolute norm")
	assert.InDelta(t, 0.1, RelErr([]float32{3.3, 4.4}, []float32{3, 4}), 1e-7, "float32 want")
	assert.InDelta(t, 5.0, RelErr([]float32{3, 4}, []float32{0, 0}), 1e-12, "float32 want all zero: the absolute norm, not NaN")
}
