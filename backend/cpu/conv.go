package cpu

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu/internal/gemm"
	"github.com/dnngo/dnngo/backend/cpu/internal/parallel"
	"github.com/dnngo/dnngo/backend/cpu/internal/vec"
	"github.com/dnngo/dnngo/backend/driver"
)

// Conv plans a convolution as im2col + GEMM per image and group:
//
//	forward          Y[g] (Out/G × P)   = W[g] (Out/G × CRS) · col[g] (CRS × P)
//	backward data    dcol[g] (CRS × P)  = W[g]ᵀ · dY[g], then col2im into dx
//	backward filter  dW[g] (Out/G × CRS) = Σ_n dY[g] · col[g]ᵀ
//
// with P = OH·OW and CRS = (C/G)·KH·KW. When the batch has at least as many
// images as workers, each worker takes whole images with its own column
// buffer and a single-threaded GEMM (and, for dW, its own accumulator,
// summed at the end); otherwise images run one by one with the GEMM spread
// over the workers. A 1×1, stride-1, unpadded convolution skips im2col.
func (b *engine) Conv(d backend.ConvDesc) (driver.WeightPlan[*tensor], error) {
	p := &convPlan{plan: plan{b: b}, d: d}
	ys := d.OutputShape()
	p.n, p.c, p.h, p.w = d.Input[0], d.Input[1], d.Input[2], d.Input[3]
	p.oh, p.ow = ys[2], ys[3]
	p.g, p.cg, p.kg = d.Groups, d.Input[1]/d.Groups, d.Out/d.Groups
	p.crs, p.pix = p.cg*d.KernelH*d.KernelW, p.oh*p.ow
	p.direct = d.KernelH == 1 && d.KernelW == 1 && d.StrideH == 1 && d.StrideW == 1 && d.PadH == 0 && d.PadW == 0
	p.perImage = p.n >= b.threads && b.threads > 1
	p.colSize = p.g * p.crs * p.pix
	if p.direct {
		p.colSize = 0
	}
	p.accSize = d.WeightShape().Numel()
	// Weights packed once per call for the per-image GEMMs: W[g] for the
	// forward, W[g]ᵀ for the backward data pass.
	p.packSize = max(b.gemm.PackedSize(p.kg, p.crs), b.gemm.PackedSize(p.crs, p.kg))
	n, err := b.scratchSize("conv2d", p.colSize+p.accSize, p.g*p.packSize)
	if err != nil {
		return nil, err
	}
	if err := b.reserve("conv2d", n); err != nil {
		return nil, err
	}
	if d.Inference && b.threads > 1 {
		// An inference plan keeps its packed weights between calls
		// (packForward); the memory counts against the budget.
		keep := p.g * b.gemm.PackedSize(p.kg, p.crs)
		if err := b.mem.Reserve("conv2d", "the packed weights of "+d.String(), 4*int64(keep)); err != nil {
			return nil, err
		}
		p.keep = make([]float32, keep)
	}
	p.fwdFn, p.bdFn, p.bfFn, p.sumFn = p.forwardImage, p.backwardDataImage, p.backwardFilterChunk, p.sumAcc
	p.dbFn = p.biasGradChunk
	p.colsFn, p.im2colFn = p.forwardColsChunk, p.im2colChunk
	return p, nil
}

type convPlan struct {
	plan
	d                  backend.ConvDesc
	n, c, h, w, oh, ow int
	g, cg, kg          int
	crs, pix           int
	direct, perImage   bool
	colSize, accSize   int
	packSize           int // per group

	// Operands of the running call, for the parallel bodies.
	x, wt, bias, y, dy, dx, dw []float32
	db                         []float32
	fwdFn, bdFn, bfFn, sumFn   func(worker, i int)
	cx, cb, cy                 []float32 // forwardCols: the image, its column matrix and its output
	keep                       []float32 // an inference plan's packed weights (packForward)
	keepFrom                   *tensor   // ... packed from this tensor
	keepVer                    uint64    // ... at this version
	colsFn, im2colFn           func(worker, i int)
	dbFn                       func(worker, i int)
}

