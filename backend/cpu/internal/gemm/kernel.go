package gemm

import (
	"os"
	"strings"
)

// KernelEnv names the environment variable that forces a kernel by name
// prefix, for tests and for comparing kernels on one machine:
// DNNGO_GEMM_KERNEL=avx2 (the 6×16 AVX2+FMA kernel), avx512 (12×32,
// AVX-512F) or generic (the portable Go kernel). A name this CPU cannot run
// is ignored: Best returns the fastest kernel then. The cpu backend reads it
// when it opens (cpu.Open); cpu.OpenKernel takes a kernel's name instead.
const KernelEnv = "DNNGO_GEMM_KERNEL"

// Kernels lists the kernels this CPU can run, fastest first; the last is
// always the portable Go kernel.
func Kernels() []Kernel { return append(archKernels(), Generic) }

// Best is the fastest kernel this CPU can run, unless $DNNGO_GEMM_KERNEL
// names another (by a prefix of its name).
func Best() Kernel {
	if k, ok := Lookup(os.Getenv(KernelEnv)); ok {
		return k
	}
	return Kernels()[0]
}

// Lookup returns the first kernel this CPU runs whose name starts with
// name ("avx512", "avx2", "generic", or a whole name such as "avx2 6x16").
func Lookup(name string) (Kernel, bool) {
	if name == "" {
		return Kernel{}, false
	}
	for _, k := range Kernels() {
		if strings.HasPrefix(k.Name, name) {
			return k, true
		}
	}
	return Kernel{}, false
}
