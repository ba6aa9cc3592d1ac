//go:build amd64 && !purego

#include "textflag.h"

// One step of k: broadcast a[i] for the six rows, multiply by the two
// 8-float halves of b held in Y12, Y13, accumulate into Y0..Y11.
#define STEP(aoff, boff) \
	VMOVUPS boff(DI), Y12 \
	VMOVUPS (boff+32)(DI), Y13 \
	VBROADCASTSS (aoff+0)(SI), Y14 \
	VFMADD231PS Y12, Y14, Y0 \
	VFMADD231PS Y13, Y14, Y1 \
	VBROADCASTSS (aoff+4)(SI), Y14 \
	VFMADD231PS Y12, Y14, Y2 \
	VFMADD231PS Y13, Y14, Y3 \
	VBROADCASTSS (aoff+8)(SI), Y14 \
	VFMADD231PS Y12, Y14, Y4 \
	VFMADD231PS Y13, Y14, Y5 \
	VBROADCASTSS (aoff+12)(SI), Y14 \
	VFMADD231PS Y12, Y14, Y6 \
	VFMADD231PS Y13, Y14, Y7 \
	VBROADCASTSS (aoff+16)(SI), Y14 \
	VFMADD231PS Y12, Y14, Y8 \
	VFMADD231PS Y13, Y14, Y9 \
	VBROADCASTSS (aoff+20)(SI), Y14 \
	VFMADD231PS Y12, Y14, Y10 \
	VFMADD231PS Y13, Y14, Y11

// Row r of C: C = acc (beta == 0) or C = acc + beta·C, with beta in Y12.
#define STORE(lo, hi) \
	VMOVUPS lo, (DX) \
	VMOVUPS hi, 32(DX) \
	ADDQ R8, DX

#define ACCUM(lo, hi) \
	VFMADD231PS (DX), Y12, lo \
	VFMADD231PS 32(DX), Y12, hi \
	VMOVUPS lo, (DX) \
	VMOVUPS hi, 32(DX) \
	ADDQ R8, DX

// func sgemm6x16(kc int, a, b, c *float32, ldc int, beta float32)
TEXT ·sgemm6x16(SB), NOSPLIT, $0-44
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	// Four steps of k per iteration, then the remainder one at a time.
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	STEP(0, 0)
	STEP(24, 64)
	STEP(48, 128)
	STEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSS beta+40(FP), Y12
	VXORPS       Y13, Y13, Y13
	VUCOMISS     X13, X12
	JNE          accumulate
	JPS          accumulate

	STORE(Y0, Y1)
	STORE(Y2, Y3)
	STORE(Y4, Y5)
	STORE(Y6, Y7)
	STORE(Y8, Y9)
	STORE(Y10, Y11)
	VZEROUPPER
	RET

accumulate:
	ACCUM(Y0, Y1)
	ACCUM(Y2, Y3)
	ACCUM(Y4, Y5)
	ACCUM(Y6, Y7)
	ACCUM(Y8, Y9)
	ACCUM(Y10, Y11)
	VZEROUPPER
	RET

// The same kernel reading A unpacked: row i of the 6×kc block at
// a + i·lda, so a fully connected layer's weights stream from memory once
// instead of being copied into panels first.
#define STEPD(boff) \
	VMOVUPS boff(DI), Y12 \
	VMOVUPS (boff+32)(DI), Y13 \
	VBROADCASTSS (SI), Y14 \
	VFMADD231PS Y12, Y14, Y0 \
	VFMADD231PS Y13, Y14, Y1 \
	VBROADCASTSS (SI)(R9*1), Y14 \
	VFMADD231PS Y12, Y14, Y2 \
	VFMADD231PS Y13, Y14, Y3 \
	VBROADCASTSS (SI)(R9*2), Y14 \
	VFMADD231PS Y12, Y14, Y4 \
	VFMADD231PS Y13, Y14, Y5 \
	VBROADCASTSS (SI)(R10*1), Y14 \
	VFMADD231PS Y12, Y14, Y6 \
	VFMADD231PS Y13, Y14, Y7 \
	VBROADCASTSS (SI)(R9*4), Y14 \
	VFMADD231PS Y12, Y14, Y8 \
	VFMADD231PS Y13, Y14, Y9 \
	VBROADCASTSS (SI)(R11*1), Y14 \
	VFMADD231PS Y12, Y14, Y10 \
	VFMADD231PS Y13, Y14, Y11 \
	ADDQ $4, SI

// func sgemm6x16direct(kc int, a *float32, lda int, b, c *float32, ldc int, beta float32)
TEXT ·sgemm6x16direct(SB), NOSPLIT, $0-52
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10 // 3·lda bytes
	LEAQ (R9)(R9*4), R11 // 5·lda bytes
	MOVQ b+24(FP), DI
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   dtail

dloop4:
	STEPD(0)
	STEPD(64)
	STEPD(128)
	STEPD(192)
	ADDQ $256, DI
	DECQ BX
	JNZ  dloop4

dtail:
	ANDQ $3, CX
	JZ   dstore

dloop1:
	STEPD(0)
	ADDQ $64, DI
	DECQ CX
	JNZ  dloop1

dstore:
	VBROADCASTSS beta+48(FP), Y12
	VXORPS       Y13, Y13, Y13
	VUCOMISS     X13, X12
	JNE          daccumulate
	JPS          daccumulate

	STORE(Y0, Y1)
	STORE(Y2, Y3)
	STORE(Y4, Y5)
	STORE(Y6, Y7)
	STORE(Y8, Y9)
	STORE(Y10, Y11)
	VZEROUPPER
	RET

daccumulate:
	ACCUM(Y0, Y1)
	ACCUM(Y2, Y3)
	ACCUM(Y4, Y5)
	ACCUM(Y6, Y7)
	ACCUM(Y8, Y9)
	ACCUM(Y10, Y11)
	VZEROUPPER
	RET

// func packB16(dst, src *float32, ldb, kc, panels, nr int)
// Packs kc rows × (nr·panels) columns of a row-major B (row stride ldb
// floats) into nr-wide panels of kc rows each: dst[jr·kc·nr + p·nr + j] =
// src[p·ldb + jr·nr + j], for nr a multiple of 16. Rows are read in order.
TEXT ·packB16(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), R8
	SHLQ $2, R8          // row stride of B in bytes
	MOVQ kc+24(FP), CX
	MOVQ panels+32(FP), R9
	MOVQ nr+40(FP), R11
	SHLQ $2, R11         // panel row in bytes
	MOVQ CX, R10
	IMULQ R11, R10       // panel stride in dst: kc·nr·4 bytes
	SHRQ $6, R11         // 64-byte chunks per panel row
prow:
	MOVQ SI, AX          // source: this row
	MOVQ DI, DX          // destination: row p of panel 0
	MOVQ R9, BX
ppanel:
	MOVQ DX, R12
	MOVQ R11, R13
pchunk:
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS Y0, (R12)
	VMOVUPS Y1, 32(R12)
	ADDQ    $64, AX
	ADDQ    $64, R12
	DECQ    R13
	JNZ     pchunk
	ADDQ    R10, DX
	DECQ    BX
	JNZ     ppanel
	ADDQ    R8, SI
	MOVQ    R11, R12
	SHLQ    $6, R12
	ADDQ    R12, DI      // row p+1 of panel 0
	DECQ    CX
	JNZ     prow
	VZEROUPPER
	RET
