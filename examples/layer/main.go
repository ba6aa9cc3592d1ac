// Command layer runs one real AlexNet layer on a dnngo backend, checks it
// and prints its speed. Every layer it offers is checked before it is
// timed: conv1, conv2, conv3, conv4, conv5, fc6 and fc8 against PyTorch's
// float64 golden case of that layer (batch 2; conv4 and conv5 "slim", with
// a quarter of the channels and the real kernel, stride and padding; fc6
// and fc8 with the reduced widths 9216→64 and 64→10), forward output and
// both gradients; fc7, which has no golden case, against a float64
// reference computed here. Without the golden data it says so and checks
// every layer against that float64 reference instead. It then times the
// layer's forward pass at the batch you ask for.
//
//	go run ./examples/layer                    # cpu backend, conv1, batch 16
//	go run ./examples/layer -layer conv3 -batch 64
//	go run -tags onednn ./examples/layer -backend onednn
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all"
	"github.com/dnngo/dnngo/internal/golden"
	"github.com/dnngo/dnngo/internal/layers"
	"github.com/dnngo/dnngo/safetensors"
)

func main() {
	name := flag.String("backend", "cpu", "backend to run: "+fmt.Sprint(backend.Available()))
	layer := flag.String("layer", "conv1", "AlexNet convolution or FC layer: conv1..conv5, fc6..fc8")
	batch := flag.Int("batch", 16, "batch size for the timing")
	dur := flag.Duration("time", 3*time.Second, "how long to time the layer")
	flag.Parse()
	if err := run(os.Stdout, *name, *layer, *batch, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "layer:", err)
		os.Exit(1)
	}
}

// goldenCase is the golden file of each layer offered; fc7 has none.
var goldenCase = map[string]string{"conv1": "conv1", "conv2": "conv2", "conv3": "conv3", "conv4": "conv4", "conv5": "conv5",
	"fc6": "fc6", "fc7": "", "fc8": "fc8"}

func run(out io.Writer, name, layer string, batch int, dur time.Duration) error {
	if batch < 1 {
		return fmt.Errorf("-batch %d: want ≥ 1", batch)
	}
	var l *layers.Layer
	for _, c := range layers.AlexNet(batch) {
		if c.Name == layer && (c.Conv != nil || c.Lin != nil) {
			l = &c
		}
	}
	if l == nil {
		return fmt.Errorf("-layer %q: want one of conv1..conv5, fc6..fc8", layer)
	}
	b, err := backend.Open(name)
	if err != nil {
		return err
	}
	defer b.Close()
	info := b.Info()
	fmt.Fprintf(out, "backend  %s on %s\n          %s\n", info.Name, info.Device, info.Library)

	checked, err := checkGolden(out, b, layer)
	if err != nil {
		return err
	}
	if !checked {
		if err := checkReference(out, b, layer); err != nil {
			return err
		}
	}
	return timeLayer(out, b, l, batch, dur)
}

