package augment

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

// photoLike returns a w×h image with smooth gradients plus mild noise, which
// compresses and decodes more like a photograph than pure noise does.
func photoLike(w, h int) *image.RGBA {
	r := rand.New(rand.NewPCG(1, 1))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := r.IntN(24)
			m.SetRGBA(x, y, color.RGBA{uint8((x*255/w + n) % 256), uint8((y*255/h + n) % 256), uint8(((x + y) * 128 / (w + h)) + n), 255})
		}
	}
	return m
}

// BenchmarkPipeline measures images per second on one goroutine (one core):
//
//	flock /tmp/dnngo-bench.lock go test -run '^$' -bench Pipeline -cpu 1 ./data/augment
func BenchmarkPipeline(b *testing.B) {
	pca, err := NewPCA([3]float64{0.5, 0.5, 0.5}, [3][3]float64{{0.06, 0.05, 0.05}, {0.05, 0.06, 0.05}, {0.05, 0.05, 0.06}})
	if err != nil {
		b.Fatal(err)
	}
	grey := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(i * 13)
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, photoLike(500, 375), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name   string
		p      *Pipeline
		decode bool
	}{
		{"fashion-28/paper-train-256-227", PaperTrain(256, 227, pca), false},
		{"fashion-28/paper-train-113-99", PaperTrain(113, 99, pca), false},
		{"fashion-28/resize-227", &Pipeline{Resize: Resize{Width: 227, Height: 227}}, false},
		{"fashion-28/paper-eval-10crop-256-227", PaperEval(256, 227, pca, true), false},
		{"jpeg-500x375/decode+paper-train-256-227", PaperTrain(256, 227, pca), true},
		{"jpeg-500x375/decode-only", nil, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var dst []float32
			if c.p != nil {
				views, ch, h, w, err := c.p.Shape()
				if err != nil {
					b.Fatal(err)
				}
				dst = make([]float32, views*ch*h*w)
			}
			var s Scratch
			rng := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				var src image.Image = grey
				if c.decode {
					if src, err = jpeg.Decode(bytes.NewReader(jpg.Bytes())); err != nil {
						b.Fatal(err)
					}
				}
				if c.p != nil {
					if err := c.p.Process(dst, src, rng, &s); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
