package backendtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/internal/layers"
)

// Layer is one layer of the Seed AlexNet at batch N, as the per-layer
// benchmarks run it.
type Layer = layers.Layer

// AlexNetLayers lists the layers of the single-tower AlexNet at batch n
// (internal/layers, derived from alexnet.Config.Ops).
func AlexNetLayers(n int) []Layer { return layers.AlexNet(n) }

// BenchLayers benchmarks the forward and backward pass of every AlexNet
// layer at batch n as sub-benchmarks named layer=<name>/pass=<pass>/batch=<n>,
// reporting images/s and, for convolutions and FC layers, GFLOP/s
// (backward counts both the data and the filter gradient: twice the forward
// FLOPs). Pass "inference" is the forward of the layer planned with
// Inference, on its own tensors (convolution, FC, LRN, pooling).
func BenchLayers(b *testing.B, open Opener, n int) {
	be, err := open()
	if err != nil {
		b.Skipf("backend does not open here: %v", err)
	}
	defer be.Close()
	if be.Info().TestDouble {
		b.Skipf("%s is a test double — not a GPU: no throughput reported", be.Info().Name)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, l := range AlexNetLayers(n) {
		run, flops, err := planLayer(be, r, l)
		if err != nil {
			b.Fatalf("%s: %v", l.Name, err)
		}
		for _, pass := range []string{"forward", "backward", "inference"} {
			f, ok := run[pass]
			if !ok {
				continue
			}
			b.Run(fmt.Sprintf("layer=%s/pass=%s/batch=%d", l.Name, pass, n), func(b *testing.B) {
				// Warm up; a backward needs its plan's forward to have run.
				if pass == "backward" {
					if err := run["forward"](); err != nil {
						b.Fatal(err)
					}
				}
				if err := f(); err != nil {
					b.Fatal(err)
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if err := f(); err != nil {
						b.Fatal(err)
					}
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				sec := b.Elapsed().Seconds()
				b.ReportMetric(float64(n*b.N)/sec, "images/s")
				if flops > 0 {
					mult := 1.0
					if pass == "backward" {
						mult = 2
					}
					b.ReportMetric(mult*float64(flops)*float64(b.N)/sec/1e9, "GFLOP/s")
				}
			})
		}
	}
}

// planLayer makes the plan and tensors of one layer and returns its
// forward and backward as closures, with the forward FLOPs (0 for layers
// without a GEMM).
func planLayer(be backend.Backend, r *rand.Rand, l Layer) (map[string]func() error, int64, error) {
	mk := func(s backend.Shape, scale float64) (backend.Tensor, error) {
		t, err := be.NewTensor(s...)
		if err != nil {
			return nil, err
		}
		return t, be.Upload(t, randn(r, s.Numel(), scale))
	}
	var ts []backend.Tensor
	var firstErr error
	m := func(s backend.Shape, scale float64) backend.Tensor {
		t, err := mk(s, scale)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		ts = append(ts, t)
		return t
	}
	x, dx := m(l.Input, 1), m(l.Input, 0)
	switch {
	case l.Weight() != nil:
		d := l.Weight()
		p, err := backend.PlanWeight(be, d)
		ip, ierr := backend.PlanWeight(be, d.WithInference(true))
		ws, ys, flops := d.WeightShape(), d.OutputShape(), d.FLOPs()
		if err = errors.Join(err, ierr); err != nil {
			return nil, 0, err
		}
		w, dw, bias, db, y, dy := m(ws, 0.01), m(ws, 0), m(backend.Shape{ys[1]}, 0.1), m(backend.Shape{ys[1]}, 0), m(ys, 0), m(ys, 1)
		xi, wi, bi, yi := m(l.Input, 1), m(ws, 0.01), m(backend.Shape{ys[1]}, 0.1), m(ys, 0)
		return map[string]func() error{
			"forward":   func() error { return p.Forward(x, w, bias, y) },
			"inference": func() error { return ip.Forward(xi, wi, bi, yi) },
			"backward": func() error {
				if err := p.BackwardData(dy, w, dx); err != nil {
					return err
				}
				return p.BackwardFilter(x, dy, dw, db)
			},
		}, flops, firstErr
	case l.LRN != nil:
		d := *l.LRN
		p, err := be.LRN(d)
		d.Inference = true
		ip, ierr := be.LRN(d)
		if err = errors.Join(err, ierr); err != nil {
			return nil, 0, err
		}
		y, dy := m(l.Input, 0), m(l.Input, 1)
		xi, yi := m(l.Input, 1), m(l.Input, 0)
		return map[string]func() error{
			"forward":   func() error { return p.Forward(x, y) },
			"inference": func() error { return ip.Forward(xi, yi) },
			"backward":  func() error { return p.Backward(x, y, dy, dx) },
		}, 0, firstErr
	case l.Pool != nil:
		d := *l.Pool
		p, err := be.MaxPool(d)
		d.Inference = true
		ip, ierr := be.MaxPool(d)
		if err = errors.Join(err, ierr); err != nil {
			return nil, 0, err
		}
		y, dy := m(l.Pool.OutputShape(), 0), m(l.Pool.OutputShape(), 1)
		xi, yi := m(l.Input, 1), m(l.Pool.OutputShape(), 0)
		return map[string]func() error{
			"forward":   func() error { return p.Forward(x, y) },
			"inference": func() error { return ip.Forward(xi, yi) },
			"backward":  func() error { return p.Backward(x, y, dy, dx) },
		}, 0, firstErr
	default:
		p, err := be.ReLU(l.ReLU)
		if err != nil {
			return nil, 0, err
		}
		y, dy := m(l.Input, 0), m(l.Input, 1)
		return map[string]func() error{
			"forward":  func() error { return p.Forward(x, y) },
			"backward": func() error { return p.Backward(y, dy, dx) },
		}, 0, firstErr
	}
}
