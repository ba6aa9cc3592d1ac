package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/data"
	"github.com/dnngo/dnngo/data/augment"
	"github.com/dnngo/dnngo/train"
)

func runEval(args []string, stdout, _ io.Writer) error {
	fs := flags("eval", "--checkpoint FILE [flags]", "Report a checkpoint's top-1 and top-5 error on a dataset's test images, with the centre crop or the paper's ten crops", stdout)
	d := dataFlags(fs)
	be := backendFlags(fs)
	ckpt := fs.String("checkpoint", "", "checkpoint written by alexnet train (required)")
	crop := fs.String("crop", "center", "center, or ten (the four corners and the centre, and their mirror images, probabilities averaged)")
	batch := fs.Int("batch", 32, "images per batch")
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
	_, testSet, err := d.open()
	if err != nil {
		return err
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
	pre, _, err := train.Described(net)
	if err != nil {
		return err
	}
	if net.Config().Classes != len(testSet.Classes()) {
		return fmt.Errorf("the checkpoint's network has %d classes, the dataset %d", net.Config().Classes, len(testSet.Classes()))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ev, err := train.Evaluate(ctx, net, testSet, pre.Eval(*crop == "ten"), *batch, d.workers)
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

func runClassify(args []string, stdout, _ io.Writer) error {
	fs := flags("classify", "--checkpoint FILE [flags] IMAGE…", "Print the five most probable classes of each image, with their probabilities", stdout)
	be := backendFlags(fs)
	ckpt := fs.String("checkpoint", "", "checkpoint written by alexnet train (required)")
	labelsFile := fs.String("labels", "", "class names, one per line (default: those saved in the checkpoint)")
	top := fs.Int("top", 5, "how many classes to print per image")
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
	pre, labels, err := train.Described(net)
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
