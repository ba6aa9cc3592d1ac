//go:build cudnn

package cudnn

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func paths(ps []place) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.path
	}
	return out
}

func TestPlacesOrder(t *testing.T) {
	c := searchConfig{
		envDirs:     []string{"/env/a", "/env/b"},
		loaderPath:  true,
		cudaDirs:    []string{"/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu"},
		sitePackage: []string{"/venv/lib/python3.12/site-packages"},
	}
	tests := []struct {
		name    string
		lib     library
		sonames []string
		want    []string
	}{
		{"driver: no toolkit folder (only a stub libcuda lives there), no wheel", libDriver, libDriver.sonames, []string{
			"/env/a/libcuda.so.1", "/env/b/libcuda.so.1", "libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1"}},
		{"cudnn: env, loader, CUDA folders, then wheels", libCUDNN, libCUDNN.sonames, []string{
			"/env/a/libcudnn.so.9", "/env/b/libcudnn.so.9", "libcudnn.so.9",
			"/usr/local/cuda/lib64/libcudnn.so.9", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9",
			"/venv/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9"}},
		{"cublas: each soname in the given order", libCUBLAS, []string{"libcublas.so.12", "libcublas.so.13"}, []string{
			"/env/a/libcublas.so.12", "/env/b/libcublas.so.12", "/env/a/libcublas.so.13", "/env/b/libcublas.so.13",
			"libcublas.so.12", "libcublas.so.13",
			"/usr/local/cuda/lib64/libcublas.so.12", "/usr/lib/x86_64-linux-gnu/libcublas.so.12",
			"/venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.12",
			"/venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12",
			"/usr/local/cuda/lib64/libcublas.so.13", "/usr/lib/x86_64-linux-gnu/libcublas.so.13",
			"/venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13",
			"/venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.13"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, paths(c.places(tc.lib, tc.sonames)))
		})
	}
}

func TestSitePackagesFindsPythonsOnPath(t *testing.T) {
	root := t.TempDir()
	venv := filepath.Join(root, "venv")
	site := filepath.Join(venv, "lib", "python3.12", "site-packages")
	require.NoError(t, os.MkdirAll(site, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(venv, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(venv, "bin", "python3"), nil, 0o755))
	extra := filepath.Join(root, "extra")
	require.NoError(t, os.MkdirAll(extra, 0o755))
	env := map[string]string{"PATH": filepath.Join(venv, "bin"), "PYTHONPATH": extra}
	got := sitePackages(func(k string) string { return env[k] })
	assert.Contains(t, got, site, "the site-packages of a python3 on $PATH")
	assert.Contains(t, got, extra, "a $PYTHONPATH entry")
	assert.Less(t, indexOf(got, extra), indexOf(got, site), "$PYTHONPATH first")
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestMissingLibraryNamesEveryPlace points the search at an empty folder
// only: the error must name the library, wrap ErrUnavailable through
// loadGlobal's wrapping, and list the folder.
func TestMissingLibraryNamesEveryPlace(t *testing.T) {
	dir := t.TempDir()
	c := searchConfig{envDirs: []string{dir}, cudaDirs: []string{filepath.Join(dir, "sys")}}
	_, err := c.loadNew()
	require.Error(t, err)
	var le *LoadError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "the CUDA driver", le.Library)
	msg := err.Error()
	for _, want := range []string{"libcuda.so.1", filepath.Join(dir, "libcuda.so.1"), filepath.Join(dir, "sys", "libcuda.so.1"), "$" + EnvLibDir, "no such file"} {
		assert.Contains(t, msg, want)
	}
	assert.Len(t, le.Tried, 2)
	assert.NotContains(t, le.Summary(), "\n")
}

// TestOpenWithoutGPU runs the real search of this machine. Where it finds
// everything (a GPU machine) there is nothing to check here.
func TestOpenWithoutGPU(t *testing.T) {
	b, err := Open(backend.Options{})
	if err == nil {
		b.Close()
		t.Skip("the libraries and a GPU are here: covered by TestConformance")
	}
	require.ErrorIs(t, err, backend.ErrUnavailable)
	var le *LoadError
	if errors.As(err, &le) && le.Reason == "" {
		assert.Contains(t, err.Error(), le.Soname)
		assert.Contains(t, err.Error(), EnvLibDir)
		assert.NotEmpty(t, le.Tried)
	}
	_, err2 := backend.Open(Name)
	require.ErrorIs(t, err2, backend.ErrUnavailable, "the registered backend says the same")
}

// fakeLibs builds stand-ins for the three libraries into dir with the
// system C compiler (see testdata/fakelib.c).
type fakeSpec struct {
	driver, cudnn, cudart, cublas int
	omit                          string // a cuDNN symbol to leave out
}

func buildFakes(t *testing.T, dir string, s fakeSpec) {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s) to build the stand-in libraries", cc)
	}
	for lib, name := range map[int]string{1: "libcuda.so.1", 2: "libcudnn.so.9", 3: fmt.Sprintf("libcublas.so.%d", s.cublas)} {
		args := []string{"-shared", "-fPIC", "-o", filepath.Join(dir, name), "-I../../include", "testdata/fakelib.c",
			fmt.Sprintf("-DLIB=%d", lib), fmt.Sprintf("-DFAKE_DRIVER=%d", s.driver), fmt.Sprintf("-DFAKE_CUDNN=%d", s.cudnn),
			fmt.Sprintf("-DFAKE_CUDART=%d", s.cudart), fmt.Sprintf("-DFAKE_CUBLAS=%d", s.cublas)}
		if s.omit != "" && lib == 2 {
			args = append(args, "-D"+s.omit+"=renamed_away")
		}
		out, err := exec.Command(cc, args...).CombinedOutput()
		require.NoError(t, err, "%s %s: %s", cc, strings.Join(args, " "), out)
	}
}