func (p *convPlan) Forward(xt, wt, b, yt *tensor) error {
	bias := b.slice()
	p.x, p.wt, p.bias, p.y = xt.data, wt.data, bias, yt.out()
	if p.perImage {
		p.packForward(wt)
		p.b.pool.Run(p.n, p.fwdFn)
	} else if p.b.threads > 1 {
		// Fewer images than workers (one image on two): the weights are
		// packed once for the call and each worker multiplies them by its
		// share of the output's columns. A parallel GEMM per image and group
		// instead packed every block of the weights again for each share of
		// the columns (13 % of a batch-1 forward's CPU time went to packing).
		p.packForward(wt)
		for n := 0; n < p.n; n++ {
			p.forwardCols(n)
		}
	} else {
		for n := 0; n < p.n; n++ {
			p.forwardOne(0, n, false)
		}
	}
	p.x, p.wt, p.bias, p.y = nil, nil, nil, nil
	return nil
}

// forwardCols runs image n with its output columns shared out among the
// workers (forwardColsChunk), the weights already packed.
func (p *convPlan) forwardCols(n int) {
	x := p.x[n*p.c*p.h*p.w : (n+1)*p.c*p.h*p.w]
	p.cb, p.cy = x, p.y[n*p.d.Out*p.pix:(n+1)*p.d.Out*p.pix]
	if !p.direct {
		p.cx, p.cb = x, p.b.scratch(p.colSize)
		p.b.pool.Run(p.b.threads, p.im2colFn)
	}
	p.b.pool.Run(p.b.threads, p.colsFn)
	p.epilogue(p.cy)
	p.cx, p.cb, p.cy = nil, nil, nil
}

// im2colChunk unfolds share i of the rows of p.cx's column matrix into p.cb.
func (p *convPlan) im2colChunk(_, i int) {
	r0, r1 := parallel.Chunks(p.c*p.d.KernelH*p.d.KernelW, p.b.threads, i)
	p.im2colRows(p.cx, p.cb[r0*p.pix:], r0, r1)
}

// forwardColsChunk multiplies every group's packed weights by share i of
// the columns of the image's column matrix p.cb into p.cy: whole panels of
// the kernel's width, the last share taking the ragged end.
func (p *convPlan) forwardColsChunk(worker, i int) {
	j0, j1 := p.b.gemm.ColumnShare(p.pix, i, p.b.threads)
	if j0 >= j1 {
		return
	}
	for g := 0; g < p.g; g++ {
		cg, yg := p.cb[g*p.crs*p.pix:], p.cy[g*p.kg*p.pix:]
		p.b.gemm.GemmPackedSerial(worker, p.kg, j1-j0, p.crs, p.fwdPacked(g), false, cg[j0:], p.pix, 0, yg[j0:], p.pix)
	}
}

func (p *convPlan) forwardImage(worker, n int) { p.forwardOne(worker, n, true) }

func (p *convPlan) forwardOne(worker, n int, serial bool) {
	x := p.x[n*p.c*p.h*p.w : (n+1)*p.c*p.h*p.w]
	y := p.y[n*p.d.Out*p.pix : (n+1)*p.d.Out*p.pix]
	col := x
	if serial && !p.direct {
		p.forwardBlocked(worker, x, y)
	} else if !p.direct {
		col = p.b.scratch(p.b.threads * p.colSize)[worker*p.colSize : (worker+1)*p.colSize]
		p.im2col(x, col)
	}
	for g := 0; g < p.g && (p.direct || !serial); g++ {
		wg := p.wt[g*p.kg*p.crs : (g+1)*p.kg*p.crs]
		cg := col[g*p.crs*p.pix : (g+1)*p.crs*p.pix]
		yg := y[g*p.kg*p.pix : (g+1)*p.kg*p.pix]
		if serial {
			p.b.gemm.GemmPackedSerial(worker, p.kg, p.pix, p.crs, p.fwdPacked(g), false, cg, p.pix, 0, yg, p.pix)
		} else {
			p.b.gemm.Gemm(false, false, p.kg, p.pix, p.crs, 1, wg, p.crs, cg, p.pix, 0, yg, p.pix)
		}
	}
	p.epilogue(y)
}

