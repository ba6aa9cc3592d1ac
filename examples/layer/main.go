// Command layer runs one real AlexNet layer on a dnngo backend and prints
// its result and its speed. With the golden data present it runs PyTorch's
// own conv1 case (batch 2, 227×227) and reports how far the backend's
// output is from PyTorch's float64 result; either way it then times the
// layer at the batch you ask for.
//
//	go run ./examples/layer                    # cpu backend, conv1, batch 16
//	go run ./examples/layer -layer conv3 -batch 64
//	go run -tags onednn ./examples/layer -backend onednn
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/safetensors"
)

func main() {
	name := flag.String("backend", "cpu", "backend to run: "+fmt.Sprint(backend.Available()))
	layer := flag.String("layer", "conv1", "AlexNet convolution or FC layer: conv1..conv5, fc6..fc8")
	batch := flag.Int("batch", 16, "batch size for the timing")
	dur := flag.Duration("time", 3*time.Second, "how long to time the layer")
	flag.Parse()
	if err := run(*name, *layer, *batch, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "layer:", err)
		os.Exit(1)
	}
}

func run(name, layer string, batch int, dur time.Duration) error {
	if batch < 1 {
		return fmt.Errorf("-batch %d: want ≥ 1", batch)
	}
	b, err := backend.Open(name)
	if err != nil {
		return err
	}
	defer b.Close()
	info := b.Info()
	fmt.Printf("backend  %s on %s\n          %s\n", info.Name, info.Device, info.Library)

	if layer == "conv1" {
		if err := checkGolden(b); err != nil {
			return err
		}
	}
	var l *backendtest.Layer
	for _, c := range backendtest.AlexNetLayers(batch) {
		if c.Name == layer && (c.Conv != nil || c.Lin != nil) {
			l = &c
		}
	}
	if l == nil {
		return fmt.Errorf("-layer %q: want one of conv1..conv5, fc6..fc8", layer)
	}
	return timeLayer(b, l, batch, dur)
}

// checkGolden runs PyTorch's conv1 case and prints the relative error.
func checkGolden(b backend.Backend) error {
	dir, _, err := backendtest.GoldenDir()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "conv1.safetensors")
	f, err := safetensors.ReadFile(path)
	if err != nil {
		fmt.Printf("golden   %s not readable (%v); skipping the check against PyTorch\n", path, err)
		return nil
	}
	get := func(n string) ([]float32, backend.Shape, error) {
		v, s, err := f.Float32(n)
		return v, backend.Shape(s), err
	}
	x, xs, err := get("x")
	if err != nil {
		return err
	}
	w, ws, err := get("w")
	if err != nil {
		return err
	}
	bias, bs, err := get("b")
	if err != nil {
		return err
	}
	want, ys, err := get("y")
	if err != nil {
		return err
	}
	stride, err1 := strconv.Atoi(f.Metadata["stride"])
	pad, err2 := strconv.Atoi(f.Metadata["padding"])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%s: stride %q, padding %q: want integers", path, f.Metadata["stride"], f.Metadata["padding"])
	}
	d := backend.ConvDesc{Input: xs, Out: ws[0], KernelH: ws[2], KernelW: ws[3], StrideH: stride, StrideW: stride,
		PadH: pad, PadW: pad, Groups: 1, Bias: true}
	p, err := b.Conv(d)
	if err != nil {
		return err
	}
	defer p.Close()
	ts := make([]backend.Tensor, 4)
	for i, s := range []backend.Shape{xs, ws, bs, ys} {
		if ts[i], err = b.NewTensor(s...); err != nil {
			return err
		}
		defer ts[i].Close()
	}
	for i, v := range [][]float32{x, w, bias} {
		if err := b.Upload(ts[i], v); err != nil {
			return err
		}
	}
	if err := p.Forward(ts[0], ts[1], ts[2], ts[3]); err != nil {
		return err
	}
	got := make([]float32, ys.Numel())
	if err := b.Download(got, ts[3]); err != nil {
		return err
	}
	wf := make([]float64, len(want))
	for i, v := range want {
		wf[i] = float64(v)
	}
	fmt.Printf("golden   conv1 %v → %v against PyTorch (float64): relative error %.2e (tolerance %.0e)\n",
		xs, ys, backendtest.RelErr(got, wf), backendtest.LayerTol)
	fmt.Printf("         y[0,0,0,0:4] = %.5f (PyTorch %.5f)\n", got[:4], want[:4])
	return nil
}

// timeLayer runs the layer's forward for about dur and prints its speed.
func timeLayer(b backend.Backend, l *backendtest.Layer, batch int, dur time.Duration) error {
	var p backend.WeightPlan
	var err error
	var ws, ys backend.Shape
	var flops int64
	if l.Conv != nil {
		p, err = b.Conv(*l.Conv)
		ws, ys, flops = l.Conv.WeightShape(), l.Conv.OutputShape(), l.Conv.FLOPs()
	} else {
		p, err = b.Linear(*l.Lin)
		ws, ys, flops = l.Lin.WeightShape(), l.Lin.OutputShape(), l.Lin.FLOPs()
	}
	if err != nil {
		return err
	}
	defer p.Close()
	r := rand.New(rand.NewPCG(1, 1))
	var ts []backend.Tensor
	for _, s := range []backend.Shape{l.Input, ws, {ys[1]}, ys} {
		t, err := b.NewTensor(s...)
		if err != nil {
			return err
		}
		defer t.Close()
		v := make([]float32, s.Numel())
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		if err := b.Upload(t, v); err != nil {
			return err
		}
		ts = append(ts, t)
	}
	fwd := func() error { return p.Forward(ts[0], ts[1], ts[2], ts[3]) }
	if err := fwd(); err != nil { // warm-up
		return err
	}
	if err := b.Sync(); err != nil {
		return err
	}
	var runs []time.Duration
	start := time.Now()
	for time.Since(start) < dur || len(runs) < 3 {
		t0 := time.Now()
		if err := fwd(); err != nil {
			return err
		}
		if err := b.Sync(); err != nil {
			return err
		}
		runs = append(runs, time.Since(t0))
	}
	med := median(runs)
	fmt.Printf("timing   %s forward, batch %d, %v → %v: median %.2f ms over %d runs = %.1f GFLOP/s, %.1f images/s\n",
		l.Name, batch, l.Input, ys, float64(med)/1e6, len(runs), float64(flops)/med.Seconds()/1e9, float64(batch)/med.Seconds())
	return nil
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}
