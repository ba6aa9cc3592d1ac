package data

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/data/augment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// colourDataset holds solid-colour images of given sizes.
type colourDataset struct {
	colours []color.RGBA
	sizes   []image.Point
	bad     map[int]bool
	fatal   int // index that fails with a plain error, or -1
}

func (d *colourDataset) Len() int          { return len(d.colours) }
func (d *colourDataset) Classes() []string { return []string{"x"} }
func (d *colourDataset) Item(i int) (image.Image, int, error) {
	if d.bad[i] {
		return nil, 0, &ImageError{Index: i, Path: "mem", Err: errors.New("bad")}
	}
	if i == d.fatal {
		return nil, 0, errors.New("device gone")
	}
	return solid(d.sizes[i].X, d.sizes[i].Y, d.colours[i]), 0, nil
}

func uniformSizes(n, w, h int) []image.Point {
	s := make([]image.Point, n)
	for i := range s {
		s[i] = image.Pt(w, h)
	}
	return s
}

// wantStats computes the mean and covariance of the colours weighted by
// pixel counts, in [0, 1] units.
func wantStats(colours []color.RGBA, pixels []float64) ([3]float64, [3][3]float64) {
	var mean [3]float64
	var sq [3][3]float64
	tot := 0.0
	for k, c := range colours {
		v := [3]float64{float64(c.R) / 255, float64(c.G) / 255, float64(c.B) / 255}
		for a := range 3 {
			mean[a] += pixels[k] * v[a]
			for b := range 3 {
				sq[a][b] += pixels[k] * v[a] * v[b]
			}
		}
		tot += pixels[k]
	}
	var cov [3][3]float64
	for a := range 3 {
		mean[a] /= tot
	}
	for a := range 3 {
		for b := range 3 {
			cov[a][b] = sq[a][b]/tot - mean[a]*mean[b]
		}
	}
	return mean, cov
}

func assertStats(t *testing.T, st *Stats, mean [3]float64, cov [3][3]float64) {
	t.Helper()
	for a := range 3 {
		assert.InDelta(t, mean[a], st.PCA.Mean[a], 1e-6, "mean[%d]", a)
		for b := range 3 {
			assert.InDelta(t, cov[a][b], st.PCA.Cov[a][b], 1e-6, "cov[%d][%d]", a, b)
		}
	}
}

