//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// AVX2 is the 6×16 AVX2+FMA micro-kernel: twelve YMM accumulators (six
// rows of two 8-float halves), one broadcast of A and two loads of B per
// step of k. Zen 3 and Haswell-or-later run its two FMAs per cycle.
var AVX2 = Kernel{Name: "avx2 6x16", MR: 6, NR: 16, Fn: kernelAVX2, Direct: kernelAVX2Direct}

func archKernels() []Kernel {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return []Kernel{AVX2}
	}
	return nil
}

func kernelAVX2(kc int, a, b, c []float32, ldc int, beta float32) {
	// The assembly trusts its pointers: check the extents once here.
	if kc < 1 || len(a) < 6*kc || len(b) < 16*kc || ldc < 16 || len(c) < 5*ldc+16 {
		if kc == 0 && len(c) >= 5*ldc+16 {
			scale(c, ldc, 0, 6, 0, 16, beta)
			return
		}
		panic("gemm: avx2 kernel called with short slices") // a bug in this package, not bad user input
	}
	sgemm6x16(kc, &a[0], &b[0], &c[0], ldc, beta)
}

// sgemm6x16 computes C[i*ldc+j] = Σ_p a[p*6+i]·b[p*16+j] + beta·C (C not
// read when beta == 0) for i < 6, j < 16. Implemented in kernel_amd64.s.
//
//go:noescape
func sgemm6x16(kc int, a, b, c *float32, ldc int, beta float32)

func kernelAVX2Direct(kc int, a []float32, lda int, b, c []float32, ldc int, beta float32) {
	if kc < 1 || lda < kc || len(a) < 5*lda+kc || len(b) < 16*kc || ldc < 16 || len(c) < 5*ldc+16 {
		panic("gemm: avx2 direct kernel called with short slices") // a bug in this package, not bad user input
	}
	sgemm6x16direct(kc, &a[0], lda, &b[0], &c[0], ldc, beta)
}

// sgemm6x16direct is sgemm6x16 with A read in place: row i of the block
// at a[i*lda:]. Implemented in kernel_amd64.s.
//
//go:noescape
func sgemm6x16direct(kc int, a *float32, lda int, b, c *float32, ldc int, beta float32)

// packB16 packs kc rows × 16·panels columns of B into 16-wide panels
// (kernel_amd64.s); the Go compiler turns a 64-byte array copy into a
// memmove call, which cost more than the copy.
//
//go:noescape
func packB16(dst, src *float32, ldb, kc, panels int)

// packRows16 is packB's inner loop for 16-wide panels of a non-transposed
// B: rows [0, kc) × columns [0, 16·panels) of src (row stride ldb).
func packRows16(dst, src []float32, ldb, kc, panels int) {
	if !useAsm || kc == 0 || panels == 0 {
		packRows16Go(dst, src, ldb, kc, panels)
		return
	}
	_ = dst[(panels*kc-1)*16+15] // bounds, checked once for the assembly
	_ = src[(kc-1)*ldb+16*panels-1]
	packB16(&dst[0], &src[0], ldb, kc, panels)
}

var useAsm = cpu.X86.HasAVX2
