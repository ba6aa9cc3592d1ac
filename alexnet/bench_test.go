package alexnet_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
)

// The Seed() benchmarks, on every backend compiled in (a backend that does
// not open here is skipped with its reason), named for benchstat:
//
//	BenchmarkForward/backend=<name>/batch=<n>     Eval-mode forward pass (batch 1 and 16)
//	BenchmarkTrainStep/backend=<name>/batch=16    TrainStep: forward (dropout), loss, backward, SGD
//
// Each reports images/s and GFLOP/s. FLOPs are two per multiply-add of the
// config's Summary: a forward pass 2.27 GFLOP per image; a training step
// three times the forward (forward, data gradient, filter gradient) less
// conv1's data gradient, which is not computed: 6.60 GFLOP per image. The
// network is built and every batch size planned and run once before the
// timer starts. On the pure-Go backend a training step at batch 16 takes
// tens of seconds, so run few iterations and serialise on the shared lock:
//
//	flock /tmp/dnngo-bench.lock go test -run '^$' -bench . -benchtime 1x -count 3 ./alexnet
func BenchmarkForward(b *testing.B) {
	benchSeed(b, []int{1, 16}, false)
}

// BenchmarkTrainStep: see BenchmarkForward.
func BenchmarkTrainStep(b *testing.B) {
	benchSeed(b, []int{16}, true)
}

func benchSeed(b *testing.B, batches []int, train bool) {
	cfg := alexnet.Seed()
	sum, err := cfg.Summary()
	if err != nil {
		b.Fatal(err)
	}
	flops := 2 * float64(sum.MACs) // per image, forward
	if train {
		flops = 3*flops - 2*float64(sum.Layers[0].MACs)
	}
	for _, name := range backend.Available() {
		b.Run("backend="+name, func(b *testing.B) {
			be, err := backend.Open(name)
			if err != nil {
				b.Skipf("backend %s does not open here: %v", name, err)
			}
			defer be.Close()
			net, err := alexnet.New(be, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer net.Close()
			r := rand.New(rand.NewPCG(1, 2))
			for _, n := range batches {
				x := make([]float32, n*net.InputSize())
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				labels := make([]int32, n)
				for i := range labels {
					labels[i] = int32(r.IntN(cfg.Classes))
				}
				run := func() error { return net.Forward(x, alexnet.Eval) }
				if train {
					run = func() error { _, err := net.TrainStep(x, labels); return err }
				}
				b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
					if err := run(); err != nil { // plans and buffers of this batch size
						b.Fatal(err)
					}
					if err := be.Sync(); err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					for range b.N {
						if err := run(); err != nil {
							b.Fatal(err)
						}
					}
					if err := be.Sync(); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					s := b.Elapsed().Seconds()
					images := float64(n * b.N)
					b.ReportMetric(images/s, "images/s")
					b.ReportMetric(images*flops/s/1e9, "GFLOP/s")
				})
			}
		})
	}
}
