package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/internal/machine"
	"github.com/dnngo/dnngo/internal/synth"
)

// The SeedConfig() benchmarks on every backend compiled in and openable here (a
// backend that does not open is skipped with its reason), named for
// benchstat:
//
//	BenchmarkForward/backend=onednn/batch=16    Eval forward; batch 1, 16, 64 (and 256 on a GPU)
//	BenchmarkTrainStep/backend=cpu/batch=16     forward, loss, backward, SGD; batch 16, 64 (128 on a GPU)
//	BenchmarkLayers/backend=cpu/layer=conv1/pass=forward/batch=16
//
// each reporting images/s, GFLOP/s and % of the estimated peak:
//
//	go test -run '^$' -bench . -benchtime 3x ./bench
//	go test -tags onednn -run '^$' -bench 'Forward|TrainStep' -count 6 ./bench | tee new.txt; benchstat old.txt new.txt
func BenchmarkForward(b *testing.B) {
	benchNetwork(b, Forward, []int{1, 16, 64}, []int{64, 256})
}

// BenchmarkTrainStep: see BenchmarkForward.
func BenchmarkTrainStep(b *testing.B) {
	benchNetwork(b, Train, []int{16, 64}, []int{128})
}

// BenchmarkLayers runs every layer of SeedConfig() at batch 16, forward and
// backward, on every backend (see backendtest.BenchLayers).
func BenchmarkLayers(b *testing.B) {
	for _, name := range backend.Available() {
		b.Run("backend="+name, func(b *testing.B) {
			backendtest.BenchLayers(b, func() (backend.Backend, error) { return backend.Open(name) }, 16)
		})
	}
}

var cpuInfo = machine.Detect()

func benchNetwork(b *testing.B, mode Mode, cpuBatches, gpuBatches []int) {
	cfg := alexnet.SeedConfig()
	fwd, train, err := FLOPs(cfg)
	if err != nil {
		b.Fatal(err)
	}
	flops := fwd
	if mode == Train {
		flops = train
	}
	for _, name := range backend.Available() {
		b.Run("backend="+name, func(b *testing.B) {
			be, err := backend.Open(name)
			if err != nil {
				b.Skipf("%s does not open here: %s", name, firstLine(err.Error()))
			}
			defer be.Close()
			net, err := alexnet.New(be, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer net.Close()
			batches := cpuBatches
			if strings.Contains(name, "cudnn") {
				batches = gpuBatches
			}
			if be.Info().TestDouble {
				// A smoke run of one step at batch 1 (the code path works),
				// but no number: the double is not a GPU.
				x := make([]float32, net.InputSize())
				if mode == Train {
					_, err = net.TrainStep(x, []int32{0})
				} else {
					err = net.Forward(x, alexnet.Eval)
				}
				if err == nil {
					err = be.Sync()
				}
				if err != nil {
					b.Fatal(err)
				}
				b.Skipf("%s is a test double — not a GPU: one step ran, no throughput reported", name)
			}
			peak, _ := PeakFor(be.Info(), cpuInfo)
			r := rand.New(rand.NewPCG(3, 4))
			for _, n := range batches {
				x, labels := synth.Batch(r, n, net.InputSize(), cfg.Classes)
				step := func() error { return net.Forward(x, alexnet.Eval) }
				if mode == Train {
					step = func() error { _, err := net.TrainStep(x, labels); return err }
				}
				b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
					if err := step(); err != nil { // plans, buffers, algorithm search
						b.Fatal(err)
					}
					if err := be.Sync(); err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					for b.Loop() {
						if err := step(); err != nil {
							b.Fatal(err)
						}
					}
					if err := be.Sync(); err != nil {
						b.Fatal(err)
					}
					s := b.Elapsed().Seconds()
					ips := float64(n*b.N) / s
					b.ReportMetric(ips, "images/s")
					b.ReportMetric(ips*flops/1e9, "GFLOP/s")
					if peak > 0 {
						b.ReportMetric(100*ips*flops/1e9/peak, "%peak")
					}
				})
			}
		})
	}
}