func TestComputeStats(t *testing.T) {
	ctx := context.Background()
	colours := []color.RGBA{{255, 0, 0, 255}, {0, 128, 0, 255}, {10, 20, 200, 255}, {90, 90, 90, 255}}

	t.Run("mean and covariance of equal-sized images", func(t *testing.T) {
		ds := &colourDataset{colours: colours, sizes: uniformSizes(4, 3, 2), fatal: -1}
		st, err := ComputeStats(ctx, ds, StatsOptions{})
		require.NoError(t, err)
		mean, cov := wantStats(colours, []float64{6, 6, 6, 6})
		assertStats(t, st, mean, cov)
		assert.Equal(t, 4, st.Images)
		assert.Equal(t, int64(24), st.Pixels)
		assert.Zero(t, st.Skipped)
	})
	t.Run("pixels, not images, are weighted equally", func(t *testing.T) {
		ds := &colourDataset{colours: colours[:2], sizes: []image.Point{{1, 1}, {3, 1}}, fatal: -1}
		st, err := ComputeStats(ctx, ds, StatsOptions{})
		require.NoError(t, err)
		mean, cov := wantStats(colours[:2], []float64{1, 3})
		assertStats(t, st, mean, cov)
	})
	t.Run("taken after the resize", func(t *testing.T) {
		ds := &colourDataset{colours: colours, sizes: []image.Point{{1, 1}, {2, 2}, {3, 3}, {4, 4}}, fatal: -1}
		st, err := ComputeStats(ctx, ds, StatsOptions{Resize: augment.Resize{Width: 5, Height: 5}})
		require.NoError(t, err)
		assert.Equal(t, int64(4*25), st.Pixels)
		mean, cov := wantStats(colours, []float64{1, 1, 1, 1}) // solid colours survive resizing
		assertStats(t, st, mean, cov)
	})
	t.Run("a sample of evenly spaced images", func(t *testing.T) {
		// Even items are red, odd ones blue: a sample of every other item is all red.
		var cs []color.RGBA
		for i := range 10 {
			cs = append(cs, [2]color.RGBA{{200, 0, 0, 255}, {0, 0, 200, 255}}[i%2])
		}
		ds := &colourDataset{colours: cs, sizes: uniformSizes(10, 2, 2), fatal: -1}
		st, err := ComputeStats(ctx, ds, StatsOptions{MaxImages: 5})
		require.NoError(t, err)
		assert.Equal(t, 5, st.Images)
		assertStats(t, st, [3]float64{200.0 / 255, 0, 0}, [3][3]float64{})
	})
	t.Run("the same result whatever the number of workers", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 1))
		var cs []color.RGBA
		for range 300 {
			cs = append(cs, color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
		}
		ds := &colourDataset{colours: cs, sizes: uniformSizes(300, 7, 5), fatal: -1}
		one, err := ComputeStats(ctx, ds, StatsOptions{Workers: 1})
		require.NoError(t, err)
		four, err := ComputeStats(ctx, ds, StatsOptions{Workers: 4})
		require.NoError(t, err)
		assert.Equal(t, one, four)
	})
	t.Run("bad images are skipped and counted", func(t *testing.T) {
		ds := &colourDataset{colours: colours, sizes: uniformSizes(4, 2, 2), bad: map[int]bool{1: true, 3: true}, fatal: -1}
		st, err := ComputeStats(ctx, ds, StatsOptions{})
		require.NoError(t, err)
		assert.Equal(t, 2, st.Images)
		assert.Equal(t, 2, st.Skipped)
		mean, cov := wantStats([]color.RGBA{colours[0], colours[2]}, []float64{1, 1})
		assertStats(t, st, mean, cov)
	})
	t.Run("errors", func(t *testing.T) {
		_, err := ComputeStats(ctx, &colourDataset{colours: colours, sizes: uniformSizes(4, 2, 2), fatal: 2}, StatsOptions{})
		assert.ErrorContains(t, err, "item 2: device gone")
		_, err = ComputeStats(ctx, &colourDataset{colours: colours[:1], sizes: uniformSizes(1, 2, 2), bad: map[int]bool{0: true}, fatal: -1}, StatsOptions{})
		assert.ErrorContains(t, err, "none of the 1 images could be read")
		_, err = ComputeStats(ctx, &colourDataset{fatal: -1}, StatsOptions{})
		assert.ErrorContains(t, err, "empty")
		_, err = ComputeStats(ctx, &colourDataset{colours: colours, sizes: uniformSizes(4, 2, 2), fatal: -1}, StatsOptions{Resize: augment.Resize{Width: 2}})
		assert.ErrorContains(t, err, "together")
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = ComputeStats(cancelled, &colourDataset{colours: colours, sizes: uniformSizes(4, 2, 2), fatal: -1}, StatsOptions{})
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestStatsFile(t *testing.T) {
	ctx := context.Background()
	ds := &colourDataset{colours: []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {9, 9, 200, 255}}, sizes: uniformSizes(3, 2, 2), fatal: -1}
	st, err := ComputeStats(ctx, ds, StatsOptions{})
	require.NoError(t, err)

	t.Run("save and load round trip", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "sub", "stats.json")
		require.NoError(t, st.Save(p))
		got, err := LoadStats(p)
		require.NoError(t, err)
		assert.Equal(t, st.Key, got.Key)
		assert.Equal(t, st.Images, got.Images)
		for i := range 3 {
			assert.InDelta(t, st.PCA.Eigenvalues[i], got.PCA.Eigenvalues[i], 1e-15)
		}
		entries, err := os.ReadDir(filepath.Dir(p))
		require.NoError(t, err)
		assert.Len(t, entries, 1, "no temporary file left behind")
	})
	badFiles := []struct {
		name, content, errSub string
	}{
		{"not JSON", "{", "unexpected EOF"},
		{"unknown field", `{"version":1,"images":1,"pixels":1,"extra":2}`, "unknown field"},
		{"other version", `{"version":9,"images":1,"pixels":1}`, "version 9, want 1"},
		{"no images", `{"version":1,"images":0,"pixels":0}`, "computed from 0 images"},
		{"asymmetric covariance", `{"version":1,"images":1,"pixels":4,"pca":{"cov":[[1,2,0],[0,1,0],[0,0,1]]}}`, "not symmetric"},
		{"trailing data", `{"version":1,"images":1,"pixels":1} {}`, "data after"},
	}
	for _, tt := range badFiles {
		t.Run("load rejects "+tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s.json")
			require.NoError(t, os.WriteFile(p, []byte(tt.content), 0o644))
			_, err := LoadStats(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.errSub)
			assert.Contains(t, err.Error(), p)
		})
	}
	t.Run("load recomputes the eigenvectors from the covariance", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "s.json")
		require.NoError(t, os.WriteFile(p, []byte(`{"version":1,"images":1,"pixels":4,"pca":{"cov":[[2,0,0],[0,1,0],[0,0,3]],"eigenvalues":[7,7,7]}}`), 0o644))
		got, err := LoadStats(p)
		require.NoError(t, err)
		assert.Equal(t, [3]float64{3, 2, 1}, got.PCA.Eigenvalues)
	})
}

