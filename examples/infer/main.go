// Command infer classifies test images with a checkpoint: the three most
// probable classes of each, next to the true one.
//
//	go run ./examples/train && go run ./examples/infer   # train a small network, then use it
//	go run ./examples/infer -checkpoint fashion.safetensors -n 16
//
// The images are Fashion-MNIST's test images where the Debian package
// dataset-fashion-mnist has put them, synthetic ones otherwise. Without a
// checkpoint it says so and uses an untrained network (random guesses).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all" // registers every backend compiled in
	"github.com/dnngo/dnngo/data"
	"github.com/dnngo/dnngo/data/augment"
	"github.com/dnngo/dnngo/examples/internal/exdata"
	"github.com/dnngo/dnngo/train"
)

func main() {
	ckpt := flag.String("checkpoint", "mini.safetensors", "checkpoint written by examples/train or alexnet train")
	n := flag.Int("n", 8, "test images to classify (one batch)")
	dir := flag.String("data-dir", data.FashionMNISTDir, "where the Fashion-MNIST IDX files are")
	flag.Parse()
	if err := run(*ckpt, *dir, *n, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "infer:", err)
		os.Exit(1)
	}
}

func run(ckpt, dir string, batch int, out io.Writer) error {
	if batch < 1 {
		return fmt.Errorf("-n %d: want ≥ 1", batch)
	}
	_, testSet, source := exdata.Open(dir, 1, batch)
	fmt.Fprintln(out, "data:", source)

	b, err := backend.Best()
	if err != nil {
		return err
	}
	defer b.Close() // net.Close releases the network's tensors, not the backend

	net, err := alexnet.Load(b, ckpt)
	var pre train.Preprocess
	var labels []string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(out, "no checkpoint %s (go run ./examples/train writes one): an untrained network, so the guesses are random\n", ckpt)
		cfg := alexnet.Mini()
		cfg.Classes = len(testSet.Classes())
		if net, err = alexnet.New(b, cfg); err != nil {
			return err
		}
		pre, labels = train.DefaultPreprocess(cfg, [3]float32{}), testSet.Classes()
	case err != nil:
		return err
	default:
		if pre, labels, err = train.Described(net); err != nil {
			net.Close()
			return err
		}
	}
	defer net.Close()
	if labels == nil { // a checkpoint without class names
		labels = make([]string, net.Classes())
		for i := range labels {
			labels[i] = fmt.Sprintf("class %d", i)
		}
	}

	// One batch, explicitly sized: batch images of InputSize() values each.
	size := net.InputSize()
	x := make([]float32, batch*size)
	truth := make([]int, batch)
	pipe := pre.Eval(false) // resize, subtract the mean, centre crop
	var scratch augment.Scratch
	for i := range batch {
		img, label, err := testSet.Item(i)
		if err != nil {
			return err
		}
		if err := pipe.Process(x[i*size:(i+1)*size], img, nil, &scratch); err != nil {
			return err
		}
		truth[i] = label
	}
	probs, err := net.Predict(x) // [batch, net.Classes()] probabilities
	if err != nil {
		return err
	}
	k := net.Classes()
	right := 0
	for i := range batch {
		top := alexnet.TopK(probs[i*k:(i+1)*k], min(3, k))
		name := testSet.Classes()[truth[i]] // the checkpoint's classes may be other ones
		if labels[top[0].Class] == name {
			right++
		}
		fmt.Fprintf(out, "image %d (%s):", i, name)
		for _, p := range top {
			fmt.Fprintf(out, "  %s %.1f%%", labels[p.Class], 100*p.Prob)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "%d of %d right; backend %s\n", right, batch, b.Info().Name)
	return nil
}
