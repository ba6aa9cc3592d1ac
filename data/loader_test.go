package data

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnngo/dnngo/data/augment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plain passes 4×4 images through unchanged (as 3-channel floats).
func plain() *augment.Pipeline {
	return &augment.Pipeline{Resize: augment.Resize{Width: 4, Height: 4}}
}

// augmented uses every random step.
func augmented(t *testing.T) *augment.Pipeline {
	pca, err := augment.NewPCA([3]float64{0.5, 0.5, 0.5}, [3][3]float64{{0.06, 0.05, 0.04}, {0.05, 0.06, 0.05}, {0.04, 0.05, 0.06}})
	require.NoError(t, err)
	return &augment.Pipeline{
		Resize: augment.Resize{Width: 4, Height: 4},
		Steps:  []augment.Step{augment.RandomCrop{H: 3, W: 3}, augment.Flip{P: 0.5}, augment.PCANoise{PCA: pca, Std: 0.1}},
	}
}

// collected is what one epoch gave, copied out of the reused buffers.
type collected struct {
	images  [][]float32
	labels  [][]int32
	indices [][]int
	n       []int
	stats   EpochStats
}

func runEpoch(t *testing.T, l *Loader, epoch, start int) collected {
	t.Helper()
	e, err := l.EpochFrom(context.Background(), epoch, start)
	require.NoError(t, err)
	defer e.Close()
	var c collected
	for {
		b, err := e.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.Equal(t, epoch, b.Epoch)
		require.Equal(t, start+len(c.n), b.Index)
		c.images = append(c.images, slices.Clone(b.Images))
		c.labels = append(c.labels, slices.Clone(b.Labels))
		c.indices = append(c.indices, slices.Clone(b.Indices))
		c.n = append(c.n, b.N)
	}
	c.stats = e.Stats()
	_, err = e.Next()
	assert.ErrorIs(t, err, io.EOF, "Next keeps returning io.EOF")
	return c
}

func newLoader(t *testing.T, cfg Config) *Loader {
	t.Helper()
	l, err := NewLoader(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLoaderVisitsEveryItemOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, bs   int
		workers int
		shuffle bool
	}{
		{"shuffled, partial last batch", 103, 10, 3, true},
		{"shuffled, exact batches", 64, 16, 2, true},
		{"in order", 25, 7, 4, false},
		{"one worker, batch of one", 9, 1, 1, true},
		{"batch larger than the dataset", 5, 8, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := newMem(tc.n)
			l := newLoader(t, Config{Dataset: ds, Pipeline: plain(), BatchSize: tc.bs, Workers: tc.workers, Shuffle: tc.shuffle, Seed: 1})
			require.Equal(t, (tc.n+tc.bs-1)/tc.bs, l.Batches())
			for epoch := range 2 {
				c := runEpoch(t, l, epoch, 0)
				require.Len(t, c.n, l.Batches())
				var seen []int
				for k := range c.n {
					require.Len(t, c.images[k], c.n[k]*3*4*4)
					require.Equal(t, []int{c.n[k] * 1, 3, 4, 4}[0], len(c.labels[k]))
					for j := range c.n[k] {
						idx := c.indices[k][j]
						view := c.images[k][j*48 : (j+1)*48]
						assert.Equal(t, idx, memIndex(view), "pixels of item %d", idx)
						assert.Equal(t, int32(idx%3), c.labels[k][j], "label of item %d", idx)
						seen = append(seen, idx)
					}
				}
				assert.Equal(t, l.Order(epoch), seen, "batches follow the epoch's order")
				slices.Sort(seen)
				for i := range tc.n {
					require.Equal(t, i, seen[i], "every item exactly once")
				}
				assert.Equal(t, tc.n, c.stats.Items)
				assert.Equal(t, l.Batches(), c.stats.Batches)
			}
		})
	}
}

