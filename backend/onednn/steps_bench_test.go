//go:build onednn

package onednn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/onednn"
)

// BenchmarkShimSteps times the steps of a Seed training step (batch 16)
// that run in the shim rather than in oneDNN primitives: the SGD update of
// all 62.4 M parameters (reporting the memory traffic it moves: read
// param, grad, velocity, write param and velocity), the ReLU backward of
// every fused ReLU, dropout forward and backward of fc6 and fc7, and the
// loss; and, for scale, a Go copy of the same bytes as the SGD's largest
// tensor (one thread's memory bandwidth).
//
//	go test -tags onednn -run '^$' -bench ShimSteps ./backend/onednn
func BenchmarkShimSteps(b *testing.B) {
	be, err := onednn.Open(backend.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	const n = 16
	r := rand.New(rand.NewPCG(5, 6))
	mk := func(s backend.Shape) backend.Tensor {
		t, err := be.NewTensor(s...)
		if err != nil {
			b.Fatal(err)
		}
		x := make([]float32, s.Numel())
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		if err := be.Upload(t, x); err != nil {
			b.Fatal(err)
		}
		return t
	}
	type step struct {
		name  string
		run   func() error
		bytes int64 // memory moved per run, for GB/s (0: not reported)
	}
	var steps []step

	// SGD over every parameter of Seed.
	var params, acts []backend.Shape
	for _, l := range backendtest.AlexNetLayers(n) {
		switch {
		case l.Conv != nil:
			params = append(params, l.Conv.WeightShape(), backend.Shape{l.Conv.Out})
			acts = append(acts, l.Conv.OutputShape())
		case l.Lin != nil:
			params = append(params, l.Lin.WeightShape(), backend.Shape{l.Lin.Out})
			if l.Lin.ReLU {
				acts = append(acts, l.Lin.OutputShape())
			}
		}
	}
	var sgdRuns []func() error
	var numel int64
	for _, s := range params {
		p, err := be.SGD(s)
		if err != nil {
			b.Fatal(err)
		}
		w, g, v := mk(s), mk(s), mk(s)
		sgdRuns = append(sgdRuns, func() error {
			return p.Step(w, g, v, backend.SGDParams{LR: 1e-6, Momentum: 0.9, WeightDecay: 5e-4})
		})
		numel += int64(s.Numel())
	}
	steps = append(steps, step{"sgd_all_params", func() error {
		for _, f := range sgdRuns {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}, 5 * 4 * numel})

	// ReLU backward of every fused ReLU (in place on dy, as the network runs it).
	var reluRuns []func() error
	var reluBytes int64
	for _, s := range acts {
		p, err := be.ReLU(s)
		if err != nil {
			b.Fatal(err)
		}
		y, dy := mk(s), mk(s)
		reluRuns = append(reluRuns, func() error { return p.Backward(y, dy, dy) })
		reluBytes += 3 * 4 * int64(s.Numel())
	}
	steps = append(steps, step{"relu_backward_all", func() error {
		for _, f := range reluRuns {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}, reluBytes})

	// Dropout of fc6 and fc7.
	fs := backend.Shape{n, 4096}
	var dropRuns []func() error
	for i := 0; i < 2; i++ {
		p, err := be.Dropout(backend.DropoutDesc{Shape: fs, P: 0.5})
		if err != nil {
			b.Fatal(err)
		}
		x, y := mk(fs), mk(fs)
		seed := uint64(i)
		dropRuns = append(dropRuns, func() error {
			if err := p.Forward(x, y, seed); err != nil {
				return err
			}
			return p.Backward(y, y)
		})
	}
	steps = append(steps, step{"dropout_fc6_fc7", func() error {
		for _, f := range dropRuns {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}, 0})

	// The loss.
	ls := backend.Shape{n, 1000}
	lp, err := be.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: ls})
	if err != nil {
		b.Fatal(err)
	}
	logits, loss, dlogits := mk(ls), mk(backend.Shape{1}), mk(ls)
	labels := make([]int32, n)
	steps = append(steps, step{"loss", func() error { return lp.Forward(logits, labels, loss, dlogits) }, 0})

	// For scale: one thread copying fc6's weights (2 streams).
	big := params[10].Numel()
	src, dst := make([]float32, big), make([]float32, big)
	steps = append(steps, step{"go_copy_fc6_weights", func() error { copy(dst, src); return nil }, 2 * 4 * int64(big)})

	for _, s := range steps {
		b.Run("step="+s.name, func(b *testing.B) {
			if err := s.run(); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := s.run(); err != nil {
					b.Fatal(err)
				}
			}
			if s.bytes > 0 {
				b.ReportMetric(float64(s.bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			}
		})
	}
}
