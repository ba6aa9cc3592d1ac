package backendtest

import (
	"math"

	"github.com/dnngo/dnngo/backend"
)

// The float64 reference implementations the random-shape checks compare
// against: direct loops over the formulas of the package doc, written for
// clarity, not speed, and sharing no code with any backend.

func refConvForward(d backend.ConvDesc, x, w, b []float64) []float64 {
	n, c, h, wd := d.Input[0], d.Input[1], d.Input[2], d.Input[3]
	ys := d.OutputShape()
	oh, ow := ys[2], ys[3]
	cg, kg := c/d.Groups, d.Out/d.Groups
	y := make([]float64, ys.Numel())
	for in := 0; in < n; in++ {
		for o := 0; o < d.Out; o++ {
			g := o / kg
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float64
					if b != nil {
						s = b[o]
					}
					for ci := 0; ci < cg; ci++ {
						for p := 0; p < d.KernelH; p++ {
							for q := 0; q < d.KernelW; q++ {
								hh, ww := i*d.StrideH-d.PadH+p, j*d.StrideW-d.PadW+q
								if hh < 0 || hh >= h || ww < 0 || ww >= wd {
									continue
								}
								s += w[((o*cg+ci)*d.KernelH+p)*d.KernelW+q] * x[((in*c+g*cg+ci)*h+hh)*wd+ww]
							}
						}
					}
					if d.ReLU {
						s = max(s, 0)
					}
					y[((in*d.Out+o)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return y
}

// refConvBackward returns dx, dw, db for upstream gradient dy (of the
// convolution's output before any ReLU).
func refConvBackward(d backend.ConvDesc, x, w, dy []float64) (dx, dw, db []float64) {
	n, c, h, wd := d.Input[0], d.Input[1], d.Input[2], d.Input[3]
	ys := d.OutputShape()
	oh, ow := ys[2], ys[3]
	cg, kg := c/d.Groups, d.Out/d.Groups
	dx, dw, db = make([]float64, len(x)), make([]float64, len(w)), make([]float64, d.Out)
	for in := 0; in < n; in++ {
		for o := 0; o < d.Out; o++ {
			g := o / kg
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					gy := dy[((in*d.Out+o)*oh+i)*ow+j]
					db[o] += gy
					for ci := 0; ci < cg; ci++ {
						for p := 0; p < d.KernelH; p++ {
							for q := 0; q < d.KernelW; q++ {
								hh, ww := i*d.StrideH-d.PadH+p, j*d.StrideW-d.PadW+q
								if hh < 0 || hh >= h || ww < 0 || ww >= wd {
									continue
								}
								xi := ((in*c+g*cg+ci)*h+hh)*wd + ww
								wi := ((o*cg+ci)*d.KernelH+p)*d.KernelW + q
								dx[xi] += w[wi] * gy
								dw[wi] += x[xi] * gy
							}
						}
					}
				}
			}
		}
	}
	return dx, dw, db
}

func refLinearForward(d backend.LinearDesc, x, w, b []float64) []float64 {
	n, k := d.Input[0], d.In()
	y := make([]float64, n*d.Out)
	for i := 0; i < n; i++ {
		for o := 0; o < d.Out; o++ {
			var s float64
			if b != nil {
				s = b[o]
			}
			for p := 0; p < k; p++ {
				s += x[i*k+p] * w[o*k+p]
			}
			if d.ReLU {
				s = max(s, 0)
			}
			y[i*d.Out+o] = s
		}
	}
	return y
}

func refLinearBackward(d backend.LinearDesc, x, w, dy []float64) (dx, dw, db []float64) {
	n, k := d.Input[0], d.In()
	dx, dw, db = make([]float64, len(x)), make([]float64, len(w)), make([]float64, d.Out)
	for i := 0; i < n; i++ {
		for o := 0; o < d.Out; o++ {
			g := dy[i*d.Out+o]
			db[o] += g
			for p := 0; p < k; p++ {
				dx[i*k+p] += g * w[o*k+p]
				dw[o*k+p] += g * x[i*k+p]
			}
		}
	}
	return dx, dw, db
}

// refPool returns y and, for the upstream gradient dy, dx (first maximum in
// row-major window order wins ties).
func refPool(d backend.PoolDesc, x, dy []float64) (y, dx []float64) {
	n, c, h, w := d.Input[0], d.Input[1], d.Input[2], d.Input[3]
	ys := d.OutputShape()
	oh, ow := ys[2], ys[3]
	y, dx = make([]float64, ys.Numel()), make([]float64, len(x))
	for pl := 0; pl < n*c; pl++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				best, at := math.Inf(-1), -1
				for p := 0; p < d.KernelH; p++ {
					for q := 0; q < d.KernelW; q++ {
						hh, ww := i*d.StrideH-d.PadH+p, j*d.StrideW-d.PadW+q
						if hh < 0 || hh >= h || ww < 0 || ww >= w {
							continue
						}
						if v := x[(pl*h+hh)*w+ww]; v > best {
							best, at = v, (pl*h+hh)*w+ww
						}
					}
				}
				oi := (pl*oh+i)*ow + j
				y[oi] = best
				if dy != nil {
					dx[at] += dy[oi]
				}
			}
		}
	}
	return y, dx
}

