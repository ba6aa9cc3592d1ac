//go:build !amd64 || purego

package vec

// MaxInto sets dst[i] = max(dst[i], src[i]).
func MaxInto(dst, src []float32) { maxIntoGo(dst, src) }

// SquareAcc adds x[i]² to dst[i].
func SquareAcc(dst, x []float32) { squareAccGo(dst, x) }

// Add adds x[i] to dst[i].
func Add(dst, x []float32) { addGo(dst, x) }

// LRNScale sets y[i] = x[i]·(k + an·sum[i])^−0.75.
func LRNScale(y, x, sum []float32, k, an float32) { lrnScaleGo(y, x, sum, k, an) }

// LRNBwdPrep sets, with d = k + an·sum[i], pw[i] = d^−0.75 and
// t[i] = dy[i]·y[i]/d.
func LRNBwdPrep(pw, t, sum, y, dy []float32, k, an float32) { lrnBwdPrepGo(pw, t, sum, y, dy, k, an) }

// LRNBwdOut sets dx[i] = dy[i]·pw[i] − coef·x[i]·s[i].
func LRNBwdOut(dx, dy, pw, x, s []float32, coef float32) { lrnBwdOutGo(dx, dy, pw, x, s, coef) }

// ReLU sets y[i] = max(x[i], 0).
func ReLU(y, x []float32) { reluGo(y, x) }

// ReLUMask sets dx[i] = dy[i] where y[i] > 0, else 0.
func ReLUMask(dx, dy, y []float32) { reluMaskGo(dx, dy, y) }

// SGDTorch is PyTorch's momentum SGD step in one pass over the three
// slices: v = μ·v + (g + wd·w), then w −= lr·v.
func SGDTorch(w, g, v []float32, lr, mu, wd float32) { sgdTorchGo(w, g, v, lr, mu, wd) }

// SGDPaper is the AlexNet paper's momentum SGD step in one pass:
// v = μ·v − wd·lr·w − lr·g, then w += v.
func SGDPaper(w, g, v []float32, lr, mu, wd float32) { sgdPaperGo(w, g, v, lr, mu, wd) }

// Accelerated reports whether the assembly versions are in use.
func Accelerated() bool { return false }

// MaxPool3s2Row sets y[o] to the maximum of x[r·w+2o+j] for r, j < 3: one
// output row of a 3×3, stride-2 max pooling, x holding the window's three
// input rows of w columns one after another. Ties and NaN resolve as a
// sequence of "if v > m { m = v }" over the rows, then over the columns.
// It requires 2·len(y) < w.
func MaxPool3s2Row(y, x []float32, w int) {
	checkPool3s2(len(y), len(x), w)
	maxPool3s2RowGo(y, x, w)
}

// MaxPool3s2RowBackward adds dy[o] to dx at the first position (row-major)
// of output o's window holding y[o] — nowhere if y[o] is NaN — with x and
// dx laid out as in MaxPool3s2Row.
func MaxPool3s2RowBackward(dx, x, y, dy []float32, w int) {
	checkPool3s2(len(y), len(x), w)
	maxPool3s2RowBackwardGo(dx, x, y, dy, w)
}

// WindowSum sets sum[j] to Σ_{r<cnt} src[r·stride+j]², or the plain sum
// when square is false: a channel window of LRN, its rows stride apart.
func WindowSum(sum, src []float32, stride, cnt int, square bool) {
	checkWindow(len(sum), len(src), stride, cnt)
	windowSumRows(sum, src, stride, cnt, square)
}

// avx512 is false: this build has no assembly.
const avx512 = false

// Strided sets dst[k] = src[k·stride] for k < len(dst): one row of a
// strided im2col. It requires stride ≥ 1 and len(src) > (len(dst)−1)·stride.
func Strided(dst, src []float32, stride int) {
	checkStrided(len(dst), len(src), stride)
	stridedGo(dst, src, stride)
}

// Dot4 sets out[r] to the dot product of row r of a (a[r·lda:r·lda+len(x)],
// r < 4) with x.
func Dot4(out *[4]float32, a []float32, lda int, x []float32) {
	*out = [4]float32{}
	if len(x) > 0 {
		_ = a[3*lda+len(x)-1]
	}
	dot4Tail(out, a, lda, x, 0)
}
