// Package gemm is the single-precision matrix multiply under the pure-Go
// backend: C = alpha·op(A)·op(B) + beta·C on row-major matrices, blocked for
// the cache hierarchy the way BLIS and GotoBLAS do it.
//
// The loops, outermost first: C is cut into tiles (tasks) that workers take
// independently; inside a tile, K is cut into KC-deep slices; for each slice
// a KC×NC block of op(B) is packed into NR-wide column panels and an MC×KC
// block of op(A) into MR-tall row panels (zero-padded at the edges, alpha
// folded in), and a register-blocked micro-kernel multiplies one MR-panel by
// one NR-panel into an MR×NR block of C. Packing makes every micro-kernel
// read contiguous, so the kernel is the only code that needs to be fast; it
// is a plain-Go function here, and an architecture may supply a faster one
// with the same contract (see Kernel).
package gemm

// Kernel is a register-blocked micro-kernel: it multiplies an MR×KC packed
// panel of A (a, k-major: a[p*MR+i]) by a KC×NR packed panel of B (b,
// b[p*NR+j]) and stores C[i*ldc+j] = AB[i][j] + beta·C[i*ldc+j] for the
// full MR×NR block; beta == 0 overwrites C without reading it.
type Kernel struct {
	Name   string
	MR, NR int
	Fn     func(kc int, a, b, c []float32, ldc int, beta float32)
	// Direct, if not nil, is Fn reading A unpacked: row i of the MR×KC
	// block at a[i*lda:]. Gemm uses it when A would be used for only a few
	// panels of B (narrow C: a fully connected layer at a small batch), so
	// that packing A would cost as much as the multiply.
	Direct func(kc int, a []float32, lda int, b, c []float32, ldc int, beta float32)
	// Narrow, if not nil, is a kernel with Direct that Gemm uses instead
	// of this one when A is read unpacked and C is at most Narrow.NR
	// columns wide: a wide tile would compute mostly padding there.
	Narrow *Kernel
	// Half, if not nil, is Fn for the left NR/2 columns of C only, with
	// beta 0 (C[i*ldc+j] for j < NR/2 is overwritten, the rest untouched),
	// from the same NR-wide packed panel of B. Gemm uses it for a ragged
	// last panel that ends within NR/2 columns: a convolution's 13×13
	// output is 169 = 5·32 + 9 columns.
	Half func(kc int, a, b, c []float32, ldc int)
}

// directMaxN is the widest C for which A is read unpacked.
const directMaxN = 64

// Blocking sizes. KC×NR floats of B (16 KiB for NR=16) stay in L1, MC×KC
// of A (144 KiB) in L2, a KC×NC block of B in L3.
const (
	KC = 256
	MC = 144
	NC = 3072
)

// Runner runs fn(worker, i) for i in [0, n) on up to Workers() goroutines
// and returns when all calls have returned. Worker indices are in
// [0, Workers()) and a worker runs one call at a time.
type Runner interface {
	Workers() int
	Run(n int, fn func(worker, i int))
}

// Context holds a kernel and its packing buffers. It is not safe for
// concurrent use, except that GemmSerial may run on several workers at once;
// its Gemm* methods allocate nothing.
type Context struct {
	k      Kernel
	narrow *Kernel // k.Narrow, or nil
	runner Runner
	packA  [][]float32 // per worker: an MC×KC block of A
	packB  [][]float32 // per worker, for GemmSerial: a KC×NC block of B
	shared []float32   // Gemm's KC×NC block of B, packed by all workers
	edge   [][]float32 // per worker: an MR×NR tile for ragged edges

	// The call in progress, read by the parallel task method values.
	call               call
	jc, nc, pc, kc     int
	beta               float32
	mt, chunks, panels int
	packFn, computeFn  func(worker, i int)
	colsFn             func(worker, i int)
	pk                 packJob // the PackA call in progress
	packAFn            func(worker, i int)
}

