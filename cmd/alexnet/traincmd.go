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
	"github.com/dnngo/dnngo/collective"
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
	f, err := parseTrainFlags(args, stdout)
	if err != nil {
		return err
	}
	cfg, err := variant(*f.variant)
	if err != nil {
		return err
	}
	comm, stdout, err := openDist(*f.dist, *f.batch, stdout)
	if err != nil {
		return err
	}
	defer func() { endDist(comm, err) }()
	lead := comm.Rank() == 0 // only rank 0 reads and writes the checkpoint
	unlock, err := f.claimCheckpoint(lead)
	if err != nil {
		return err
	}
	defer unlock()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := f.openBackend(cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	s, err := f.setUp(ctx, comm, b, cfg, stdout)
	if s.net != nil {
		defer s.net.Close()
	}
	if err != nil {
		return err
	}
	info := b.Info()
	fmt.Fprintf(stdout, "training %s (%d classes) on %s: %d training images, %d test images, batch %d, %d epochs; backend %s (%s)\n",
		s.net.Config().Name, s.net.Config().Classes, f.d.name(), s.trainSet.Len(), s.testSet.Len(), *f.batch, *f.epochs, info.Name, info.Device)

	warmSteps, warmFrom := f.scale.warmup(*f.lr, *f.batch, s.trainSet.Len())
	hist, err := train.Run(ctx, train.Options{Net: s.net, Train: s.trainSet, Test: s.testSet, TrainPipe: s.trainPipe, TestPipe: s.pre.Eval(false),
		Epochs: *f.epochs, Batch: *f.batch, Workers: f.d.workers, Seed: *f.seed, Checkpoint: *f.ckpt, CSV: *f.csv, Plot: *f.plot,
		Log: stdout, Bar: isTerminal(stdout), Comm: comm, WarmupSteps: warmSteps, WarmupFrom: warmFrom})
	if errors.Is(err, train.ErrInterrupted) {
		return exitInterrupted{err}
	}
	if err != nil {
		return err
	}
	f.report(stdout, hist)
	return nil
}

// trainFlags are the flags of alexnet train.
type trainFlags struct {
	d                                   *dataSource
	be                                  *backendChoice
	variant, init, aug, ckpt, csv, plot *string
	epochs, batch                       *int
	lr, mom, wd                         *float64
	seed                                *uint64
	resume                              *bool
	dist                                *string
	scale                               *scaling
	given                               map[string]bool // the flags set on the command line
}

// parseTrainFlags parses and checks the flags and fills in the defaults
// that depend on others (the CSV and chart names).
func parseTrainFlags(args []string, stdout io.Writer) (*trainFlags, error) {
	fs := flags("train", "[flags]", "Train AlexNet on Fashion-MNIST or an ImageNet-style folder, with the paper's augmentation, validation after every epoch and a checkpoint, CSV log and chart", stdout)
	f := &trainFlags{
		d:       dataFlags(fs),
		be:      backendFlags(fs),
		variant: fs.String("variant", "seed", "network: seed, paper or mini (99×99, fast enough for a CPU)"),
		epochs:  fs.Int("epochs", 10, "epochs to train (in all, counting those before --resume)"),
		batch:   fs.Int("batch", 128, "batch size"),
		lr:      fs.Float64("lr", 0.01, "initial learning rate (divided by 10 when validation error stops improving)"),
		mom:     fs.Float64("momentum", 0.9, "SGD momentum"),
		wd:      fs.Float64("weight-decay", 5e-4, "L2 weight decay"),
		init:    fs.String("init", "", "initialisation: paper (N(0, 0.01²), biases 1 in conv2, conv4, conv5, fc6, fc7) or kaiming (default: the variant's)"),
		seed:    fs.Uint64("seed", 1, "seeds the initialisation, dropout, the data order and the augmentation"),
		aug:     fs.String("augment", "paper", "paper (random crops of the image resized to 256/227 of the input, flips, PCA colour noise, mean) or none (resized to the input)"),
		ckpt:    fs.String("checkpoint", "alexnet.safetensors", "checkpoint written after every epoch and on Ctrl-C"),
		resume:  fs.Bool("resume", false, "continue from --checkpoint"),
		csv:     fs.String("csv", "", "per-epoch log (default: the checkpoint's name with .csv)"),
		plot:    fs.String("plot", "", "chart of loss and accuracy by epoch (default: the checkpoint's name with .png)"),
	}
	f.dist = distFlag(fs)
	f.scale = scalingFlags(fs)
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := f.scale.check(); err != nil {
		return nil, err
	}
	switch {
	case *f.epochs < 1:
		return nil, usageError{fmt.Sprintf("--epochs %d: want ≥ 1", *f.epochs)}
	case *f.batch < 1:
		return nil, usageError{fmt.Sprintf("--batch %d: want ≥ 1", *f.batch)}
	case !(*f.lr > 0) || !finite32(*f.lr):
		return nil, usageError{fmt.Sprintf("--lr %g: want > 0 and finite in float32 (below 3.4e38)", *f.lr)}
	case !(*f.mom >= 0 && *f.mom < 1): // false for NaN
		return nil, usageError{fmt.Sprintf("--momentum %g: want 0 ≤ m < 1", *f.mom)}
	case !(*f.wd >= 0) || !finite32(*f.wd):
		return nil, usageError{fmt.Sprintf("--weight-decay %g: want ≥ 0 and finite in float32", *f.wd)}
	case *f.aug != "paper" && *f.aug != "none":
		return nil, usageError{fmt.Sprintf("--augment %q: want paper or none", *f.aug)}
	case *f.init != "" && *f.init != "paper" && *f.init != "kaiming":
		return nil, usageError{fmt.Sprintf("--init %q: want paper or kaiming", *f.init)}
	case *f.ckpt == "":
		return nil, usageError{"--checkpoint: a file name is required"}
	}
	if err := f.d.check(); err != nil {
		return nil, err
	}
	if *f.csv == "" {
		*f.csv = strings.TrimSuffix(*f.ckpt, filepath.Ext(*f.ckpt)) + ".csv"
	}
	if *f.plot == "" {
		*f.plot = strings.TrimSuffix(*f.ckpt, filepath.Ext(*f.ckpt)) + ".png"
	}
	f.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	return f, nil
}

