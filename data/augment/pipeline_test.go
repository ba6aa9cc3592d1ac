package augment

import (
	"image"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPipelineShape(t *testing.T) {
	pca := &PCA{}
	tests := []struct {
		name           string
		p              *Pipeline
		views, c, h, w int
		errSub         string
	}{
		{"paper training", PaperTrain(256, 227, pca), 1, 3, 227, 227, ""},
		{"paper training, mini size", PaperTrain(113, 99, nil), 1, 3, 99, 99, ""},
		{"paper evaluation, centre", PaperEval(256, 227, pca, false), 1, 3, 227, 227, ""},
		{"paper evaluation, ten crops", PaperEval(256, 227, pca, true), 10, 3, 227, 227, ""},
		{"textbook: resize only", &Pipeline{Resize: Resize{Width: 224, Height: 224}}, 1, 3, 224, 224, ""},
		{"shorter side then crop", &Pipeline{Resize: Resize{Shorter: 256}, Steps: []Step{CenterCrop{227, 227}}}, 1, 3, 227, 227, ""},
		{"size depends on the image", &Pipeline{Resize: Resize{Shorter: 256}}, 0, 0, 0, 0, "depends on the input image"},
		{"crop larger than the resize", PaperTrain(99, 227, nil), 0, 0, 0, 0, "does not fit"},
		{"invalid resize", &Pipeline{Resize: Resize{Width: 3}}, 0, 0, 0, 0, "together"},
		{"nil step", &Pipeline{Resize: Resize{Width: 3, Height: 3}, Steps: []Step{nil}}, 0, 0, 0, 0, "step 0 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			views, c, h, w, err := tt.p.Shape()
			if tt.errSub != "" {
				assert.ErrorContains(t, err, tt.errSub)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, [4]int{tt.views, tt.c, tt.h, tt.w}, [4]int{views, c, h, w})
		})
	}
}

func TestPipelineProcess(t *testing.T) {
	pca := testPCA(t)
	src := noiseRGBA(300, 280, 1)

	t.Run("the same seed gives the same output", func(t *testing.T) {
		p := PaperTrain(64, 56, pca)
		a, b := make([]float32, 3*56*56), make([]float32, 3*56*56)
		var s Scratch
		require.NoError(t, p.Process(a, src, seeded(1), &s))
		require.NoError(t, p.Process(b, src, seeded(1), nil))
		assert.Equal(t, a, b)
		require.NoError(t, p.Process(b, src, seeded(2), &s))
		assert.NotEqual(t, a, b)
	})
	t.Run("the training pipeline equals its steps one by one", func(t *testing.T) {
		p := PaperTrain(64, 56, pca)
		got := make([]float32, 3*56*56)
		require.NoError(t, p.Process(got, src, seeded(3), nil))

		m, err := Resize{Shorter: 64, Square: true}.Apply(nil, src, nil)
		require.NoError(t, err)
		r := seeded(3)
		for _, s := range []Step{RandomCrop{56, 56}, Flip{0.5}, PCANoise{pca, 0.1}, SubtractMean{pca.MeanFloat32()}} {
			require.NoError(t, s.Apply(m, r))
		}
		assert.Equal(t, m.Pix, got)
	})
	t.Run("ten-crop evaluation writes ten views", func(t *testing.T) {
		p := PaperEval(64, 56, pca, true)
		got := make([]float32, 10*3*56*56)
		require.NoError(t, p.Process(got, src, nil, nil))
		m, err := Resize{Shorter: 64, Square: true}.Apply(nil, src, nil)
		require.NoError(t, err)
		require.NoError(t, SubtractMean{pca.MeanFloat32()}.Apply(m, nil))
		views, err := TenCropImages(m, 56, 56)
		require.NoError(t, err)
		for v := range 10 {
			assert.Equal(t, views[v].Pix, got[v*3*56*56:(v+1)*3*56*56], "view %d", v)
		}
	})
	t.Run("grey 28×28 to the network input", func(t *testing.T) {
		g := image.NewGray(image.Rect(0, 0, 28, 28))
		for i := range g.Pix {
			g.Pix[i] = uint8(i)
		}
		p := &Pipeline{Resize: Resize{Width: 99, Height: 99}}
		got := make([]float32, 3*99*99)
		require.NoError(t, p.Process(got, g, nil, nil))
		assert.Equal(t, got[:99*99], got[99*99:2*99*99])
	})
	t.Run("errors", func(t *testing.T) {
		p := PaperTrain(64, 56, nil)
		assert.ErrorContains(t, p.Process(make([]float32, 5), src, seeded(1), nil), "holds 5 values, want 9408")
		assert.ErrorContains(t, p.Process(make([]float32, 3*56*56), src, nil, nil), "rng is nil")
		var q Pipeline // keeps the size: fails on the shape
		assert.ErrorContains(t, q.Process(make([]float32, 3), src, nil, nil), "depends on the input image")
	})
	t.Run("string lists the stages", func(t *testing.T) {
		assert.Equal(t, "shorter side 256, centre 256×256 → random crop 227×227 → horizontal flip p=0.5",
			PaperTrain(256, 227, nil).String())
	})
}
