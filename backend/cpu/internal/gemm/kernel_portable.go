package gemm

// Generic is the portable micro-kernel: 4×4 accumulators in locals, which
// the Go compiler keeps in registers. It is correct everywhere and the
// reference the architecture kernels are tested against.
var Generic = Kernel{Name: "generic 4x4", MR: 4, NR: 4, Fn: kernelGeneric4x4}

func kernelGeneric4x4(kc int, a, b, c []float32, ldc int, beta float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	a = a[:kc*4]
	b = b[:kc*4]
	for p := 0; p < kc; p++ {
		ap := a[p*4 : p*4+4 : p*4+4]
		bp := b[p*4 : p*4+4 : p*4+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	store4(c[0:4:4], beta, c00, c01, c02, c03)
	store4(c[ldc:ldc+4:ldc+4], beta, c10, c11, c12, c13)
	store4(c[2*ldc:2*ldc+4:2*ldc+4], beta, c20, c21, c22, c23)
	store4(c[3*ldc:3*ldc+4:3*ldc+4], beta, c30, c31, c32, c33)
}

func store4(c []float32, beta float32, v0, v1, v2, v3 float32) {
	if beta == 0 {
		c[0], c[1], c[2], c[3] = v0, v1, v2, v3
		return
	}
	c[0] = v0 + beta*c[0]
	c[1] = v1 + beta*c[1]
	c[2] = v2 + beta*c[2]
	c[3] = v3 + beta*c[3]
}