type call struct {
	kern           *Kernel // the micro-kernel for this call
	direct         bool    // A read unpacked by kern.Direct
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

// New returns a Context that runs kernel k with the workers of r.
func New(k Kernel, r Runner) *Context {
	w := r.Workers()
	ctx := &Context{k: k, narrow: k.Narrow, runner: r}
	// Buffers for the larger of the two kernels' tiles.
	mr, nr := k.MR, k.NR
	if n := k.Narrow; n != nil {
		mr, nr = max(mr, n.MR), max(nr, n.NR)
	}
	ctx.shared = make([]float32, KC*roundUp(NC, nr))
	for i := 0; i < w; i++ {
		ctx.packA = append(ctx.packA, make([]float32, roundUp(MC, mr)*KC))
		ctx.packB = append(ctx.packB, make([]float32, KC*roundUp(NC, nr)))
		ctx.edge = append(ctx.edge, make([]float32, mr*nr))
	}
	ctx.packFn, ctx.computeFn, ctx.colsFn, ctx.packAFn = ctx.packTask, ctx.computeTask, ctx.colsTask, ctx.packATask
	return ctx
}

// Kernel reports the micro-kernel in use.
func (ctx *Context) Kernel() Kernel { return ctx.k }

// Gemm computes C = alpha·op(A)·op(B) + beta·C with all workers, where
// op(A) is m×k (A is m×k with row stride lda, or k×m when transA), op(B) is
// k×n (B is k×n, or n×k when transB) and C is m×n with row stride ldc. With
// beta == 0, C is not read. The caller guarantees the slices are long
// enough.
//
// Work is split the way BLIS splits it: each KC×NC block of op(B) is packed
// once, its NR-wide panels shared out among the workers; then the workers
// take (MC rows × a share of the panels) tiles of C, each packing its own
// block of A. When C has few row blocks (a small batch in a fully connected
// layer) the panels are cut finer so that every worker has tiles.
func (ctx *Context) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	w := ctx.runner.Workers()
	if w == 1 {
		ctx.GemmSerial(0, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scale(c, ldc, 0, m, 0, n, beta)
		return
	}
	ctx.call = call{nil, false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}
	ctx.choose(&ctx.call, false)
	nr := ctx.call.kern.NR
	if ctx.skinny(&ctx.call) && n >= w*skinnyMinCols {
		ctx.runner.Run(w, ctx.colsFn)
		return
	}
	kcb := ctx.depth(&ctx.call)
	ctx.mt = ceilDiv(m, MC)
	for jc := 0; jc < n; jc += NC {
		nc := min(NC, n-jc)
		ctx.panels = ceilDiv(nc, nr)
		ctx.chunks = min(ctx.panels, max(1, ceilDiv(2*w, ctx.mt)))
		for pc := 0; pc < k; pc += kcb {
			ctx.jc, ctx.nc, ctx.pc, ctx.kc = jc, nc, pc, min(kcb, k-pc)
			ctx.beta = beta
			if pc > 0 {
				ctx.beta = 1
			}
			ctx.runner.Run(min(w, ctx.panels), ctx.packFn)
			ctx.runner.Run(ctx.mt*ctx.chunks, ctx.computeFn)
		}
	}
}

// packTask packs worker i's share of the current B block's panels.
func (ctx *Context) packTask(_, i int) {
	cl := &ctx.call
	nr := cl.kern.NR
	tasks := min(ctx.runner.Workers(), ctx.panels)
	p0, p1 := ctx.panels*i/tasks, ctx.panels*(i+1)/tasks
	lo, hi := p0*nr, min(p1*nr, ctx.nc)
	packB(ctx.shared[lo*ctx.kc:], cl.b, cl.ldb, cl.transB, ctx.pc, ctx.kc, ctx.jc+lo, hi-lo, nr)
}

// computeTask computes tile i: one MC block of rows and one chunk of the
// packed panels.
func (ctx *Context) computeTask(worker, i int) {
	cl := &ctx.call
	nr := cl.kern.NR
	ic := (i / ctx.chunks) * MC
	ch := i % ctx.chunks
	p0, p1 := ctx.panels*ch/ctx.chunks, ctx.panels*(ch+1)/ctx.chunks
	mc := min(MC, cl.m-ic)
	ctx.packA_(worker, cl, ic, mc, ctx.pc, ctx.kc)
	ctx.macro(worker, cl, ctx.packA[worker], ctx.shared, ic, mc, ctx.jc, ctx.nc, ctx.pc, ctx.kc, p0*nr, min(p1*nr, ctx.nc), ctx.beta)
}

// GemmSerial is Gemm on the calling goroutine only, using worker's
// buffers; several goroutines may run GemmSerial at once with distinct
// workers (the parallel loops of the backend do this, one image each).
func (ctx *Context) GemmSerial(worker int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ctx.serial(worker, &call{nil, false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}, nil, 0, 0)
}

// serial runs a call on one worker: for each KC×NC block of B, pack it,
// then multiply every MC block of A by it — A packed block by block into
// the worker's buffer, or taken from prepacked (PackA's layout) if given.
//
// A prepacked A may hold more rows than the call uses: the call's row i is
// the packed matrix's row prow+i (prow a multiple of MR), and each
// KC-deep slice of it takes pmm (its row count rounded up to MR) rows.
func (ctx *Context) serial(worker int, cl *call, prepacked []float32, pmm, prow int) {
	m, n, k := cl.m, cl.n, cl.k
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scale(cl.c, cl.ldc, 0, m, 0, n, cl.beta)
		return
	}
	ctx.choose(cl, prepacked != nil)
	pa, pb := ctx.packA[worker], ctx.packB[worker]
	kcb := ctx.depth(cl)
	ncb := NC
	if prepacked == nil && ctx.skinny(cl) {
		ncb = skinnyNC
	}
	for jc := 0; jc < n; jc += ncb {
		nc := min(ncb, n-jc)
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			beta := cl.beta
			if pc > 0 {
				beta = 1
			}
			packB(pb, cl.b, cl.ldb, cl.transB, pc, kc, jc, nc, cl.kern.NR)
			for ic := 0; ic < m; ic += MC {
				mc := min(MC, m-ic)
				a := pa
				if prepacked != nil {
					a = prepacked[pc*pmm+(prow+ic)*kc:]
				} else {
					ctx.packA_(worker, cl, ic, mc, pc, kc)
				}
				ctx.macro(worker, cl, a, pb, ic, mc, jc, nc, pc, kc, 0, nc, beta)
			}
		}
	}
}

