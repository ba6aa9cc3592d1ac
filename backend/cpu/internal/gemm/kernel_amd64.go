//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// AVX2 is the 6×16 AVX2+FMA micro-kernel: twelve YMM accumulators (six
// rows of two 8-float halves), one broadcast of A and two loads of B per
// step of k. Zen 3 and Haswell-or-later run its two FMAs per cycle.
var AVX2 = Kernel{Name: "avx2 6x16", MR: 6, NR: 16, Fn: kernelAVX2, Direct: kernelAVX2Direct}

// AVX512 is the 12×32 AVX-512F micro-kernel: 24 ZMM accumulators (twelve
// rows of two 16-float halves), one broadcast of A and two loads of B per
// step of k. For narrow C, where A is read unpacked, Gemm uses AVX2's
// 6×16 direct kernel instead (see Kernel.Narrow): a 32-wide tile would
// compute mostly padding when n ≤ 16.
var AVX512 = Kernel{Name: "avx512 12x32", MR: 12, NR: 32, Fn: kernelAVX512, Direct: kernelAVX512Direct, Narrow: &AVX2, Half: kernelAVX512Half}

// hasAVX512 reports AVX-512F with the OS saving ZMM state (x/sys/cpu checks
// XCR0 before setting HasAVX512F) and AVX2+FMA for the narrow kernel.
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA

func archKernels() []Kernel {
	var ks []Kernel
	if hasAVX512 {
		ks = append(ks, AVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, AVX2)
	}
	return ks
}

func kernelAVX512(kc int, a, b, c []float32, ldc int, beta float32) {
	// The assembly trusts its pointers: check the extents once here.
	if kc < 1 || len(a) < 12*kc || len(b) < 32*kc || ldc < 32 || len(c) < 11*ldc+32 {
		if kc == 0 && len(c) >= 11*ldc+32 {
			scale(c, ldc, 0, 12, 0, 32, beta)
			return
		}
		panic("gemm: avx512 kernel called with short slices") // a bug in this package, not bad user input
	}
	sgemm12x32(kc, &a[0], &b[0], &c[0], ldc, beta)
}

// sgemm12x32 computes C[i*ldc+j] = Σ_p a[p*12+i]·b[p*32+j] + beta·C (C not
// read when beta == 0) for i < 12, j < 32. Implemented in
// kernel_avx512_amd64.s.
//
//go:noescape
func sgemm12x32(kc int, a, b, c *float32, ldc int, beta float32)

func kernelAVX512Half(kc int, a, b, c []float32, ldc int) {
	if kc < 1 || len(a) < 12*kc || len(b) < 32*kc || ldc < 16 || len(c) < 11*ldc+16 {
		panic("gemm: avx512 half kernel called with short slices") // a bug in this package, not bad user input
	}
	sgemm12x16of32(kc, &a[0], &b[0], &c[0], ldc)
}

// sgemm12x16of32 is the left half of sgemm12x32 with beta 0: C[i*ldc+j] =
// Σ_p a[p*12+i]·b[p*32+j] for i < 12, j < 16. Implemented in
// kernel_avx512_amd64.s.
//
//go:noescape
func sgemm12x16of32(kc int, a, b, c *float32, ldc int)

func kernelAVX512Direct(kc int, a []float32, lda int, b, c []float32, ldc int, beta float32) {
	if kc < 1 || lda < kc || len(a) < 11*lda+kc || len(b) < 32*kc || ldc < 32 || len(c) < 11*ldc+32 {
		panic("gemm: avx512 direct kernel called with short slices") // a bug in this package, not bad user input
	}
	sgemm12x32direct(kc, &a[0], lda, &b[0], &c[0], ldc, beta)
}

// sgemm12x32direct is sgemm12x32 with A read in place: row i of the block
// at a[i*lda:]. Implemented in kernel_avx512_amd64.s.
//
//go:noescape
func sgemm12x32direct(kc int, a *float32, lda int, b, c *float32, ldc int, beta float32)

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

// packB16 packs kc rows × nr·panels columns of B into nr-wide panels, nr
// a multiple of 16 (kernel_amd64.s); the Go compiler turns a 64-byte array
// copy into a memmove call, which cost more than the copy.
//
//go:noescape
func packB16(dst, src *float32, ldb, kc, panels, nr int)

// packRows is packB's inner loop for nr-wide panels of a non-transposed
// B: rows [0, kc) × columns [0, nr·panels) of src (row stride ldb).
func packRows(dst, src []float32, ldb, kc, panels, nr int) {
	if !useAsm || nr%16 != 0 || kc == 0 || panels == 0 {
		packRowsGo(dst, src, ldb, kc, panels, nr)
		return
	}
	_ = dst[(panels*kc-1)*nr+nr-1] // bounds, checked once for the assembly
	_ = src[(kc-1)*ldb+nr*panels-1]
	packB16(&dst[0], &src[0], ldb, kc, panels, nr)
}

var useAsm = cpu.X86.HasAVX2

// packT16 packs 16 columns of a transposed B into an nr-wide panel:
// dst[p·nr + i] = src[idx[i] + p] for i < 16, p < kc, with one AVX-512
// gather per panel row (kernel_avx512_amd64.s).
//
//go:noescape
func packT16(dst, src *float32, idx *int32, kc, nr int)

// packCols is packB's inner loop for a transposed B: panels nr-wide
// panels of kc rows, panel column j holding src[(jr·nr+j)·ldb : +kc], that
// is dst[jr·kc·nr + p·nr + j] = src[(jr·nr+j)·ldb + p]. With AVX-512 it
// gathers 16 columns per instruction; the Go loop writes one float at a
// time, 4·nr bytes apart.
func packCols(dst, src []float32, ldb, kc, panels, nr int) {
	if !hasAVX512 || nr%16 != 0 || kc == 0 || panels == 0 || int64(ldb)*16 >= 1<<31 {
		packColsGo(dst, src, ldb, kc, panels, nr)
		return
	}
	_ = dst[(panels*kc-1)*nr+nr-1] // bounds, checked once for the assembly
	_ = src[(panels*nr-1)*ldb+kc-1]
	var idx [16]int32
	for i := range idx {
		idx[i] = int32(i * ldb)
	}
	for jr := 0; jr < panels; jr++ {
		for j := 0; j < nr; j += 16 {
			packT16(&dst[jr*kc*nr+j], &src[(jr*nr+j)*ldb], &idx[0], kc, nr)
		}
	}
}
