// Package train is dnngo's training loop: AlexNet on a dataset, the
// paper's way — SGD with momentum and weight decay over augmented batches
// prepared ahead by package data, validation top-1/top-5 after every epoch,
// the learning rate divided by 10 when validation error stops improving,
// a checkpoint after every epoch and when interrupted, a CSV log and a
// chart. It is what "alexnet train" and "alexnet eval" run.
//
// Runs are reproducible: the data order and augmentation are functions of
// (seed, epoch, item), dropout of (seed, step), and the cpu backend's
// arithmetic does not depend on scheduling. So training N epochs in one go
// and training N−k, stopping, and resuming from the checkpoint for k more
// end with the same bits on the cpu backend.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/collective"
	"github.com/dnngo/dnngo/data"
	"github.com/dnngo/dnngo/data/augment"
	"github.com/dnngo/dnngo/safetensors"
)

// ErrInterrupted is returned when the context is cancelled (Ctrl-C): the
// step in progress was finished and the checkpoint saved.
var ErrInterrupted = errors.New("training interrupted")

// Options describe a training run.
type Options struct {
	// Net is the network: new (alexnet.New) or loaded from a checkpoint to
	// resume (alexnet.Load): training continues from Net.Steps().
	Net *alexnet.Network
	// Train and Test are the datasets; Test may be nil (no validation,
	// and then no learning-rate schedule).
	Train, Test data.Dataset
	// TrainPipe and TestPipe turn images into network input.
	TrainPipe, TestPipe *augment.Pipeline
	// Epochs is the epoch to train up to (counting any done before a
	// resume); Batch the batch size; Workers the loader goroutines (0:
	// GOMAXPROCS).
	Epochs, Batch, Workers int
	// Seed fixes the data order and augmentation.
	Seed uint64
	// Checkpoint, if set, is written (atomically) after every epoch and
	// when interrupted. While Run trains, it holds the checkpoint's lock
	// (LockCheckpoint): a second run on the same checkpoint fails at once.
	// Before training it removes the temporary files of saves that were
	// killed and checks that the checkpoint, CSV and Plot can be written.
	Checkpoint string
	// CSV, if set, receives one line per epoch (rewritten every epoch, the
	// epochs before a resume kept). Plot, if set, is a PNG of training loss
	// and validation accuracy by epoch, drawn after every epoch.
	CSV, Plot string
	// Log receives one line per epoch and the progress; nil discards them.
	Log io.Writer
	// Bar draws a progress bar per epoch on Log (a terminal); otherwise
	// progress is a line every tenth of an epoch.
	Bar bool
	// Comm, if set with more than one rank, makes the run data-parallel
	// (see dist.go): Batch is then the global batch, split between the
	// ranks, and only rank 0 logs and writes files. nil: one process.
	Comm collective.Comm
	// WarmupSteps > 0 ramps the learning rate linearly over the first
	// WarmupSteps optimiser steps, from WarmupFrom up to the network's
	// configured rate (Config.SGD.LR): the gradual warm-up of the linear
	// scaling rule (Goyal et al. 2017) for large global batches. See
	// warmup.go. 0: no warm-up.
	WarmupSteps int
	WarmupFrom  float32
}

// Epoch is one epoch's record.
type Epoch struct {
	Epoch      int     // from 1
	Steps      uint64  // optimiser steps done at its end
	TrainLoss  float64 // mean training loss over the epoch's batches
	ImagesPerS float64 // training throughput, data loading included
	DataWait   float64 // fraction of the epoch spent waiting for data
	LR         float32 // the learning rate the epoch trained with
	Val        Eval    // validation (zero when there is no test set)
	Seconds    float64 // wall time of training and validation
}

// Eval is a model's score on a dataset.
type Eval struct {
	N    int     // images scored
	Loss float64 // mean cross-entropy
	Top1 float64 // accuracy: the label is the most probable class
	Top5 float64 // accuracy: the label is among the five most probable
	// NonFinite counts the images whose class probabilities were not all
	// finite (a diverged network): they count as wrong, and Loss is NaN.
	NonFinite int
}

