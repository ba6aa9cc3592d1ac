//go:build !amd64 || purego

package gemm

// archKernels lists the architecture-specific kernels usable on this CPU,
// fastest first: none in this build (not amd64, or the purego tag).
func archKernels() []Kernel { return nil }