// epilogue adds the bias and applies ReLU to one image's output y, as the
// description says.
func (p *convPlan) epilogue(y []float32) {
	if p.bias != nil {
		addBias(y, p.bias, y, p.pix, p.d.ReLU)
	} else if p.d.ReLU {
		for i, v := range y {
			y[i] = max(v, 0)
		}
	}
}

func (p *convPlan) BackwardData(dyt, wt, dxt *tensor) error {
	p.dy, p.wt, p.dx = dyt.data, wt.data, dxt.out()
	if p.perImage {
		p.packWeights()
		p.b.pool.Run(p.n, p.bdFn)
	} else {
		for n := 0; n < p.n; n++ {
			p.backwardDataOne(0, n, false)
		}
	}
	p.dy, p.wt, p.dx = nil, nil, nil
	return nil
}

func (p *convPlan) backwardDataImage(worker, n int) { p.backwardDataOne(worker, n, true) }

func (p *convPlan) backwardDataOne(worker, n int, serial bool) {
	dy := p.dy[n*p.d.Out*p.pix : (n+1)*p.d.Out*p.pix]
	dx := p.dx[n*p.c*p.h*p.w : (n+1)*p.c*p.h*p.w]
	if serial && !p.direct {
		p.backwardDataBlocked(worker, dy, dx)
		return
	}
	col := dx
	if !p.direct {
		col = p.b.scratch(p.b.threads * p.colSize)[worker*p.colSize : (worker+1)*p.colSize]
	}
	for g := 0; g < p.g; g++ {
		wg := p.wt[g*p.kg*p.crs : (g+1)*p.kg*p.crs]
		cg := col[g*p.crs*p.pix : (g+1)*p.crs*p.pix]
		dyg := dy[g*p.kg*p.pix : (g+1)*p.kg*p.pix]
		if serial {
			p.b.gemm.GemmPackedSerial(worker, p.crs, p.pix, p.kg, p.packed(g), false, dyg, p.pix, 0, cg, p.pix)
		} else {
			p.b.gemm.Gemm(true, false, p.crs, p.pix, p.kg, 1, wg, p.crs, dyg, p.pix, 0, cg, p.pix)
		}
	}
	if !p.direct {
		p.col2im(col, dx)
	}
}

func (p *convPlan) BackwardFilter(xt, dyt, dwt, db *tensor) error {
	dbias := db.outOrNil()
	p.x, p.dy, p.dw = xt.data, dyt.data, dwt.out()
	if p.perImage {
		// Chunk c of the images accumulates into buffer c, then dw is the
		// sum of the buffers in chunk order: the same bits whichever worker
		// ran which chunk.
		p.b.pool.Run(p.b.threads, p.bfFn)
		p.b.pool.Run(p.b.threads, p.sumFn)
	} else {
		for n := 0; n < p.n; n++ {
			p.backwardFilterOne(0, n, false, n > 0, p.dw)
		}
	}
	if dbias != nil {
		p.biasGrad(dbias)
	}
	p.x, p.dy, p.dw = nil, nil, nil
	return nil
}

// backwardFilterChunk accumulates the dW of image chunk c (of
// b.threads) into accumulator c.
func (p *convPlan) backwardFilterChunk(worker, c int) {
	acc := p.b.scratch(p.b.threads * (p.colSize + p.accSize))[p.b.threads*p.colSize:]
	acc = acc[c*p.accSize : (c+1)*p.accSize]
	lo, hi := parallel.Chunks(p.n, p.b.threads, c)
	for n := lo; n < hi; n++ {
		p.backwardFilterOne(worker, n, true, n > lo, acc)
	}
}