func TestLoaderOrder(t *testing.T) {
	l := newLoader(t, Config{Dataset: newMem(50), Pipeline: plain(), BatchSize: 5, Shuffle: true, Seed: 7})
	same := newLoader(t, Config{Dataset: newMem(50), Pipeline: plain(), BatchSize: 5, Shuffle: true, Seed: 7})
	other := newLoader(t, Config{Dataset: newMem(50), Pipeline: plain(), BatchSize: 5, Shuffle: true, Seed: 8})
	ordered := newLoader(t, Config{Dataset: newMem(50), Pipeline: plain(), BatchSize: 5})

	t.Run("a new order every epoch", func(t *testing.T) {
		assert.NotEqual(t, l.Order(0), l.Order(1))
	})
	t.Run("the same seed gives the same order", func(t *testing.T) {
		assert.Equal(t, l.Order(3), same.Order(3))
	})
	t.Run("another seed gives another order", func(t *testing.T) {
		assert.NotEqual(t, l.Order(0), other.Order(0))
	})
	t.Run("without shuffling the order is the index order", func(t *testing.T) {
		o := ordered.Order(5)
		assert.True(t, slices.IsSorted(o))
		assert.Len(t, o, 50)
	})
}

func TestLoaderDeterministic(t *testing.T) {
	ds := newMem(37)
	var ref collected
	for i, workers := range []int{1, 2, 5} {
		t.Run("workers="+string(rune('0'+workers)), func(t *testing.T) {
			l := newLoader(t, Config{Dataset: ds, Pipeline: augmented(t), BatchSize: 8, Workers: workers, Shuffle: true, Seed: 42})
			c := runEpoch(t, l, 3, 0)
			if i == 0 {
				ref = c
				return
			}
			assert.Equal(t, ref.images, c.images, "augmented pixels do not depend on the number of workers")
			assert.Equal(t, ref.labels, c.labels)
			assert.Equal(t, ref.indices, c.indices)
		})
	}
	t.Run("augmentation differs between epochs and seeds", func(t *testing.T) {
		l := newLoader(t, Config{Dataset: ds, Pipeline: augmented(t), BatchSize: 37, Seed: 42})
		a := runEpoch(t, l, 0, 0)
		b := runEpoch(t, l, 1, 0)
		assert.NotEqual(t, a.images, b.images)
		l2 := newLoader(t, Config{Dataset: ds, Pipeline: augmented(t), BatchSize: 37, Seed: 43})
		assert.NotEqual(t, a.images, runEpoch(t, l2, 0, 0).images)
		again := runEpoch(t, l, 0, 0)
		assert.Equal(t, a.images, again.images, "an epoch can be replayed")
	})
	t.Run("resuming mid-epoch gives the remaining batches", func(t *testing.T) {
		l := newLoader(t, Config{Dataset: ds, Pipeline: augmented(t), BatchSize: 5, Shuffle: true, Seed: 9})
		full := runEpoch(t, l, 2, 0)
		rest := runEpoch(t, l, 2, 3)
		assert.Equal(t, full.images[3:], rest.images)
		assert.Equal(t, full.indices[3:], rest.indices)
		none := runEpoch(t, l, 2, l.Batches())
		assert.Empty(t, none.n)
	})
}

func TestLoaderReusesBuffers(t *testing.T) {
	ds := newMem(60)
	l := newLoader(t, Config{Dataset: ds, Pipeline: plain(), BatchSize: 6, Workers: 2, Prefetch: 2, Shuffle: true})
	buffers := map[*float32]bool{}
	labels := map[*int32]bool{}
	for epoch := range 3 {
		e, err := l.Epoch(context.Background(), epoch)
		require.NoError(t, err)
		for {
			b, err := e.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			buffers[&b.Images[0]] = true
			labels[&b.Labels[0]] = true
		}
		require.NoError(t, e.Close())
	}
	assert.Len(t, buffers, 3, "Prefetch+1 image buffers, reused across batches and epochs")
	assert.Len(t, labels, 3)
}

