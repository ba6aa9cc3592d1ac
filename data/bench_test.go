package data

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/dnngo/dnngo/data/augment"
)

// BenchmarkLoader measures images per second through the whole loader
// (dataset, pipeline, batch assembly) with 1 and 2 workers:
//
//	flock /tmp/dnngo-bench.lock go test -run '^$' -bench Loader -benchtime 2000x ./data
//
// The Fashion-MNIST cases need the Debian package dataset-fashion-mnist.
func BenchmarkLoader(b *testing.B) {
	pca, err := augment.NewPCA([3]float64{0.29, 0.29, 0.29}, [3][3]float64{{0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}})
	if err != nil {
		b.Fatal(err)
	}
	type source struct {
		name string
		open func(b *testing.B) Dataset
	}
	fashion := source{"fashion-mnist", func(b *testing.B) Dataset {
		ds, err := OpenFashionMNIST(FashionMNISTDir, Train)
		if err != nil {
			b.Skip(err)
		}
		return ds
	}}
	folder := source{"jpeg-folder-500x375", func(b *testing.B) Dataset {
		root := b.TempDir()
		r := rand.New(rand.NewPCG(1, 1))
		for i := range 64 {
			dir := filepath.Join(root, fmt.Sprintf("class%d", i%4))
			os.MkdirAll(dir, 0o755)
			m := image.NewRGBA(image.Rect(0, 0, 500, 375))
			for y := range 375 {
				for x := range 500 {
					n := r.IntN(24)
					m.SetRGBA(x, y, color.RGBA{uint8((x/2 + n) % 256), uint8((y*2/3 + n) % 256), uint8(i*4 + n), 255})
				}
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.jpg", i)), jpegBytes(b, m), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		ds, err := OpenFolder(root, nil)
		if err != nil {
			b.Fatal(err)
		}
		return ds
	}}
	cases := []struct {
		src  source
		name string
		p    *augment.Pipeline
	}{
		{fashion, "paper-train-256-227", augment.PaperTrain(256, 227, pca)},
		{fashion, "paper-train-113-99", augment.PaperTrain(113, 99, pca)},
		{fashion, "resize-227", &augment.Pipeline{Resize: augment.Resize{Width: 227, Height: 227}}},
		{folder, "paper-train-256-227", augment.PaperTrain(256, 227, pca)},
	}
	for _, c := range cases {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/%s/workers=%d", c.src.name, c.name, workers), func(b *testing.B) {
				ds := c.src.open(b)
				l, err := NewLoader(Config{Dataset: ds, Pipeline: c.p, BatchSize: 32, Workers: workers, Shuffle: true})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				ctx := context.Background()
				epoch := 0
				e, err := l.Epoch(ctx, epoch)
				if err != nil {
					b.Fatal(err)
				}
				images := 0
				for b.Loop() { // one iteration per batch
					batch, err := e.Next()
					if err == io.EOF {
						epoch++
						if e, err = l.Epoch(ctx, epoch); err == nil {
							batch, err = e.Next()
						}
					}
					if err != nil {
						b.Fatal(err)
					}
					images += batch.N
				}
				b.StopTimer()
				e.Close()
				b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