// Run trains up to o.Epochs and returns every epoch's record (those before
// a resume read back from the CSV log where there is one).
//
// A diverging run stops without saving: at the first non-finite loss, or,
// at the end of an epoch before validation and the checkpoint, when a
// parameter is not finite (alexnet.Network.CheckFinite; some backends hide
// NaN weights from the loss). The error names the step and says whether a
// checkpoint exists (it is then the last good one: Save never writes
// non-finite values).
func Run(ctx context.Context, o Options) ([]Epoch, error) {
	if o.Net == nil || o.Train == nil || o.TrainPipe == nil {
		return nil, errors.New("train: Net, Train and TrainPipe are required")
	}
	if o.Epochs < 1 || o.Batch < 1 {
		return nil, fmt.Errorf("train: %d epochs of batch %d: want both ≥ 1", o.Epochs, o.Batch)
	}
	if o.Test != nil && o.TestPipe == nil {
		return nil, errors.New("train: a Test set needs a TestPipe")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	local, err := o.distSetup()
	if err != nil {
		return nil, err
	}
	// Ranks other than 0 write nothing (distSetup cleared their paths).
	if o.Checkpoint != "" {
		unlock, err := LockCheckpoint(o.Checkpoint)
		if err != nil {
			return nil, err
		}
		defer unlock()
		removed, err := safetensors.RemoveStaleTemps(o.Checkpoint)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if len(removed) > 0 {
			fmt.Fprintf(o.Log, "removed %d stale temporary files of %s (left by a save that was killed)\n", len(removed), o.Checkpoint)
		}
	}
	// Fail now, not after an epoch, when an output cannot be written.
	for _, path := range []string{o.Checkpoint, o.CSV, o.Plot} {
		if path != "" {
			if err := safetensors.CheckWritable(path); err != nil {
				return nil, fmt.Errorf("train: %w", err)
			}
		}
	}
	loader, err := data.NewLoader(data.Config{Dataset: o.Train, Pipeline: o.TrainPipe, BatchSize: local, Workers: o.Workers,
		Shuffle: true, Seed: o.Seed, DropLast: true, Shards: o.Comm.Size(), Shard: o.Comm.Rank()})
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	if err := checkShape(o.Net, loader.Shape(), local); err != nil {
		return nil, err
	}
	bpe := loader.Batches() // ≥ 1: the loader refuses a dataset with no full batch
	steps := o.Net.Steps()
	start, startBatch := int(steps/uint64(bpe)), int(steps%uint64(bpe))
	history, err := readHistory(o.CSV, start, steps == 0)
	if err != nil {
		return nil, err
	}
	if start >= o.Epochs {
		return history, fmt.Errorf("train: the network has done %d steps (%d epochs of %d batches): nothing left up to epoch %d", steps, start, bpe, o.Epochs)
	}
	if steps > 0 {
		fmt.Fprintf(o.Log, "resuming at epoch %d, batch %d/%d (step %d, learning rate %g)\n", start+1, startBatch, bpe, steps, o.Net.Optimizer().LR())
	}
	for e := start; e < o.Epochs; e++ {
		rec, err := trainEpoch(ctx, o, loader, e, startBatch, e == start)
		startBatch = 0
		if err != nil {
			return history, err
		}
		// A finite loss does not prove finite weights (oneDNN's fused ReLU
		// and max-pool turn NaN into numbers): check them before they are
		// validated or saved. One download of the parameters per epoch.
		if err := o.Net.CheckFinite(); err != nil {
			return history, fmt.Errorf("train: step %d (end of epoch %d): %w; stopped without saving: %s (try a lower --lr)",
				o.Net.Steps(), e+1, err, o.kept())
		}
		if o.Test != nil {
			if rec.Val, err = o.evaluate(ctx, local); err != nil {
				return history, fmt.Errorf("train: epoch %d: validation: %w", e+1, err)
			}
			// The paper's schedule: ÷10 when validation error stops improving.
			if _, err := o.Net.Optimizer().Observe(1 - rec.Val.Top1); err != nil {
				return history, err
			}
		}
		rec.Seconds = time.Since(rec.started).Seconds()
		history = append(history, rec.Epoch)
		fmt.Fprintln(o.Log, rec.Epoch.String(o.Epochs))
		if err := o.save(history); err != nil {
			return history, err
		}
	}
	return history, nil
}

// String formats the epoch's log line.
func (e Epoch) String(of int) string {
	s := fmt.Sprintf("epoch %d/%d: train loss %.4f, %.1f images/s (%.0f%% waiting for data), lr %g", e.Epoch, of, e.TrainLoss,
		e.ImagesPerS, 100*e.DataWait, e.LR)
	if e.Val.N > 0 {
		s += fmt.Sprintf("; validation loss %.4f, top-1 %.2f%%, top-5 %.2f%% (%d images)", e.Val.Loss, 100*e.Val.Top1, 100*e.Val.Top5, e.Val.N)
		if e.Val.NonFinite > 0 {
			s += fmt.Sprintf(" — %d with non-finite probabilities, counted as wrong", e.Val.NonFinite)
		}
	}
	return s + fmt.Sprintf(", %.0f s", e.Seconds)
}

type epochRun struct {
	Epoch
	started time.Time
}

// trainEpoch trains epoch e (from 0) from batch first on; with estimate
// it prints how long the run will take once the first batches are timed.
func trainEpoch(ctx context.Context, o Options, loader *data.Loader, e, first int, estimate bool) (*epochRun, error) {
	if err := o.warmup(); err != nil { // so that the epoch's LR is that of its first step
		return nil, err
	}
	rec := &epochRun{Epoch: Epoch{Epoch: e + 1, LR: o.Net.Optimizer().LR()}, started: time.Now()}
	ep, err := loader.EpochFrom(ctx, e, first)
	if err != nil {
		return nil, err
	}
	defer ep.Close()
	bpe := loader.Batches()
	bar := newProgress(o.Log, o.Bar, e+1, o.Epochs, bpe, first)
	// An epoch interrupted and resumed continues the sums its first part
	// saved (notePartial), so its record equals an uninterrupted epoch's.
	part := partialFrom(o.Net, e+1, first)
	lossSum, counted, images := part.LossSum, part.Batches, part.Images
	var n int // batches trained by this call
	t0 := time.Now()
	var t1 time.Time // end of the first batch
	wait := time.Duration(part.WaitS * float64(time.Second))
	before := time.Duration(part.Seconds * float64(time.Second)) // time the epoch's first part took
	rec.started = rec.started.Add(-before)
	for {
		b, err := ep.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, o.interrupted(e, first+n, bpe, partial{Epoch: e + 1, Batch: first + n, LossSum: lossSum,
					Batches: counted, Images: images, Seconds: (before + time.Since(t0)).Seconds(), WaitS: wait.Seconds()})
			}
			return nil, fmt.Errorf("train: epoch %d: %w", e+1, err)
		}
		wait += b.Wait
		if err := o.warmup(); err != nil {
			return nil, err
		}
		loss, err := o.Net.DistTrainStep(o.Comm, b.Images, b.Labels)
		if err != nil {
			return nil, fmt.Errorf("train: epoch %d, batch %d: %w", e+1, b.Index+1, err)
		}
		if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
			return nil, fmt.Errorf("train: step %d (epoch %d, batch %d): the loss is %v; stopped without saving: %s (try a lower --lr)",
				o.Net.Steps(), e+1, b.Index+1, loss, o.kept())
		}
		if n == 0 {
			t1 = time.Now() // the first batch plans every layer: the estimate leaves it out
		}
		if n == estimateBatches && estimate {
			left := (o.Epochs-e)*bpe - first - n - 1
			fmt.Fprintln(o.Log, estimateLine(time.Since(t1)/time.Duration(n), n, left, bpe))
		}
		lossSum += float64(loss)
		n++
		counted++
		images += b.N * o.Comm.Size()
		el := (before + time.Since(t0)).Seconds()
		bar.update(first+n, float64(loss), lossSum/float64(counted), float64(images)/el)
		if ctx.Err() != nil {
			bar.done()
			return nil, o.interrupted(e, first+n, bpe, partial{Epoch: e + 1, Batch: first + n, LossSum: lossSum,
				Batches: counted, Images: images, Seconds: el, WaitS: wait.Seconds()})
		}
	}
	bar.done()
	if n == 0 {
		return nil, fmt.Errorf("train: epoch %d had no batches", e+1)
	}
	if err := o.Net.SetNote(notePartial, ""); err != nil { // the epoch is whole again
		return nil, err
	}
	el := before + time.Since(t0)
	rec.Steps = o.Net.Steps()
	rec.TrainLoss = lossSum / float64(counted)
	rec.ImagesPerS = float64(images) / el.Seconds()
	rec.DataWait = wait.Seconds() / el.Seconds()
	return rec, nil
}