// Skinny C: at most two panels of rows (a fully connected layer's data
// gradient at a small batch, m = batch) and A packed. B — the layer's
// weights — is then used by so few rows that packing it is the cost: it is
// packed skinnyNC columns at a time, a KC×skinnyNC block that stays in L2
// for both row panels, and Gemm gives each worker its own columns of C
// (skinnyMinCols or more) with no synchronisation between packing and use.
const (
	skinnyNC      = 512
	skinnyMinCols = 128
)

// skinny reports whether a call takes the skinny-C path.
func (ctx *Context) skinny(cl *call) bool {
	return !cl.direct && cl.m <= 2*cl.kern.MR
}

// colsTask runs worker i's share of the columns of a skinny call: whole
// NR-wide panels, serially on its own buffers.
func (ctx *Context) colsTask(worker, i int) {
	sub := ctx.call
	j0, j1 := panelShare(sub.n, sub.kern.NR, i, ctx.runner.Workers())
	if j0 >= j1 {
		return
	}
	sub.n, sub.c = j1-j0, sub.c[j0:]
	if sub.transB {
		sub.b = sub.b[j0*sub.ldb:]
	} else {
		sub.b = sub.b[j0:]
	}
	ctx.serial(worker, &sub, nil, 0, 0)
}

// panelShare returns share i of w of the columns [0, n): whole nr-wide
// panels, the last share ending at n; empty (j0 ≥ j1) when there are fewer
// panels than shares.
func panelShare(n, nr, i, w int) (j0, j1 int) {
	panels := ceilDiv(n, nr)
	return panels * i / w * nr, min(panels*(i+1)/w*nr, n)
}

// ColumnShare is panelShare for the context's kernel: the columns a worker
// takes when w workers split a product with packed A (GemmPackedSerial)
// by columns.
func (ctx *Context) ColumnShare(n, i, w int) (j0, j1 int) { return panelShare(n, ctx.k.NR, i, w) }

