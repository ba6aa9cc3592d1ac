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
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/data"
	"github.com/dnngo/dnngo/data/augment"
	"github.com/dnngo/dnngo/safetensors"
	"github.com/dnngo/dnngo/train"
)

// noteRun is the checkpoint note holding the data settings of the run.
const noteRun = "run"

// exitInterrupted is the status of a run stopped by Ctrl-C (128 + SIGINT).
type exitInterrupted struct{ error }

func runTrain(args []string, stdout, stderr io.Writer) (err error) {
	fs := flags("train", "[flags]", "Train AlexNet on Fashion-MNIST or an ImageNet-style folder, with the paper's augmentation, validation after every epoch and a checkpoint, CSV log and chart", stdout)
	d := dataFlags(fs)
	be := backendFlags(fs)
	v := fs.String("variant", "seed", "network: seed, paper or mini (99×99, fast enough for a CPU)")
	epochs := fs.Int("epochs", 10, "epochs to train (in all, counting those before --resume)")
	batch := fs.Int("batch", 128, "batch size")
	lr := fs.Float64("lr", 0.01, "initial learning rate (divided by 10 when validation error stops improving)")
	mom := fs.Float64("momentum", 0.9, "SGD momentum")
	wd := fs.Float64("weight-decay", 5e-4, "L2 weight decay")
	init := fs.String("init", "", "initialisation: paper (N(0, 0.01²), biases 1 in conv2, conv4, conv5, fc6, fc7) or kaiming (default: the variant's)")
	seed := fs.Uint64("seed", 1, "seeds the initialisation, dropout, the data order and the augmentation")
	aug := fs.String("augment", "paper", "paper (random crops of the image resized to 256/227 of the input, flips, PCA colour noise, mean) or none (resized to the input)")
	ckpt := fs.String("checkpoint", "alexnet.safetensors", "checkpoint written after every epoch and on Ctrl-C")
	resume := fs.Bool("resume", false, "continue from --checkpoint")
	csvPath := fs.String("csv", "", "per-epoch log (default: the checkpoint's name with .csv)")
	plotPath := fs.String("plot", "", "chart of loss and accuracy by epoch (default: the checkpoint's name with .png)")
	dist := distFlag(fs)
	scale := scalingFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := scale.check(); err != nil {
		return err
	}
	switch {
	case *epochs < 1:
		return usageError{fmt.Sprintf("--epochs %d: want ≥ 1", *epochs)}
	case *batch < 1:
		return usageError{fmt.Sprintf("--batch %d: want ≥ 1", *batch)}
	case !(*lr > 0) || !finite32(*lr):
		return usageError{fmt.Sprintf("--lr %g: want > 0 and finite in float32 (below 3.4e38)", *lr)}
	case !(*mom >= 0 && *mom < 1): // false for NaN
		return usageError{fmt.Sprintf("--momentum %g: want 0 ≤ m < 1", *mom)}
	case !(*wd >= 0) || !finite32(*wd):
		return usageError{fmt.Sprintf("--weight-decay %g: want ≥ 0 and finite in float32", *wd)}
	case *aug != "paper" && *aug != "none":
		return usageError{fmt.Sprintf("--augment %q: want paper or none", *aug)}
	case *init != "" && *init != "paper" && *init != "kaiming":
		return usageError{fmt.Sprintf("--init %q: want paper or kaiming", *init)}
	case *ckpt == "":
		return usageError{"--checkpoint: a file name is required"}
	}
	if err := d.check(); err != nil {
		return err
	}
	if *csvPath == "" {
		*csvPath = strings.TrimSuffix(*ckpt, filepath.Ext(*ckpt)) + ".csv"
	}
	if *plotPath == "" {
		*plotPath = strings.TrimSuffix(*ckpt, filepath.Ext(*ckpt)) + ".png"
	}
	cfg, err := variant(*v)
	if err != nil {
		return err
	}
	comm, stdout, err := openDist(*dist, *batch, stdout)
	if err != nil {
		return err
	}
	defer func() { endDist(comm, err) }()
	lead := comm.Rank() == 0 // only rank 0 reads and writes the checkpoint
	if st, err := os.Stat(*ckpt); err == nil && st.IsDir() {
		return usageError{fmt.Sprintf("--checkpoint %s is a directory: give a file name, such as %s", *ckpt, filepath.Join(*ckpt, "alexnet.safetensors"))}
	} else if err == nil && !*resume && lead {
		return usageError{fmt.Sprintf("checkpoint %s exists: add --resume to continue it, or remove it to start over", *ckpt)}
	} else if err != nil && *resume && lead {
		return usageError{fmt.Sprintf("--resume: %v", err)}
	}
	// Before any work: the checkpoint must be writable, and no other run
	// may train on it (train.Run takes the same lock again).
	if lead {
		if err := safetensors.CheckWritable(*ckpt); err != nil {
			return err
		}
		unlock, err := train.LockCheckpoint(*ckpt)
		if err != nil {
			return err
		}
		defer unlock()
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := be.open()
	if err != nil {
		return err
	}
	defer b.Close()
	if b.Info().Name != "cudnn" { // a GPU's memory is not the host's: the backend reports what does not fit
		// The loader holds 3 batches of input (2 prefetched, 1 in use).
		loader := 3 * 4 * int64(cfg.Channels*cfg.Input*cfg.Input)
		if err := checkMemory(fmt.Sprintf("--batch %d", *batch), cfg, nil, []int{*batch}, loader, "--batch"); err != nil {
			return err
		}
	}

	var net *alexnet.Network
	var pre train.Preprocess
	if *resume {
		// The checkpoint first: flags that conflict with it are errors
		// before the data is read and the colour statistics computed.
		if net, err = train.LoadShared(comm, b, *ckpt); err != nil {
			return err
		}
		defer net.Close()
		if err := reconcileResume(net, *ckpt, given, resumeFlags{variant: v, init: init, data: d.data, augment: aug,
			lr: lr, momentum: mom, weightDecay: wd, limit: d.limit, batch: batch, seed: seed}, stdout); err != nil {
			return err
		}
		if pre, _, err = train.Described(net); err != nil {
			return err
		}
	}
	trainSet, testSet, err := d.open()
	if err != nil {
		return err
	}
	if !*resume {
		cfg.Classes = len(trainSet.Classes())
		cfg.Seed = *seed
		cfg.SGD.LR, cfg.SGD.Momentum, cfg.SGD.WeightDecay = float32(scale.target(*lr, *batch)), float32(*mom), float32(*wd)
		if *init != "" {
			if err := cfg.Init.UnmarshalText([]byte(*init)); err != nil {
				return usageError{err.Error()}
			}
		}
		if net, err = alexnet.New(b, cfg); err != nil {
			return err
		}
		defer net.Close()
		pre = train.DefaultPreprocess(cfg, [3]float32{}) // the mean is set below, from the colour statistics
		if *aug == "none" {
			pre.Resize = cfg.Input
		}
	}
	if net.Config().Classes != len(trainSet.Classes()) {
		return fmt.Errorf("the checkpoint's network has %d classes, the dataset %d", net.Config().Classes, len(trainSet.Classes()))
	}

	// The colour statistics: the mean subtracted from every image and, for
	// the paper's augmentation, the principal components of the noise.
	var pca *augment.PCA
	if !*resume || *aug == "paper" {
		st, cached, err := data.CachedStats(ctx, trainSet, data.StatsOptions{MaxImages: 10000}, "")
		if err != nil {
			return err
		}
		how := "computed"
		if cached {
			how = "cached"
		}
		fmt.Fprintf(stdout, "colour statistics (%s, %d images): mean %.4f, PCA eigenvalues %.4g\n", how, st.Images, st.PCA.Mean, st.PCA.Eigenvalues)
		if !*resume {
			pre.Mean = st.PCA.MeanFloat32()
		}
		pca = &st.PCA
	}
	// What the run's data order depends on: a resumed run must see the
	// same, or its steps would map to other epochs and other images.
	run := fmt.Sprintf(`{"data":%q,"limit":%d,"batch":%d,"seed":%d,"augment":%q}`, *d.data, *d.limit, *batch, *seed, *aug)
	if *resume {
		if prev := net.Note(noteRun); prev != run {
			return usageError{fmt.Sprintf("--resume with other data settings than the run that wrote %s: it used %s, this is %s", *ckpt, prev, run)}
		}
	} else {
		if err := train.Describe(net, pre, trainSet.Classes()); err != nil {
			return err
		}
		if err := net.SetNote(noteRun, run); err != nil {
			return err
		}
	}
	trainPipe := pre.Train(pca)
	if *aug == "none" {
		trainPipe = pre.Eval(false)
	}
	info := b.Info()
	fmt.Fprintf(stdout, "training %s (%d classes) on %s: %d training images, %d test images, batch %d, %d epochs; backend %s (%s)\n",
		net.Config().Name, net.Config().Classes, d.name(), trainSet.Len(), testSet.Len(), *batch, *epochs, info.Name, info.Device)

	warmSteps, warmFrom := scale.warmup(*lr, *batch, trainSet.Len())
	hist, err := train.Run(ctx, train.Options{Net: net, Train: trainSet, Test: testSet, TrainPipe: trainPipe, TestPipe: pre.Eval(false),
		Epochs: *epochs, Batch: *batch, Workers: d.workers, Seed: *seed, Checkpoint: *ckpt, CSV: *csvPath, Plot: *plotPath,
		Log: stdout, Bar: isTerminal(stdout), Comm: comm, WarmupSteps: warmSteps, WarmupFrom: warmFrom})
	if errors.Is(err, train.ErrInterrupted) {
		return exitInterrupted{err}
	}
	if err != nil {
		return err
	}
	last := hist[len(hist)-1]
	var ips float64
	for _, e := range hist {
		ips += e.ImagesPerS / float64(len(hist))
	}
	fmt.Fprintf(stdout, "wrote %s, %s, %s\n", *ckpt, *csvPath, *plotPath)
	fmt.Fprintf(stdout, "final: epochs=%d train_loss=%.4f test_top1=%.4f test_top5=%.4f images_per_s=%.1f\n",
		last.Epoch, last.TrainLoss, last.Val.Top1, last.Val.Top5, ips)
	return nil
}

// finite32 reports whether v is finite once converted to float32, the
// precision the network trains in (1e39 is not).
func finite32(v float64) bool {
	f := float64(float32(v))
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// dataSource holds the flags that choose a dataset.
type dataSource struct {
	data, dir        *string
	limit, testLimit *int
	workers          int
	workersFlag      *int
}

func dataFlags(fs interface {
	String(string, string, string) *string
	Int(string, int, string) *int
}) *dataSource {
	return &dataSource{
		data:        fs.String("data", "fashion-mnist", "fashion-mnist, or a folder of class folders: <dir>/train/<class>/*.jpg and <dir>/val/<class>/*.jpg (without train/ and val/, every 10th image of <dir>/<class>/ is held out for validation)"),
		dir:         fs.String("data-dir", data.FashionMNISTDir, "where the Fashion-MNIST IDX files are (Debian: apt-get install dataset-fashion-mnist)"),
		limit:       fs.Int("limit", 0, "use only the first N training images (0: all)"),
		testLimit:   fs.Int("test-limit", 0, "use only the first N test images (0: all)"),
		workersFlag: fs.Int("workers", 0, "goroutines decoding and augmenting images (0: GOMAXPROCS)"),
	}
}

func (d *dataSource) check() error {
	d.workers = *d.workersFlag
	switch {
	case *d.limit < 0:
		return usageError{fmt.Sprintf("--limit %d: want ≥ 0", *d.limit)}
	case *d.testLimit < 0:
		return usageError{fmt.Sprintf("--test-limit %d: want ≥ 0", *d.testLimit)}
	case d.workers < 0:
		return usageError{fmt.Sprintf("--workers %d: want ≥ 0", d.workers)}
	}
	return nil
}

func (d *dataSource) name() string {
	if *d.data == "fashion-mnist" {
		return "Fashion-MNIST"
	}
	return *d.data
}

// openTest returns the test set alone, limited as asked: evaluation needs
// nothing from the training split (the colour statistics it subtracts are
// in the checkpoint's "preprocess" note), so it need not be there.
func (d *dataSource) openTest() (data.Dataset, error) {
	var testSet data.Dataset
	switch {
	case *d.data == "fashion-mnist":
		te, err := data.OpenFashionMNIST(*d.dir, data.Test)
		if err != nil {
			return nil, err
		}
		testSet = te
	case isDir(filepath.Join(*d.data, "val")):
		te, err := data.OpenFolder(filepath.Join(*d.data, "val"), nil)
		if err != nil {
			return nil, err
		}
		testSet = te
	default: // every 10th image of the folder is the test set
		_, te, err := d.open()
		return te, err
	}
	if *d.testLimit > 0 {
		testSet = data.Head(testSet, *d.testLimit)
	}
	return testSet, nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// open returns the training and test sets, limited as asked.
func (d *dataSource) open() (trainSet, testSet data.Dataset, err error) {
	if *d.data == "fashion-mnist" {
		tr, err := data.OpenFashionMNIST(*d.dir, data.Train)
		if err != nil {
			return nil, nil, err
		}
		te, err := data.OpenFashionMNIST(*d.dir, data.Test)
		if err != nil {
			return nil, nil, err
		}
		trainSet, testSet = tr, te
	} else {
		root := *d.data
		if st, err := os.Stat(filepath.Join(root, "train")); err == nil && st.IsDir() {
			tr, err := data.OpenFolder(filepath.Join(root, "train"), nil)
			if err != nil {
				return nil, nil, err
			}
			te, err := data.OpenFolder(filepath.Join(root, "val"), nil)
			if err != nil {
				return nil, nil, err
			}
			trainSet, testSet = tr, te
		} else {
			all, err := data.OpenFolder(root, nil)
			if err != nil {
				return nil, nil, err
			}
			var tri, tei []int
			for i := 0; i < all.Len(); i++ {
				if i%10 == 9 {
					tei = append(tei, i)
				} else {
					tri = append(tri, i)
				}
			}
			if trainSet, err = data.Subset(all, tri); err != nil {
				return nil, nil, err
			}
			if testSet, err = data.Subset(all, tei); err != nil {
				return nil, nil, err
			}
		}
	}
	if *d.limit > 0 {
		trainSet = data.Head(trainSet, *d.limit)
	}
	if *d.testLimit > 0 {
		testSet = data.Head(testSet, *d.testLimit)
	}
	return trainSet, testSet, nil
}

// backendChoice holds the flags that choose a backend.
type backendChoice struct {
	name, precision *string
	threads         *int
}

func backendFlags(fs interface {
	String(string, string, string) *string
	Int(string, int, string) *int
}) *backendChoice {
	return &backendChoice{
		name:      fs.String("backend", "", "backend to run on (default: the fastest that opens here, of "+strings.Join(backend.Available(), ", ")+")"),
		threads:   fs.Int("threads", 0, "CPU threads for the CPU backends (0: GOMAXPROCS)"),
		precision: fs.String("precision", "fp32", "fp32, tf32, bf16 or fp16 (tensor-core modes: GPU only)"),
	}
}

func (c *backendChoice) open() (backend.Backend, error) {
	p, err := backend.ParsePrecision(*c.precision)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if err := checkThreads(*c.threads); err != nil {
		return nil, err
	}
	o := backend.Options{Threads: *c.threads, Precision: p}
	if *c.name == "" {
		return backend.BestWith(o)
	}
	b, err := backend.OpenWith(*c.name, o)
	if errors.Is(err, backend.ErrNotCompiled) || errors.Is(err, backend.ErrUnknown) {
		return nil, usageError{fmt.Sprintf("--backend: %v", err)}
	}
	return b, err
}

// checkThreads makes an out-of-range --threads a usage error before any
// work: 0 (the default) up to backend.MaxThreads().
func checkThreads(n int) error {
	if n < 0 || n > backend.MaxThreads() {
		return usageError{fmt.Sprintf("--threads %d: want 0 (the default) to %d (%d per logical CPU)", n, backend.MaxThreads(), backend.MaxThreadsPerCPU)}
	}
	return nil
}
