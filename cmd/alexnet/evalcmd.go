package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/data"
	"github.com/dnngo/dnngo/data/augment"
	"github.com/dnngo/dnngo/train"
)

func runEval(args []string, stdout, stderr io.Writer) (err error) {
	fs := flags("eval", "--checkpoint FILE [flags]", "Report a checkpoint's top-1 and top-5 error on a dataset's test images, with the centre crop or the paper's ten crops", stdout)
	d := dataFlags(fs)
	be := backendFlags(fs)
	ckpt := fs.String("checkpoint", "", "checkpoint written by alexnet train (required)")
	crop := fs.String("crop", "center", "center, or ten (the four corners and the centre, and their mirror images, probabilities averaged)")
	batch := fs.Int("batch", 32, "images per batch")
	dist := distFlag(fs)
	pf := preprocessFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *ckpt == "":
		return usageError{"--checkpoint is required"}
	case *crop != "center" && *crop != "ten":
		return usageError{fmt.Sprintf("--crop %q: want center or ten", *crop)}
	case *batch < 1:
		return usageError{fmt.Sprintf("--batch %d: want ≥ 1", *batch)}
	}
	if err := d.check(); err != nil {
		return err
	}
	comm, stdout, err := openDist(*dist, *batch, stdout)
	if err != nil {
		return err
	}
	defer func() { endDist(comm, err) }()
	testSet, err := d.openTest()
	if err != nil {
		return err
	}
	b, err := be.open()
	if err != nil {
		return err
	}
	defer b.Close()
	net, err := train.LoadShared(comm, b, *ckpt)
	if err != nil {
		return err
	}
	defer net.Close()
	pre, _, err := pf.of(net, *ckpt, stderr)
	if err != nil {
		return err
	}
	if net.Config().Classes != len(testSet.Classes()) {
		return fmt.Errorf("the checkpoint's network has %d classes, the dataset %d", net.Config().Classes, len(testSet.Classes()))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	info := b.Info()
	fmt.Fprintf(stdout, "evaluating %s (%s, %d classes) on %s: %d test images, %s crop, batch %d; backend %s (%s)\n",
		*ckpt, net.Config().Name, net.Config().Classes, d.name(), testSet.Len(), *crop, *batch, info.Name, info.Device)
	ev, err := train.EvaluateShard(ctx, comm, net, testSet, pre.Eval(*crop == "ten"), *batch/comm.Size(), d.workers, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s on %s, %s crop, %d images: top-1 error %.2f%% (accuracy %.2f%%), top-5 error %.2f%%, loss %.4f\n",
		*ckpt, d.name(), *crop, ev.N, 100*(1-ev.Top1), 100*ev.Top1, 100*(1-ev.Top5), ev.Loss)
	if ev.NonFinite > 0 {
		fmt.Fprintf(stdout, "warning: %d of %d images had non-finite probabilities (the network has diverged); they count as wrong\n", ev.NonFinite, ev.N)
	}
	return nil
}

func runClassify(args []string, stdout, stderr io.Writer) error {
	fs := flags("classify", "--checkpoint FILE [flags] IMAGE…", "Print the five most probable classes of each image, with their probabilities", stdout)
	be := backendFlags(fs)
	ckpt := fs.String("checkpoint", "", "checkpoint written by alexnet train (required)")
	labelsFile := fs.String("labels", "", "class names, one per line (default: those saved in the checkpoint)")
	top := fs.Int("top", 5, "how many classes to print per image")
	pf := preprocessFlags(fs)
	images, err := parseInterspersed(fs, args) // flags may follow the images
	if err != nil {
		return err
	}
	switch {
	case *ckpt == "":
		return usageError{"--checkpoint is required"}
	case len(images) == 0:
		return usageError{"no images given"}
	case *top < 1:
		return usageError{fmt.Sprintf("--top %d: want ≥ 1", *top)}
	}
	b, err := be.open()
	if err != nil {
		return err
	}
	defer b.Close()
	net, err := alexnet.Load(b, *ckpt)
	if err != nil {
		return err
	}
	defer net.Close()
	pre, labels, err := pf.of(net, *ckpt, stderr)
	if err != nil {
		return err
	}
	if *labelsFile != "" {
		raw, err := os.ReadFile(*labelsFile)
		if err != nil {
			return err
		}
		labels = strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		if len(labels) != net.Config().Classes {
			return fmt.Errorf("--labels %s has %d names, the network %d classes", *labelsFile, len(labels), net.Config().Classes)
		}
	}
	pipe := pre.Eval(false)
	x := make([]float32, net.InputSize())
	var scratch augment.Scratch
	for _, path := range images {
		img, err := data.DecodeImage(path)
		if err != nil {
			return err
		}
		if err := pipe.Process(x, img, nil, &scratch); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		probs, err := net.Predict(x)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s:\n", path)
		for _, p := range alexnet.TopK(probs, min(*top, len(probs))) {
			name := fmt.Sprintf("class %d", p.Class)
			if labels != nil {
				name = labels[p.Class]
			}
			fmt.Fprintf(stdout, "  %6.2f%%  %s\n", 100*p.Prob, name)
		}
	}
	return nil
}

// preprocessChoice holds the flags that say how to feed a checkpoint that
// has no "preprocess" note (one saved by a program with net.Save alone).
type preprocessChoice struct {
	resize *int
	mean   *string
}

func preprocessFlags(fs *flag.FlagSet) *preprocessChoice {
	return &preprocessChoice{
		resize: fs.Int("resize", 0, "for a checkpoint without a \"preprocess\" note: the shorter side images are resized to before the centre crop (0: 256/227 of the network's input, as alexnet train does)"),
		mean:   fs.String("mean", "0,0,0", "for a checkpoint without a \"preprocess\" note: the per-channel mean R,G,B subtracted from pixels in [0, 1]"),
	}
}

// of returns the checkpoint's preprocessing and class names: its notes,
// or, for a checkpoint without them, the flags' values with a warning.
func (c *preprocessChoice) of(net *alexnet.Network, path string, stderr io.Writer) (train.Preprocess, []string, error) {
	pre, labels, err := train.Described(net)
	if !errors.Is(err, train.ErrNoPreprocess) {
		return pre, labels, err
	}
	var mean [3]float32
	parts := strings.Split(*c.mean, ",")
	if len(parts) != 3 {
		return pre, nil, usageError{fmt.Sprintf("--mean %q: want three numbers R,G,B", *c.mean)}
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return pre, nil, usageError{fmt.Sprintf("--mean %q: want three numbers R,G,B", *c.mean)}
		}
		mean[i] = float32(v)
	}
	pre = train.DefaultPreprocess(net.Config(), mean)
	if *c.resize != 0 {
		pre.Resize = *c.resize
	}
	if pre.Resize < pre.Crop {
		return pre, nil, usageError{fmt.Sprintf("--resize %d: want ≥ the network's input size %d", pre.Resize, pre.Crop)}
	}
	fmt.Fprintf(stderr, "warning: %s has no %q note (saved without train.Describe): using --resize %d --mean %s "+
		"(shorter side to %d, centre %d×%d crop, pixels in [0, 1] minus the mean); pass the values it was trained with if they differ\n",
		path, train.NotePreprocess, pre.Resize, *c.mean, pre.Resize, pre.Crop, pre.Crop)
	return pre, nil, nil
}
