//go:build !amd64 || purego

package gemm

// archKernels lists the architecture-specific kernels usable on this CPU,
// fastest first: none in this build (not amd64, or the purego tag).
func archKernels() []Kernel { return nil }

// packRows is packB's inner loop for nr-wide panels of a non-transposed B.
func packRows(dst, src []float32, ldb, kc, panels, nr int) { packRowsGo(dst, src, ldb, kc, panels, nr) }

// packCols is packB's inner loop for nr-wide panels of a transposed B.
func packCols(dst, src []float32, ldb, kc, panels, nr int) { packColsGo(dst, src, ldb, kc, panels, nr) }
