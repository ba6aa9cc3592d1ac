package cpu

import (
	"math"

	"github.com/dnngo/dnngo/backend"
)

// SoftmaxCrossEntropy plans softmax with mean cross-entropy. Every row is
// shifted by its maximum and summed in float64, so large logits neither
// overflow nor lose the small probabilities.
func (b *Backend) SoftmaxCrossEntropy(d backend.SoftmaxDesc) (backend.LossPlan, error) {
	if err := b.checkOpen("softmax_cross_entropy"); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &lossPlan{plan: plan{b: b}, shape: d.Logits.Clone(), n: d.Logits[0], k: d.Logits[1]}, nil
}

type lossPlan struct {
	plan
	shape backend.Shape
	n, k  int
}

// scalarShape is the loss tensor's shape.
var scalarShape = backend.Shape{1}

func (p *lossPlan) Forward(logits backend.Tensor, labels []int32, loss, dlogits backend.Tensor) error {
	const op = "softmax_cross_entropy.forward"
	if err := p.check(op); err != nil {
		return err
	}
	lt, err := p.b.get(op, "logits", logits, p.shape)
	if err != nil {
		return err
	}
	if err := (backend.SoftmaxDesc{Logits: p.shape}).CheckLabels(op, labels); err != nil {
		return err
	}
	losst, err := p.b.get(op, "loss", loss, scalarShape)
	if err != nil {
		return err
	}
	var grad []float32
	var gt *tensor
	if dlogits != nil {
		if gt, err = p.b.get(op, "dlogits", dlogits, p.shape); err != nil {
			return err
		}
		grad = gt.data
	}
	if err := backend.CheckAliases(op, backend.LossForward, lt, losst, arg(gt)); err != nil {
		return err
	}
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
	losst.data[0] = float32(total / float64(p.n))
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

func (p *lossPlan) Softmax(logits, probs backend.Tensor) error {
	const op = "softmax_cross_entropy.softmax"
	if err := p.check(op); err != nil {
		return err
	}
	lt, err := p.b.get(op, "logits", logits, p.shape)
	if err != nil {
		return err
	}
	pt, err := p.b.get(op, "probs", probs, p.shape)
	if err != nil {
		return err
	}
	if err := backend.CheckAliases(op, backend.LossSoftmax, lt, pt); err != nil {
		return err
	}
	for r := 0; r < p.n; r++ {
		row, out := lt.data[r*p.k:(r+1)*p.k], pt.data[r*p.k:(r+1)*p.k]
		m, sum := rowMaxSum(row)
		for i, v := range row {
			out[i] = float32(math.Exp(float64(v)-m) / sum)
		}
	}
	return nil
}
