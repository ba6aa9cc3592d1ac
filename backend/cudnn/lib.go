//go:build cudnn

// Finding and loading the CUDA driver, cuDNN and cuBLAS with dlopen: the
// search order, the version checks and LoadError.

package cudnn

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -O2 -Wall
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/dnngo/dnngo/backend"
)

// EnvLibDir names the environment variable that points the loader at the
// directories holding libcuda.so.1, libcudnn.so.9 and libcublas.so.{13,12}
// (a colon-separated list, searched first).
const EnvLibDir = "DNNGO_CUDA_LIB_DIR"

// MinCUDNN is the oldest cuDNN this backend runs on: 9.0.0, the release
// that renumbered the status codes (cudnnGetVersion's encoding).
const MinCUDNN = 90000

// A library is one shared library the backend needs and where to find it.
type library struct {
	what      string   // "the CUDA driver", "cuDNN", "cuBLAS"
	sonames   []string // tried in order in each place
	wheelDirs []string // below a Python site-packages directory
	system    bool     // the driver: $DNNGO_CUDA_LIB_DIR, the loader's path and system folders, never toolkit or wheel folders
}

var (
	libDriver = library{what: "the CUDA driver", sonames: []string{"libcuda.so.1"}, system: true}
	libCUDNN  = library{what: "cuDNN 9", sonames: []string{"libcudnn.so.9"}, wheelDirs: []string{"nvidia/cudnn/lib"}}
	libCUBLAS = library{what: "cuBLAS", sonames: []string{"libcublas.so.13", "libcublas.so.12"},
		wheelDirs: []string{"nvidia/cu13/lib", "nvidia/cublas/lib"}}
)

// A place is one candidate: a file path, or a bare soname handed to the
// dynamic loader (LD_LIBRARY_PATH, the executable's RUNPATH, ld.so.cache,
// the default folders).
type place struct {
	path string // absolute file path, or a bare soname
	why  string // which rule produced it, for the error message
}

// searchConfig is everything the search depends on, so tests can run it on
// a made-up machine. configFromEnv gives the real one.
type searchConfig struct {
	envDirs     []string  // from $DNNGO_CUDA_LIB_DIR
	loaderPath  bool      // try the bare soname through the dynamic loader
	cudaDirs    []string  // toolkit and driver folders
	sitePackage []string  // Python site-packages folders
	global      bool      // dlopen with RTLD_GLOBAL (real use) or RTLD_LOCAL (tests)
	preloaded   *[]string // where load records the helper libraries it preloaded
}

