//go:build amd64 && !purego

#include "textflag.h"

// 3-wide, stride-2 max pooling over three rows with AVX-512F (and BMI2 for
// the masks): 16 outputs per group, reading 34 columns of each row. Every
// load and store is masked to the row (w columns) and to the n outputs, so
// the ragged last group needs no separate code.

// Gather the even / odd lanes of a 32-float pair (VPERMT2PS indices), and
// interleave two 16-float vectors back into 32 floats (low, high half).
DATA poolEven<>+0(SB)/4, $0
DATA poolEven<>+4(SB)/4, $2
DATA poolEven<>+8(SB)/4, $4
DATA poolEven<>+12(SB)/4, $6
DATA poolEven<>+16(SB)/4, $8
DATA poolEven<>+20(SB)/4, $10
DATA poolEven<>+24(SB)/4, $12
DATA poolEven<>+28(SB)/4, $14
DATA poolEven<>+32(SB)/4, $16
DATA poolEven<>+36(SB)/4, $18
DATA poolEven<>+40(SB)/4, $20
DATA poolEven<>+44(SB)/4, $22
DATA poolEven<>+48(SB)/4, $24
DATA poolEven<>+52(SB)/4, $26
DATA poolEven<>+56(SB)/4, $28
DATA poolEven<>+60(SB)/4, $30
GLOBL poolEven<>(SB), RODATA|NOPTR, $64

DATA poolOdd<>+0(SB)/4, $1
DATA poolOdd<>+4(SB)/4, $3
DATA poolOdd<>+8(SB)/4, $5
DATA poolOdd<>+12(SB)/4, $7
DATA poolOdd<>+16(SB)/4, $9
DATA poolOdd<>+20(SB)/4, $11
DATA poolOdd<>+24(SB)/4, $13
DATA poolOdd<>+28(SB)/4, $15
DATA poolOdd<>+32(SB)/4, $17
DATA poolOdd<>+36(SB)/4, $19
DATA poolOdd<>+40(SB)/4, $21
DATA poolOdd<>+44(SB)/4, $23
DATA poolOdd<>+48(SB)/4, $25
DATA poolOdd<>+52(SB)/4, $27
DATA poolOdd<>+56(SB)/4, $29
DATA poolOdd<>+60(SB)/4, $31
GLOBL poolOdd<>(SB), RODATA|NOPTR, $64

DATA poolLo<>+0(SB)/4, $0
DATA poolLo<>+4(SB)/4, $16
DATA poolLo<>+8(SB)/4, $1
DATA poolLo<>+12(SB)/4, $17
DATA poolLo<>+16(SB)/4, $2
DATA poolLo<>+20(SB)/4, $18
DATA poolLo<>+24(SB)/4, $3
DATA poolLo<>+28(SB)/4, $19
DATA poolLo<>+32(SB)/4, $4
DATA poolLo<>+36(SB)/4, $20
DATA poolLo<>+40(SB)/4, $5
DATA poolLo<>+44(SB)/4, $21
DATA poolLo<>+48(SB)/4, $6
DATA poolLo<>+52(SB)/4, $22
DATA poolLo<>+56(SB)/4, $7
DATA poolLo<>+60(SB)/4, $23
GLOBL poolLo<>(SB), RODATA|NOPTR, $64

DATA poolHi<>+0(SB)/4, $8
DATA poolHi<>+4(SB)/4, $24
DATA poolHi<>+8(SB)/4, $9
DATA poolHi<>+12(SB)/4, $25
DATA poolHi<>+16(SB)/4, $10
DATA poolHi<>+20(SB)/4, $26
DATA poolHi<>+24(SB)/4, $11
DATA poolHi<>+28(SB)/4, $27
DATA poolHi<>+32(SB)/4, $12
DATA poolHi<>+36(SB)/4, $28
DATA poolHi<>+40(SB)/4, $13
DATA poolHi<>+44(SB)/4, $29
DATA poolHi<>+48(SB)/4, $14
DATA poolHi<>+52(SB)/4, $30
DATA poolHi<>+56(SB)/4, $15
DATA poolHi<>+60(SB)/4, $31
GLOBL poolHi<>(SB), RODATA|NOPTR, $64

// k = the lanes of a 16-float load at column DX+c that lie inside the row:
// the low clamp(lim − (DX+c), 0, 16) bits. Uses AX, BX.
#define MASK(lim, c, k) \
	MOVQ    lim, AX \
	SUBQ    DX, AX \
	SUBQ    $c, AX \
	MOVQ    $16, BX \
	CMPQ    AX, BX \
	CMOVQGT BX, AX \
	XORQ    BX, BX \
	CMPQ    AX, BX \
	CMOVQLT BX, AX \
	MOVL    $0xffff, BX \
	BZHIL   AX, BX, BX \
	KMOVW   BX, k