func TestLoaderLastBatch(t *testing.T) {
	ds := newMem(10)
	t.Run("drop last", func(t *testing.T) {
		l := newLoader(t, Config{Dataset: ds, Pipeline: plain(), BatchSize: 4, DropLast: true})
		c := runEpoch(t, l, 0, 0)
		assert.Equal(t, []int{4, 4}, c.n)
	})
	t.Run("pad last", func(t *testing.T) {
		l := newLoader(t, Config{Dataset: ds, Pipeline: plain(), BatchSize: 4, PadLast: true})
		c := runEpoch(t, l, 0, 0)
		require.Equal(t, []int{4, 4, 2}, c.n)
		last := 2
		require.Len(t, c.images[last], 4*48, "padded to the full batch")
		assert.Equal(t, []int{8, 9, -1, -1}, c.indices[last])
		assert.Equal(t, []int32{2, 0, 0, 0}, c.labels[last])
		for _, v := range c.images[last][2*48:] {
			require.Zero(t, v)
		}
		assert.Equal(t, 10, c.stats.Items)
	})
	t.Run("keep a short last batch", func(t *testing.T) {
		l := newLoader(t, Config{Dataset: ds, Pipeline: plain(), BatchSize: 4})
		c := runEpoch(t, l, 0, 0)
		assert.Equal(t, []int{4, 4, 2}, c.n)
		assert.Len(t, c.images[2], 2*48)
	})
}

func TestLoaderViews(t *testing.T) {
	p := &augment.Pipeline{Resize: augment.Resize{Width: 4, Height: 4}, Views: augment.TenCrop{H: 3, W: 3}}
	l := newLoader(t, Config{Dataset: newMem(5), Pipeline: p, BatchSize: 2})
	assert.Equal(t, 10, l.Views())
	assert.Equal(t, []int{20, 3, 3, 3}, l.Shape())
	e, err := l.Epoch(context.Background(), 0)
	require.NoError(t, err)
	defer e.Close()
	b, err := e.Next()
	require.NoError(t, err)
	assert.Equal(t, []int{20, 3, 3, 3}, b.Shape())
	assert.Len(t, b.Images, 20*27)
	// Item 1's first view is its top-left corner: pixel (0,0) holds the index.
	assert.InDelta(t, 1.0/255, b.Images[10*27], 1e-7)
}

func TestLoaderBadImages(t *testing.T) {
	ds := newMem(20)
	ds.bad = map[int]bool{3: true, 4: true, 19: true}
	l := newLoader(t, Config{Dataset: ds, Pipeline: plain(), BatchSize: 20})
	c := runEpoch(t, l, 0, 0)
	assert.Equal(t, 3, c.stats.Skipped)
	idx := c.indices[0]
	assert.Equal(t, 5, idx[3], "item 3 is replaced by the next readable one")
	assert.Equal(t, 5, idx[4])
	assert.Equal(t, 0, idx[19], "the search wraps around")
	for j, i := range idx {
		assert.Equal(t, i, memIndex(c.images[0][j*48:(j+1)*48]))
	}

	t.Run("skipped images are reported with their batch", func(t *testing.T) {
		e, err := l.Epoch(context.Background(), 1)
		require.NoError(t, err)
		defer e.Close()
		b, err := e.Next()
		require.NoError(t, err)
		require.Len(t, b.Skipped, 3)
		for _, err := range b.Skipped {
			assert.ErrorIs(t, err, ErrBadImage)
		}
	})
	t.Run("no readable image at all is an error", func(t *testing.T) {
		all := newMem(3)
		all.bad = map[int]bool{0: true, 1: true, 2: true}
		l := newLoader(t, Config{Dataset: all, Pipeline: plain(), BatchSize: 2})
		e, err := l.Epoch(context.Background(), 0)
		require.NoError(t, err)
		defer e.Close()
		_, err = e.Next()
		assert.ErrorContains(t, err, "no readable image")
	})
}

