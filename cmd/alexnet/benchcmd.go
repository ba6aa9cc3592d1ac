package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/bench"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := flags("bench", "[flags]", "Measure AlexNet throughput on every backend compiled in: warm-up, then timed batches for --duration each; prints the median, the spread, GFLOP/s, % of the estimated peak and the ratio to the fastest backend", stdout)
	backends := fs.String("backends", "", "comma-separated backends (default: every one compiled in: "+strings.Join(backend.Available(), ",")+")")
	batches := fs.String("batch", "1,16", "comma-separated batch sizes for the forward pass (empty: none)")
	train := fs.String("train", "", "comma-separated batch sizes for a training step, e.g. 16 (empty: none)")
	dur := fs.Duration("duration", 5*time.Second, "timing per measurement, after warm-up")
	v := fs.String("variant", "seed", "network: seed, paper or mini")
	threads := fs.Int("threads", 0, "CPU threads for the CPU backends (0: GOMAXPROCS)")
	prec := fs.String("precision", "fp32", "fp32, tf32, bf16 or fp16 (tf32, fp16: GPU only; bf16: GPU, or onednn on CPUs with AVX512_BF16/AMX)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	plotOut := fs.String("plot", "", "also draw a bar chart to this file (.png, .svg or .pdf)")
	quiet := fs.Bool("quiet", false, "no progress line")
	verbose := fs.Bool("v", false, "say in full why a backend was skipped (e.g. every place the CUDA libraries were looked for)")
	if err := parse(fs, args); err != nil {
		return err
	}
	o := bench.Options{Duration: *dur}
	var err error
	if o.Batches, err = sizes("--batch", *batches); err != nil {
		return err
	}
	if o.Train, err = sizes("--train", *train); err != nil {
		return err
	}
	if len(o.Batches) == 0 && len(o.Train) == 0 {
		return usageError{"nothing to measure: --batch and --train are both empty"}
	}
	if *dur <= 0 {
		return usageError{fmt.Sprintf("--duration %v: want > 0", *dur)}
	}
	if err := checkThreads(*threads); err != nil {
		return err
	}
	if o.Config, err = variant(*v); err != nil {
		return err
	}
	if o.Options.Precision, err = backend.ParsePrecision(*prec); err != nil {
		return usageError{err.Error()}
	}
	o.Options.Threads = *threads
	if *backends != "" {
		compiled := strings.Join(backend.Available(), ", ")
		for _, name := range strings.Split(*backends, ",") {
			name = strings.TrimSpace(name)
			b, err := backend.Open(name)
			if err == nil {
				b.Close() // opened only to check the name: a GPU context must not leak
			}
			if err != nil && !isAvailable(name) {
				return usageError{fmt.Sprintf("--backends: %v (compiled in: %s)", firstLine(err.Error()), compiled)}
			}
			o.Backends = append(o.Backends, name)
		}
	}
	if onHost(o.Backends) {
		what := fmt.Sprintf("--batch %q --train %q", *batches, *train)
		if err := checkMemory(what, o.Config, o.Batches, o.Train, 0, "batch sizes ≤"); err != nil {
			return err
		}
	}
	if !*quiet {
		o.Progress = progressTo(stderr)
	}
	rep, err := bench.Run(o)
	if err != nil {
		return err
	}
	rep.Verbose = *verbose
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if *jsonOut != "" {
		if err := writeFile(*jsonOut, rep.WriteJSON); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *jsonOut)
	}
	if *plotOut != "" {
		if err := rep.Plot(*plotOut); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *plotOut)
	}
	return nil
}

// onHost reports whether any of the backends (nil: every one compiled in)
// keeps the network in host memory: all but cudnn.
func onHost(names []string) bool {
	if names == nil {
		names = backend.Available()
	}
	for _, n := range names {
		if n != "cudnn" {
			return true
		}
	}
	return false
}

func isAvailable(name string) bool {
	for _, n := range backend.Available() {
		if n == name {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// sizes parses a comma-separated list of batch sizes, each ≥ 1.
func sizes(flagName, s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return []int{}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, usageError{fmt.Sprintf("%s %q: want batch sizes ≥ 1, comma-separated", flagName, s)}
		}
		out = append(out, n)
	}
	return out, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// progressTo reports progress on w: a status line rewritten in place on a
// terminal, only the finished measurements otherwise (a log file).
func progressTo(w io.Writer) func(string, bool) {
	f, ok := w.(*os.File)
	tty := false
	if ok {
		if st, err := f.Stat(); err == nil {
			tty = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return func(msg string, final bool) {
		switch {
		case tty && final:
			fmt.Fprintf(w, "\r\033[K%s\n", msg)
		case tty:
			fmt.Fprintf(w, "\r\033[K%s", msg)
		case final:
			fmt.Fprintln(w, msg)
		}
	}
}
