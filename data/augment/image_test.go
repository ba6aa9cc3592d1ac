package augment

import (
	"image"
	"image/color"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/draw"
)

func TestFromImage(t *testing.T) {
	t.Run("grey becomes three equal channels scaled to [0,1]", func(t *testing.T) {
		g := image.NewGray(image.Rect(0, 0, 3, 2))
		for i := range g.Pix {
			g.Pix[i] = uint8(i * 51) // 0, 51, ..., 255
		}
		m := FromImage(nil, g)
		require.Equal(t, [3]int{3, 2, 3}, [3]int{m.C, m.H, m.W})
		for c := range 3 {
			for y := range 2 {
				for x := range 3 {
					assert.InDelta(t, float32((y*3+x)*51)/255, m.At(c, y, x), 1e-7, "c=%d y=%d x=%d", c, y, x)
				}
			}
		}
	})
	t.Run("rgba becomes planar channels", func(t *testing.T) {
		src := noiseRGBA(5, 4, 1)
		m := FromImage(nil, src)
		for y := range 4 {
			for x := range 5 {
				p := src.RGBAAt(x, y)
				assert.Equal(t, float32(p.R)/255, m.At(0, y, x))
				assert.Equal(t, float32(p.G)/255, m.At(1, y, x))
				assert.Equal(t, float32(p.B)/255, m.At(2, y, x))
			}
		}
	})
	t.Run("sub-images are read from their own origin", func(t *testing.T) {
		src := noiseRGBA(8, 8, 2)
		sub := src.SubImage(image.Rect(3, 2, 7, 5)).(*image.RGBA)
		m := FromImage(nil, sub)
		require.Equal(t, [2]int{3, 4}, [2]int{m.H, m.W})
		assert.Equal(t, float32(src.RGBAAt(3, 2).G)/255, m.At(1, 0, 0))
		assert.Equal(t, float32(src.RGBAAt(6, 4).B)/255, m.At(2, 2, 3))

		g := image.NewGray(image.Rect(0, 0, 6, 6))
		for i := range g.Pix {
			g.Pix[i] = uint8(i)
		}
		gm := FromImage(nil, g.SubImage(image.Rect(2, 3, 5, 6)))
		assert.Equal(t, float32(3*6+2)/255, gm.At(0, 0, 0))
		assert.Equal(t, float32(5*6+4)/255, gm.At(2, 2, 2))
	})
	t.Run("other types go through RGBA, alpha composited over black", func(t *testing.T) {
		src := image.NewNRGBA(image.Rect(0, 0, 2, 1))
		src.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 255})
		src.SetNRGBA(1, 0, color.NRGBA{200, 100, 50, 0})
		m := FromImage(nil, src)
		assert.Equal(t, float32(200)/255, m.At(0, 0, 0))
		assert.Equal(t, float32(50)/255, m.At(2, 0, 0))
		for c := range 3 {
			assert.Zero(t, m.At(c, 0, 1), "a transparent pixel is black")
		}
	})
	t.Run("dst memory is reused", func(t *testing.T) {
		dst := NewImage(3, 10, 10)
		before := &dst.Pix[0]
		m := FromImage(dst, noiseRGBA(4, 4, 3))
		assert.Same(t, dst, m)
		assert.Same(t, before, &m.Pix[0])
		assert.Len(t, m.Pix, 3*4*4)
	})
}

func TestResizeOutSize(t *testing.T) {
	tests := []struct {
		name   string
		r      Resize
		h, w   int
		wh, ww int
	}{
		{"shorter side of a landscape image", Resize{Shorter: 100}, 200, 300, 100, 150},
		{"shorter side of a portrait image", Resize{Shorter: 256}, 500, 375, 341, 256},
		{"shorter side rounds the longer side", Resize{Shorter: 3}, 7, 10, 3, 4},
		{"square", Resize{Shorter: 256, Square: true}, 500, 375, 256, 256},
		{"exact size ignores aspect", Resize{Width: 227, Height: 99}, 28, 28, 99, 227},
		{"zero keeps the size", Resize{}, 13, 17, 13, 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, w := tt.r.OutSize(tt.h, tt.w)
			assert.Equal(t, [2]int{tt.wh, tt.ww}, [2]int{h, w})
		})
	}
}

func TestResizeValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Resize
		ok   bool
	}{
		{"zero value", Resize{}, true},
		{"shorter", Resize{Shorter: 256}, true},
		{"shorter square", Resize{Shorter: 256, Square: true}, true},
		{"exact", Resize{Width: 4, Height: 5}, true},
		{"negative", Resize{Shorter: -1}, false},
		{"both modes", Resize{Shorter: 4, Width: 4, Height: 4}, false},
		{"width without height", Resize{Width: 4}, false},
		{"square without shorter", Resize{Square: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestResizeApply(t *testing.T) {
	t.Run("nearest-neighbour doubling repeats each pixel", func(t *testing.T) {
		g := image.NewGray(image.Rect(0, 0, 3, 3))
		for i := range g.Pix {
			g.Pix[i] = uint8(10 * i)
		}
		m, err := Resize{Width: 6, Height: 6, Interpolator: draw.NearestNeighbor}.Apply(nil, g, nil)
		require.NoError(t, err)
		require.Equal(t, [3]int{3, 6, 6}, [3]int{m.C, m.H, m.W})
		for c := range 3 {
			for y := range 6 {
				for x := range 6 {
					assert.Equal(t, float32(10*((y/2)*3+x/2))/255, m.At(c, y, x))
				}
			}
		}
	})
	t.Run("square keeps the centre of a wide image", func(t *testing.T) {
		// 400×200: red columns [0,100), green [100,300), blue [300,400).
		src := image.NewRGBA(image.Rect(0, 0, 400, 200))
		for y := range 200 {
			for x := range 400 {
				c := color.RGBA{0, 255, 0, 255}
				if x < 100 {
					c = color.RGBA{255, 0, 0, 255}
				} else if x >= 300 {
					c = color.RGBA{0, 0, 255, 255}
				}
				src.SetRGBA(x, y, c)
			}
		}
		m, err := Resize{Shorter: 50, Square: true}.Apply(nil, src, nil)
		require.NoError(t, err)
		require.Equal(t, [3]int{3, 50, 50}, [3]int{m.C, m.H, m.W})
		for y := range 50 {
			for x := range 50 {
				require.Equal(t, [3]float32{0, 1, 0}, [3]float32{m.At(0, y, x), m.At(1, y, x), m.At(2, y, x)}, "pixel %d,%d", x, y)
			}
		}
	})
	t.Run("square without scaling is a centre crop", func(t *testing.T) {
		src := noiseRGBA(9, 5, 4)
		m, err := Resize{Shorter: 5, Square: true}.Apply(nil, src, nil)
		require.NoError(t, err)
		require.Equal(t, [2]int{5, 5}, [2]int{m.H, m.W})
		assert.Equal(t, float32(src.RGBAAt(2, 0).R)/255, m.At(0, 0, 0))
		assert.Equal(t, float32(src.RGBAAt(6, 4).B)/255, m.At(2, 4, 4))
	})
	t.Run("default interpolator is x/image/draw BiLinear", func(t *testing.T) {
		src := noiseRGBA(40, 30, 5)
		want := image.NewRGBA(image.Rect(0, 0, 20, 15))
		draw.BiLinear.Scale(want, want.Rect, src, src.Rect, draw.Src, nil)
		var s Scratch
		for range 2 { // the second call reuses the cached scaler
			m, err := Resize{Width: 20, Height: 15}.Apply(nil, src, &s)
			require.NoError(t, err)
			assert.Equal(t, FromImage(nil, want).Pix, m.Pix)
		}
	})
	t.Run("a grey image resized has three equal channels", func(t *testing.T) {
		g := image.NewGray(image.Rect(0, 0, 28, 28))
		for i := range g.Pix {
			g.Pix[i] = uint8(i * 7)
		}
		m, err := Resize{Width: 99, Height: 99}.Apply(nil, g, nil)
		require.NoError(t, err)
		plane := 99 * 99
		assert.Equal(t, m.Pix[:plane], m.Pix[plane:2*plane])
		assert.Equal(t, m.Pix[:plane], m.Pix[2*plane:])
	})
	t.Run("errors", func(t *testing.T) {
		_, err := Resize{}.Apply(nil, image.NewRGBA(image.Rect(0, 0, 0, 5)), nil)
		assert.ErrorContains(t, err, "empty image")
		_, err = Resize{Width: 3}.Apply(nil, noiseRGBA(2, 2, 1), nil)
		assert.ErrorContains(t, err, "Width and Height")
	})
}
