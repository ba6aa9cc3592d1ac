package train

import (
	"encoding/csv"
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var csvHeader = []string{"epoch", "steps", "train_loss", "images_per_s", "data_wait", "lr", "val_images", "val_loss", "val_top1", "val_top5", "seconds"}

// writeHistory rewrites the CSV log atomically.
func writeHistory(path string, h []Epoch) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes it private
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	w := csv.NewWriter(tmp)
	w.Write(csvHeader)
	for _, e := range h {
		writeHistoryRow(w, e)
	}
	w.Flush()
	if err := errors.Join(w.Error(), tmp.Sync(), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("train: log %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// writeHistoryRow writes one epoch's CSV row. Numbers are exact: a resumed
// run's history reads back the same bits. The learning rate is a float32,
// written as one (0.01, not 0.009999999776482582).
func writeHistoryRow(w *csv.Writer, e Epoch) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return w.Write([]string{strconv.Itoa(e.Epoch), strconv.FormatUint(e.Steps, 10), f(e.TrainLoss), f(e.ImagesPerS), f(e.DataWait),
		strconv.FormatFloat(float64(e.LR), 'g', -1, 32), strconv.Itoa(e.Val.N), f(e.Val.Loss), f(e.Val.Top1), f(e.Val.Top5), f(e.Seconds)})
}

// readHistory reads the first keep epochs back from a CSV log written by an
// earlier run, for a resumed run's log and chart. A fresh run, or a
// missing file, has no history.
func readHistory(path string, keep int, fresh bool) ([]Epoch, error) {
	if path == "" || fresh || keep == 0 {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("train: log %s: %w", path, err)
	}
	var h []Epoch
	for i, r := range rows {
		if i == 0 || len(r) != len(csvHeader) {
			continue
		}
		var e Epoch
		var lr float64
		var bad error
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			bad = errors.Join(bad, err)
			return v
		}
		e.Epoch = int(num(r[0]))
		e.Steps = uint64(num(r[1]))
		e.TrainLoss, e.ImagesPerS, e.DataWait, lr = num(r[2]), num(r[3]), num(r[4]), num(r[5])
		e.Val.N = int(num(r[6]))
		e.Val.Loss, e.Val.Top1, e.Val.Top5, e.Seconds = num(r[7]), num(r[8]), num(r[9]), num(r[10])
		e.LR = float32(lr)
		if bad != nil {
			return nil, fmt.Errorf("train: log %s line %d: %w", path, i+1, bad)
		}
		if e.Epoch <= keep {
			h = append(h, e)
		}
	}
	return h, nil
}

// plotMaxLoss is the largest loss the chart draws; larger ones are drawn at
// this value (a cross-entropy that large means the run has diverged).
const plotMaxLoss = 1e6

// plotHistory draws training loss and validation accuracy by epoch, side
// by side, into a PNG.
func plotHistory(path string, h []Epoch) error {
	if len(h) == 0 {
		return nil
	}
	// A diverging run's values (NaN, ±Inf, 4e22) would make the chart
	// library fail or panic: non-finite values are left out and extreme
	// ones clipped, and the chart says so.
	loss, top1, top5 := make(plotter.XYs, 0, len(h)), make(plotter.XYs, 0, len(h)), make(plotter.XYs, 0, len(h))
	var skipped, clipped int
	for _, e := range h {
		x := float64(e.Epoch)
		switch v := e.TrainLoss; {
		case math.IsNaN(v) || math.IsInf(v, 0):
			skipped++
		case math.Abs(v) > plotMaxLoss:
			clipped++
			loss = append(loss, plotter.XY{X: x, Y: math.Copysign(plotMaxLoss, v)})
		default:
			loss = append(loss, plotter.XY{X: x, Y: v})
		}
		if e.Val.N > 0 {
			for _, a := range []struct {
				xys *plotter.XYs
				v   float64
			}{{&top1, e.Val.Top1}, {&top5, e.Val.Top5}} {
				if a.v >= 0 && a.v <= 1 { // false for NaN
					*a.xys = append(*a.xys, plotter.XY{X: x, Y: 100 * a.v})
				}
			}
		}
	}
	pl := plot.New()
	pl.Title.Text = "training loss"
	if skipped > 0 {
		pl.Title.Text += fmt.Sprintf(" (%d non-finite left out)", skipped)
	}
	pl.X.Label.Text = "epoch"
	pl.X.Tick.Marker = epochTicks{}
	pl.Y.Label.Text = "mean cross-entropy"
	if clipped > 0 {
		pl.Y.Label.Text += fmt.Sprintf(" (clipped at ±%g)", plotMaxLoss)
	}
	if len(loss) > 0 {
		if err := addLine(pl, "train", loss, color.RGBA{0x1f, 0x77, 0xb4, 0xff}); err != nil {
			return err
		}
	}
	pl.Legend.Top = true
	pa := plot.New()
	pa.Title.Text = "validation accuracy"
	pa.X.Label.Text = "epoch"
	pa.X.Tick.Marker = epochTicks{}
	pa.Y.Label.Text = "%"
	pa.Y.Max = 100
	if len(top1) > 0 {
		if err := addLine(pa, "top-1", top1, color.RGBA{0xd6, 0x27, 0x28, 0xff}); err != nil {
			return err
		}
		pa.Legend.Top, pa.Legend.Left = false, false
	}
	if len(top5) > 0 {
		if err := addLine(pa, "top-5", top5, color.RGBA{0x2c, 0xa0, 0x2c, 0xff}); err != nil {
			return err
		}
	}
	img := vgimg.New(10*vg.Inch, 4*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	cs := plot.Align([][]*plot.Plot{{pl, pa}}, tiles, dc)
	pl.Draw(cs[0][0])
	pa.Draw(cs[0][1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("train: plot %s: %w", path, err)
	}
	return f.Close()
}

func addLine(p *plot.Plot, name string, xys plotter.XYs, c color.Color) error {
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color, pts.Color = c, c
	p.Add(l, pts)
	p.Legend.Add(name, l, pts)
	return nil
}

// epochTicks marks whole epochs on the x axis (gonum's default ticker puts
// labels at 1.5, 2.5, … on short runs): every epoch up to 10, then a
// round step (2, 5, 10, 20, …) that leaves at most about 10 labels.
type epochTicks struct{}

// Ticks implements plot.Ticker.
func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	step := epochStep(last - first)
	var ticks []plot.Tick
	for e := first; e <= last; e++ {
		if e%step == 0 || step == 1 {
			ticks = append(ticks, plot.Tick{Value: float64(e), Label: strconv.Itoa(e)})
		}
	}
	return ticks
}

// epochStep is the smallest of 1, 2, 5, 10, 20, 50, … epochs between
// labels that puts at most 10 steps in span.
func epochStep(span int) int {
	for m := 1; ; m *= 10 {
		for _, s := range []int{1, 2, 5} {
			if span <= 10*s*m {
				return s * m
			}
		}
	}
}