// checkGolden runs the layer's golden case, if there is one and the
// golden data is here, and prints the relative errors of y, dx, dw and
// db against PyTorch's; a layer off by more than the tolerance is an
// error. It reports whether it checked.
func checkGolden(out io.Writer, b backend.Backend, layer string) (bool, error) {
	file := goldenCase[layer]
	if file == "" {
		fmt.Fprintf(out, "golden   %s has no PyTorch case (the golden set has fc6 and fc8 only)\n", layer)
		return false, nil
	}
	dir, _, _, err := golden.Dir()
	if err != nil {
		return false, err
	}
	path := filepath.Join(dir, file+".safetensors")
	f, err := safetensors.ReadFile(path)
	if err != nil {
		fmt.Fprintf(out, "golden   %s not readable (%v; %s generates it)\n", path, err, golden.GenerateCommand)
		return false, nil
	}
	get := func(n string) ([]float32, backend.Shape, error) {
		v, s, err := f.Float32(n)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return v, backend.Shape(s), nil
	}
	t := map[string][]float32{}
	shape := map[string]backend.Shape{}
	for _, n := range []string{"x", "w", "b", "dy", "y", "dx", "dw", "db"} {
		if t[n], shape[n], err = get(n); err != nil {
			return false, err
		}
	}
	var d backend.WeightDesc
	switch op := f.Metadata["op"]; op {
	case "conv2d":
		stride, err1 := strconv.Atoi(f.Metadata["stride"])
		pad, err2 := strconv.Atoi(f.Metadata["padding"])
		groups, err3 := strconv.Atoi(f.Metadata["groups"])
		if err1 != nil || err2 != nil || err3 != nil {
			return false, fmt.Errorf("%s: stride %q, padding %q, groups %q: want integers", path, f.Metadata["stride"], f.Metadata["padding"], f.Metadata["groups"])
		}
		ws := shape["w"]
		d = backend.ConvDesc{Input: shape["x"], Out: ws[0], KernelH: ws[2], KernelW: ws[3], StrideH: stride, StrideW: stride,
			PadH: pad, PadW: pad, Groups: groups, Bias: true}
	case "linear":
		d = backend.LinearDesc{Input: shape["x"], Out: shape["w"][0], Bias: true}
	default:
		return false, fmt.Errorf("%s: op %q: want conv2d or linear", path, op)
	}
	p, err := backend.PlanWeight(b, d)
	if err != nil {
		return false, err
	}
	defer p.Close()
	errs, err := runWeightLayer(b, p, shape, t)
	if err != nil {
		return false, err
	}
	variant := f.Metadata["variant"]
	if variant == "slim" {
		variant = "slim: " + f.Metadata["real_alexnet_params"]
	}
	fmt.Fprintf(out, "golden   %s %v → %v (%s) against PyTorch (float64), relative errors: y %.1e, dx %.1e, dw %.1e, db %.1e (tolerance %.0e)\n",
		file, shape["x"], shape["y"], variant, errs[0], errs[1], errs[2], errs[3], golden.LayerTol)
	for i, e := range errs {
		if !(e <= golden.LayerTol) {
			return true, fmt.Errorf("%s: %s is off PyTorch's by %.2e, over the tolerance %.0e", file, []string{"y", "dx", "dw", "db"}[i], e, golden.LayerTol)
		}
	}
	return true, nil
}

// runWeightLayer runs the forward pass and both gradients of p on the
// tensors t (x, w, b, dy) and returns the relative errors of y, dx, dw and
// db against t's y, dx, dw, db.
func runWeightLayer(b backend.Backend, p backend.WeightPlan, shape map[string]backend.Shape, t map[string][]float32) ([4]float64, error) {
	var errs [4]float64
	ts := map[string]backend.Tensor{}
	for _, n := range []string{"x", "w", "b", "dy", "y", "dx", "dw", "db"} {
		tt, err := b.NewTensor(shape[n]...)
		if err != nil {
			return errs, err
		}
		defer tt.Close()
		ts[n] = tt
	}
	for _, n := range []string{"x", "w", "b", "dy"} {
		if err := b.Upload(ts[n], t[n]); err != nil {
			return errs, err
		}
	}
	if err := p.Forward(ts["x"], ts["w"], ts["b"], ts["y"]); err != nil {
		return errs, err
	}
	if err := p.BackwardData(ts["dy"], ts["w"], ts["dx"]); err != nil {
		return errs, err
	}
	if err := p.BackwardFilter(ts["x"], ts["dy"], ts["dw"], ts["db"]); err != nil {
		return errs, err
	}
	for i, n := range []string{"y", "dx", "dw", "db"} {
		got := make([]float32, shape[n].Numel())
		if err := b.Download(got, ts[n]); err != nil {
			return errs, err
		}
		want := make([]float64, len(t[n]))
		for j, v := range t[n] {
			want[j] = float64(v)
		}
		errs[i] = golden.RelErr(got, want)
	}
	return errs, nil
}

