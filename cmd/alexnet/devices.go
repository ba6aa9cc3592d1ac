package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all"
	"github.com/dnngo/dnngo/bench"
	"github.com/dnngo/dnngo/internal/machine"
)

// allBackends are the backends dnngo has, with the tag that builds each.
var allBackends = []struct{ name, tag string }{{"cudnn", "cudnn"}, {"onednn", "onednn"}, {"cpu", ""}}

func runDevices(args []string, stdout, _ io.Writer) error {
	fs := flags("devices", "", "List the backends compiled into this binary and whether they open here, the CPU and its estimated peak, the GPUs and library versions", stdout)
	verbose := fs.Bool("v", false, "say in full why a backend does not open (e.g. every place the CUDA libraries were looked for)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cpu := machine.Detect()
	fmt.Fprintf(stdout, "CPU      %s\n", cpu)
	if p := cpu.PeakGFLOPS(); p > 0 {
		fmt.Fprintf(stdout, "         FP32 peak ≈ %.0f GFLOP/s (%s)\n", p, cpu.Method())
	}
	fmt.Fprintf(stdout, "Go       %s %s/%s, GOMAXPROCS %d\n\nBackends (fastest first):\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	compiled := map[string]bool{}
	for _, n := range backend.Available() {
		compiled[n] = true
	}
	for _, k := range allBackends {
		if !compiled[k.name] {
			fmt.Fprintf(stdout, "  %-7s not compiled in (build with -tags %s)\n", k.name, k.tag)
			continue
		}
		b, err := backend.Open(k.name)
		if err != nil {
			reason := bench.Brief(err.Error())
			if *verbose {
				reason = indent(err.Error())
			}
			fmt.Fprintf(stdout, "  %-7s compiled in, does not open here: %s\n", k.name, reason)
			continue
		}
		info := b.Info()
		b.Close()
		peak, note := bench.PeakFor(info, cpu)
		fmt.Fprintf(stdout, "  %-7s opens: %s\n          %s, %s, %d threads\n", k.name, info.Device, info.Library, info.Precision, info.Threads)
		if peak > 0 {
			fmt.Fprintf(stdout, "          peak ≈ %.0f GFLOP/s (%s)\n", peak, note)
		}
	}
	return nil
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n          ") }