// directKC caps the depth of a block when A is read unpacked.
var directKC = 4096

// depth is the depth of the blocks of k the call is cut into: KC, or, when
// A is read unpacked, as deep as the buffers allow (up to directKC): each
// row of A is then streamed from memory in long runs that the hardware
// prefetcher follows, rather than 1 KiB pieces, and B's few columns stay in
// L2.
func (ctx *Context) depth(cl *call) int {
	if !cl.direct {
		return KC
	}
	kr := cl.kern
	return max(KC, min(directKC, len(ctx.shared)/roundUp(cl.n, kr.NR), len(ctx.packA[0])/kr.MR))
}

// choose sets the call's kernel and whether it reads A unpacked: A is read
// in place when C is narrow and A needs no transpose or scaling, by the
// narrow kernel if C fits it; prepacked A (PackA's layout) is always
// multiplied by the context's own kernel.
func (ctx *Context) choose(cl *call, prepacked bool) {
	cl.kern, cl.direct = &ctx.k, false
	if prepacked || cl.a == nil || cl.transA || cl.alpha != 1 || cl.n > directMaxN {
		return
	}
	if ctx.narrow != nil && cl.n <= ctx.narrow.NR {
		cl.kern = ctx.narrow
	}
	cl.direct = cl.kern.Direct != nil
}

// packA_ packs the block of A for rows [ic, ic+mc) and depth [pc, pc+kc)
// into worker's buffer; in direct mode only the ragged last rows (fewer than
// MR) are packed, at the start of the buffer.
func (ctx *Context) packA_(worker int, cl *call, ic, mc, pc, kc int) {
	mr := cl.kern.MR
	if !cl.direct {
		packA(ctx.packA[worker], cl.a, cl.lda, cl.transA, ic, mc, pc, kc, mr, cl.alpha)
		return
	}
	if full := mc - mc%mr; full < mc {
		packA(ctx.packA[worker], cl.a, cl.lda, false, ic+full, mc-full, pc, kc, mr, cl.alpha)
	}
}

// macro runs the micro-kernel over the A block (rows [ic, ic+mc), packed,
// or in place in direct mode) and the packed B panels covering block
// columns [j0, j1) of the block that starts at column jc, writing C with
// the given beta.
func (ctx *Context) macro(worker int, cl *call, pa, pb []float32, ic, mc, jc, nc, pc, kc, j0, j1 int, beta float32) {
	kern := cl.kern
	mr, nr := kern.MR, kern.NR
	edge := ctx.edge[worker]
	direct := cl.direct
	for jr := j0; jr < j1; jr += nr {
		bp := pb[jr*kc : (jr+nr)*kc]
		for ir := 0; ir < mc; ir += mr {
			var ap []float32
			if direct {
				ap = pa[:mr*kc] // the ragged rows only, packed at the start
			} else {
				ap = pa[ir*kc : (ir+mr)*kc]
			}
			off := (ic+ir)*cl.ldc + jc + jr
			if ir+mr <= mc && jr+nr <= nc {
				if direct {
					kern.Direct(kc, cl.a[(ic+ir)*cl.lda+pc:], cl.lda, bp, cl.c[off:], cl.ldc, beta)
				} else {
					kern.Fn(kc, ap, bp, cl.c[off:], cl.ldc, beta)
				}
				continue
			}
			// Ragged edge: compute the full tile aside, then merge.
			if direct && ir+mr <= mc {
				kern.Direct(kc, cl.a[(ic+ir)*cl.lda+pc:], cl.lda, bp, edge, nr, 0)
			} else if !direct && kern.Half != nil && nc-jr <= nr/2 {
				kern.Half(kc, ap, bp, edge, nr)
			} else {
				kern.Fn(kc, ap, bp, edge, nr, 0)
			}
			rows, cols := min(mr, mc-ir), min(nr, nc-jr)
			for i := 0; i < rows; i++ {
				crow := cl.c[off+i*cl.ldc : off+i*cl.ldc+cols]
				erow := edge[i*nr : i*nr+cols]
				if beta == 0 {
					copy(crow, erow)
					continue
				}
				for j := range crow {
					crow[j] = erow[j] + beta*crow[j]
				}
			}
		}
	}
}