// checkReference checks the layer at batch 2 (fc7: real; the convolutions
// with the real shapes; other FC layers real) on random inputs against a
// float64 reference computed here.
func checkReference(out io.Writer, b backend.Backend, layer string) error {
	var l *layers.Layer
	for _, c := range layers.AlexNet(2) {
		if c.Name == layer {
			l = &c
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	randn := func(s backend.Shape, scale float64) []float32 {
		v := make([]float32, s.Numel())
		for i := range v {
			v[i] = float32(scale * r.NormFloat64())
		}
		return v
	}
	shape := map[string]backend.Shape{}
	// The float64 reference has no ReLU: plan the layer without it (l's
	// descs are this call's own).
	if l.Conv != nil {
		l.Conv.ReLU = false
	}
	if l.Lin != nil {
		l.Lin.ReLU = false
	}
	d := l.Weight()
	shape["x"], shape["w"], shape["y"] = d.InputShape(), d.WeightShape(), d.OutputShape()
	p, err := backend.PlanWeight(b, d)
	if err != nil {
		return err
	}
	defer p.Close()
	shape["b"], shape["dy"], shape["dx"], shape["dw"], shape["db"] = backend.Shape{shape["w"][0]}, shape["y"], shape["x"], shape["w"], backend.Shape{shape["w"][0]}
	fanIn := shape["w"].Numel() / shape["w"][0]
	t := map[string][]float32{"x": randn(shape["x"], 1), "w": randn(shape["w"], math.Sqrt(1/float64(fanIn))), "b": randn(shape["b"], 0.1), "dy": randn(shape["dy"], 1)}
	t["y"], t["dx"], t["dw"], t["db"] = reference(l, shape, t)
	errs, err := runWeightLayer(b, p, shape, t)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "check    %s %v → %v on random inputs against a float64 reference, relative errors: y %.1e, dx %.1e, dw %.1e, db %.1e (tolerance %.0e)\n",
		layer, shape["x"], shape["y"], errs[0], errs[1], errs[2], errs[3], golden.LayerTol)
	for i, e := range errs {
		if !(e <= golden.LayerTol) {
			return fmt.Errorf("%s: %s is off the float64 reference by %.2e, over the tolerance %.0e", layer, []string{"y", "dx", "dw", "db"}[i], e, golden.LayerTol)
		}
	}
	return nil
}

// reference computes y, dx, dw, db of a convolution (groups 1) or fully
// connected layer in float64, rounded to float32.
func reference(l *layers.Layer, shape map[string]backend.Shape, t map[string][]float32) (y, dx, dw, db []float32) {
	x, w, bias, dy := t["x"], t["w"], t["b"], t["dy"]
	y, dx, dw, db = make([]float32, shape["y"].Numel()), make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(bias))
	yf, dxf, dwf, dbf := make([]float64, len(y)), make([]float64, len(dx)), make([]float64, len(dw)), make([]float64, len(db))
	if l.Lin != nil {
		n, in, o := shape["x"][0], shape["w"][1], shape["w"][0]
		for i := range n {
			for j := range o {
				s := float64(bias[j])
				for k := range in {
					s += float64(x[i*in+k]) * float64(w[j*in+k])
					dxf[i*in+k] += float64(dy[i*o+j]) * float64(w[j*in+k])
					dwf[j*in+k] += float64(dy[i*o+j]) * float64(x[i*in+k])
				}
				yf[i*o+j] = s
				dbf[j] += float64(dy[i*o+j])
			}
		}
	} else {
		d := l.Conv
		xs, ws, ys := shape["x"], shape["w"], shape["y"]
		n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
		o, kh, kw := ws[0], ws[2], ws[3]
		oh, ow := ys[2], ys[3]
		for i := range n {
			for f := range o {
				for p := range oh {
					for q := range ow {
						yi := ((i*o+f)*oh+p)*ow + q
						s := float64(bias[f])
						g := float64(dy[yi])
						dbf[f] += g
						for ch := range c {
							for a := range kh {
								r := p*d.StrideH - d.PadH + a
								if r < 0 || r >= h {
									continue
								}
								for bb := range kw {
									cc := q*d.StrideW - d.PadW + bb
									if cc < 0 || cc >= wd {
										continue
									}
									xi := ((i*c+ch)*h+r)*wd + cc
									wi := ((f*c+ch)*kh+a)*kw + bb
									s += float64(x[xi]) * float64(w[wi])
									dxf[xi] += g * float64(w[wi])
									dwf[wi] += g * float64(x[xi])
								}
							}
						}
						yf[yi] = s
					}
				}
			}
		}
	}
	for i, v := range yf {
		y[i] = float32(v)
	}
	for i, v := range dxf {
		dx[i] = float32(v)
	}
	for i, v := range dwf {
		dw[i] = float32(v)
	}
	for i, v := range dbf {
		db[i] = float32(v)
	}
	return y, dx, dw, db
}

// timeLayer runs the layer's forward for about dur and prints its speed.
func timeLayer(out io.Writer, b backend.Backend, l *layers.Layer, batch int, dur time.Duration) error {
	d := l.Weight()
	p, err := backend.PlanWeight(b, d)
	ws, ys, flops := d.WeightShape(), d.OutputShape(), d.FLOPs()
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
	fmt.Fprintf(out, "timing   %s forward, batch %d, %v → %v: median %.2f ms over %d runs = %.1f GFLOP/s, %.1f images/s\n",
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
