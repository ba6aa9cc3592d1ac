//go:build cudnn

package cudnn_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/cudnn"
	"github.com/dnngo/dnngo/internal/synth"
	"github.com/stretchr/testify/require"
)

// seedNet is the Seed AlexNet (227×227 input, 96-256-384-384-256
// convolutions with fused bias+ReLU, LRN n=5 α=5e-4 β=0.75 k=2, 3/2 max
// pooling, FC 4096-4096-1000, dropout 0.5 after fc6 and fc7 when training,
// mean softmax cross-entropy, SGD momentum 0.9 weight decay 5e-4) composed
// from the backend's plans, for the benchmarks below, until the alexnet
// package provides it. It uses only the backend interface.
type seedNet struct {
	b       backend.Backend
	n       int
	train   bool
	layers  []*netLayer
	x       backend.Tensor
	labels  []int32
	loss    backend.Tensor
	dlogits backend.Tensor
	lossP   backend.LossPlan
	hp      backend.SGDParams
	seed    uint64
}

type netLayer struct {
	name               string
	wp                 backend.WeightPlan
	relu               backend.ReLUPlan // the backward of a fused ReLU
	lrn                backend.LRNPlan
	pool               backend.PoolPlan
	drop               backend.DropoutPlan
	in, out, gin, gout backend.Tensor
	w, bias, dw, db    backend.Tensor
	vw, vb             backend.Tensor
	sgdW, sgdB         backend.SGDPlan
}

func newSeedNet(t testing.TB, b backend.Backend, n int, train bool) *seedNet {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 7))
	s := &seedNet{b: b, n: n, train: train, hp: backend.SGDParams{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4}}
	mk := func(shape backend.Shape, scale float64) backend.Tensor {
		x, err := b.NewTensor(shape...)
		require.NoError(t, err, "tensor %v", shape)
		if scale != 0 {
			v := make([]float32, shape.Numel())
			for i := range v {
				v[i] = float32(r.NormFloat64() * scale)
			}
			require.NoError(t, b.Upload(x, v))
		}
		return x
	}
	s.x = mk(backendtest.AlexNetLayers(n)[0].Input, 1)
	cur := s.x
	var prev *netLayer
	add := func(l *netLayer, outShape backend.Shape) {
		l.in, l.out = cur, mk(outShape, 0)
		if train {
			l.gout = mk(outShape, 0)
			if prev != nil {
				l.gin = prev.gout
			}
		}
		s.layers = append(s.layers, l)
		cur, prev = l.out, l
	}
	for _, spec := range backendtest.AlexNetLayers(n) {
		var err error
		switch {
		case spec.ReLU != nil:
			continue // conv1's ReLU is fused into conv1 in this network
		case spec.Weight() != nil:
			l := &netLayer{name: spec.Name}
			d := spec.Weight()
			l.wp, err = backend.PlanWeight(b, d)
			ws, os := d.WeightShape(), d.OutputShape()
			relu := spec.Conv != nil && spec.Conv.ReLU || spec.Lin != nil && spec.Lin.ReLU
			require.NoError(t, err, spec.Name)
			l.w, l.bias = mk(ws, 0.01), mk(backend.Shape{os[1]}, 0.1)
			if train {
				l.dw, l.db, l.vw, l.vb = mk(ws, 0), mk(backend.Shape{os[1]}, 0), mk(ws, 0), mk(backend.Shape{os[1]}, 0)
				if l.sgdW, err = b.SGD(ws); err == nil {
					l.sgdB, err = b.SGD(backend.Shape{os[1]})
				}
				require.NoError(t, err)
				if relu {
					l.relu, err = b.ReLU(os)
					require.NoError(t, err)
				}
			}
			add(l, os)
			if train && (spec.Name == "fc6" || spec.Name == "fc7") {
				d := &netLayer{name: "drop" + strings.TrimPrefix(spec.Name, "fc")}
				d.drop, err = b.Dropout(backend.DropoutDesc{Shape: os, P: 0.5})
				require.NoError(t, err)
				add(d, os)
			}
		case spec.LRN != nil:
			l := &netLayer{name: spec.Name}
			l.lrn, err = b.LRN(*spec.LRN)
			require.NoError(t, err)
			add(l, spec.LRN.Input)
		case spec.Pool != nil:
			l := &netLayer{name: spec.Name}
			l.pool, err = b.MaxPool(*spec.Pool)
			require.NoError(t, err)
			add(l, spec.Pool.OutputShape())
		}
	}
	logits := cur.Shape()
	var err error
	s.lossP, err = b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: logits})
	require.NoError(t, err)
	s.loss = mk(backend.Shape{1}, 0)
	if train {
		s.dlogits = prev.gout
	}
	s.labels = synth.Labels(r, n, logits[1])
	return s
}

// forward runs the network; in training it also computes the loss and
// dlogits (into the last layer's output gradient).
func (s *seedNet) forward() error {
	for _, l := range s.layers {
		var err error
		switch {
		case l.wp != nil:
			err = l.wp.Forward(l.in, l.w, l.bias, l.out)
		case l.lrn != nil:
			err = l.lrn.Forward(l.in, l.out)
		case l.pool != nil:
			err = l.pool.Forward(l.in, l.out)
		case l.drop != nil:
			s.seed++
			err = l.drop.Forward(l.in, l.out, s.seed)
		}
		if err != nil {
			return fmt.Errorf("%s forward: %w", l.name, err)
		}
	}
	if s.train {
		return s.lossP.Forward(s.layers[len(s.layers)-1].out, s.labels, s.loss, s.dlogits)
	}
	return nil
}

