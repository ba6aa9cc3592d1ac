//go:build amd64 && !purego

#include "textflag.h"

// func clockLoop(n int)
// Eight dependent one-cycle register-to-register additions per iteration;
// the loop counter runs in parallel on another ALU, so an iteration takes 8
// cycles. The addend is a register, not an immediate: Intel cores since
// Golden Cove fold chains of immediate additions in the renamer (zero
// latency), which made this loop read 21 GHz on a 2.6 GHz Xeon.
TEXT ·clockLoop(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	XORQ AX, AX
	MOVQ $1, BX
loop:
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	DECQ CX
	JNZ  loop
	RET