// configFromEnv builds the search of this machine: $DNNGO_CUDA_LIB_DIR,
// the dynamic loader's own path, the usual CUDA folders, then the
// site-packages folders of the Pythons found on $PATH, in virtual and conda
// environments and the usual system places.
func configFromEnv() searchConfig {
	c := searchConfig{loaderPath: true, global: true}
	for _, d := range filepath.SplitList(os.Getenv(EnvLibDir)) {
		if d != "" {
			c.envDirs = append(c.envDirs, d)
		}
	}
	arch := "x86_64-linux"
	if runtime.GOARCH == "arm64" {
		arch = "sbsa-linux"
	}
	var roots []string
	for _, v := range []string{"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"} {
		if d := os.Getenv(v); d != "" {
			roots = append(roots, d)
		}
	}
	roots = append(roots, "/usr/local/cuda")
	versioned, _ := filepath.Glob("/usr/local/cuda-*")
	sort.Sort(sort.Reverse(sort.StringSlice(versioned)))
	roots = append(roots, versioned...)
	for _, r := range roots {
		c.cudaDirs = append(c.cudaDirs, filepath.Join(r, "lib64"), filepath.Join(r, "lib"), filepath.Join(r, "targets", arch, "lib"))
	}
	if p := os.Getenv("CONDA_PREFIX"); p != "" {
		c.cudaDirs = append(c.cudaDirs, filepath.Join(p, "lib"))
	}
	multiarch := "/usr/lib/x86_64-linux-gnu"
	if runtime.GOARCH == "arm64" {
		multiarch = "/usr/lib/aarch64-linux-gnu"
	}
	c.cudaDirs = append(c.cudaDirs, multiarch, "/usr/lib64", "/usr/lib", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/wsl/lib")
	c.sitePackage = sitePackages(os.Getenv)
	return c
}

// sitePackages lists the existing Python package folders where pip puts
// NVIDIA's wheels: those of every python3 on $PATH (its prefix, resolving
// symbolic links to find the base installation too), $VIRTUAL_ENV,
// $CONDA_PREFIX, $PYTHONPATH, the user's ~/.local and the system folders.
func sitePackages(getenv func(string) string) []string {
	var prefixes []string
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := getenv(v); p != "" {
			prefixes = append(prefixes, p)
		}
	}
	for _, dir := range filepath.SplitList(getenv("PATH")) {
		if dir == "" {
			continue
		}
		pys, _ := filepath.Glob(filepath.Join(dir, "python3*"))
		for _, py := range pys {
			if strings.Contains(filepath.Base(py), "-") { // python3-config and the like
				continue
			}
			prefixes = append(prefixes, filepath.Dir(filepath.Dir(py)))
			if real, err := filepath.EvalSymlinks(py); err == nil {
				prefixes = append(prefixes, filepath.Dir(filepath.Dir(real)))
			}
		}
	}
	if h := getenv("HOME"); h != "" {
		prefixes = append(prefixes, filepath.Join(h, ".local"))
	}
	prefixes = append(prefixes, "/usr/local", "/usr", "/opt/conda")
	var out []string
	add := func(d string) {
		if st, err := os.Stat(d); err == nil && st.IsDir() && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	for _, d := range filepath.SplitList(getenv("PYTHONPATH")) {
		if d != "" {
			add(d)
		}
	}
	for _, p := range prefixes {
		for _, kind := range []string{"site-packages", "dist-packages"} {
			ds, _ := filepath.Glob(filepath.Join(p, "lib", "python3*", kind))
			sort.Sort(sort.Reverse(sort.StringSlice(ds)))
			for _, d := range ds {
				add(d)
			}
		}
		add(filepath.Join(p, "lib", "python3", "dist-packages"))
	}
	return out
}

// places lists where to look for lib, in order, without duplicates.
func (c searchConfig) places(lib library, sonames []string) []place {
	var out []place
	seen := map[string]bool{}
	add := func(p, why string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, place{p, why})
		}
	}
	for _, so := range sonames {
		for _, d := range c.envDirs {
			add(filepath.Join(d, so), "$"+EnvLibDir)
		}
	}
	if c.loaderPath {
		for _, so := range sonames {
			add(so, "the dynamic loader's path (LD_LIBRARY_PATH, ld.so.cache)")
		}
	}
	for _, so := range sonames {
		for _, d := range c.cudaDirs {
			if lib.system && strings.Contains(d, "cuda") {
				continue // the toolkit only has a stub libcuda, which cannot run anything
			}
			add(filepath.Join(d, so), "CUDA folder")
		}
		for _, s := range c.sitePackage {
			for _, w := range lib.wheelDirs {
				add(filepath.Join(s, w, so), "pip wheel")
			}
		}
	}
	return out
}

// attempt is one place tried and why it did not do.
type attempt struct {
	path, why, result string
}

// LoadError says which library could not be found or used and every place
// the loader looked.
type LoadError struct {
	Library string    // "cuDNN 9"
	Soname  string    // "libcudnn.so.9" (the first name tried)
	Tried   []attempt // every place, in order
	Reason  string    // a reason that is not about finding the file (a version)
}