// claimCheckpoint checks, before any work, that --checkpoint fits --resume
// and is writable, and locks it so that no other run trains on it (train.Run
// takes the same lock again). Only the lead rank touches the file; the
// others get a no-op unlock.
func (f *trainFlags) claimCheckpoint(lead bool) (unlock func() error, err error) {
	ckpt := *f.ckpt
	if st, err := os.Stat(ckpt); err == nil && st.IsDir() {
		return nil, usageError{fmt.Sprintf("--checkpoint %s is a directory: give a file name, such as %s", ckpt, filepath.Join(ckpt, "alexnet.safetensors"))}
	} else if err == nil && !*f.resume && lead {
		return nil, usageError{fmt.Sprintf("checkpoint %s exists: add --resume to continue it, or remove it to start over", ckpt)}
	} else if err != nil && *f.resume && lead {
		return nil, usageError{fmt.Sprintf("--resume: %v", err)}
	}
	if !lead {
		return func() error { return nil }, nil
	}
	if err := safetensors.CheckWritable(ckpt); err != nil {
		return nil, err
	}
	return train.LockCheckpoint(ckpt)
}

// openBackend opens the backend and, on the host's memory, checks that the
// run fits before anything large is allocated.
func (f *trainFlags) openBackend(cfg alexnet.Config) (backend.Backend, error) {
	b, err := f.be.open()
	if err != nil {
		return nil, err
	}
	if b.Info().Name != "cudnn" { // a GPU's memory is not the host's: the backend reports what does not fit
		// The loader holds 3 batches of input (2 prefetched, 1 in use).
		loader := 3 * 4 * int64(cfg.Channels*cfg.Input*cfg.Input)
		if err := checkMemory(fmt.Sprintf("--batch %d", *f.batch), cfg, nil, []int{*f.batch}, loader, "--batch"); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// trainSetup is what a run trains: the network, its preprocessing and
// training pipeline, and the data.
type trainSetup struct {
	net               *alexnet.Network
	pre               train.Preprocess
	trainPipe         *augment.Pipeline
	trainSet, testSet data.Dataset
}

// setUp loads the network (--resume: the checkpoint first, so that flags
// that conflict with it are errors before the data is read) or builds it
// for the dataset, computes the colour statistics, and records or checks
// the run's data settings. The network in the result, when not nil, is the
// caller's to close, error or not.
func (f *trainFlags) setUp(ctx context.Context, comm collective.Comm, b backend.Backend, cfg alexnet.Config, stdout io.Writer) (s trainSetup, err error) {
	if *f.resume {
		if s.net, err = train.LoadShared(comm, b, *f.ckpt); err != nil {
			return s, err
		}
		if err := reconcileResume(s.net, *f.ckpt, f.given, resumeFlags{variant: f.variant, init: f.init, data: f.d.data, augment: f.aug,
			lr: f.lr, momentum: f.mom, weightDecay: f.wd, limit: f.d.limit, batch: f.batch, seed: f.seed}, stdout); err != nil {
			return s, err
		}
		if s.pre, _, err = train.Described(s.net); err != nil {
			return s, err
		}
	}
	if s.trainSet, s.testSet, err = f.d.open(); err != nil {
		return s, err
	}
	if !*f.resume {
		if s.net, s.pre, err = f.newNetwork(b, cfg, len(s.trainSet.Classes())); err != nil {
			return s, err
		}
	}
	if s.net.Config().Classes != len(s.trainSet.Classes()) {
		return s, fmt.Errorf("the checkpoint's network has %d classes, the dataset %d", s.net.Config().Classes, len(s.trainSet.Classes()))
	}
	pca, err := f.colourStats(ctx, s.trainSet, &s.pre, stdout)
	if err != nil {
		return s, err
	}
	if err := f.recordRun(s.net, s.pre, s.trainSet); err != nil {
		return s, err
	}
	s.trainPipe = s.pre.Train(pca)
	if *f.aug == "none" {
		s.trainPipe = s.pre.Eval(false)
	}
	return s, nil
}

// newNetwork builds a fresh network of cfg for a dataset of the given
// classes, with the flags' seed, optimiser and initialisation, and its
// preprocessing (the mean is set later, from the colour statistics).
func (f *trainFlags) newNetwork(b backend.Backend, cfg alexnet.Config, classes int) (*alexnet.Network, train.Preprocess, error) {
	cfg.Classes = classes
	cfg.Seed = *f.seed
	cfg.SGD.LR, cfg.SGD.Momentum, cfg.SGD.WeightDecay = float32(f.scale.target(*f.lr, *f.batch)), float32(*f.mom), float32(*f.wd)
	if *f.init != "" {
		if err := cfg.Init.UnmarshalText([]byte(*f.init)); err != nil {
			return nil, train.Preprocess{}, usageError{err.Error()}
		}
	}
	net, err := alexnet.New(b, cfg)
	if err != nil {
		return nil, train.Preprocess{}, err
	}
	pre := train.DefaultPreprocess(cfg, [3]float32{})
	if *f.aug == "none" {
		pre.Resize = cfg.Input
	}
	return net, pre, nil
}

// colourStats computes (or reads from the cache) the colour statistics of
// the training set: the mean subtracted from every image of a new run
// (written into pre) and, for the paper's augmentation, the principal
// components of the colour noise (nil when not needed).
func (f *trainFlags) colourStats(ctx context.Context, trainSet data.Dataset, pre *train.Preprocess, stdout io.Writer) (*augment.PCA, error) {
	if *f.resume && *f.aug != "paper" {
		return nil, nil
	}
	st, cached, err := data.CachedStats(ctx, trainSet, data.StatsOptions{MaxImages: 10000}, "")
	if err != nil {
		return nil, err
	}
	how := "computed"
	if cached {
		how = "cached"
	}
	fmt.Fprintf(stdout, "colour statistics (%s, %d images): mean %.4f, PCA eigenvalues %.4g\n", how, st.Images, st.PCA.Mean, st.PCA.Eigenvalues)
	if !*f.resume {
		pre.Mean = st.PCA.MeanFloat32()
	}
	return &st.PCA, nil
}

// recordRun records in a new run's network what its data order depends on
// (and the preprocessing and classes), or checks that a resumed run has
// the same: otherwise its steps would map to other epochs and images.
func (f *trainFlags) recordRun(net *alexnet.Network, pre train.Preprocess, trainSet data.Dataset) error {
	run := fmt.Sprintf(`{"data":%q,"limit":%d,"batch":%d,"seed":%d,"augment":%q}`, *f.d.data, *f.d.limit, *f.batch, *f.seed, *f.aug)
	if *f.resume {
		if prev := net.Note(noteRun); prev != run {
			return usageError{fmt.Sprintf("--resume with other data settings than the run that wrote %s: it used %s, this is %s", *f.ckpt, prev, run)}
		}
		return nil
	}
	if err := train.Describe(net, pre, trainSet.Classes()); err != nil {
		return err
	}
	return net.SetNote(noteRun, run)
}

// report prints the files written and the final epoch's results.
func (f *trainFlags) report(stdout io.Writer, hist []train.Epoch) {
	last := hist[len(hist)-1]
	var ips float64
	for _, e := range hist {
		ips += e.ImagesPerS / float64(len(hist))
	}
	fmt.Fprintf(stdout, "wrote %s, %s, %s\n", *f.ckpt, *f.csv, *f.plot)
	fmt.Fprintf(stdout, "final: epochs=%d train_loss=%.4f test_top1=%.4f test_top5=%.4f images_per_s=%.1f\n",
		last.Epoch, last.TrainLoss, last.Val.Top1, last.Val.Top5, ips)
}

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
		precision: fs.String("precision", "fp32", "fp32, tf32, bf16 or fp16 (tf32, fp16: GPU only; bf16: GPU, or onednn on CPUs with AVX512_BF16/AMX)"),
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
