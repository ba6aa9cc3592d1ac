package bench

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// WriteTable prints the results as an aligned table, then the skipped
// backends and how the peaks were obtained.
func (rep *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tmode\tbatch\timages/s\tms/batch\tspread\tGFLOP/s\t% peak\tvs fastest\t")
	for _, r := range rep.Results {
		pct := "–"
		if r.Peak > 0 {
			pct = fmt.Sprintf("%.1f%%", r.PctPeak)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%.1f–%.1f\t%.1f\t%s\t%.2fx\t\n", r.Backend, r.Mode, r.Batch, r.ImagesPerS,
			1e3*r.Median, 1e3*r.Min, 1e3*r.Max, r.GFLOPS, pct, r.Ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s, %s; median of the timed runs (spread: fastest–slowest ms/batch).\n", rep.Date, rep.Network)
	if rep.CPU != "" {
		fmt.Fprintf(w, "CPU: %s\n", rep.CPU)
	}
	notes := map[string]bool{}
	for _, r := range rep.Results {
		key := r.Backend + ": " + r.Device + " — " + r.Library + ", " + r.Precision + "; peak " + peakText(r)
		if !notes[key] {
			notes[key] = true
			fmt.Fprintln(w, key)
		}
	}
	if rep.ClockGHz > 0 {
		fmt.Fprintf(w, "CPU clock measured at the start: %.2f GHz\n", rep.ClockGHz)
	}
	rep.writeLoad(w)
	for _, s := range rep.Skipped {
		reason := s.Reason
		if !rep.Verbose {
			reason = Brief(reason)
		}
		fmt.Fprintf(w, "skipped %s: %s\n", s.Backend, reason)
	}
	return nil
}

// writeLoad says how much CPU other processes took during the runs and
// names the rows where that was above OtherCPUWarn.
func (rep *Report) writeLoad(w io.Writer) {
	most, known := 0.0, false
	var flagged []string
	for _, r := range rep.Results {
		if r.OtherCPU < 0 {
			continue
		}
		known = true
		most = max(most, r.OtherCPU)
		if r.OtherCPU > OtherCPUWarn {
			flagged = append(flagged, fmt.Sprintf("%s %s %d (%.1f%%)", r.Backend, r.Mode, r.Batch, r.OtherCPU))
		}
	}
	switch {
	case !known:
		return
	case len(flagged) > 0:
		fmt.Fprintf(w, "warning: other processes used more than %.0f%% of the CPUs during %s: those rows are low; rerun on a quiet machine\n",
			OtherCPUWarn, strings.Join(flagged, ", "))
	default:
		fmt.Fprintf(w, "other processes used at most %.1f%% of the CPUs during the runs\n", most)
	}
}

// Brief shortens a reason a backend does not open to its first clause
// (before the first "; " or line break) and, when something was cut, says
// that -v shows the rest: the cudnn loader's error lists every place it
// looked, hundreds of characters that belong in a verbose listing.
func Brief(reason string) string {
	short := firstLine(reason)
	if i := strings.Index(short, "; "); i >= 0 {
		short = short[:i]
	}
	if short != reason {
		short += " (-v: the details)"
	}
	return short
}

func peakText(r Result) string {
	if r.Peak == 0 {
		return r.PeakNote
	}
	return fmt.Sprintf("%.0f GFLOP/s (%s)", r.Peak, r.PeakNote)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// Plot draws images/s per (mode, batch) as grouped bars, one colour per
// backend, and writes it to path (the extension picks the format: .png,
// .svg, .pdf).
func (rep *Report) Plot(path string) error {
	if len(rep.Results) == 0 {
		return fmt.Errorf("bench: nothing to plot: no results")
	}
	var groups []string
	var backends []string
	val := map[[2]string]float64{}
	for _, r := range rep.Results {
		g := fmt.Sprintf("%s b%d", r.Mode, r.Batch)
		if !contains(groups, g) {
			groups = append(groups, g)
		}
		if !contains(backends, r.Backend) {
			backends = append(backends, r.Backend)
		}
		val[[2]string{r.Backend, g}] = r.ImagesPerS
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("dnngo AlexNet (%s), %s", rep.Network, rep.Date)
	p.Y.Label.Text = "images/s (higher is better)"
	p.Y.Min = 0
	w := vg.Points(min(60, 240/float64(len(backends)*len(groups)+1)+14))
	palette := []color.Color{
		color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff},
		color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, color.RGBA{0xd6, 0x27, 0x28, 0xff},
	}
	for i, be := range backends {
		vs := make(plotter.Values, len(groups))
		for j, g := range groups {
			vs[j] = val[[2]string{be, g}]
		}
		bars, err := plotter.NewBarChart(vs, w)
		if err != nil {
			return err
		}
		bars.LineStyle.Width = 0
		bars.Color = palette[i%len(palette)]
		bars.Offset = w * vg.Length(float64(i)-float64(len(backends)-1)/2)
		p.Add(bars)
		p.Legend.Add(be, bars)
		// The value above each bar.
		xys := make(plotter.XYs, len(groups))
		texts := make([]string, len(groups))
		for j := range groups {
			xys[j].X = float64(j)
			xys[j].Y = vs[j]
			if vs[j] > 0 {
				texts[j] = fmt.Sprintf("%.1f", vs[j])
			}
		}
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
		if err != nil {
			return err
		}
		for k := range labels.TextStyle {
			labels.TextStyle[k].XAlign = -0.5
			labels.TextStyle[k].YAlign = 0
		}
		labels.Offset.X = bars.Offset
		p.Add(labels)
	}
	p.Y.Max *= 1.12 // room for the labels
	p.Legend.Top = true
	p.NominalX(groups...)
	if err := p.Save(vg.Length(max(5, 1.6*float64(len(groups))))*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
