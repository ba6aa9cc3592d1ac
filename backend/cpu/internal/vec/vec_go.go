package vec

import (
	"fmt"
	"math"
)

// The portable definitions. On amd64 with AVX2 the exported functions run
// the assembly for the bulk of the slice and these for the tail.

func maxIntoGo(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		if v > dst[i] {
			dst[i] = v
		}
	}
}

func squareAccGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += v * v
	}
}

func addGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += v
	}
}

// pow075 returns d^−0.75 = 1/(√d·√√d).
func pow075(d float32) float32 {
	s := float32(math.Sqrt(float64(d)))
	return 1 / (s * float32(math.Sqrt(float64(s))))
}

func lrnScaleGo(y, x, sum []float32, k, an float32) {
	x, sum = x[:len(y)], sum[:len(y)]
	for i := range y {
		y[i] = x[i] * pow075(k+an*sum[i])
	}
}

func lrnBwdPrepGo(pw, t, sum, y, dy []float32, k, an float32) {
	t, sum, y, dy = t[:len(pw)], sum[:len(pw)], y[:len(pw)], dy[:len(pw)]
	for i := range pw {
		d := k + an*sum[i]
		pw[i] = pow075(d)
		t[i] = dy[i] * y[i] / d
	}
}

func lrnBwdOutGo(dx, dy, pw, x, s []float32, coef float32) {
	dy, pw, x, s = dy[:len(dx)], pw[:len(dx)], x[:len(dx)], s[:len(dx)]
	for i := range dx {
		dx[i] = dy[i]*pw[i] - coef*x[i]*s[i]
	}
}

func reluGo(y, x []float32) {
	x = x[:len(y)]
	for i, v := range x {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = 0
		}
	}
}

func reluMaskGo(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// checkPool3s2 panics unless x holds three rows of w columns and n outputs
// fit in them: a bug in the caller, which plans the shapes.
func checkPool3s2(n, lx, w int) {
	if lx < 3*w || 2*n >= w && n > 0 {
		panic("vec: 3x3 stride-2 pooling row with inconsistent sizes")
	}
}

func maxPool3s2RowGo(y, x []float32, w int) {
	r0, r1, r2 := x[:w], x[w:2*w], x[2*w:3*w]
	for o := range y {
		var c [3]float32
		for j := range c {
			m := r0[2*o+j]
			if v := r1[2*o+j]; v > m {
				m = v
			}
			if v := r2[2*o+j]; v > m {
				m = v
			}
			c[j] = m
		}
		m := c[0]
		if c[1] > m {
			m = c[1]
		}
		if c[2] > m {
			m = c[2]
		}
		y[o] = m
	}
}

func maxPool3s2RowBackwardGo(dx, x, y, dy []float32, w int) {
	dy = dy[:len(y)]
window:
	for o, m := range y {
		for r := 0; r < 3; r++ {
			for j := 2 * o; j < 2*o+3; j++ {
				if x[r*w+j] == m {
					dx[r*w+j] += dy[o]
					continue window
				}
			}
		}
	}
}

// checkWindow panics unless src holds cnt rows of n at the stride: a bug in
// the caller, which plans the shapes.
func checkWindow(n, lsrc, stride, cnt int) {
	if cnt > 0 && n > 0 && (stride < 0 || lsrc < (cnt-1)*stride+n) {
		panic("vec: window sum rows outside the source")
	}
}

// windowSumRows is WindowSum one row at a time, through SquareAcc and Add.
func windowSumRows(sum, src []float32, stride, cnt int, square bool) {
	clear(sum)
	for r := 0; r < cnt; r++ {
		row := src[r*stride : r*stride+len(sum)]
		if square {
			SquareAcc(sum, row)
		} else {
			Add(sum, row)
		}
	}
}

func sgdTorchGo(w, g, v []float32, lr, mu, wd float32) {
	g, v = g[:len(w)], v[:len(w)]
	for i := range w {
		v[i] = mu*v[i] + (g[i] + wd*w[i])
		w[i] -= lr * v[i]
	}
}

func sgdPaperGo(w, g, v []float32, lr, mu, wd float32) {
	g, v = g[:len(w)], v[:len(w)]
	for i := range w {
		v[i] = mu*v[i] - wd*lr*w[i] - lr*g[i]
		w[i] += v[i]
	}
}

func stridedGo(dst, src []float32, stride int) {
	for k := range dst {
		dst[k] = src[k*stride]
	}
}

// checkStrided panics unless a row of n elements stride apart fits in a
// source of length m: the assembly reads without bounds checks.
func checkStrided(n, m, stride int) {
	if stride < 1 || (n > 0 && m <= (n-1)*stride) {
		panic(fmt.Sprintf("vec: Strided of %d elements, stride %d, from %d", n, stride, m))
	}
}

// dot4Tail adds Σ_{j ≥ from} a[r·lda+j]·x[j] to out[r] for the 4 rows.
func dot4Tail(out *[4]float32, a []float32, lda int, x []float32, from int) {
	for r := range 4 {
		out[r] = dotAcc(out[r], a[r*lda+from:r*lda+len(x)], x[from:])
	}
}

// dotAcc returns s + Σ a[j]·x[j], added in order.
func dotAcc(s float32, a, x []float32) float32 {
	x = x[:len(a)]
	for j, v := range a {
		s += v * x[j]
	}
	return s
}

// Dot returns Σ a[j]·x[j] (len(x) ≥ len(a)), added in order, in Go: for the
// odd row beside Dot4's blocks.
func Dot(a, x []float32) float32 { return dotAcc(0, a, x) }
