package alexnet

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dnngo/dnngo/backend"
)

// Logits downloads the logits of the latest Forward, [N, Classes] row-major.
func (n *Network) Logits() ([]float32, error) {
	return n.Activation("fc8")
}

// activationNames lists what Activation can return, in network order.
var activationNames = []string{"conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2", "conv3", "conv4", "conv5", "pool5",
	"fc6", "drop6", "fc7", "drop7", "fc8"}

// Activation downloads an activation of the latest Forward, dense
// row-major: "conv1" … "conv5", "fc6", "fc7" are the outputs after ReLU,
// "fc8" the logits, "lrn1", "lrn2" the LRN outputs, "pool1", "pool2",
// "pool5" the max-pool outputs, "drop6", "drop7" the dropout outputs (Train
// mode only).
func (n *Network) Activation(name string) ([]float32, error) {
	if n.closed {
		return nil, fmt.Errorf("alexnet: activation: the network is closed: %w", ErrClosed)
	}
	if !n.forwarded {
		return nil, fmt.Errorf("alexnet: activation %s: no activations: call Forward first: %w", name, ErrState)
	}
	var t backend.Tensor
	for i, s := range n.cur.stages {
		k := fmt.Sprint(i + 1)
		switch name {
		case s.l.name:
			t = s.act
		case "lrn" + k:
			t = s.lrnOut
		case "pool" + k:
			t = s.poolOut
		case "drop" + k:
			t = s.dropOut
			if t != nil && n.mode != Train {
				return nil, fmt.Errorf("alexnet: activation %s: the latest Forward ran in %v mode, without dropout", name, n.mode)
			}
		}
		if t != nil {
			break
		}
	}
	if t == nil {
		return nil, fmt.Errorf("alexnet: activation: no activation %q in this network (names: %s)", name, strings.Join(activationNames, ", "))
	}
	return n.download("activation "+name, t)
}

// Predict runs the network on x in Eval mode and returns the class
// probabilities (the softmax of the logits), [N, Classes] row-major.
func (n *Network) Predict(x []float32) ([]float32, error) {
	if err := n.Forward(x, Eval); err != nil {
		return nil, err
	}
	bt := n.cur
	last := bt.stages[len(bt.stages)-1]
	if bt.probs == nil {
		p, err := n.b.NewTensor(last.act.Shape()...)
		if err != nil {
			return nil, fmt.Errorf("alexnet: predict: %w", err)
		}
		bt.probs = p
	}
	if err := bt.loss.Softmax(last.act, bt.probs); err != nil {
		return nil, fmt.Errorf("alexnet: predict: %w", err)
	}
	return n.download("predict", bt.probs)
}

// EvaluateBatch runs the network on one labelled batch in Eval mode and
// returns the mean cross-entropy loss and how many images the top-1 class
// got right (an image with a non-finite logit counts as wrong). It
// computes no gradients: a following Backward is an error. To score a
// whole dataset, use train.Evaluate.
func (n *Network) EvaluateBatch(x []float32, labels []int32) (loss float32, correct int, err error) {
	if err := n.Forward(x, Eval); err != nil {
		return 0, 0, err
	}
	bt := n.cur
	if len(labels) != bt.n {
		return 0, 0, fmt.Errorf("alexnet: evaluate: %d labels for a batch of %d images", len(labels), bt.n)
	}
	last := bt.stages[len(bt.stages)-1]
	if err := bt.loss.Forward(last.act, labels, bt.lossT, nil); err != nil {
		return 0, 0, fmt.Errorf("alexnet: evaluate: %w", err)
	}
	if loss, err = n.readLoss(bt); err != nil {
		return 0, 0, err
	}
	k := n.cfg.Classes
	if bt.logits == nil {
		bt.logits = make([]float32, bt.n*k)
	}
	if err := n.b.Download(bt.logits, last.act); err != nil {
		return 0, 0, fmt.Errorf("alexnet: evaluate: %w", err)
	}
	for i, l := range labels {
		row := bt.logits[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		// A NaN logit compares false with everything, which would make
		// class 0 the answer: a row with one is wrong.
		if int32(best) == l && !slices.ContainsFunc(row, notFinite) {
			correct++
		}
	}
	return loss, correct, nil
}

// Prediction is one class with its probability.
type Prediction struct {
	Class int
	Prob  float32
}

// TopK returns the k most probable classes of one row of probabilities (or
// logits), most probable first; ties go to the lower class index. k is
// clipped to [0, len(row)].
func TopK(row []float32, k int) []Prediction {
	k = min(max(k, 0), len(row))
	out := make([]Prediction, len(row))
	for i, p := range row {
		out[i] = Prediction{i, p}
	}
	slices.SortStableFunc(out, func(a, b Prediction) int { return cmp.Compare(b.Prob, a.Prob) })
	return out[:k:k]
}

func notFinite(v float32) bool { return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) }
