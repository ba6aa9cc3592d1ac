// Command stepcount trains the Mini network for N steps on the cpu backend
// (one thread, batch 8, a fixed input) and prints N and the last loss. It
// exists to count the instructions of a training step under callgrind,
// which do not depend on the machine's load (see bench/RESULTS.md):
//
//	go build -o /tmp/stepcount ./bench/stepcount
//	GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null /tmp/stepcount 5   # and 25
//
// (Ir at 25 − Ir at 5)/20 is one steady-state step.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/cpu"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: stepcount STEPS")
		os.Exit(2)
	}
	steps, err := strconv.Atoi(os.Args[1])
	if err != nil || steps < 0 {
		fmt.Fprintf(os.Stderr, "stepcount: %q: want a number of steps ≥ 0\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(steps); err != nil {
		fmt.Fprintln(os.Stderr, "stepcount:", err)
		os.Exit(1)
	}
}

func run(steps int) error {
	b, err := backend.OpenWith("cpu", backend.Options{Threads: 1})
	if err != nil {
		return err
	}
	defer b.Close()
	cfg := alexnet.Mini()
	net, err := alexnet.New(b, cfg)
	if err != nil {
		return err
	}
	defer net.Close()
	const batch = 8
	x := make([]float32, batch*cfg.Channels*cfg.Input*cfg.Input)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(i % cfg.Classes)
	}
	var loss float32
	for i := 0; i < steps; i++ {
		if loss, err = net.TrainStep(x, labels); err != nil {
			return err
		}
	}
	fmt.Println(steps, loss)
	return nil
}