func TestLoaderErrors(t *testing.T) {
	t.Run("a dataset error ends the epoch", func(t *testing.T) {
		ds := newMem(30)
		ds.fatal = map[int]bool{17: true}
		l := newLoader(t, Config{Dataset: ds, Pipeline: plain(), BatchSize: 5, Workers: 3})
		e, err := l.Epoch(context.Background(), 0)
		require.NoError(t, err)
		var got error
		for got == nil {
			_, got = e.Next()
		}
		assert.ErrorContains(t, got, "batch 3: disk on fire at item 17")
		_, again := e.Next()
		assert.Equal(t, got, again, "the error sticks")
		require.NoError(t, e.Close())
		_, err = l.Epoch(context.Background(), 1)
		assert.NoError(t, err, "the loader is usable again after Close")
	})
	t.Run("a pipeline error names the item", func(t *testing.T) {
		p := &augment.Pipeline{Steps: []augment.Step{augment.RandomCrop{H: 5, W: 5}}} // 4×4 images are too small
		l := newLoader(t, Config{Dataset: newMem(3), Pipeline: p, BatchSize: 3})
		e, err := l.Epoch(context.Background(), 0)
		require.NoError(t, err)
		defer e.Close()
		_, err = e.Next()
		assert.ErrorContains(t, err, "item ")
		assert.ErrorContains(t, err, "smaller than the crop 5×5")
	})
	t.Run("a label outside the classes", func(t *testing.T) {
		ds := newMem(3)
		ds.classes = []string{"only"}
		l := newLoader(t, Config{Dataset: ds, Pipeline: plain(), BatchSize: 3})
		e, err := l.Epoch(context.Background(), 0)
		require.NoError(t, err)
		defer e.Close()
		_, err = e.Next()
		assert.ErrorContains(t, err, "has label 1, want [0, 1)")
	})
	t.Run("one epoch at a time", func(t *testing.T) {
		l := newLoader(t, Config{Dataset: newMem(3), Pipeline: plain(), BatchSize: 1})
		e, err := l.Epoch(context.Background(), 0)
		require.NoError(t, err)
		_, err = l.Epoch(context.Background(), 1)
		assert.ErrorContains(t, err, "epoch 0 is still open")
		require.NoError(t, e.Close())
		require.NoError(t, e.Close(), "closing twice is harmless")
		_, err = e.Next()
		assert.ErrorContains(t, err, "closed")
		e2, err := l.Epoch(context.Background(), 1)
		require.NoError(t, err)
		require.NoError(t, l.Close())
		_, err = e2.Next()
		assert.Error(t, err)
		_, err = l.Epoch(context.Background(), 2)
		assert.ErrorContains(t, err, "loader is closed")
	})
	t.Run("start outside the epoch", func(t *testing.T) {
		l := newLoader(t, Config{Dataset: newMem(3), Pipeline: plain(), BatchSize: 1})
		_, err := l.EpochFrom(context.Background(), 0, 4)
		assert.ErrorContains(t, err, "start batch 4 outside [0, 3]")
	})
	t.Run("context cancelled mid-epoch", func(t *testing.T) {
		l := newLoader(t, Config{Dataset: newMem(40), Pipeline: plain(), BatchSize: 4})
		ctx, cancel := context.WithCancel(context.Background())
		e, err := l.Epoch(ctx, 0)
		require.NoError(t, err)
		defer e.Close()
		_, err = e.Next()
		require.NoError(t, err)
		cancel()
		for err == nil {
			_, err = e.Next() // batches already made may still come
		}
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestNewLoaderValidates(t *testing.T) {
	ds := newMem(5)
	tests := []struct {
		name   string
		cfg    Config
		errSub string
	}{
		{"no dataset", Config{Pipeline: plain(), BatchSize: 1}, "no dataset"},
		{"no pipeline", Config{Dataset: ds, BatchSize: 1}, "no pipeline"},
		{"zero batch", Config{Dataset: ds, Pipeline: plain()}, "batch size 0"},
		{"negative workers", Config{Dataset: ds, Pipeline: plain(), BatchSize: 1, Workers: -1}, "want ≥ 0"},
		{"drop and pad", Config{Dataset: ds, Pipeline: plain(), BatchSize: 1, DropLast: true, PadLast: true}, "exclude each other"},
		{"empty dataset", Config{Dataset: newMem(0), Pipeline: plain(), BatchSize: 1}, "empty"},
		{"size not fixed", Config{Dataset: ds, Pipeline: &augment.Pipeline{}, BatchSize: 1}, "depends on the input image"},
		{"drop leaves nothing", Config{Dataset: ds, Pipeline: plain(), BatchSize: 6, DropLast: true}, "leaves no batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewLoader(tt.cfg)
			assert.ErrorContains(t, err, tt.errSub)
		})
	}
}

// TestLoaderWait checks the reported waiting time with synctest's fake
// clock: items take 10 ms each to load on one worker.
func TestLoaderWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ds := newMem(12)
		ds.delay = 10 * time.Millisecond
		l, err := NewLoader(Config{Dataset: ds, Pipeline: plain(), BatchSize: 2, Workers: 1, Prefetch: 2})
		require.NoError(t, err)
		defer l.Close()
		e, err := l.Epoch(t.Context(), 0)
		require.NoError(t, err)
		defer e.Close()

		b, err := e.Next()
		require.NoError(t, err)
		assert.Equal(t, 20*time.Millisecond, b.Wait, "the first batch: two items loaded while the consumer waits")

		// A consumer slower than the loader (1 s per step) never waits again.
		for {
			time.Sleep(time.Second)
			b, err = e.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			assert.Zero(t, b.Wait, "batch %d", b.Index)
		}
		assert.Equal(t, 20*time.Millisecond, e.Stats().Wait)
	})
	synctest.Test(t, func(t *testing.T) {
		// A consumer faster than the loader waits for every batch.
		ds := newMem(6)
		ds.delay = 10 * time.Millisecond
		l, err := NewLoader(Config{Dataset: ds, Pipeline: plain(), BatchSize: 2, Workers: 1})
		require.NoError(t, err)
		defer l.Close()
		c := runEpoch(t, l, 0, 0)
		assert.Equal(t, 60*time.Millisecond, c.stats.Wait)
		assert.Equal(t, 60*time.Millisecond, c.stats.Elapsed)
	})
}