func TestLoaderChecks(t *testing.T) {
	good := fakeSpec{driver: 13000, cudnn: 91900, cudart: 13000, cublas: 13}
	tests := []struct {
		name    string
		spec    fakeSpec
		wantErr string // "" for success
	}{
		{"everything present", good, ""},
		{"cuDNN 8 is refused", fakeSpec{driver: 13000, cudnn: 8907, cudart: 12020, cublas: 12}, "need 9.0.0 or newer"},
		{"a missing symbol is named", fakeSpec{driver: 13000, cudnn: 91900, cudart: 13000, cublas: 13, omit: "cudnnLRNCrossChannelBackward"}, "has no symbol cudnnLRNCrossChannelBackward"},
		{"driver older than cuDNN's CUDA", fakeSpec{driver: 12040, cudnn: 91900, cudart: 13000, cublas: 12}, "update the NVIDIA driver"},
		{"cuBLAS newer than the driver", fakeSpec{driver: 12040, cudnn: 91900, cudart: 12080, cublas: 13}, "cuBLAS 13 needs a CUDA 13 driver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			buildFakes(t, dir, tc.spec)
			// RTLD_LOCAL: the stand-ins must never interpose on real libraries
			// of this process.
			l, err := searchConfig{envDirs: []string{dir}}.loadNew()
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(dir, "libcuda.so.1"), l.driver.path)
			assert.Equal(t, filepath.Join(dir, "libcudnn.so.9"), l.cudnn.path)
			assert.Equal(t, filepath.Join(dir, "libcublas.so.13"), l.cublas.path)
			assert.Equal(t, 91900, l.cudnnVersion)
			assert.Equal(t, [3]int{13, 4, 2}, l.cublasVersion)
			assert.Contains(t, l.String(), "cuDNN 9.19.0 (for CUDA 13.0)")
			assert.Contains(t, l.String(), "CUDA driver API 13.0")
		})
	}
}

func TestSizeClass(t *testing.T) {
	tests := []struct{ in, want uint64 }{
		{1, 512}, {512, 512}, {513, 576}, {1000, 1024}, {1025, 1152}, {4 << 20, 4 << 20}, {(4 << 20) + 1, 4<<20 + 512<<10},
		{151 << 20, 160 << 20},
	}
	for _, tc := range tests {
		got := sizeClass(tc.in)
		assert.Equal(t, tc.want, got, "sizeClass(%d)", tc.in)
		assert.GreaterOrEqual(t, got, tc.in)
		assert.LessOrEqual(t, float64(got), 1.125*float64(max(tc.in, 512)))
	}
}

func TestVersionStrings(t *testing.T) {
	assert.Equal(t, "9.19.0", versionString(91900))
	assert.Equal(t, "9.1.12", versionString(90112))
	assert.Equal(t, "13.0", cudaString(13000))
	assert.Equal(t, "12.8", cudaString(12080))
}
