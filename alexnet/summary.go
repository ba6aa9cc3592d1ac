package alexnet

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dnngo/dnngo/backend"
)

// LayerSummary is one row of a Summary: a layer's output per image, its
// activation memory under the spec's accounting, its parameters and its
// forward multiply-adds per image.
type LayerSummary struct {
	Name string // conv1, pool1, …, fc8
	// Op describes the layer: "conv 11x11/4 pad 0, 96 filters + ReLU + LRN".
	Op string
	// Output is the output shape per image: [C, H, W] or [F].
	Output backend.Shape
	// Size is the output's spatial side (0 for the FC layers).
	Size int
	// ActFactor is how many tensors of the output's size the spec counts
	// for the layer: 3 for conv+ReLU+LRN and FC+ReLU+dropout, 2 for
	// conv+ReLU, 1 for max pooling and for fc8's logits.
	ActFactor int
	// Activations is Output's element count times ActFactor.
	Activations int64
	// WeightShape is the weight's shape (nil for pooling); Weights its
	// element count, Biases the bias's.
	WeightShape     backend.Shape
	Weights, Biases int64
	// MACs is the forward multiply-adds per image.
	MACs int64
}

// Summary is the layer table of a config, computed from it.
type Summary struct {
	Config Config
	Input  backend.Shape // [C, H, W]
	Layers []LayerSummary
	// Totals.
	Weights, Biases int64
	Activations     int64 // Σ Layers[i].Activations (the input image not counted)
	MACs            int64 // forward multiply-adds per image; FLOPs are twice this
}

// SpecActivations is the activation total that our spec states for Seed
// ("2.24 million"). Summary counts its own total from the config and prints
// this next to it; see the package doc for why they differ.
const SpecActivations = 2.24e6

// Summary computes the layer table of the config.
func (c Config) Summary() (Summary, error) {
	layers, err := c.layers()
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Config: c, Input: backend.Shape{c.Channels, c.Input, c.Input}}
	for i, l := range layers {
		row := LayerSummary{Name: l.name, Output: l.out[1:].Clone(), WeightShape: l.wshape.Clone(),
			Weights: int64(l.wshape.Numel()), Biases: int64(l.wshape[0]), MACs: l.w.FLOPs() / 2}
		switch d := l.w.(type) {
		case backend.ConvDesc:
			row.Size = l.out[2]
			row.Op = fmt.Sprintf("conv %dx%d/%d pad %d, %d filters", d.KernelH, d.KernelW, d.StrideH, d.PadH, d.Out)
			if d.Groups > 1 {
				row.Op += fmt.Sprintf(" in %d groups", d.Groups)
			}
			row.Op += " + ReLU"
			row.ActFactor = 2
			if l.lrn != nil {
				row.Op += " + LRN"
				row.ActFactor = 3
			}
		case backend.LinearDesc:
			row.Op = fmt.Sprintf("FC %d→%d", d.In(), d.Out)
			row.ActFactor = 1
			if l.relu {
				row.Op += " + ReLU"
				row.ActFactor = 2
			}
			if l.dropout {
				row.Op += fmt.Sprintf(" + dropout %g", c.Dropout)
				row.ActFactor = 3
			} else if i < 7 {
				row.Op += " (no dropout)"
			}
			if i == 7 {
				row.Op += " (logits)"
			}
		}
		row.Activations = int64(row.Output.Numel()) * int64(row.ActFactor)
		s.Layers = append(s.Layers, row)
		if l.pool != nil {
			po := l.pool.OutputShape()
			p := LayerSummary{Name: fmt.Sprintf("pool%d", i+1), Output: po[1:].Clone(), Size: po[2], ActFactor: 1,
				Op: fmt.Sprintf("maxpool %dx%d/%d", l.pool.KernelH, l.pool.KernelW, l.pool.StrideH)}
			p.Activations = int64(p.Output.Numel())
			s.Layers = append(s.Layers, p)
		}
	}
	for _, r := range s.Layers {
		s.Weights += r.Weights
		s.Biases += r.Biases
		s.Activations += r.Activations
		s.MACs += r.MACs
	}
	return s, nil
}

