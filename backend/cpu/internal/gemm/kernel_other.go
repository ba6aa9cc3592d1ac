package gemm

// archKernels lists the architecture-specific kernels usable on this CPU,
// fastest first; none yet.
func archKernels() []Kernel { return nil }

// Best is the fastest kernel this CPU can run.
func Best() Kernel {
	if ks := archKernels(); len(ks) > 0 {
		return ks[0]
	}
	return Generic
}