// backwardFilterOne adds (or, unless accumulate, writes) image n's dW into
// dw.
func (p *convPlan) backwardFilterOne(worker, n int, serial, accumulate bool, dw []float32) {
	x := p.x[n*p.c*p.h*p.w : (n+1)*p.c*p.h*p.w]
	dy := p.dy[n*p.d.Out*p.pix : (n+1)*p.d.Out*p.pix]
	var beta float32
	if accumulate {
		beta = 1
	}
	if serial && !p.direct && gemm.KC*p.pix+p.b.gemm.PackedSize(p.kg, p.pix) <= p.colSize {
		p.backwardFilterBlocked(worker, x, dy, beta, dw)
		return
	}
	col := x
	if !p.direct {
		col = p.b.scratch(p.b.threads * p.colSize)[worker*p.colSize : (worker+1)*p.colSize]
		p.im2col(x, col)
	}
	for g := 0; g < p.g; g++ {
		dwg := dw[g*p.kg*p.crs : (g+1)*p.kg*p.crs]
		cg := col[g*p.crs*p.pix : (g+1)*p.crs*p.pix]
		dyg := dy[g*p.kg*p.pix : (g+1)*p.kg*p.pix]
		if serial {
			p.b.gemm.GemmSerial(worker, false, true, p.kg, p.crs, p.pix, 1, dyg, p.pix, cg, p.pix, beta, dwg, p.crs)
		} else {
			p.b.gemm.Gemm(false, true, p.kg, p.crs, p.pix, 1, dyg, p.pix, cg, p.pix, beta, dwg, p.crs)
		}
	}
}

// biasGrad sets db to the bias gradient, Σ of dy over images and pixels
// per channel, with the channels shared out among the workers; each
// channel's sum is the one biasGrad (elementwise.go) computes, bit for bit.
func (p *convPlan) biasGrad(db []float32) {
	if p.b.threads == 1 || p.d.Out < p.b.threads {
		biasGrad(p.dy, db, p.pix)
		return
	}
	p.db = db
	p.b.pool.Run(p.b.threads, p.dbFn)
	p.db = nil
}

// biasGradChunk computes the bias gradient of channel chunk i: per
// channel, each image's row summed in float64, the rows added in image
// order in float32.
func (p *convPlan) biasGradChunk(_, i int) {
	lo, hi := parallel.Chunks(p.d.Out, p.b.threads, i)
	for ch := lo; ch < hi; ch++ {
		var acc float32
		for n := 0; n < p.n; n++ {
			var s float64
			for _, v := range p.dy[(n*p.d.Out+ch)*p.pix : (n*p.d.Out+ch+1)*p.pix] {
				s += float64(v)
			}
			acc += float32(s)
		}
		p.db[ch] = acc
	}
}

// sumAcc writes part i of dw as the sum, in chunk order, of the image
// chunks' accumulators.
func (p *convPlan) sumAcc(_, i int) {
	lo, hi := parallel.Chunks(p.accSize, p.b.threads, i)
	dw := p.dw[lo:hi]
	accs := p.b.scratch(p.b.threads * (p.colSize + p.accSize))[p.b.threads*p.colSize:]
	copy(dw, accs[lo:hi])
	for c := 1; c < p.b.threads; c++ {
		vec.Add(dw, accs[c*p.accSize+lo:c*p.accSize+hi])
	}
}

// packed returns group g's packed weights in the arena.
func (p *convPlan) packed(g int) []float32 {
	base := p.b.threads * (p.colSize + p.accSize)
	return p.b.arena[base+g*p.packSize : base+(g+1)*p.packSize]
}

// packWeights packs every group's W[g]ᵀ once, for all the images of a
// backward data pass.
func (p *convPlan) packWeights() {
	for g := 0; g < p.g; g++ {
		p.b.gemm.PackA(p.packed(g), true, p.crs, p.kg, 1, p.wt[g*p.kg*p.crs:(g+1)*p.kg*p.crs], p.crs)
	}
}

// packForward packs every group's W[g] for the forward of all the images
// of the call, into fwdPacked. An inference plan keeps them in its own
// buffer and packs again only when wt is another tensor or was written
// since (its version): repeated inference skips the packing, ~11 % of a
// batch-1 forward's CPU time.
func (p *convPlan) packForward(wt *tensor) {
	if p.keep != nil && p.keepFrom == wt && p.keepVer == wt.ver {
		return
	}
	for g := 0; g < p.g; g++ {
		p.b.gemm.PackA(p.fwdPacked(g), false, p.kg, p.crs, 1, p.wt[g*p.kg*p.crs:(g+1)*p.kg*p.crs], p.crs)
	}
	if p.keep != nil {
		p.keepFrom, p.keepVer = wt, wt.ver
	}
}

