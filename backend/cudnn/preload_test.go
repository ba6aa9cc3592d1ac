//go:build cudnn

package cudnn

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPreloadHelpersFromCUDNNFolder (review item 4): cuDNN dlopens
// libcublasLt and libnvrtc by soname for its runtime-compiled engines; when
// cuDNN is found only through $DNNGO_CUDA_LIB_DIR, the loader preloads them
// from cuDNN's own folder, and the not-found message says so.
func TestPreloadHelpersFromCUDNNFolder(t *testing.T) {
	dir := t.TempDir()
	// Stand-ins that link nothing (not the test double, whose cuDNN needs its
	// own libcuda: on a GPU machine the real one is already loaded).
	buildFakes(t, dir, fakeSpec{driver: 13000, cudnn: 91900, cudart: 13000, cublas: 13})
	src := filepath.Join(dir, "helper.c")
	require.NoError(t, os.WriteFile(src, []byte("int dnngo_helper_marker = 1;\n"), 0o644))
	for _, name := range []string{"libnvrtc.so.13", "libnvrtc-builtins.so.13.0", "libcublasLt.so.13"} {
		out, err := exec.Command(ccName(), "-shared", "-fPIC", "-o", filepath.Join(dir, name), src).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	c := searchConfig{envDirs: []string{dir}}
	l, err := c.loadNew()
	require.NoError(t, err)
	for _, name := range []string{"libnvrtc.so.13", "libnvrtc-builtins.so.13.0", "libcublasLt.so.13"} {
		require.Contains(t, l.preloaded, filepath.Join(dir, name))
	}

	_, err = searchConfig{envDirs: []string{t.TempDir()}}.loadNew()
	require.Error(t, err)
	le := &LoadError{Library: libCUDNN.what, Soname: "libcudnn.so.9", Tried: []attempt{{"x", "y", "z"}}}
	require.Contains(t, le.Error(), "libcublasLt and libnvrtc")
}
