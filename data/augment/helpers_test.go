package augment

import (
	"image"
	"image/color"
	"math/rand/v2"
)

// ramp returns a c×h×w image whose value at (ch, y, x) is ch*10000 + y*100 + x,
// so every pixel says where it came from.
func ramp(c, h, w int) *Image {
	m := NewImage(c, h, w)
	for ch := range c {
		for y := range h {
			for x := range w {
				m.Set(ch, y, x, rampValue(ch, y, x))
			}
		}
	}
	return m
}

func rampValue(c, y, x int) float32 { return float32(c*10000 + y*100 + x) }

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// noiseRGBA returns a w×h image of pseudo-random opaque colours.
func noiseRGBA(w, h int, seed uint64) *image.RGBA {
	r := seeded(seed)
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
		}
	}
	return m
}