func TestCachedStats(t *testing.T) {
	ctx := context.Background()
	colours := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}}
	ds := &colourDataset{colours: colours, sizes: uniformSizes(2, 2, 2), fatal: -1}

	t.Run("computed once, then read from the file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "stats.json")
		first, cached, err := CachedStats(ctx, ds, StatsOptions{}, p)
		require.NoError(t, err)
		assert.False(t, cached)
		second, cached, err := CachedStats(ctx, ds, StatsOptions{}, p)
		require.NoError(t, err)
		assert.True(t, cached)
		assert.Equal(t, first.PCA.Mean, second.PCA.Mean)
	})
	t.Run("other options are recomputed", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "stats.json")
		_, _, err := CachedStats(ctx, ds, StatsOptions{}, p)
		require.NoError(t, err)
		st, cached, err := CachedStats(ctx, ds, StatsOptions{Resize: augment.Resize{Width: 3, Height: 3}}, p)
		require.NoError(t, err)
		assert.False(t, cached)
		assert.Equal(t, int64(18), st.Pixels)
	})
	t.Run("a corrupt file is replaced", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "stats.json")
		require.NoError(t, os.WriteFile(p, []byte("garbage"), 0o644))
		_, cached, err := CachedStats(ctx, ds, StatsOptions{}, p)
		require.NoError(t, err)
		assert.False(t, cached)
		_, err = LoadStats(p)
		assert.NoError(t, err)
	})
	t.Run("default path is in the user cache directory", func(t *testing.T) {
		cache := t.TempDir()
		t.Setenv("XDG_CACHE_HOME", cache)
		t.Setenv("HOME", cache)
		p, err := StatsPath(ds, StatsOptions{})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(p, filepath.Join(cache, "dnngo", "stats")), p)
		other, err := StatsPath(ds, StatsOptions{MaxImages: 1})
		require.NoError(t, err)
		assert.NotEqual(t, p, other)
		_, _, err = CachedStats(ctx, ds, StatsOptions{}, "")
		require.NoError(t, err)
		_, err = os.Stat(p)
		assert.NoError(t, err)
	})
	t.Run("an unwritable path is an error", func(t *testing.T) {
		blocker := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(blocker, nil, 0o644))
		_, _, err := CachedStats(ctx, ds, StatsOptions{}, filepath.Join(blocker, "stats.json"))
		assert.Error(t, err)
	})
}
