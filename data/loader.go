package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dnngo/dnngo/data/augment"
)

// Config describes a [Loader].
type Config struct {
	// Dataset is where items come from. Required.
	Dataset Dataset
	// Pipeline turns each item into network input. Required; its output
	// size must be fixed ([augment.Pipeline.Shape]).
	Pipeline *augment.Pipeline
	// BatchSize is the number of items per batch. Required.
	BatchSize int
	// Workers is the number of goroutines decoding and augmenting. Default
	// runtime.GOMAXPROCS(0). With the pure-Go backend they share the cores
	// with the network; a GPU backend leaves them to the loader.
	Workers int
	// Prefetch is the number of batches prepared while the consumer holds
	// one. Default 2. Memory is (Prefetch+1) batches.
	Prefetch int
	// Shuffle visits the items in a new random order every epoch; otherwise
	// in index order.
	Shuffle bool
	// Seed makes the order and the augmentation reproducible.
	Seed uint64
	// DropLast leaves out a last batch smaller than BatchSize.
	DropLast bool
	// PadLast fills a last batch smaller than BatchSize up to the full size
	// with zero images, label 0 and index -1, for networks planned for a
	// fixed batch; Batch.N tells how many items are real.
	PadLast bool
	// Shards > 1 splits every batch of the epoch between data-parallel
	// replicas: the epoch is cut into global batches of BatchSize·Shards
	// items of the (seeded) order, and this loader returns rows
	// [Shard·BatchSize, (Shard+1)·BatchSize) of each, with the augmentation
	// those items get in one loader of batch BatchSize·Shards. Shards needs
	// DropLast (every replica gets a full batch). 0 or 1: no sharding.
	Shards, Shard int
}

// Batch is one batch of network input, valid until the next call to
// [Epoch.Next] or [Epoch.Close]: its slices are reused.
type Batch struct {
	Epoch int // the epoch it belongs to
	Index int // its number in the epoch, from 0
	N     int // the number of real items (BatchSize except perhaps in the last batch)
	Views int // views per item (10 for ten-crop evaluation, else 1)
	// Images holds len(Labels)×Views images in NCHW order, dense float32 as
	// backend.Backend.Upload takes them: rows [j*Views, (j+1)*Views) are
	// item j's views.
	Images []float32
	// Labels are the items' labels, one per item (padding included).
	Labels []int32
	// Indices are the items' dataset indices (-1 for padding). A corrupt
	// image is replaced by the next readable one, whose index is given.
	Indices []int
	// Wait is how long Next waited for this batch: time the training loop
	// was starved of data.
	Wait time.Duration
	// Skipped holds one error for each item of this batch whose image was
	// unreadable (and replaced).
	Skipped []error

	c, h, w int
}

// Shape returns the shape of Images: [len(Labels)*Views, C, H, W].
func (b *Batch) Shape() []int { return []int{len(b.Labels) * b.Views, b.c, b.h, b.w} }

// EpochStats summarise an epoch so far.
type EpochStats struct {
	Batches int           // batches returned
	Items   int           // real items in them
	Wait    time.Duration // total time Next waited for data
	Elapsed time.Duration // from the start of the epoch to the latest Next
	Skipped int           // items whose image was unreadable (and replaced)
}

// Loader prepares batches ahead of a training or evaluation loop: a pool
// of goroutines decodes items and runs the pipeline on them, writing
// straight into reusable batch buffers, while the consumer works on the
// previous batch.
//
// Everything about an epoch is a function of (Seed, epoch): the order of
// items (when shuffled) and each item's augmentation, which draws from a
// generator seeded with (Seed, epoch, dataset index). So batches are
// identical whatever the number of workers, and a run resumed at an epoch
// or batch ([Loader.EpochFrom]) sees the same data it would have seen.
//
// One epoch is open at a time. A Loader is meant for one goroutine (the
// training loop).
type Loader struct {
	cfg      Config
	n        int // items
	batches  int // per epoch
	views    int
	c, h, w  int
	itemSize int // floats per item (all views)

	mu     sync.Mutex
	slots  []*slot
	open   *Epoch
	closed bool
}