// TestLoaderNoLeaks checks that every way of leaving an epoch stops its
// goroutines: synctest fails if any goroutine of the bubble is left
// blocked, and the goroutine count returns to where it was.
func TestLoaderNoLeaks(t *testing.T) {
	exits := []struct {
		name string
		run  func(t *testing.T, l *Loader)
	}{
		{"closed after one batch", func(t *testing.T, l *Loader) {
			e, err := l.Epoch(context.Background(), 0)
			require.NoError(t, err)
			_, err = e.Next()
			require.NoError(t, err)
			require.NoError(t, e.Close())
		}},
		{"closed with every buffer full", func(t *testing.T, l *Loader) {
			e, err := l.Epoch(context.Background(), 0)
			require.NoError(t, err)
			_, err = e.Next()
			require.NoError(t, err)
			time.Sleep(50 * time.Millisecond) // the workers fill the other buffers and wait
			require.NoError(t, e.Close())
		}},
		{"closed before any batch", func(t *testing.T, l *Loader) {
			e, err := l.Epoch(context.Background(), 0)
			require.NoError(t, err)
			require.NoError(t, e.Close())
		}},
		{"read to the end without Close", func(t *testing.T, l *Loader) {
			e, err := l.Epoch(context.Background(), 0)
			require.NoError(t, err)
			for err == nil {
				_, err = e.Next()
			}
			require.ErrorIs(t, err, io.EOF)
		}},
		{"context cancelled, never closed", func(t *testing.T, l *Loader) {
			ctx, cancel := context.WithCancel(context.Background())
			e, err := l.Epoch(ctx, 0)
			require.NoError(t, err)
			_, err = e.Next()
			require.NoError(t, err)
			cancel()
			for err == nil {
				_, err = e.Next()
			}
			require.ErrorIs(t, err, context.Canceled)
		}},
		{"loader closed with an epoch open", func(t *testing.T, l *Loader) {
			_, err := l.Epoch(context.Background(), 0)
			require.NoError(t, err)
			require.NoError(t, l.Close())
		}},
	}
	for _, ex := range exits {
		t.Run(ex.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ds := newMem(200)
				ds.delay = time.Millisecond
				l, err := NewLoader(Config{Dataset: ds, Pipeline: plain(), BatchSize: 8, Workers: 4, Shuffle: true})
				require.NoError(t, err)
				ex.run(t, l)
				// Let (fake) time pass so that goroutines that are merely
				// finishing an item can exit; any goroutine still blocked
				// when the bubble ends fails the test.
				time.Sleep(time.Second)
			})
		})
		t.Run(ex.name+", goroutine count", func(t *testing.T) {
			before := runtime.NumGoroutine()
			l, err := NewLoader(Config{Dataset: newMem(200), Pipeline: plain(), BatchSize: 8, Workers: 4, Shuffle: true})
			require.NoError(t, err)
			done := make(chan struct{})
			go func() {
				defer close(done)
				ex.run(t, l)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the epoch did not shut down within 10 s")
			}
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left running")
		})
	}
}
