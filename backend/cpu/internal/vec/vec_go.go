package vec

import "math"

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