// Summary is the layer table of the network's config.
func (n *Network) Summary() Summary {
	s, _ := n.cfg.Summary() // the config was validated by New
	return s
}

// String prints the summary of the network's config.
func (n *Network) String() string { return n.Summary().String() }

// String prints the layer table: per layer its output, activation memory
// (with the factor of the spec's accounting), weights and forward
// multiply-adds per image, then the totals.
func (s Summary) String() string {
	var b strings.Builder
	c := s.Config
	fmt.Fprintf(&b, "AlexNet %q: input %s, %d classes, LRN n=%d α=%g β=%g k=%g (α/n convention), dropout %g, init %v, SGD %v\n",
		c.Name, dims(s.Input), c.Classes, c.LRN.Size, c.LRN.Alpha, c.LRN.Beta, c.LRN.K, c.Dropout, c.Init, c.SGD.Rule)
	opWidth := 44 // the op column fits the longest op (the paper's "in 2 groups" ones are longer)
	for _, r := range s.Layers {
		opWidth = max(opWidth, utf8.RuneCountInString(r.Op))
	}
	row := func(cols ...any) {
		cols = append(cols[:1:1], append([]any{opWidth}, cols[1:]...)...)
		line := fmt.Sprintf("%-6s %-*s %-12s %4s %15s  %-14s %12s %8s %15s", cols...)
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	row("layer", "op", "output", "size", "activations", "weight shape", "weights", "biases", "MACs/image")
	row("input", "", dims(s.Input), fmt.Sprint(s.Input[1]), "", "", "", "", "")
	for _, r := range s.Layers {
		size, wshape, weights, biases, macs := "", "", "", "", ""
		if r.Size > 0 {
			size = fmt.Sprint(r.Size)
		}
		if r.WeightShape != nil {
			wshape = weightDims(r)
			weights, biases = group(r.Weights), group(r.Biases)
			macs = group(r.MACs)
		}
		act := fmt.Sprintf("%s ×%d", group(int64(r.Output.Numel())), r.ActFactor)
		row(r.Name, r.Op, dims(r.Output), size, act, wshape, weights, biases, macs)
	}
	fmt.Fprintf(&b, "total: %s weights (%.2f M), %s with biases; forward %s multiply-adds per image (%.3f G MACs, %.2f GFLOP)\n",
		group(s.Weights), float64(s.Weights)/1e6, group(s.Weights+s.Biases), group(s.MACs), float64(s.MACs)/1e9, 2*float64(s.MACs)/1e9)
	fmt.Fprintf(&b, "activations: %s values per image (%.2f M, %.1f MB as float32; the %s-value input not counted)",
		group(s.Activations), float64(s.Activations)/1e6, 4*float64(s.Activations)/1e6, group(int64(s.Input.Numel())))
	if sameShapes(c, SeedConfig()) {
		fmt.Fprintf(&b, "\nnote: the spec states %.2f M; its ×3 (conv+ReLU+LRN), ×2 (conv+ReLU), ×3 (FC+ReLU+dropout) accounting "+
			"with the pools and fc8 counted once gives %.2f M here, and no way of counting the pools, fc8 or the input reaches %.2f M",
			SpecActivations/1e6, float64(s.Activations)/1e6, SpecActivations/1e6)
	}
	b.WriteByte('\n')
	return b.String()
}

func dims(s backend.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "×")
}

// weightDims writes a weight shape the way the spec does: kh×kw×in×out for
// convolutions, out×in for FC layers.
func weightDims(r LayerSummary) string {
	w := r.WeightShape
	if len(w) == 4 {
		return fmt.Sprintf("%d×%d×%d×%d", w[2], w[3], w[1], w[0])
	}
	return fmt.Sprintf("%d×%d", w[0], w[1])
}

// group formats n with thousands separators: 62,367,776.
func group(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// sameShapes reports whether a and b have the same layer sizes, so the
// same activation counts.
func sameShapes(a, b Config) bool {
	return a.Input == b.Input && a.Channels == b.Channels && a.Classes == b.Classes && a.Conv == b.Conv &&
		a.Hidden == b.Hidden && a.Pool == b.Pool && (a.Dropout > 0) == (b.Dropout > 0)
}
