package gemm

import "os"

// KernelEnv names the environment variable that forces a kernel by name
// prefix, for tests and for comparing kernels on one machine:
// DNNGO_GEMM_KERNEL=avx2 (the 6×16 AVX2+FMA kernel), avx512 (12×32,
// AVX-512F) or generic (the portable Go kernel). A name this CPU cannot run
// is ignored: Best returns the fastest kernel then. The cpu backend reads it
// when it opens (cpu.Open); cpu.OpenKernel takes a kernel explicitly.
const KernelEnv = "DNNGO_GEMM_KERNEL"

// Kernels lists the kernels this CPU can run, fastest first; the last is
// always the portable Go kernel.
func Kernels() []Kernel { return append(archKernels(), Generic) }

// Best is the fastest kernel this CPU can run, unless $DNNGO_GEMM_KERNEL
// names another (by a prefix of its name).
func Best() Kernel {
	ks := Kernels()
	if want := os.Getenv(KernelEnv); want != "" {
		for _, k := range ks {
			if len(k.Name) >= len(want) && k.Name[:len(want)] == want {
				return k
			}
		}
	}
	return ks[0]
}

// Lookup returns the kernel of that exact name, if this CPU runs it.
func Lookup(name string) (Kernel, bool) {
	for _, k := range Kernels() {
		if k.Name == name {
			return k, true
		}
	}
	return Kernel{}, false
}
