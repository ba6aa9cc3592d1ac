//go:build amd64 && !purego

#include "textflag.h"

// Every loop handles 8 floats per iteration; n is a positive multiple of 8.

// func maxInto8(dst, src *float32, n int)
TEXT ·maxInto8(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
loop:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VMAXPS  Y0, Y1, Y0     // src > dst ? src : dst
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET

// func squareAcc8(dst, x *float32, n int)
TEXT ·squareAcc8(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
loop:
	VMOVUPS     (SI), Y1
	VMOVUPS     (DI), Y0
	VFMADD231PS Y1, Y1, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	DECQ        CX
	JNZ         loop
	VZEROUPPER
	RET

// func add8(dst, x *float32, n int)
TEXT ·add8(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
loop:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET

// POW075(d, tmp, out): out = 1/(√d·√√d); needs Y12 = 1.0.
#define POW075(d, tmp, out) \
	VSQRTPS d, tmp \
	VSQRTPS tmp, out \
	VMULPS  tmp, out, out \
	VDIVPS  out, Y12, out

// func lrnScale8(y, x, sum *float32, n int, k, an float32)
TEXT ·lrnScale8(SB), NOSPLIT, $0-40
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         sum+16(FP), DX
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS k+32(FP), Y13
	VBROADCASTSS an+36(FP), Y14
	MOVL         $0x3f800000, AX
	MOVQ         AX, X12
	VBROADCASTSS X12, Y12
loop:
	VMOVAPS     Y13, Y0
	VFMADD231PS (DX), Y14, Y0 // d = k + an·sum
	POW075(Y0, Y1, Y2)
	VMULPS      (SI), Y2, Y2
	VMOVUPS     Y2, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         loop
	VZEROUPPER
	RET

// func lrnBwdPrep8(pw, t, sum, y, dy *float32, n int, k, an float32)
TEXT ·lrnBwdPrep8(SB), NOSPLIT, $0-56
	MOVQ         pw+0(FP), DI
	MOVQ         t+8(FP), R8
	MOVQ         sum+16(FP), DX
	MOVQ         y+24(FP), SI
	MOVQ         dy+32(FP), R9
	MOVQ         n+40(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS k+48(FP), Y13
	VBROADCASTSS an+52(FP), Y14
	MOVL         $0x3f800000, AX
	MOVQ         AX, X12
	VBROADCASTSS X12, Y12
loop:
	VMOVAPS     Y13, Y0
	VFMADD231PS (DX), Y14, Y0 // d
	POW075(Y0, Y1, Y2)
	VMOVUPS     Y2, (DI)
	VMOVUPS     (R9), Y3
	VMULPS      (SI), Y3, Y3  // dy·y
	VDIVPS      Y0, Y3, Y3    // /d
	VMOVUPS     Y3, (R8)
	ADDQ        $32, DI
	ADDQ        $32, R8
	ADDQ        $32, DX
	ADDQ        $32, SI
	ADDQ        $32, R9
	DECQ        CX
	JNZ         loop
	VZEROUPPER
	RET

// func lrnBwdOut8(dx, dy, pw, x, s *float32, n int, coef float32)
TEXT ·lrnBwdOut8(SB), NOSPLIT, $0-52
	MOVQ         dx+0(FP), DI
	MOVQ         dy+8(FP), R8
	MOVQ         pw+16(FP), DX
	MOVQ         x+24(FP), SI
	MOVQ         s+32(FP), R9
	MOVQ         n+40(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS coef+48(FP), Y14
loop:
	VMOVUPS      (R8), Y0
	VMULPS       (DX), Y0, Y0  // dy·pw
	VMOVUPS      (SI), Y1
	VMULPS       (R9), Y1, Y1  // x·s
	VFNMADD231PS Y1, Y14, Y0   // dy·pw − coef·x·s
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, R8
	ADDQ         $32, DX
	ADDQ         $32, SI
	ADDQ         $32, R9
	DECQ         CX
	JNZ          loop
	VZEROUPPER
	RET

// func relu8(y, x *float32, n int)
TEXT ·relu8(SB), NOSPLIT, $0-24
	MOVQ   y+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	SHRQ   $3, CX
	VXORPS Y12, Y12, Y12
loop:
	VMOVUPS (SI), Y0
	VMAXPS  Y12, Y0, Y0 // x > 0 ? x : 0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET

// func reluMask8(dx, dy, y *float32, n int)
TEXT ·reluMask8(SB), NOSPLIT, $0-32
	MOVQ   dx+0(FP), DI
	MOVQ   dy+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   n+24(FP), CX
	SHRQ   $3, CX
	VXORPS Y12, Y12, Y12
loop:
	VMOVUPS (DX), Y0
	VCMPPS  $0x1e, Y12, Y0, Y0 // y > 0 (ordered)
	VANDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET

// func sgdTorch8(w, grad, v *float32, n int, lr, mu, wd float32)
// v = mu·v + (g + wd·w); w -= lr·v
TEXT ·sgdTorch8(SB), NOSPLIT, $0-44
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         v+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS lr+32(FP), Y13
	VBROADCASTSS mu+36(FP), Y14
	VBROADCASTSS wd+40(FP), Y15
	SHRQ         $3, CX
loop:
	VMOVUPS      (DI), Y0
	VMOVUPS      (SI), Y1
	VMOVUPS      (DX), Y2
	VFMADD231PS  Y0, Y15, Y1   // Y1 = wd·w + g
	VFMADD213PS  Y1, Y14, Y2   // Y2 = mu·v + Y1
	VMOVUPS      Y2, (DX)
	VFNMADD231PS Y2, Y13, Y0   // Y0 = w − lr·v
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	ADDQ         $32, DX
	DECQ         CX
	JNZ          loop
	VZEROUPPER
	RET

// func sgdPaper8(w, grad, v *float32, n int, lr, mu, wdlr float32)
// v = mu·v − wdlr·w − lr·g; w += v
TEXT ·sgdPaper8(SB), NOSPLIT, $0-44
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         v+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS lr+32(FP), Y13
	VBROADCASTSS mu+36(FP), Y14
	VBROADCASTSS wdlr+40(FP), Y15
	SHRQ         $3, CX
loop:
	VMOVUPS      (DI), Y0
	VMOVUPS      (SI), Y1
	VMULPS       (DX), Y14, Y2 // Y2 = mu·v
	VFNMADD231PS Y0, Y15, Y2   // Y2 −= wdlr·w
	VFNMADD231PS Y1, Y13, Y2   // Y2 −= lr·g
	VMOVUPS      Y2, (DX)
	VADDPS       Y2, Y0, Y0
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	ADDQ         $32, DX
	DECQ         CX
	JNZ          loop
	VZEROUPPER
	RET

// func dot4x8(a *float32, lda int, x *float32, n int, out *[4]float32)
// out[r] = Σ_j a[r·lda+j]·x[j] over j < n for the 4 rows r, 8 lanes per
// row accumulated in order, then the lanes summed pairwise.
TEXT ·dot4x8(SB), NOSPLIT, $0-40
	MOVQ   a+0(FP), SI
	MOVQ   lda+8(FP), BX
	SHLQ   $2, BX
	MOVQ   x+16(FP), DX
	MOVQ   n+24(FP), CX
	SHRQ   $3, CX
	MOVQ   out+32(FP), DI
	LEAQ   (SI)(BX*1), R8
	LEAQ   (R8)(BX*1), R9
	LEAQ   (R9)(BX*1), R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX
loop:
	VMOVUPS     (DX)(AX*1), Y4
	VFMADD231PS (SI)(AX*1), Y4, Y0
	VFMADD231PS (R8)(AX*1), Y4, Y1
	VFMADD231PS (R9)(AX*1), Y4, Y2
	VFMADD231PS (R10)(AX*1), Y4, Y3
	ADDQ        $32, AX
	DECQ        CX
	JNZ         loop
	VEXTRACTF128 $1, Y0, X5
	VADDPS       X5, X0, X0
	VEXTRACTF128 $1, Y1, X5
	VADDPS       X5, X1, X1
	VEXTRACTF128 $1, Y2, X5
	VADDPS       X5, X2, X2
	VEXTRACTF128 $1, Y3, X5
	VADDPS       X5, X3, X3
	VHADDPS      X1, X0, X0
	VHADDPS      X3, X2, X2
	VHADDPS      X2, X0, X0
	VMOVUPS      X0, (DI)
	VZEROUPPER
	RET
