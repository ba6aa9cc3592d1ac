// Command train trains the small AlexNet (alexnet.Mini: 99×99 input) with
// the library directly — the loop "alexnet train" runs, in one screen — and
// saves a checkpoint that examples/infer, "alexnet eval" and "alexnet
// classify" read.
//
//	go run ./examples/train                       # 2 epochs of 6,000 images (41 s on 2 shared vCPUs)
//	go run ./examples/train -images 0 -epochs 10  # all 60,000
//
// It trains on Fashion-MNIST where the Debian package dataset-fashion-mnist
// has put it, and on synthetic images otherwise (it says which).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all" // registers every backend compiled in
	"github.com/dnngo/dnngo/data"
	"github.com/dnngo/dnngo/examples/internal/exdata"
	"github.com/dnngo/dnngo/train"
)

// options are the command's flags.
type options struct {
	dir           string // where Fashion-MNIST is
	images, tests int    // training and test images (0: all)
	epochs, batch int
	lr            float64
	out           string // the checkpoint
	backend       string // "": the fastest that opens
	log           io.Writer
}

func main() {
	var o options
	flag.StringVar(&o.dir, "data-dir", data.FashionMNISTDir, "where the Fashion-MNIST IDX files are")
	flag.IntVar(&o.images, "images", 6000, "training images (0: all)")
	flag.IntVar(&o.tests, "test-images", 2000, "test images (0: all)")
	flag.IntVar(&o.epochs, "epochs", 2, "epochs")
	flag.IntVar(&o.batch, "batch", 64, "batch size")
	flag.Float64Var(&o.lr, "lr", 0.01, "learning rate (halved after every epoch)")
	flag.StringVar(&o.out, "o", "mini.safetensors", "checkpoint to write")
	flag.StringVar(&o.backend, "backend", "", "backend (default: the fastest that opens here)")
	flag.Parse()
	o.log = os.Stdout
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.epochs < 1 || o.batch < 1 || !(o.lr > 0) {
		return fmt.Errorf("-epochs %d, -batch %d, -lr %g: want each > 0", o.epochs, o.batch, o.lr)
	}
	trainSet, testSet, source := exdata.Open(o.dir, o.images, o.tests)
	fmt.Fprintln(o.log, "data:", source)

	b, err := backend.Best()
	if o.backend != "" {
		b, err = backend.Open(o.backend)
	}
	if err != nil {
		return err
	}
	defer b.Close() // net.Close releases the network's tensors, not the backend

	cfg := alexnet.Mini()
	cfg.Classes = len(trainSet.Classes())
	cfg.SGD.LR = float32(o.lr)
	net, err := alexnet.New(b, cfg)
	if err != nil {
		return err
	}
	defer net.Close()
	fmt.Fprintf(o.log, "network: %s, %d classes, %d×%d input; backend %s\n", cfg.Name, net.Classes(), cfg.Input, cfg.Input, b.Info().Name)

	// The paper's recipe: colour statistics of the training images, then
	// random crops, flips and PCA colour noise with the mean subtracted.
	st, err := data.ComputeStats(ctx, trainSet, data.StatsOptions{MaxImages: 2000})
	if err != nil {
		return err
	}
	pre := train.DefaultPreprocess(cfg, st.PCA.MeanFloat32()) // resize 112, crop 99, the mean
	loader, err := data.NewLoader(data.Config{Dataset: trainSet, Pipeline: pre.Train(&st.PCA),
		BatchSize: o.batch, Shuffle: true, Seed: 1, DropLast: true})
	if err != nil {
		return err
	}
	defer loader.Close()

	for epoch := range o.epochs {
		start := time.Now()
		ep, err := loader.Epoch(ctx, epoch)
		if err != nil {
			return err
		}
		var sum float64
		var steps int
		for {
			bt, err := ep.Next() // bt.Images: o.batch images, NCHW float32; bt.Labels: o.batch int32
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				ep.Close()
				return err
			}
			loss, err := net.TrainStep(bt.Images, bt.Labels) // forward, loss, backward, SGD step
			if err != nil {
				ep.Close()
				return err
			}
			sum += float64(loss)
			steps++
		}
		ep.Close()
		ev, err := train.Evaluate(ctx, net, testSet, pre.Eval(false), o.batch, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.log, "epoch %d/%d: train loss %.4f, test accuracy %.2f%% (%d images), lr %g, %.1f s\n",
			epoch+1, o.epochs, sum/float64(steps), 100*ev.Top1, ev.N, net.Optimizer().LR(), time.Since(start).Seconds())
		if err := net.Optimizer().SetLR(net.Optimizer().LR() / 2); err != nil {
			return err
		}
	}

	// The notes make the checkpoint usable by examples/infer and by
	// "alexnet eval" and "alexnet classify": how to preprocess, class names.
	if err := train.Describe(net, pre, trainSet.Classes()); err != nil {
		return err
	}
	if err := net.Save(o.out); err != nil {
		return err
	}
	fmt.Fprintf(o.log, "wrote %s (go run ./examples/infer -checkpoint %s)\n", o.out, o.out)
	return nil
}