// The vertical maximum of the three rows (R11, R12, R13) at byte offset
// off, masked by k, into z (first row wins ties, as in a sequence of
// "if v > m { m = v }"); uses Z29.
#define VMAX3(off, k, z) \
	VMOVUPS.Z off(R11), k, z \
	VMOVUPS.Z off(R12), k, Z29 \
	VMAXPS    z, Z29, z \
	VMOVUPS.Z off(R13), k, Z29 \
	VMAXPS    z, Z29, z

// func maxPool3s2Fwd512(y, x *float32, n, w int)
// y[o] = max of x[r·w + 2o + j], r, j < 3 (three rows of w columns at x,
// one after another), for o < n; requires 2n < w.
TEXT ·maxPool3s2Fwd512(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), R9
	MOVQ w+24(FP), R10
	MOVQ R10, R8
	SHLQ $2, R8 // row stride in bytes
	VMOVUPS poolEven<>(SB), Z30
	VMOVUPS poolOdd<>(SB), Z31
	XORQ CX, CX // first output of the group
	XORQ DX, DX // its first column: 2·CX

fgroup:
	MOVQ R9, AX // outputs left, clamped to 16
	SUBQ CX, AX
	MOVQ $16, BX
	CMPQ AX, BX
	CMOVQGT BX, AX
	MOVL $0xffff, BX
	BZHIL AX, BX, BX
	KMOVW BX, K5
	MASK(R10, 0, K1)
	MASK(R10, 16, K2)
	MASK(R10, 2, K3)
	MASK(R10, 18, K4)
	LEAQ (SI)(DX*4), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	VMAX3(0, K1, Z0)  // columns 2o+0..: lanes 0–15
	VMAX3(64, K2, Z1) // lanes 16–31
	VMAX3(8, K3, Z2)  // columns shifted by 2
	VMAX3(72, K4, Z3)
	VMOVAPS   Z0, Z4
	VPERMT2PS Z1, Z30, Z4 // column 2o
	VMOVAPS   Z0, Z5
	VPERMT2PS Z1, Z31, Z5 // column 2o+1
	VMOVAPS   Z2, Z6
	VPERMT2PS Z3, Z30, Z6 // column 2o+2
	VMAXPS    Z4, Z5, Z4
	VMAXPS    Z4, Z6, Z4
	VMOVUPS   Z4, K5, (DI)(CX*4)
	ADDQ $16, CX
	ADDQ $32, DX
	CMPQ CX, R9
	JLT  fgroup
	VZEROUPPER
	RET

// One candidate position of the window (vector v of x): lanes whose x
// equals the maximum (Z20) and have not found it yet take dy (Z21) into
// out; K6 collects the lanes done.
#define PICK(v, out) \
	VCMPPS    $0, Z20, v, K7 \
	KANDNW    K7, K6, K7 \
	KORW      K7, K6, K6 \
	VMOVAPS.Z Z21, K7, out

// Row r of the window at R11 (x) and R14 (dx), carry register carry: pick
// its three columns, then add dy to dx at the picks — the third column's
// picks are the next output's first column, shifted one lane (carry holds
// the previous group's, for lane 0).
#define BROW(carry) \
	VMOVUPS.Z (R11), K1, Z0 \
	VMOVUPS.Z 64(R11), K2, Z1 \
	VMOVUPS.Z 8(R11), K3, Z2 \
	VMOVUPS.Z 72(R11), K4, Z3 \
	VMOVAPS   Z0, Z4 \
	VPERMT2PS Z1, Z30, Z4 \
	VMOVAPS   Z0, Z5 \
	VPERMT2PS Z1, Z31, Z5 \
	VMOVAPS   Z2, Z6 \
	VPERMT2PS Z3, Z30, Z6 \
	PICK(Z4, Z7) \
	PICK(Z5, Z8) \
	PICK(Z6, Z9) \
	VALIGND   $15, carry, Z9, Z10 \
	VMOVAPS   Z9, carry \
	VADDPS    Z10, Z7, Z7 \
	VMOVAPS   Z7, Z11 \
	VPERMT2PS Z8, Z28, Z11 \
	VMOVAPS   Z7, Z12 \
	VPERMT2PS Z8, Z29, Z12 \
	VMOVUPS.Z (R14), K1, Z13 \
	VADDPS    Z13, Z11, Z11 \
	VMOVUPS   Z11, K1, (R14) \
	VMOVUPS.Z 64(R14), K2, Z13 \
	VADDPS    Z13, Z12, Z12 \
	VMOVUPS   Z12, K2, 64(R14) \
	ADDQ      R8, R11 \
	ADDQ      R8, R14