// kept says what became of the checkpoint when a run stops without saving:
// only a file that exists can be called intact (Save never writes
// non-finite values, and replaces the file atomically).
func (o Options) kept() string {
	if o.Checkpoint == "" {
		return "no checkpoint was asked for"
	}
	if _, err := os.Stat(o.Checkpoint); err != nil {
		return fmt.Sprintf("no checkpoint was written yet (%s does not exist)", o.Checkpoint)
	}
	return fmt.Sprintf("the last checkpoint %s is intact", o.Checkpoint)
}

// estimateBatches is how many batches after the first are timed for the
// run's time estimate.
const estimateBatches = 3

// estimateLine says how long the run will take at perBatch (measured over
// the given number of batches) for the batches left (bpe per epoch).
func estimateLine(perBatch time.Duration, measured, left, bpe int) string {
	round := func(d time.Duration) time.Duration {
		switch {
		case d >= time.Hour:
			return d.Round(time.Minute)
		case d >= time.Minute:
			return d.Round(time.Second)
		}
		return d.Round(100 * time.Millisecond)
	}
	return fmt.Sprintf("time estimate: %.3g s per batch (measured on %d batches) → %v per epoch, %v for the %.3g epochs left (validation not included)",
		perBatch.Seconds(), measured, round(perBatch*time.Duration(bpe)), round(perBatch*time.Duration(left)), float64(left)/float64(bpe))
}