// fwdPacked returns group g's packed W[g] for the forward: the plan's own
// buffer for an inference plan, else the arena's.
func (p *convPlan) fwdPacked(g int) []float32 {
	if p.keep == nil {
		return p.packed(g)
	}
	n := len(p.keep) / p.g
	return p.keep[g*n : (g+1)*n]
}

// Close releases an inference plan's packed weights.
func (p *convPlan) Close() error {
	if p.keep != nil {
		p.b.mem.Release(4 * int64(len(p.keep)))
		p.keep, p.keepFrom = nil, nil
	}
	return nil
}

// forwardBlocked is the single-worker forward GEMM of one image (x → y,
// before bias and ReLU) with im2col done gemm.KC rows at a time: each
// block of columns is unfolded into the worker's buffer while it fits in
// L2 and multiplied at once by the matching KC slice of the packed
// weights, instead of the whole column matrix (up to 7 MB for conv2)
// going out to memory and back. The products and sums are those of one
// GemmPackedSerial over all rows, bit for bit.
func (p *convPlan) forwardBlocked(worker int, x, y []float32) {
	col := p.b.scratch(p.b.threads * p.colSize)[worker*p.colSize : (worker+1)*p.colSize]
	mm := p.b.gemm.PackedSize(p.kg, 1)
	for g := 0; g < p.g; g++ {
		yg := y[g*p.kg*p.pix : (g+1)*p.kg*p.pix]
		for r0 := 0; r0 < p.crs; r0 += gemm.KC {
			kc := min(gemm.KC, p.crs-r0)
			p.im2colRows(x, col, g*p.crs+r0, g*p.crs+r0+kc)
			var beta float32
			if r0 > 0 {
				beta = 1
			}
			p.b.gemm.GemmPackedSerial(worker, p.kg, p.pix, kc, p.fwdPacked(g)[r0*mm:], false, col, p.pix, beta, yg, p.pix)
		}
	}
}

// backwardFilterBlocked adds (beta 1) or writes (beta 0) one image's dW
// into dw on one worker, im2col done gemm.KC rows at a time as in
// forwardBlocked: rows [r0, r0+KC) of the columns give columns
// [r0, r0+KC) of dW[g] = dY[g]·colᵀ, bit for bit the whole GEMM's. dY[g]
// is packed once, after the block in the worker's column buffer (the
// caller checks that both fit).
func (p *convPlan) backwardFilterBlocked(worker int, x, dy []float32, beta float32, dw []float32) {
	col := p.b.scratch(p.b.threads * p.colSize)[worker*p.colSize : (worker+1)*p.colSize]
	pdy := col[gemm.KC*p.pix : gemm.KC*p.pix+p.b.gemm.PackedSize(p.kg, p.pix)]
	for g := 0; g < p.g; g++ {
		dwg := dw[g*p.kg*p.crs : (g+1)*p.kg*p.crs]
		p.b.gemm.PackASerial(pdy, false, p.kg, p.pix, 1, dy[g*p.kg*p.pix:(g+1)*p.kg*p.pix], p.pix)
		for r0 := 0; r0 < p.crs; r0 += gemm.KC {
			kc := min(gemm.KC, p.crs-r0)
			p.im2colRows(x, col, g*p.crs+r0, g*p.crs+r0+kc)
			p.b.gemm.GemmPackedSerial(worker, p.kg, kc, p.pix, pdy, true, col, p.pix, beta, dwg[r0:], p.crs)
		}
	}
}

// backwardDataBlocked is backwardDataOne on one worker with the column
// gradient computed a block of rows at a time (gemm's RowBlock, about KC)
// and folded into dx by col2im while it is in L2; dx gets the same sums
// in the same order as from the whole column matrix.
func (p *convPlan) backwardDataBlocked(worker int, dy, dx []float32) {
	col := p.b.scratch(p.b.threads * p.colSize)[worker*p.colSize : (worker+1)*p.colSize]
	rb := p.b.gemm.RowBlock()
	clear(dx)
	for g := 0; g < p.g; g++ {
		dyg := dy[g*p.kg*p.pix : (g+1)*p.kg*p.pix]
		for r0 := 0; r0 < p.crs; r0 += rb {
			mb := min(rb, p.crs-r0)
			p.b.gemm.GemmPackedRowsSerial(worker, r0, mb, p.crs, p.pix, p.kg, p.packed(g), false, dyg, p.pix, 0, col, p.pix)
			p.col2imRows(col, dx, g*p.crs+r0, g*p.crs+r0+mb)
		}
	}
}

