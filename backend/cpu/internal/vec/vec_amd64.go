//go:build amd64 && !purego

package vec

import "golang.org/x/sys/cpu"

var avx2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Accelerated reports whether the assembly versions are in use.
func Accelerated() bool { return avx2 }

// split returns the length handled by the assembly (a multiple of 8) when
// it is usable.
func split(n int) int {
	if !avx2 {
		return 0
	}
	return n &^ 7
}

// MaxInto sets dst[i] = max(dst[i], src[i]) (src wins only if greater).
func MaxInto(dst, src []float32) {
	src = src[:len(dst)]
	if m := split(len(dst)); m > 0 {
		maxInto8(&dst[0], &src[0], m)
		dst, src = dst[m:], src[m:]
	}
	maxIntoGo(dst, src)
}

// SquareAcc adds x[i]² to dst[i].
func SquareAcc(dst, x []float32) {
	x = x[:len(dst)]
	if m := split(len(dst)); m > 0 {
		squareAcc8(&dst[0], &x[0], m)
		dst, x = dst[m:], x[m:]
	}
	squareAccGo(dst, x)
}

// Add adds x[i] to dst[i].
func Add(dst, x []float32) {
	x = x[:len(dst)]
	if m := split(len(dst)); m > 0 {
		add8(&dst[0], &x[0], m)
		dst, x = dst[m:], x[m:]
	}
	addGo(dst, x)
}

// LRNScale sets y[i] = x[i]·(k + an·sum[i])^−0.75.
func LRNScale(y, x, sum []float32, k, an float32) {
	x, sum = x[:len(y)], sum[:len(y)]
	if m := split(len(y)); m > 0 {
		lrnScale8(&y[0], &x[0], &sum[0], m, k, an)
		y, x, sum = y[m:], x[m:], sum[m:]
	}
	lrnScaleGo(y, x, sum, k, an)
}

// LRNBwdPrep sets, with d = k + an·sum[i], pw[i] = d^−0.75 and
// t[i] = dy[i]·y[i]/d.
func LRNBwdPrep(pw, t, sum, y, dy []float32, k, an float32) {
	t, sum, y, dy = t[:len(pw)], sum[:len(pw)], y[:len(pw)], dy[:len(pw)]
	if m := split(len(pw)); m > 0 {
		lrnBwdPrep8(&pw[0], &t[0], &sum[0], &y[0], &dy[0], m, k, an)
		pw, t, sum, y, dy = pw[m:], t[m:], sum[m:], y[m:], dy[m:]
	}
	lrnBwdPrepGo(pw, t, sum, y, dy, k, an)
}

// LRNBwdOut sets dx[i] = dy[i]·pw[i] − coef·x[i]·s[i].
func LRNBwdOut(dx, dy, pw, x, s []float32, coef float32) {
	dy, pw, x, s = dy[:len(dx)], pw[:len(dx)], x[:len(dx)], s[:len(dx)]
	if m := split(len(dx)); m > 0 {
		lrnBwdOut8(&dx[0], &dy[0], &pw[0], &x[0], &s[0], m, coef)
		dx, dy, pw, x, s = dx[m:], dy[m:], pw[m:], x[m:], s[m:]
	}
	lrnBwdOutGo(dx, dy, pw, x, s, coef)
}

// ReLU sets y[i] = max(x[i], 0).
func ReLU(y, x []float32) {
	x = x[:len(y)]
	if m := split(len(y)); m > 0 {
		relu8(&y[0], &x[0], m)
		y, x = y[m:], x[m:]
	}
	reluGo(y, x)
}

// ReLUMask sets dx[i] = dy[i] where y[i] > 0, else 0.
func ReLUMask(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	if m := split(len(dx)); m > 0 {
		reluMask8(&dx[0], &dy[0], &y[0], m)
		dx, dy, y = dx[m:], dy[m:], y[m:]
	}
	reluMaskGo(dx, dy, y)
}

// SGDTorch is PyTorch's momentum SGD step in one pass over the three
// slices: v = μ·v + (g + wd·w), then w −= lr·v.
func SGDTorch(w, g, v []float32, lr, mu, wd float32) {
	g, v = g[:len(w)], v[:len(w)]
	if m := split(len(w)); m > 0 {
		sgdTorch8(&w[0], &g[0], &v[0], m, lr, mu, wd)
		w, g, v = w[m:], g[m:], v[m:]
	}
	sgdTorchGo(w, g, v, lr, mu, wd)
}

// SGDPaper is the AlexNet paper's momentum SGD step in one pass:
// v = μ·v − wd·lr·w − lr·g, then w += v.
func SGDPaper(w, g, v []float32, lr, mu, wd float32) {
	g, v = g[:len(w)], v[:len(w)]
	if m := split(len(w)); m > 0 {
		sgdPaper8(&w[0], &g[0], &v[0], m, lr, mu, wd*lr)
		w, g, v = w[m:], g[m:], v[m:]
	}
	sgdPaperGo(w, g, v, lr, mu, wd)
}

