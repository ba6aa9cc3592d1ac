//go:build cudnn

// The test double's extra entry points (testdata/fakecuda): TestDouble,
// its live counts, fault injection and call counts.

package cudnn

/*
#include <dlfcn.h>
#include <stdlib.h>

static void *dn_td_sym(void *h, const char *name) { return dlsym(h, name); }
static int dn_td_live(void *f, long long *c, int n) { return ((int (*)(long long *, int))f)(c, n); }
static int dn_td_configure(void *f, const char *mode, const char *fail, const char *unsup) {
    return ((int (*)(const char *, const char *, const char *))f)(mode, fail, unsup);
}
static int dn_td_calls(void *f, char *buf, int len) { return ((int (*)(char *, int))f)(buf, len); }
static const char *dn_td_last(void *f) { return ((const char *(*)(void))f)(); }
*/
import "C"

import (
	"errors"
	"strconv"
	"strings"
	"unsafe"
)

// The test double: backend/cudnn/testdata/fakecuda builds host-CPU stand-ins
// for libcuda.so.1, libcudnn.so.9 and libcublas.so.13, written from NVIDIA's
// documented API so that this package's logic runs in CI without a GPU.
// The functions below reach its extra entry points (leak counts, fault
// injection); on real NVIDIA libraries they return ErrNotTestDouble.

// ErrNotTestDouble is returned by the Double* functions when the loaded
// driver is not dnngo's test double (or nothing is loaded).
var ErrNotTestDouble = errors.New("cudnn: the loaded CUDA libraries are not dnngo's test double")

// isTestDouble reports whether the driver library exports the double's
// marker symbol.
func (l *libs) isTestDouble() bool { return l.sym("dnngo_fakecuda_test_double") != nil }

func (l *libs) sym(name string) unsafe.Pointer {
	if l == nil || l.driver.handle == nil {
		return nil
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return C.dn_td_sym(l.driver.handle, cs)
}

// TestDouble reports whether this backend runs on dnngo's test double
// (testdata/fakecuda) rather than on NVIDIA's libraries and a GPU: then
// nothing it does says anything about a GPU's speed or numerics. It keeps
// its answer after Close.
func (b *Backend) TestDouble() bool { return b.e.libs.isTestDouble() }

func doubleSym(name string) (unsafe.Pointer, error) {
	l, err := global()
	if err != nil {
		return nil, err
	}
	f := l.sym(name)
	if f == nil {
		return nil, ErrNotTestDouble
	}
	return f, nil
}

// DoubleCounts are the test double's live object counts.
type DoubleCounts struct {
	Allocations, Pinned, Contexts, Streams, Events int64
	CUDNNHandles, CUDNNDescriptors, CUBLASHandles  int64
	DeviceBytes                                    int64
}

// Zero reports whether nothing is live.
func (c DoubleCounts) Zero() bool { return c == DoubleCounts{} }

// DoubleLive returns the test double's counts of live device allocations,
// pinned buffers, retained contexts, streams, events, handles and
// descriptors.
func DoubleLive() (DoubleCounts, error) {
	f, err := doubleSym("dnngo_fakecuda_live")
	if err != nil {
		return DoubleCounts{}, err
	}
	var v [9]C.longlong
	C.dn_td_live(f, &v[0], 9)
	return DoubleCounts{int64(v[0]), int64(v[1]), int64(v[2]), int64(v[3]), int64(v[4]), int64(v[5]), int64(v[6]),
		int64(v[7]), int64(v[8])}, nil
}

// DoubleConfigure sets the test double's execution mode ("immediate" or
// "deferred"; "" keeps $DNNGO_FAKECUDA_MODE), fault rules ("name:N[:status],...": the N-th call of name
// from the next Open on fails) and unsupported list
// ("name[:f32|f16|bf16],..."), and resets its call counters. With all
// three empty it goes back to its DNNGO_FAKECUDA_* environment variables.
func DoubleConfigure(mode, fail, unsupported string) error {
	f, err := doubleSym("dnngo_fakecuda_configure")
	if err != nil {
		return err
	}
	if mode == "" && fail == "" && unsupported == "" {
		C.dn_td_configure(f, nil, nil, nil)
		return nil
	}
	var cm *C.char // "": keep $DNNGO_FAKECUDA_MODE
	if mode != "" {
		cm = C.CString(mode)
		defer C.free(unsafe.Pointer(cm))
	}
	cf, cu := C.CString(fail), C.CString(unsupported)
	defer C.free(unsafe.Pointer(cf))
	defer C.free(unsafe.Pointer(cu))
	C.dn_td_configure(f, cm, cf, cu)
	return nil
}

// DoubleCalls returns how often each library function was called since
// the last Open (cuInit) or DoubleConfigure.
func DoubleCalls() (map[string]int, error) {
	f, err := doubleSym("dnngo_fakecuda_calls")
	if err != nil {
		return nil, err
	}
	n := C.dn_td_calls(f, nil, 0)
	buf := make([]byte, int(n)+1)
	C.dn_td_calls(f, (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
	out := map[string]int{}
	for _, kv := range strings.Split(strings.TrimRight(string(buf), "\x00"), ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		out[k], _ = strconv.Atoi(v)
	}
	return out, nil
}

// DoubleLastError returns the test double's last detailed message on the
// calling OS thread.
func DoubleLastError() (string, error) {
	f, err := doubleSym("dnngo_fakecuda_last_error")
	if err != nil {
		return "", err
	}
	return C.GoString(C.dn_td_last(f)), nil
}