// im2col unfolds one image x [C, H, W] into col [C·KH·KW, OH·OW]: row
// (c, i, j) holds x[c, oh·s−pad+i, ow·s−pad+j] over all output pixels, zero
// where that falls in the padding.
func (p *convPlan) im2col(x, col []float32) { p.im2colRows(x, col, 0, p.c*p.d.KernelH*p.d.KernelW) }

// im2colRows writes rows [r0, r1) of im2col's output into col[0:(r1−r0)·OH·OW].
func (p *convPlan) im2colRows(x, col []float32, r0, r1 int) {
	d := &p.d
	for r := r0; r < r1; r++ {
		c, i, j := r/(d.KernelH*d.KernelW), r/d.KernelW%d.KernelH, r%d.KernelW
		plane := x[c*p.h*p.w : (c+1)*p.h*p.w]
		row := col[(r-r0)*p.pix:][:p.pix]
		lo, hi := validRange(p.w, p.ow, d.StrideW, d.PadW, j)
		iw0 := lo*d.StrideW - d.PadW + j
		for oh := 0; oh < p.oh; oh++ {
			dst := row[oh*p.ow : (oh+1)*p.ow]
			ih := oh*d.StrideH - d.PadH + i
			if ih < 0 || ih >= p.h {
				clear(dst)
				continue
			}
			clear(dst[:lo])
			clear(dst[hi:])
			if d.StrideW == 1 {
				copy(dst[lo:hi], plane[ih*p.w+iw0:])
				continue
			}
			vec.Strided(dst[lo:hi], plane[ih*p.w+iw0:], d.StrideW)
		}
	}
}

// col2im is the adjoint of im2col: it writes dx = Σ of every column entry
// into the input position it was read from.
func (p *convPlan) col2im(col, dx []float32) {
	clear(dx)
	p.col2imRows(col, dx, 0, p.c*p.d.KernelH*p.d.KernelW)
}

// col2imRows adds rows [r0, r1) of a column gradient, held in
// col[0:(r1−r0)·OH·OW], into dx, row after row.
func (p *convPlan) col2imRows(col, dx []float32, r0, r1 int) {
	d := &p.d
	for r := r0; r < r1; r++ {
		c, i, j := r/(d.KernelH*d.KernelW), r/d.KernelW%d.KernelH, r%d.KernelW
		plane := dx[c*p.h*p.w : (c+1)*p.h*p.w]
		row := col[(r-r0)*p.pix:][:p.pix]
		lo, hi := validRange(p.w, p.ow, d.StrideW, d.PadW, j)
		for oh := 0; oh < p.oh; oh++ {
			ih := oh*d.StrideH - d.PadH + i
			if ih < 0 || ih >= p.h {
				continue
			}
			dst := plane[ih*p.w : (ih+1)*p.w]
			src := row[oh*p.ow : (oh+1)*p.ow]
			iw := lo*d.StrideW - d.PadW + j
			if d.StrideW == 1 {
				vec.Add(dst[iw:iw+hi-lo], src[lo:hi])
				continue
			}
			for ow := lo; ow < hi; ow++ {
				dst[iw] += src[ow]
				iw += d.StrideW
			}
		}
	}
}

// validRange is the range [lo, hi) of output columns whose input column
// ow·stride − pad + j lies inside [0, w).
func validRange(w, ow, stride, pad, j int) (lo, hi int) {
	// ow·stride ≥ pad − j  ⇔  ow ≥ ceil((pad − j)/stride)
	if pad-j > 0 {
		lo = (pad - j + stride - 1) / stride
	}
	// ow·stride − pad + j ≤ w − 1  ⇔  ow ≤ (w − 1 + pad − j)/stride
	hi = ow
	if last := w - 1 + pad - j; last < 0 {
		hi = 0
	} else {
		hi = min(hi, last/stride+1)
	}
	return lo, max(lo, hi)
}