// The assembly, in vec_amd64.s; n is a positive multiple of 8.

//go:noescape
func sgdTorch8(w, grad, v *float32, n int, lr, mu, wd float32)

//go:noescape
func sgdPaper8(w, grad, v *float32, n int, lr, mu, wdlr float32)

//go:noescape
func maxInto8(dst, src *float32, n int)

//go:noescape
func squareAcc8(dst, x *float32, n int)

//go:noescape
func add8(dst, x *float32, n int)

//go:noescape
func lrnScale8(y, x, sum *float32, n int, k, an float32)

//go:noescape
func lrnBwdPrep8(pw, t, sum, y, dy *float32, n int, k, an float32)

//go:noescape
func lrnBwdOut8(dx, dy, pw, x, s *float32, n int, coef float32)

//go:noescape
func relu8(y, x *float32, n int)

//go:noescape
func reluMask8(dx, dy, y *float32, n int)

// avx512 reports AVX-512F (with the OS saving ZMM state, which x/sys/cpu
// checks) and BMI2, for the pooling rows.
var avx512 = cpu.X86.HasAVX512F && cpu.X86.HasBMI2

// MaxPool3s2Row sets y[o] to the maximum of x[r·w+2o+j] for r, j < 3: one
// output row of a 3×3, stride-2 max pooling, x holding the window's three
// input rows of w columns one after another. Ties and NaN resolve as a
// sequence of "if v > m { m = v }" over the rows, then over the columns.
// It requires 2·len(y) < w.
func MaxPool3s2Row(y, x []float32, w int) {
	checkPool3s2(len(y), len(x), w)
	if avx512 && len(y) > 0 {
		maxPool3s2Fwd512(&y[0], &x[0], len(y), w)
		return
	}
	maxPool3s2RowGo(y, x, w)
}

// MaxPool3s2RowBackward adds dy[o] to dx at the first position (row-major)
// of output o's window holding y[o] — nowhere if y[o] is NaN — with x and
// dx laid out as in MaxPool3s2Row.
func MaxPool3s2RowBackward(dx, x, y, dy []float32, w int) {
	checkPool3s2(len(y), len(x), w)
	dy, dx = dy[:len(y)], dx[:3*w]
	if avx512 && len(y) > 0 {
		maxPool3s2Bwd512(&dx[0], &x[0], &y[0], &dy[0], len(y), w)
		return
	}
	maxPool3s2RowBackwardGo(dx, x, y, dy, w)
}

//go:noescape
func maxPool3s2Fwd512(y, x *float32, n, w int)

//go:noescape
func maxPool3s2Bwd512(dx, x, y, dy *float32, n, w int)

// WindowSum sets sum[j] to Σ_{r<cnt} src[r·stride+j]², or the plain sum
// when square is false: a channel window of LRN, its rows stride apart.
func WindowSum(sum, src []float32, stride, cnt int, square bool) {
	checkWindow(len(sum), len(src), stride, cnt)
	if avx512 && cnt > 0 && len(sum) > 0 {
		windowSum512(&sum[0], &src[0], stride, cnt, len(sum), square)
		return
	}
	windowSumRows(sum, src, stride, cnt, square)
}

//go:noescape
func windowSum512(sum, src *float32, stride, cnt, n int, square bool)

// Strided sets dst[k] = src[k·stride] for k < len(dst): one row of a
// strided im2col. It requires stride ≥ 1 and len(src) > (len(dst)−1)·stride.
func Strided(dst, src []float32, stride int) {
	checkStrided(len(dst), len(src), stride)
	if avx512 && len(dst) > 0 && stride < 1<<26 {
		var idx [16]int32
		for i := range idx {
			idx[i] = int32(i * stride)
		}
		strided512(&dst[0], &src[0], &idx[0], len(dst), stride)
		return
	}
	stridedGo(dst, src, stride)
}

//go:noescape
func strided512(dst, src *float32, idx *int32, n, stride int)

//go:noescape
func dot4x8(a *float32, lda int, x *float32, n int, out *[4]float32)

// Dot4 sets out[r] to the dot product of row r of a (a[r·lda:r·lda+len(x)],
// r < 4) with x: a fully connected layer's output for one image, four
// weight rows at a time, each row streamed once. Each sum is taken in the
// same order whatever calls it.
func Dot4(out *[4]float32, a []float32, lda int, x []float32) {
	k := len(x)
	if k == 0 {
		*out = [4]float32{}
		return
	}
	_ = a[3*lda+k-1]
	m := split(k)
	if m > 0 {
		dot4x8(&a[0], lda, &x[0], m, out)
	} else {
		*out = [4]float32{}
	}
	dot4Tail(out, a, lda, x, m)
}