// func maxPool3s2Bwd512(dx, x, y, dy *float32, n, w int)
// For o < n, adds dy[o] to dx at the first position (row-major) of o's
// window in x (three rows of w columns, dx alike) holding y[o]; none if
// y[o] is NaN. Requires 2n < w.
TEXT ·maxPool3s2Bwd512(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), R13
	MOVQ dy+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ w+40(FP), R8
	SHLQ $2, R8 // row stride in bytes
	VMOVUPS poolEven<>(SB), Z30
	VMOVUPS poolOdd<>(SB), Z31
	VMOVUPS poolLo<>(SB), Z28
	VMOVUPS poolHi<>(SB), Z29
	VPXORD  Z22, Z22, Z22 // carries of rows 0, 1, 2
	VPXORD  Z23, Z23, Z23
	VPXORD  Z24, Z24, Z24
	XORQ CX, CX
	XORQ DX, DX

	// Groups of 16 outputs, and one more: the last output's third column
	// is carried into the next group's lane 0.
bgroup:
	MOVQ R10, AX
	SUBQ CX, AX
	MOVQ $16, BX
	CMPQ AX, BX
	CMOVQGT BX, AX
	MOVL $0xffff, BX
	BZHIL AX, BX, BX
	KMOVW BX, K5
	MOVQ R8, R12
	SHRQ $2, R12 // w
	MASK(R12, 0, K1)
	MASK(R12, 16, K2)
	MASK(R12, 2, K3)
	MASK(R12, 18, K4)
	VMOVUPS.Z (R13)(CX*4), K5, Z20
	VMOVUPS.Z (R9)(CX*4), K5, Z21
	KNOTW K5, K6 // lanes past n count as done
	LEAQ  (SI)(DX*4), R11
	LEAQ  (DI)(DX*4), R14
	BROW(Z22)
	BROW(Z23)
	BROW(Z24)
	ADDQ $16, CX
	ADDQ $32, DX
	CMPQ CX, R10
	JLE  bgroup
	VZEROUPPER
	RET

// func windowSum512(sum, src *float32, stride, cnt, n int, square bool)
// sum[j] = Σ_{r<cnt} src[r·stride+j]² (square) or src[r·stride+j], for
// j < n; cnt ≥ 1, n ≥ 1. The rows are summed in order, each square fused
// into its add as in squareAcc8, 16 lanes at a time in a register.
TEXT ·windowSum512(SB), NOSPLIT, $0-41
	MOVQ    sum+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    stride+16(FP), R8
	SHLQ    $2, R8
	MOVQ    cnt+24(FP), R9
	MOVQ    n+32(FP), R10
	MOVBLZX square+40(FP), R11
	XORQ    DX, DX // first lane of the chunk
wchunk:
	MOVQ    R10, AX
	SUBQ    DX, AX
	MOVQ    $16, BX
	CMPQ    AX, BX
	CMOVQGT BX, AX
	MOVL    $0xffff, BX
	BZHIL   AX, BX, BX
	KMOVW   BX, K1
	VPXORD  Z0, Z0, Z0
	LEAQ    (SI)(DX*4), R12
	MOVQ    R9, CX
	TESTQ   R11, R11
	JZ      wadd
wsq:
	VMOVUPS.Z   (R12), K1, Z1
	VFMADD231PS Z1, Z1, Z0
	ADDQ        R8, R12
	DECQ        CX
	JNZ         wsq
	JMP         wstore
wadd:
	VMOVUPS.Z (R12), K1, Z1
	VADDPS    Z1, Z0, Z0
	ADDQ      R8, R12
	DECQ      CX
	JNZ       wadd
wstore:
	VMOVUPS Z0, K1, (DI)(DX*4)
	ADDQ    $16, DX
	CMPQ    DX, R10
	JLT     wchunk
	VZEROUPPER
	RET

// func strided512(dst, src *float32, idx *int32, n, stride int)
// dst[k] = src[k·stride] for k < n (n ≥ 1): 16 lanes per masked gather,
// idx[i] = i·stride.
TEXT ·strided512(SB), NOSPLIT, $0-40
	MOVQ      dst+0(FP), DI
	MOVQ      src+8(FP), SI
	MOVQ      idx+16(FP), AX
	MOVQ      n+24(FP), CX
	MOVQ      stride+32(FP), R8
	SHLQ      $6, R8          // 16 elements of src, in bytes
	VMOVDQU32 (AX), Z31
	MOVQ      $16, DX
sloop:
	MOVQ       CX, AX
	CMPQ       AX, DX
	CMOVQGT    DX, AX
	MOVL       $0xffff, BX
	BZHIL      AX, BX, BX
	KMOVW      BX, K1
	KMOVW      BX, K2
	VGATHERDPS (SI)(Z31*4), K1, Z0
	VMOVUPS    Z0, K2, (DI)
	ADDQ       $64, DI
	ADDQ       R8, SI
	SUBQ       $16, CX
	JGT        sloop
	VZEROUPPER
	RET