// refLRN returns y and, for dy, dx by the chain rule written out directly
// (every channel's window summed explicitly, no sliding sums).
func refLRN(d backend.LRNDesc, x, dy []float64) (y, dx []float64) {
	n, c, hw := d.Input[0], d.Input[1], d.Input[2]*d.Input[3]
	half := d.Size / 2
	an := d.Alpha / float64(d.Size)
	y, dx = make([]float64, len(x)), make([]float64, len(x))
	den := make([]float64, len(x))
	at := func(in, ch, p int) int { return (in*c+ch)*hw + p }
	for in := 0; in < n; in++ {
		for p := 0; p < hw; p++ {
			for ch := 0; ch < c; ch++ {
				var s float64
				for cc := max(0, ch-half); cc <= min(c-1, ch+half); cc++ {
					s += x[at(in, cc, p)] * x[at(in, cc, p)]
				}
				den[at(in, ch, p)] = d.K + an*s
				y[at(in, ch, p)] = x[at(in, ch, p)] * math.Pow(den[at(in, ch, p)], -d.Beta)
			}
			if dy == nil {
				continue
			}
			// y[ch] depends on x[j] for |j − ch| ≤ half.
			for ch := 0; ch < c; ch++ {
				i := at(in, ch, p)
				dx[i] += dy[i] * math.Pow(den[i], -d.Beta)
				for j := max(0, ch-half); j <= min(c-1, ch+half); j++ {
					dx[at(in, j, p)] -= dy[i] * x[i] * d.Beta * math.Pow(den[i], -d.Beta-1) * an * 2 * x[at(in, j, p)]
				}
			}
		}
	}
	return y, dx
}

// refSoftmaxXent returns the mean loss, dlogits and the probabilities.
func refSoftmaxXent(logits []float64, labels []int32, k int) (loss float64, dlogits, probs []float64) {
	n := len(labels)
	dlogits, probs = make([]float64, len(logits)), make([]float64, len(logits))
	for r := 0; r < n; r++ {
		row := logits[r*k : (r+1)*k]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		loss += (math.Log(s) + m - row[labels[r]]) / float64(n)
		for i, v := range row {
			probs[r*k+i] = math.Exp(v-m) / s
			dlogits[r*k+i] = probs[r*k+i] / float64(n)
		}
		dlogits[r*k+int(labels[r])] -= 1 / float64(n)
	}
	return loss, dlogits, probs
}

// refSGD applies one step to w and v in place.
func refSGD(p backend.SGDParams, w, g, v []float64) {
	lr, mu, wd := float64(p.LR), float64(p.Momentum), float64(p.WeightDecay)
	for i := range w {
		if p.Rule == backend.PaperSGD {
			v[i] = mu*v[i] - wd*lr*w[i] - lr*g[i]
			w[i] += v[i]
		} else {
			v[i] = mu*v[i] + g[i] + wd*w[i]
			w[i] -= lr * v[i]
		}
	}
}