// NewLoader checks the configuration and returns a loader. Batch buffers
// are allocated when the first epoch starts.
func NewLoader(cfg Config) (*Loader, error) {
	if cfg.Dataset == nil {
		return nil, errors.New("data: loader: no dataset")
	}
	if cfg.Pipeline == nil {
		return nil, errors.New("data: loader: no pipeline")
	}
	if cfg.BatchSize <= 0 {
		return nil, fmt.Errorf("data: loader: batch size %d, want > 0", cfg.BatchSize)
	}
	if cfg.Workers < 0 || cfg.Prefetch < 0 {
		return nil, fmt.Errorf("data: loader: %d workers, prefetch %d: want ≥ 0 (0 for the default)", cfg.Workers, cfg.Prefetch)
	}
	if cfg.DropLast && cfg.PadLast {
		return nil, errors.New("data: loader: DropLast and PadLast exclude each other")
	}
	if cfg.Shards < 0 || cfg.Shard < 0 || (cfg.Shards > 1 && cfg.Shard >= cfg.Shards) || (cfg.Shards <= 1 && cfg.Shard != 0) {
		return nil, fmt.Errorf("data: loader: shard %d of %d, want 0 ≤ shard < shards", cfg.Shard, cfg.Shards)
	}
	if cfg.Shards > 1 && !cfg.DropLast {
		return nil, fmt.Errorf("data: loader: %d shards need DropLast (every replica takes a full batch)", cfg.Shards)
	}
	if cfg.Shards == 0 {
		cfg.Shards = 1
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Prefetch == 0 {
		cfg.Prefetch = 2
	}
	l := &Loader{cfg: cfg, n: cfg.Dataset.Len()}
	if l.n <= 0 {
		return nil, errors.New("data: loader: the dataset is empty")
	}
	var err error
	if l.views, l.c, l.h, l.w, err = cfg.Pipeline.Shape(); err != nil {
		return nil, fmt.Errorf("data: loader: %w", err)
	}
	l.itemSize = l.views * l.c * l.h * l.w
	l.batches = (l.n + cfg.BatchSize - 1) / cfg.BatchSize
	if cfg.DropLast {
		l.batches = l.n / (cfg.BatchSize * cfg.Shards)
		if l.batches == 0 {
			return nil, fmt.Errorf("data: loader: DropLast with %d items and batch size %d (%d shards) leaves no batch", l.n, cfg.BatchSize, cfg.Shards)
		}
	}
	return l, nil
}

// Len returns the number of items in the dataset.
func (l *Loader) Len() int { return l.n }

// Batches returns the number of batches per epoch.
func (l *Loader) Batches() int { return l.batches }

// Views returns the number of views per item.
func (l *Loader) Views() int { return l.views }

// Shape returns the shape of a full batch's images: [BatchSize*Views, C,
// H, W], what a network is planned for.
func (l *Loader) Shape() []int { return []int{l.cfg.BatchSize * l.views, l.c, l.h, l.w} }

// Classes returns the dataset's class names.
func (l *Loader) Classes() []string { return l.cfg.Dataset.Classes() }

// Order returns the dataset indices in the order epoch visits them.
func (l *Loader) Order(epoch int) []int {
	order := make([]int, l.n)
	for i := range order {
		order[i] = i
	}
	if l.cfg.Shuffle {
		r := rand.New(rand.NewPCG(mix(l.cfg.Seed, 0x53485546464c45), uint64(epoch)))
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return order
}

// itemSeeds returns the seeds of the generator for one item of an epoch.
func (l *Loader) itemSeeds(epoch, index int) (uint64, uint64) {
	return mix(l.cfg.Seed, uint64(epoch)), uint64(index)
}

// mix combines two words into a well-mixed seed (SplitMix64's finaliser).
func mix(a, b uint64) uint64 {
	z := a + 0x9e3779b97f4a7c15*(b+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Epoch starts epoch number epoch (any integer; normally 0, 1, ...) at its
// first batch. See [Loader.EpochFrom].
func (l *Loader) Epoch(ctx context.Context, epoch int) (*Epoch, error) {
	return l.EpochFrom(ctx, epoch, 0)
}

// EpochFrom starts an epoch at batch number start (0 ≤ start ≤
// Batches()), as when resuming a run stopped in the middle of an epoch:
// the batches are those the uninterrupted epoch would have given from
// there. Workers stop when ctx is cancelled or the epoch is closed. It
// fails while another epoch of this loader is open.
func (l *Loader) EpochFrom(ctx context.Context, epoch, start int) (*Epoch, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("data: loader is closed")
	}
	if l.open != nil {
		return nil, fmt.Errorf("data: loader: epoch %d is still open: close it before starting epoch %d", l.open.epoch, epoch)
	}
	if start < 0 || start > l.batches {
		return nil, fmt.Errorf("data: loader: start batch %d outside [0, %d]", start, l.batches)
	}
	if l.slots == nil {
		for range l.cfg.Prefetch + 1 {
			l.slots = append(l.slots, &slot{
				images:  make([]float32, l.cfg.BatchSize*l.itemSize),
				labels:  make([]int32, l.cfg.BatchSize),
				indices: make([]int, l.cfg.BatchSize),
			})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	e := &Epoch{
		l:      l,
		epoch:  epoch,
		ctx:    ctx,
		cancel: cancel,
		free:   make(chan *slot, len(l.slots)),
		ready:  make(chan *slot, len(l.slots)),
		start:  time.Now(),
	}
	for _, s := range l.slots {
		s.done = make(chan struct{}, 1)
		e.free <- s
	}
	jobs := make(chan job, l.cfg.BatchSize)
	order := l.Order(epoch)
	e.wg.Go(func() { e.dispatch(order, start, jobs) })
	for range l.cfg.Workers {
		e.wg.Go(func() { e.work(jobs) })
	}
	l.open = e
	return e, nil
}

// Close closes the open epoch, if any, and makes the loader unusable.
func (l *Loader) Close() error {
	l.mu.Lock()
	e := l.open
	l.closed = true
	l.mu.Unlock()
	if e != nil {
		return e.Close()
	}
	return nil
}

// slot is one reusable batch buffer.
type slot struct {
	batch   Batch
	images  []float32
	labels  []int32
	indices []int
	pending atomic.Int64  // items not yet written
	done    chan struct{} // receives once all items are written

	mu      sync.Mutex
	err     error
	errPos  int // batch position of the item err is about
	skipped []error
}

// fail records the error of the item at batch position pos; of several,
// the batch reports the first item's, whichever worker failed first.
func (s *slot) fail(pos int, err error) {
	s.mu.Lock()
	if s.err == nil || pos < s.errPos {
		s.err, s.errPos = err, pos
	}
	s.mu.Unlock()
}

type job struct {
	s     *slot
	pos   int // position in the batch
	index int // dataset index
}

// Epoch hands out the batches of one epoch in order.
type Epoch struct {
	l      *Loader
	epoch  int
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	free   chan *slot // buffers the dispatcher may fill
	ready  chan *slot // buffers being filled, in batch order
	start  time.Time

	cur       *slot // held by the consumer
	err       error // sticky result of Next
	stats     EpochStats
	closed    atomic.Bool
	closeOnce sync.Once
}

// dispatch assigns the items of each batch to the workers, in batch order.
func (e *Epoch) dispatch(order []int, start int, jobs chan<- job) {
	defer close(jobs)
	defer close(e.ready)
	l := e.l
	bs := l.cfg.BatchSize
	for k := start; k < l.batches; k++ {
		var s *slot
		select {
		case s = <-e.free:
		case <-e.ctx.Done():
			return
		}
		lo := (k*l.cfg.Shards + l.cfg.Shard) * bs
		cnt := min(bs, l.n-lo)
		rows := cnt
		if l.cfg.PadLast {
			rows = bs
		}
		s.batch = Batch{
			Epoch: e.epoch, Index: k, N: cnt, Views: l.views,
			Images:  s.images[:rows*l.itemSize],
			Labels:  s.labels[:rows],
			Indices: s.indices[:rows],
			c:       l.c, h: l.h, w: l.w,
		}
		clear(s.batch.Images[cnt*l.itemSize:])
		clear(s.batch.Labels[cnt:])
		for j := cnt; j < rows; j++ {
			s.batch.Indices[j] = -1
		}
		s.err, s.skipped = nil, s.skipped[:0]
		s.pending.Store(int64(cnt))
		e.ready <- s // never blocks: ready holds every slot
		for j := range cnt {
			select {
			case jobs <- job{s: s, pos: j, index: order[lo+j]}:
			case <-e.ctx.Done():
				return
			}
		}
	}
}

// work fills batch positions until the jobs run out.
func (e *Epoch) work(jobs <-chan job) {
	var scratch augment.Scratch
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	for j := range jobs {
		if e.ctx.Err() != nil {
			continue // drain so the dispatcher can finish
		}
		e.fill(j, pcg, rng, &scratch)
		if j.s.pending.Add(-1) == 0 {
			j.s.done <- struct{}{}
		}
	}
}

// fill loads one item into its place, replacing an unreadable image by the
// next readable one in index order.
func (e *Epoch) fill(j job, pcg *rand.PCG, rng *rand.Rand, scratch *augment.Scratch) {
	l := e.l
	ds := l.cfg.Dataset
	s := j.s
	dst := s.images[j.pos*l.itemSize : (j.pos+1)*l.itemSize]
	idx := j.index
	for attempt := 1; ; attempt++ {
		img, label, err := ds.Item(idx)
		if err == nil {
			if label < 0 || label >= len(ds.Classes()) {
				s.fail(j.pos, fmt.Errorf("data: epoch %d, batch %d: item %d has label %d, want [0, %d)", e.epoch, s.batch.Index, idx, label, len(ds.Classes())))
				return
			}
			// Seeded by the item originally drawn, so a replacement does not
			// depend on which worker ran it either.
			pcg.Seed(l.itemSeeds(e.epoch, j.index))
			if err := l.cfg.Pipeline.Process(dst, img, rng, scratch); err != nil {
				s.fail(j.pos, fmt.Errorf("data: epoch %d, batch %d: item %d: %w", e.epoch, s.batch.Index, idx, err))
				return
			}
			s.labels[j.pos] = int32(label)
			s.indices[j.pos] = idx
			return
		}
		if !errors.Is(err, ErrBadImage) {
			s.fail(j.pos, fmt.Errorf("data: epoch %d, batch %d: %w", e.epoch, s.batch.Index, err))
			return
		}
		if attempt == 1 {
			// Counted for the item drawn only: a bad replacement candidate is
			// counted where it is drawn itself (every item is, once an epoch).
			s.mu.Lock()
			s.skipped = append(s.skipped, err)
			s.mu.Unlock()
		}
		if attempt >= l.n {
			s.fail(j.pos, fmt.Errorf("data: epoch %d, batch %d: no readable image in the dataset (last: %w)", e.epoch, s.batch.Index, err))
			return
		}
		idx = (idx + 1) % l.n
	}
}

// Next returns the next batch, waiting for it if the workers are behind,
// or io.EOF after the last one. The batch returned before is handed back
// to the workers, so it must not be used any more. After an error (a
// dataset or pipeline error, ctx cancelled) the epoch is over: Next keeps
// returning that error.
func (e *Epoch) Next() (*Batch, error) {
	if e.err != nil {
		return nil, e.err
	}
	if e.closed.Load() {
		return nil, fmt.Errorf("data: epoch %d is closed", e.epoch)
	}
	if e.cur != nil {
		e.free <- e.cur // never blocks: free holds every slot
		e.cur = nil
	}
	t0 := time.Now()
	var s *slot
	select {
	case s = <-e.ready: // nil once closed
	case <-e.ctx.Done():
	}
	if s == nil {
		if err := e.ctx.Err(); err != nil {
			return nil, e.fail(fmt.Errorf("data: epoch %d: %w", e.epoch, err))
		}
		e.err = io.EOF
		e.finish()
		return nil, io.EOF
	}
	select {
	case <-s.done:
	case <-e.ctx.Done():
		return nil, e.fail(fmt.Errorf("data: epoch %d: %w", e.epoch, e.ctx.Err()))
	}
	wait := time.Since(t0)
	s.mu.Lock()
	err := s.err
	s.batch.Skipped = s.skipped
	s.mu.Unlock()
	if err != nil {
		return nil, e.fail(err)
	}
	s.batch.Wait = wait
	e.cur = s
	e.stats.Batches++
	e.stats.Items += s.batch.N
	e.stats.Wait += wait
	e.stats.Skipped += len(s.batch.Skipped)
	e.stats.Elapsed = time.Since(e.start)
	return &s.batch, nil
}

// fail ends the epoch with err, stopping the workers.
func (e *Epoch) fail(err error) error {
	e.err = err
	e.cancel()
	return err
}

// Stats returns the epoch's statistics so far. Call it from the goroutine
// that calls Next.
func (e *Epoch) Stats() EpochStats { return e.stats }

// Close stops the workers, waits for them to exit and frees the loader
// for the next epoch. It is safe to call more than once, and from another
// goroutine than Next's (a blocked Next then returns an error).
func (e *Epoch) Close() error {
	e.closed.Store(true)
	e.finish()
	return nil
}

func (e *Epoch) finish() {
	e.closeOnce.Do(func() {
		e.cancel()
		e.wg.Wait()
		e.l.mu.Lock()
		if e.l.open == e {
			e.l.open = nil
		}
		e.l.mu.Unlock()
	})
}