// packA packs rows [ic, ic+mc) × cols [pc, pc+kc) of alpha·op(A) into
// MR-tall panels: dst[(ir/MR)*MR*kc + p*MR + i].
func packA(dst, a []float32, lda int, trans bool, ic, mc, pc, kc, mr int, alpha float32) {
	for ir := 0; ir < mc; ir += mr {
		panel := dst[ir*kc : (ir+mr)*kc]
		rows := min(mr, mc-ir)
		if trans { // op(A)[row][p] = a[p*lda+row]: rows of a, read in order
			for p := 0; p < kc; p++ {
				src := a[(pc+p)*lda+ic+ir : (pc+p)*lda+ic+ir+rows]
				out := panel[p*mr : p*mr+mr]
				for i, v := range src {
					out[i] = alpha * v
				}
				clear(out[rows:])
			}
			continue
		}
		for i := 0; i < mr; i++ {
			if i >= rows {
				for p := 0; p < kc; p++ {
					panel[p*mr+i] = 0
				}
				continue
			}
			row := ic + ir + i
			src := a[row*lda+pc : row*lda+pc+kc]
			for p, v := range src {
				panel[p*mr+i] = alpha * v
			}
		}
	}
}

// packB packs rows [pc, pc+kc) × cols [jc, jc+nc) of op(B) into NR-wide
// panels: dst[(jr/NR)*NR*kc + p*NR + j].
func packB(dst, b []float32, ldb int, trans bool, pc, kc, jc, nc, nr int) {
	full := nc - nc%nr // columns in whole panels
	if !trans {
		// Row by row, so that B is read sequentially (its rows may be far
		// apart: a fully connected layer's weights), each row scattered
		// into the panels.
		if full > 0 {
			packRows(dst, b[pc*ldb+jc:], ldb, kc, full/nr, nr)
		}
	} else if full > 0 { // op(B)[p][col] = b[col*ldb+p]
		packCols(dst, b[jc*ldb+pc:], ldb, kc, full/nr, nr)
	}
	if full == nc {
		return
	}
	// The ragged last panel, zero-padded.
	panel := dst[full*kc : (full+nr)*kc]
	for p := 0; p < kc; p++ {
		out := panel[p*nr : p*nr+nr]
		for j := range out {
			switch col := jc + full + j; {
			case full+j >= nc:
				out[j] = 0
			case trans:
				out[j] = b[col*ldb+pc+p]
			default:
				out[j] = b[(pc+p)*ldb+col]
			}
		}
	}
}

// packRowsGo is the portable packRows: rows [0, kc) × columns
// [0, nr·panels) of src (row stride ldb) into nr-wide panels.
func packRowsGo(dst, src []float32, ldb, kc, panels, nr int) {
	for p := 0; p < kc; p++ {
		row := src[p*ldb : p*ldb+nr*panels]
		for jr := 0; jr < panels; jr++ {
			copy(dst[(jr*kc+p)*nr:(jr*kc+p)*nr+nr], row[jr*nr:jr*nr+nr])
		}
	}
}

// packColsGo is the portable packCols: panels nr-wide panels of kc rows,
// panel column j holding src[(jr·nr+j)·ldb : +kc].
func packColsGo(dst, src []float32, ldb, kc, panels, nr int) {
	for jr := 0; jr < panels; jr++ {
		panel := dst[jr*kc*nr : (jr+1)*kc*nr]
		for j := 0; j < nr; j++ {
			col := src[(jr*nr+j)*ldb : (jr*nr+j)*ldb+kc]
			for p, v := range col {
				panel[p*nr+j] = v
			}
		}
	}
}

