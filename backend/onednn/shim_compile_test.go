package onednn

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestShimCompiles type-checks every file of the C shim (*.c, which cgo
// compiles with -tags onednn) with the C compiler and -Wall -Wextra
// -Werror: against the oneDNN 3.x declarations in testdata/dnnl3 (the 3.x
// branch, which no CI machine can link), and against the installed oneDNN
// headers when there are any (the branch of that major). It needs no build
// tag and no library, only a C compiler.
func TestShimCompiles(t *testing.T) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s) on PATH", cc)
	}
	files, err := filepath.Glob("*.c")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no shim files (*.c) in the package directory")
	cases := []struct {
		name     string
		includes []string
		needs    string // a header that must exist, or ""
	}{
		{"oneDNN 3.x declarations (testdata/dnnl3)", []string{"-Itestdata/dnnl3"}, ""},
		{"installed oneDNN headers", nil, "/usr/include/oneapi/dnnl/dnnl.h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.needs != "" {
				if _, err := os.Stat(c.needs); err != nil {
					t.Skipf("%s not installed (Debian/Ubuntu: apt-get install -y libdnnl-dev)", c.needs)
				}
			}
			args := append([]string{"-fsyntax-only", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fopenmp", "-I../../include"}, c.includes...)
			for _, f := range files {
				out, err := exec.Command(cc, append(args, f)...).CombinedOutput()
				require.NoError(t, err, "%s %v %s:\n%s", cc, args, f, out)
			}
		})
	}
}
