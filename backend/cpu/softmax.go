package cpu

import (
	"math"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// SoftmaxCrossEntropy plans softmax with mean cross-entropy. Every row is
// shifted by its maximum and summed in float64, so large logits neither
// overflow nor lose the small probabilities.
func (b *engine) SoftmaxCrossEntropy(d backend.SoftmaxDesc) (driver.LossPlan[*tensor], error) {
	return &lossPlan{plan: plan{b: b}, n: d.Logits[0], k: d.Logits[1]}, nil
}

type lossPlan struct {
	plan
	n, k int
}

func (p *lossPlan) Forward(lt *tensor, labels []int32, losst, dlogits *tensor) error {
	grad := dlogits.outOrNil()
	var total float64
	for r := 0; r < p.n; r++ {
		row := lt.data[r*p.k : (r+1)*p.k]
		m, sum := rowMaxSum(row)
		total += math.Log(sum) + m - float64(row[labels[r]])
		if grad == nil {
			continue
		}
		g := grad[r*p.k : (r+1)*p.k]
		inv := 1 / (sum * float64(p.n))
		for i, v := range row {
			g[i] = float32(math.Exp(float64(v)-m) * inv)
		}
		g[labels[r]] -= float32(1 / float64(p.n))
	}
	losst.out()[0] = float32(total / float64(p.n))
	return nil
}

// rowMaxSum returns the row's maximum m and Σ exp(v − m).
func rowMaxSum(row []float32) (m, sum float64) {
	m = math.Inf(-1)
	for _, v := range row {
		m = max(m, float64(v))
	}
	for _, v := range row {
		sum += math.Exp(float64(v) - m)
	}
	return m, sum
}

func (p *lossPlan) Softmax(lt, pt *tensor) error {
	probs := pt.out()
	for r := 0; r < p.n; r++ {
		row, out := lt.data[r*p.k:(r+1)*p.k], probs[r*p.k:(r+1)*p.k]
		m, sum := rowMaxSum(row)
		for i, v := range row {
			out[i] = float32(math.Exp(float64(v)-m) / sum)
		}
	}
	return nil
}