// step is one training step: forward, loss, backward, SGD on every
// parameter.
func (s *seedNet) step() error {
	if err := s.forward(); err != nil {
		return err
	}
	for i := len(s.layers) - 1; i >= 0; i-- {
		l := s.layers[i]
		var err error
		switch {
		case l.wp != nil:
			if l.relu != nil {
				if err = l.relu.Backward(l.out, l.gout, l.gout); err != nil {
					break
				}
			}
			if err = l.wp.BackwardFilter(l.in, l.gout, l.dw, l.db); err == nil && l.gin != nil {
				err = l.wp.BackwardData(l.gout, l.w, l.gin)
			}
		case l.lrn != nil:
			err = l.lrn.Backward(l.in, l.out, l.gout, l.gin)
		case l.pool != nil:
			err = l.pool.Backward(l.in, l.out, l.gout, l.gin)
		case l.drop != nil:
			err = l.drop.Backward(l.gout, l.gin)
		}
		if err != nil {
			return fmt.Errorf("%s backward: %w", l.name, err)
		}
	}
	for _, l := range s.layers {
		if l.wp == nil {
			continue
		}
		if err := l.sgdW.Step(l.w, l.dw, l.vw, s.hp); err != nil {
			return err
		}
		if err := l.sgdB.Step(l.bias, l.db, l.vb, s.hp); err != nil {
			return err
		}
	}
	return nil
}

// benchPrecisions lists the precisions to measure: $DNNGO_BENCH_PRECISIONS
// (comma-separated) or all four.
func benchPrecisions(b *testing.B) []backend.Precision {
	list := "fp32,tf32,bf16,fp16"
	if v := os.Getenv("DNNGO_BENCH_PRECISIONS"); v != "" {
		list = v
	}
	var out []backend.Precision
	for _, s := range strings.Split(list, ",") {
		p, err := backend.ParsePrecision(strings.TrimSpace(s))
		require.NoError(b, err)
		out = append(out, p)
	}
	return out
}

// BenchmarkSeed measures the Seed network end to end: inference forward at
// batch 64 and 256 and a full training step (forward, loss, backward, SGD)
// at batch 128, in each precision, reporting images/s. The first
// iterations (algorithm search) run before the timer starts.
//
//	go test -tags cudnn -run '^$' -bench Seed -benchtime 20x ./backend/cudnn
func BenchmarkSeed(b *testing.B) {
	for _, prec := range benchPrecisions(b) {
		for _, c := range []struct {
			pass  string
			batch int
		}{{"forward", 64}, {"forward", 256}, {"train", 128}} {
			b.Run(fmt.Sprintf("precision=%s/pass=%s/batch=%d", prec, c.pass, c.batch), func(b *testing.B) {
				be := openOrSkip(b, backend.Options{Precision: prec})
				defer be.Close()
				if be.TestDouble() {
					b.Skip("test double — not a GPU: no throughput reported")
				}
				net := newSeedNet(b, be, c.batch, c.pass == "train")
				run := net.forward
				if c.pass == "train" {
					run = net.step
				}
				for range 3 { // algorithm search, pools, staging
					require.NoError(b, run())
				}
				require.NoError(b, be.Sync())
				b.ResetTimer()
				for b.Loop() {
					if err := run(); err != nil {
						b.Fatal(err)
					}
				}
				require.NoError(b, be.Sync())
				b.ReportMetric(float64(c.batch*b.N)/b.Elapsed().Seconds(), "images/s")
				if c.pass == "train" {
					loss := make([]float32, 1)
					require.NoError(b, be.Download(loss, net.loss))
					b.ReportMetric(float64(loss[0]), "loss")
				}
			})
		}
	}
}

// BenchmarkLayers measures every AlexNet layer's forward and backward at
// batch 128 in strict FP32.
func BenchmarkLayers(b *testing.B) {
	openOrSkip(b, backend.Options{}).Close()
	backendtest.BenchLayers(b, func() (backend.Backend, error) { return cudnn.Open(backend.Options{}) }, 128)
}

// TestSeedStep checks that the benchmark's network runs a training step
// and that its loss is finite and falls over a few steps on one batch.
func TestSeedStep(t *testing.T) {
	b := openOrSkip(t, backend.Options{})
	defer b.Close()
	batch, steps := 8, 5
	if b.TestDouble() { // plain loops on the CPU: the smallest run that still shows learning
		batch, steps = 2, 3
	}
	net := newSeedNet(t, b, batch, true)
	var first, last float32
	for i := range steps {
		require.NoError(t, net.step())
		v := make([]float32, 1)
		require.NoError(t, b.Download(v, net.loss))
		if i == 0 {
			first = v[0]
		}
		last = v[0]
	}
	t.Logf("loss %g → %g", first, last)
	require.Less(t, last, first)
}
