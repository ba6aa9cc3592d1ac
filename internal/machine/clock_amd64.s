//go:build amd64 && !purego

#include "textflag.h"

// func clockLoop(n int)
// Eight dependent one-cycle additions per iteration; the loop counter runs
// in parallel on another ALU, so an iteration takes 8 cycles.
TEXT ·clockLoop(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	XORQ AX, AX
loop:
	ADDQ $1, AX
	ADDQ $1, AX
	ADDQ $1, AX
	ADDQ $1, AX
	ADDQ $1, AX
	ADDQ $1, AX
	ADDQ $1, AX
	ADDQ $1, AX
	DECQ CX
	JNZ  loop
	RET
