// Command dist measures data-parallel training steps: the images/s of a
// global batch, the share of the step spent averaging gradients
// (all-reduce and its host staging) and the bytes all-reduced per step.
//
// One process (no --dist) or the ranks of an MPI job (--dist mpi, a build
// with -tags mpi, started by mpirun) each train the replica of one network
// on random data, --warmup steps then --steps timed ones, and rank 0
// prints one line:
//
//	go build -tags onednn,mpi -o /tmp/dist ./bench/dist
//	flock /tmp/dnngo-bench.lock mpirun -np 2 /tmp/dist --dist mpi --threads 1 --batch 32
//	flock /tmp/dnngo-bench.lock /tmp/dist --threads 2 --batch 32
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all"
	"github.com/dnngo/dnngo/collective"
	"github.com/dnngo/dnngo/internal/synth"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func run() error {
	dist := flag.String("dist", "", "mpi: the ranks of an MPI job; empty: one process")
	be := flag.String("backend", "onednn", "backend")
	threads := flag.Int("threads", 1, "threads per process")
	batch := flag.Int("batch", 32, "global batch")
	steps := flag.Int("steps", 5, "timed steps")
	warmup := flag.Int("warmup", 2, "untimed steps first")
	v := flag.String("variant", "seed", "seed or mini")
	only := flag.Int("allreduce-only", 0, "instead of training, time all-reduces (mean) of this many float32 values, after a barrier each")
	flag.Parse()
	c, err := collective.Open(*dist)
	if err != nil {
		return err
	}
	defer c.Close()
	n, r := c.Size(), c.Rank()
	if *only > 0 {
		return allReduceOnly(c, *only, *steps)
	}
	if *batch%n != 0 || *steps < 1 || *warmup < 0 {
		return fmt.Errorf("--batch %d over %d ranks, --steps %d, --warmup %d", *batch, n, *steps, *warmup)
	}
	cfg := alexnet.SeedConfig()
	if *v == "mini" {
		cfg = alexnet.Mini()
	}
	b, err := backend.OpenWith(*be, backend.Options{Threads: *threads})
	if err != nil {
		return err
	}
	defer b.Close()
	net, err := alexnet.New(b, cfg)
	if err != nil {
		return err
	}
	defer net.Close()
	local := *batch / n
	if err := net.SetRowOffset(r * local); err != nil {
		return err
	}
	if err := net.BroadcastParams(c, 0); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(r), 1))
	x, labels := synth.Batch(rng, local, net.InputSize(), cfg.Classes)
	var times []float64
	var before alexnet.DistStats
	for s := range *warmup + *steps {
		if s == *warmup {
			if err := c.Barrier(); err != nil {
				return err
			}
			before = net.DistStats()
		}
		t0 := time.Now()
		if _, err := net.DistTrainStep(c, x, labels); err != nil {
			return err
		}
		if s >= *warmup {
			times = append(times, time.Since(t0).Seconds())
		}
	}
	st := net.DistStats()
	total := 0.0
	for _, t := range times {
		total += t
	}
	slices.Sort(times)
	med := times[len(times)/2]
	reduce := (st.Reduce - before.Reduce).Seconds()
	staging := (st.Staging - before.Staging).Seconds()
	calls := (st.Calls - before.Calls) / *steps
	bytes := (st.Bytes - before.Bytes) / int64(*steps)
	// Every rank's share of the step in the exchange, the largest reported.
	share := []float64{reduce / total, staging / total}
	if err := c.AllReduceFloat64(share, collective.Sum); err != nil {
		return err
	}
	if r == 0 {
		info := b.Info()
		fmt.Printf("%s %s, %d rank(s) × %d thread(s), global batch %d (%d per rank): %.2f images/s (median step %.3f s of %d); all-reduce %.1f%% of the step, host staging %.1f%% (mean over ranks); %d all-reduce calls, %.1f MB per step\n",
			cfg.Name, info.Name, n, *threads, *batch, local, float64(*batch)/med, med, *steps,
			100*share[0]/float64(n), 100*share[1]/float64(n), calls, float64(bytes)/1e6)
	}
	return nil
}

// allReduceOnly times steps all-reduces of count values, each after a
// barrier, and prints rank 0's median and the algorithm bandwidth.
func allReduceOnly(c collective.Comm, count, steps int) error {
	buf := make([]float32, count)
	for i := range buf {
		buf[i] = float32(i % 7)
	}
	var times []float64
	for range steps + 1 {
		if err := c.Barrier(); err != nil {
			return err
		}
		t0 := time.Now()
		if err := c.AllReduce(buf, collective.Mean); err != nil {
			return err
		}
		times = append(times, time.Since(t0).Seconds())
	}
	times = times[1:] // the first pays for page faults
	slices.Sort(times)
	med := times[len(times)/2]
	if c.Rank() == 0 {
		mb := 4 * float64(count) / 1e6
		fmt.Printf("all-reduce of %.1f MB over %d ranks: median %.3f s of %d (min %.3f s), %.2f GB/s algorithm bandwidth, %.2f GB/s bus bandwidth (× 2(N−1)/N)\n",
			mb, c.Size(), med, steps, times[0], mb/1e3/med, mb/1e3/med*2*float64(c.Size()-1)/float64(c.Size()))
	}
	return nil
}