// notePartial is the checkpoint note in which an interrupted run keeps the
// sums of the epoch it stopped in, so that the resumed run's record of
// that epoch (training loss, images/s, seconds) covers the whole epoch.
const notePartial = "train.partial_epoch"

// partial is the part of an epoch done before an interruption.
type partial struct {
	Epoch   int     `json:"epoch"`    // from 1
	Batch   int     `json:"batch"`    // batches done (the next to train)
	LossSum float64 `json:"loss_sum"` // Σ batch losses, exact (JSON keeps every bit of a float64)
	Batches int     `json:"batches"`  // batches in LossSum
	Images  int     `json:"images"`
	Seconds float64 `json:"seconds"` // training time, data waits included
	WaitS   float64 `json:"wait_s"`  // time spent waiting for data
}

// partialFrom returns the saved part of epoch (from 1) when the network
// resumes it at batch first; zero otherwise (a fresh epoch, or a
// checkpoint written before partial epochs were kept: the record then
// covers only the batches trained after the resume).
func partialFrom(net *alexnet.Network, epoch, first int) partial {
	var p partial
	if first == 0 || json.Unmarshal([]byte(net.Note(notePartial)), &p) != nil || p.Epoch != epoch || p.Batch != first {
		return partial{}
	}
	return p
}

// interrupted saves the checkpoint after the last finished step, with the
// epoch's part done so far.
func (o Options) interrupted(e, batch, bpe int, done partial) error {
	if o.Checkpoint == "" {
		return fmt.Errorf("%w at epoch %d, batch %d/%d (no checkpoint asked for)", ErrInterrupted, e+1, batch, bpe)
	}
	pj, err := json.Marshal(done)
	if err == nil {
		err = o.Net.SetNote(notePartial, string(pj))
	}
	if err == nil {
		err = o.Net.Save(o.Checkpoint)
	}
	if err != nil {
		return fmt.Errorf("%w at epoch %d, batch %d/%d, and saving the checkpoint failed: %v", ErrInterrupted, e+1, batch, bpe, err)
	}
	return fmt.Errorf("%w at epoch %d, batch %d/%d (step %d): checkpoint saved to %s; --resume continues from there",
		ErrInterrupted, e+1, batch, bpe, o.Net.Steps(), o.Checkpoint)
}

// save writes the checkpoint, the CSV log and the chart.
func (o Options) save(history []Epoch) error {
	if o.Checkpoint != "" {
		if err := o.Net.Save(o.Checkpoint); err != nil {
			return err
		}
	}
	if o.CSV != "" {
		if err := writeHistory(o.CSV, history); err != nil {
			return err
		}
	}
	if o.Plot != "" {
		if err := plotHistory(o.Plot, history); err != nil {
			return err
		}
	}
	return nil
}

// checkShape checks that the loader's batches fit the network.
func checkShape(net *alexnet.Network, shape []int, batch int) error {
	cfg := net.Config()
	want := []int{batch, cfg.Channels, cfg.Input, cfg.Input}
	for i := range want {
		if shape[i]%want[i] != 0 || (i > 0 && shape[i] != want[i]) {
			return fmt.Errorf("train: the pipeline makes batches of %v, the network takes %v", shape, want)
		}
	}
	return nil
}
