//go:build !amd64 || purego

package gemm

// archKernels lists the architecture-specific kernels usable on this CPU,
// fastest first: none in this build (not amd64, or the purego tag).
func archKernels() []Kernel { return nil }

// packRows16 is packB's inner loop for 16-wide panels of a non-transposed B.
func packRows16(dst, src []float32, ldb, kc, panels int) { packRows16Go(dst, src, ldb, kc, panels) }