func (e *LoadError) Error() string {
	var b strings.Builder
	if e.Reason != "" {
		fmt.Fprintf(&b, "%s: %s", e.Library, e.Reason)
		return b.String()
	}
	fmt.Fprintf(&b, "%s (%s) not found or not usable; looked in %d places (set $%s to the folder that holds it):", e.Library, e.Soname, len(e.Tried), EnvLibDir)
	for _, a := range e.Tried {
		fmt.Fprintf(&b, " %s [%s]: %s;", a.path, a.why, a.result)
	}
	if e.Library == libCUDNN.what {
		b.WriteString(" (cuDNN's own sub-libraries, libcublasLt and libnvrtc found in the folder of a cuDNN candidate are preloaded from there first);")
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Summary is a one-line form of the error for a test skip: the library and
// how many places were tried.
func (e *LoadError) Summary() string {
	if e.Reason != "" {
		return e.Error()
	}
	return fmt.Sprintf("%s (%s) not found in %d places ($%s unset or wrong, no NVIDIA driver or library here)", e.Library, e.Soname, len(e.Tried), EnvLibDir)
}

// loaded is one library that loaded, with its resolved table entries.
type loaded struct {
	handle unsafe.Pointer
	path   string // the file it came from
}

// libs is the result of a successful search.
type libs struct {
	driver, cudnn, cublas loaded
	table                 *C.dn_table // this search's table (global or a test's own)
	driverVersion         int         // 13000 = CUDA 13.0
	cudnnVersion          int         // 91900 = 9.19.0
	cudnnCUDA             int         // the CUDA runtime cuDNN was built with
	cublasVersion         [3]int
	preloaded             []string // helper libraries loaded from the candidates' folders
}

func (l *libs) String() string {
	return fmt.Sprintf("cuDNN %s (for CUDA %s) from %s; cuBLAS %d.%d.%d from %s; CUDA driver API %s from %s",
		versionString(l.cudnnVersion), cudaString(l.cudnnCUDA), l.cudnn.path,
		l.cublasVersion[0], l.cublasVersion[1], l.cublasVersion[2], l.cublas.path,
		cudaString(l.driverVersion), l.driver.path)
}

// versionString formats cuDNN 9's version number (major·10000 +
// minor·100 + patch).
func versionString(v int) string {
	return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
}

// cudaString formats a CUDA version number (major·1000 + minor·10).
func cudaString(v int) string { return fmt.Sprintf("%d.%d", v/1000, v%1000/10) }

func dlopen(path string, global bool) (unsafe.Pointer, string) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var buf [512]C.char
	g := C.int(0)
	if global {
		g = 1
	}
	h := C.dn_dlopen(cpath, g, &buf[0], C.size_t(len(buf)))
	if h == nil {
		return nil, C.GoString(&buf[0])
	}
	return h, ""
}

func libPath(sym unsafe.Pointer, fallback string) string {
	var buf [1024]C.char
	if C.dn_lib_path(sym, &buf[0], C.size_t(len(buf))) == 0 {
		return C.GoString(&buf[0])
	}
	return fallback
}

// find tries every place of lib in order and returns the first that loads
// and that accept takes; accept may reject a library (a missing symbol, an
// old version) with a reason, and the search goes on. before is called
// with each candidate path first (to preload what the library needs from
// the same folder).
func (c searchConfig) find(lib library, sonames []string, t *C.dn_table, which C.int,
	before func(path string), accept func(path string) string) (loaded, error) {
	var tried []attempt
	for _, p := range c.places(lib, sonames) {
		if filepath.IsAbs(p.path) {
			if _, err := os.Stat(p.path); err != nil {
				tried = append(tried, attempt{p.path, p.why, "no such file"})
				continue
			}
		}
		if before != nil {
			before(p.path)
		}
		h, msg := dlopen(p.path, c.global)
		if h == nil {
			tried = append(tried, attempt{p.path, p.why, "dlopen: " + msg})
			continue
		}
		if missing := C.dn_resolve(t, which, h); missing != nil {
			tried = append(tried, attempt{p.path, p.why, "has no symbol " + C.GoString(missing)})
			continue // never dlclose: see the package doc
		}
		path := libPath(C.dn_table_sym(t, which), p.path)
		if reason := accept(path); reason != "" {
			tried = append(tried, attempt{path, p.why, reason})
			continue
		}
		return loaded{handle: h, path: path}, nil
	}
	return loaded{}, &LoadError{Library: lib.what, Soname: sonames[0], Tried: tried}
}

// preloadCUDNN loads, from the folder of a cuDNN candidate, its
// sub-libraries (libcudnn_graph first) by absolute path, so that the cuDNN
// shim's own dlopen of them by soname gets these copies and never another
// cuDNN's from $LD_LIBRARY_PATH. The RNN library (adv) is not needed.
// libcublasLt and libnvrtc (with its builtins), which cuDNN dlopens by
// soname for its runtime-compiled engines, are preloaded from the same
// folder when they are there, so that a cuDNN found only through
// $DNNGO_CUDA_LIB_DIR finds them too (RTLD_GLOBAL in real use).
func (c searchConfig) preloadCUDNN(path string) {
	if !filepath.IsAbs(path) {
		return
	}
	dir := filepath.Dir(path)
	subs, _ := filepath.Glob(filepath.Join(dir, "libcudnn_*.so.9"))
	sort.SliceStable(subs, func(i, j int) bool {
		return strings.Contains(subs[i], "_graph") && !strings.Contains(subs[j], "_graph")
	})
	for _, pat := range []string{"libcublasLt.so.*", "libnvrtc-builtins.so.*", "libnvrtc.so.*"} {
		helpers, _ := filepath.Glob(filepath.Join(dir, pat))
		sort.Sort(sort.Reverse(sort.StringSlice(helpers))) // the newest major first
		subs = append(subs, helpers...)
	}
	for _, s := range subs {
		if strings.Contains(filepath.Base(s), "_adv") {
			continue
		}
		if h, _ := dlopen(s, c.global); h != nil && c.preloaded != nil && !strings.HasPrefix(filepath.Base(s), "libcudnn_") {
			*c.preloaded = append(*c.preloaded, s)
		}
	}
}

// preloadCublasLt loads libcublasLt.so.N beside (or, for a bare soname,
// with the same search as) libcublas.so.N, which needs it.
func (c searchConfig) preloadCublasLt(path string) {
	lt := strings.Replace(filepath.Base(path), "libcublas.", "libcublasLt.", 1)
	if filepath.IsAbs(path) {
		lt = filepath.Join(filepath.Dir(path), lt)
		if _, err := os.Stat(lt); err != nil {
			return
		}
	}
	dlopen(lt, c.global)
}

// load finds and loads the driver, cuDNN and cuBLAS into table t, checking
// that cuDNN is at least 9.0 and that the driver can run the CUDA version
// cuDNN was built for.
func (c searchConfig) load(t *C.dn_table) (*libs, error) {
	l := &libs{table: t}
	c.preloaded = &l.preloaded
	var err error
	l.driver, err = c.find(libDriver, libDriver.sonames, t, C.DN_LIB_CUDA, nil, func(string) string {
		var v C.int
		if C.dn_table_driver_version(t, &v) != 0 {
			return "cuDriverGetVersion failed"
		}
		l.driverVersion = int(v)
		return ""
	})
	if err != nil {
		return nil, err
	}
	l.cudnn, err = c.find(libCUDNN, libCUDNN.sonames, t, C.DN_LIB_CUDNN, c.preloadCUDNN, func(string) string {
		v := int(C.dn_table_cudnn_version(t))
		if v < MinCUDNN {
			return fmt.Sprintf("cuDNN %s, need %s or newer", versionString(v), versionString(MinCUDNN))
		}
		l.cudnnVersion, l.cudnnCUDA = v, int(C.dn_table_cudnn_cudart(t))
		return ""
	})
	if err != nil {
		return nil, err
	}
	major := l.cudnnCUDA / 1000
	if l.driverVersion < major*1000 {
		return nil, &LoadError{Library: libCUDNN.what, Soname: libCUDNN.sonames[0], Reason: fmt.Sprintf(
			"%s was built for CUDA %s but the driver %s supports only CUDA %s: update the NVIDIA driver or install cuDNN built for CUDA %d",
			l.cudnn.path, cudaString(l.cudnnCUDA), l.driver.path, cudaString(l.driverVersion), l.driverVersion/1000)}
	}
	// cuBLAS of cuDNN's CUDA major first, then the other.
	sonames := slices.Clone(libCUBLAS.sonames)
	sort.SliceStable(sonames, func(i, j int) bool {
		return strings.HasSuffix(sonames[i], fmt.Sprintf(".so.%d", major)) && !strings.HasSuffix(sonames[j], fmt.Sprintf(".so.%d", major))
	})
	l.cublas, err = c.find(libCUBLAS, sonames, t, C.DN_LIB_CUBLAS, c.preloadCublasLt, func(string) string {
		var v [3]C.int
		if C.dn_table_cublas_version(t, &v[0], &v[1], &v[2]) != 0 {
			return "cublasGetProperty failed"
		}
		if int(v[0])*1000 > l.driverVersion {
			return fmt.Sprintf("cuBLAS %d needs a CUDA %d driver, this driver supports CUDA %s", v[0], v[0], cudaString(l.driverVersion))
		}
		l.cublasVersion = [3]int{int(v[0]), int(v[1]), int(v[2])}
		return ""
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// The process-wide libraries: searched once, on the first Open, into the
// global table the shim calls through. Libraries are never unloaded:
// cuDNN and cuBLAS keep internal state and threads that outlive a handle.
var global = sync.OnceValues(func() (*libs, error) {
	return configFromEnv().load(C.dn_global_table())
})

// loadGlobal returns the process's libraries or an ErrUnavailable error
// that names the missing one and every place looked.
func loadGlobal() (*libs, error) {
	l, err := global()
	if err != nil {
		var le *LoadError
		if errors.As(err, &le) {
			return nil, &backend.OpError{Op: "open", Kind: backend.ErrUnavailable, Msg: "backend cudnn cannot run here", Err: le}
		}
		return nil, &backend.OpError{Op: "open", Kind: backend.ErrUnavailable, Msg: "backend cudnn cannot run here", Err: err}
	}
	return l, nil
}

// loadNew runs the search into a table of its own, leaving the process's
// libraries alone: for tests of the search on made-up folders (the table
// is never freed, like the libraries it points into).
func (c searchConfig) loadNew() (*libs, error) {
	return c.load(C.dn_table_new())
}
