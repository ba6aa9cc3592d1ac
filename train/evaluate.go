package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/data"
	"github.com/dnngo/dnngo/data/augment"
)

// Evaluate scores net on ds: every image once, in order, through pipe.
// With a multi-view pipeline (the paper's ten crops) an image's class
// probabilities are the mean over its views. An image whose probabilities
// are not all finite counts as wrong in top-1 and top-5, is counted in
// Eval.NonFinite and makes the loss NaN.
func Evaluate(ctx context.Context, net *alexnet.Network, ds data.Dataset, pipe *augment.Pipeline, batch, workers int) (Eval, error) {
	return EvaluateLogged(ctx, net, ds, pipe, batch, workers, nil)
}

// EvaluateLogged is Evaluate that reports its progress on log (nil: none):
// a line every tenth of the images with the rate and the time left.
func EvaluateLogged(ctx context.Context, net *alexnet.Network, ds data.Dataset, pipe *augment.Pipeline, batch, workers int, log io.Writer) (Eval, error) {
	var ev Eval
	if batch < 1 {
		return ev, fmt.Errorf("train: evaluate: batch %d, want ≥ 1", batch)
	}
	loader, err := data.NewLoader(data.Config{Dataset: ds, Pipeline: pipe, BatchSize: batch, Workers: workers, PadLast: true})
	if err != nil {
		return ev, err
	}
	defer loader.Close()
	if err := checkShape(net, loader.Shape(), batch); err != nil {
		return ev, err
	}
	ep, err := loader.Epoch(ctx, 0)
	if err != nil {
		return ev, err
	}
	defer ep.Close()
	k := net.Config().Classes
	views := loader.Views()
	mean := make([]float64, k)
	total, next, start := ds.Len(), max(1, ds.Len()/10), time.Now()
	for {
		b, err := ep.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ev, err
		}
		probs, err := net.Predict(b.Images)
		if err != nil {
			return ev, err
		}
		for j := 0; j < b.N; j++ {
			clear(mean)
			for v := 0; v < views; v++ {
				for c, p := range probs[(j*views+v)*k : (j*views+v+1)*k] {
					mean[c] += float64(p) / float64(views)
				}
			}
			label := int(b.Labels[j])
			ev.N++
			if slices.ContainsFunc(mean, func(p float64) bool { return math.IsNaN(p) || math.IsInf(p, 0) }) {
				// A NaN compares false with everything: ranked, it would
				// count as correct. It is wrong, and reported.
				ev.NonFinite++
				ev.Loss = math.NaN()
				continue
			}
			ev.Loss -= math.Log(max(mean[label], 1e-30))
			rank := 0 // classes more probable than the label
			for c, p := range mean {
				if p > mean[label] || (p == mean[label] && c < label) {
					rank++
				}
			}
			if rank == 0 {
				ev.Top1++
			}
			if rank < 5 {
				ev.Top5++
			}
		}
		if log != nil && (ev.N >= next || ev.N == total) {
			next = ev.N + max(1, total/10)
			el := time.Since(start)
			rate := float64(ev.N) / el.Seconds()
			left := time.Duration(float64(total-ev.N) / rate * float64(time.Second))
			fmt.Fprintf(log, "evaluated %d/%d images (%.0f%%), %.1f images/s, %v elapsed, ~%v left\n", ev.N, total,
				100*float64(ev.N)/float64(total), rate, el.Round(time.Second), left.Round(time.Second))
		}
	}
	if ev.N == 0 {
		return ev, errors.New("train: evaluate: the dataset is empty")
	}
	ev.Loss /= float64(ev.N)
	ev.Top1 /= float64(ev.N)
	ev.Top5 /= float64(ev.N)
	return ev, nil
}