func scale(c []float32, ldc, i0, i1, j0, j1 int, beta float32) {
	for i := i0; i < i1; i++ {
		row := c[i*ldc+j0 : i*ldc+j1]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// PackedSize is the length of the buffer PackA needs for an m×k op(A).
func (ctx *Context) PackedSize(m, k int) int { return roundUp(m, ctx.k.MR) * k }

// PackA packs alpha·op(A) (m×k) once, for GemmPacked calls that share it:
// the weights of a convolution, multiplied by every image of a batch. The
// layout is the one Gemm builds block by block: for each KC-deep slice at
// depth pc, the MR-tall panels of all m rows, at dst[pc*roundUp(m, MR):].
// A large A is packed by all the workers, one MC×KC block each, so PackA,
// like Gemm, must not be called from inside the runner's tasks.
func (ctx *Context) PackA(dst []float32, transA bool, m, k int, alpha float32, a []float32, lda int) {
	mm := roundUp(m, ctx.k.MR)
	icb, pcb := ceilDiv(m, MC), ceilDiv(k, KC)
	if w := ctx.runner.Workers(); w > 1 && m*k >= packParallelMin && icb*pcb > 1 {
		ctx.pk = packJob{dst, transA, m, k, mm, icb, alpha, a, lda}
		ctx.runner.Run(icb*pcb, ctx.packAFn)
		ctx.pk = packJob{}
		return
	}
	ctx.PackASerial(dst, transA, m, k, alpha, a, lda)
}

// PackASerial is PackA on the calling goroutine only; unlike PackA it may
// run inside the runner's tasks (a worker packing its own operand).
func (ctx *Context) PackASerial(dst []float32, transA bool, m, k int, alpha float32, a []float32, lda int) {
	mm := roundUp(m, ctx.k.MR)
	for pc := 0; pc < k; pc += KC {
		kc := min(KC, k-pc)
		for ic := 0; ic < m; ic += MC {
			packA(dst[pc*mm+ic*kc:], a, lda, transA, ic, min(MC, m-ic), pc, kc, ctx.k.MR, alpha)
		}
	}
}

// packParallelMin is the smallest A (elements) that PackA shares out.
const packParallelMin = 1 << 15

// packJob is the PackA call in progress, for packATask.
type packJob struct {
	dst      []float32
	trans    bool
	m, k, mm int
	icb      int // MC blocks of rows
	alpha    float32
	a        []float32
	lda      int
}

// packATask packs block i of the PackA call in progress: KC slice i/icb,
// MC rows i%icb.
func (ctx *Context) packATask(_, i int) {
	j := &ctx.pk
	pc, ic := (i/j.icb)*KC, (i%j.icb)*MC
	kc := min(KC, j.k-pc)
	packA(j.dst[pc*j.mm+ic*kc:], j.a, j.lda, j.trans, ic, min(MC, j.m-ic), pc, kc, ctx.k.MR, j.alpha)
}

// GemmPackedSerial is GemmSerial with A already packed by PackA (alpha
// folded in there), on worker's buffers.
func (ctx *Context) GemmPackedSerial(worker int, m, n, k int, pa []float32, transB bool, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ctx.serial(worker, &call{nil, false, false, transB, m, n, k, 1, nil, 0, b, ldb, beta, c, ldc}, pa, roundUp(m, ctx.k.MR), 0)
}

// GemmPackedRowsSerial is GemmPackedSerial for rows [row, row+m) of a
// packed A of rows×k (PackA's layout for all rows): C (m×n) = those rows
// of A times op(B), plus beta·C. row must be a multiple of RowBlock().
func (ctx *Context) GemmPackedRowsSerial(worker int, row, m, rows, n, k int, pa []float32, transB bool, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if row%ctx.k.MR != 0 || row+m > rows {
		panic("gemm: GemmPackedRowsSerial rows out of step with the packing") // a bug in the caller, not bad user input
	}
	ctx.serial(worker, &call{nil, false, false, transB, m, n, k, 1, nil, 0, b, ldb, beta, c, ldc}, pa, roundUp(rows, ctx.k.MR), row)
}

// RowBlock is the largest multiple of the kernel's MR not above KC: a
// block of rows for GemmPackedRowsSerial that keeps a KC-deep B in step.
func (ctx *Context) RowBlock() int { return KC - KC%ctx.k.MR }
