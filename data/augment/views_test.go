package augment

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTenCrop(t *testing.T) {
	// A 7×9 image, 3×4 views: corners at rows 0/4, columns 0/5, centre at (2, 2).
	src := ramp(3, 7, 9)
	views, err := TenCropImages(src, 3, 4)
	require.NoError(t, err)
	require.Len(t, views, 10)
	offsets := [5][2]int{{0, 0}, {0, 5}, {4, 0}, {4, 5}, {2, 2}}
	names := [5]string{"top-left", "top-right", "bottom-left", "bottom-right", "centre"}
	for v := range 5 {
		t.Run(names[v], func(t *testing.T) {
			m := views[v]
			require.Equal(t, [3]int{3, 3, 4}, [3]int{m.C, m.H, m.W})
			y0, x0 := windowOffset(t, m)
			assert.Equal(t, offsets[v], [2]int{y0, x0})
		})
		t.Run(names[v]+" mirrored", func(t *testing.T) {
			m := views[v+5]
			for c := range 3 {
				for y := range 3 {
					for x := range 4 {
						require.Equal(t, rampValue(c, offsets[v][0]+y, offsets[v][1]+3-x), m.At(c, y, x))
					}
				}
			}
		})
	}
	t.Run("views equal the crop and flip steps", func(t *testing.T) {
		m := src.Clone()
		require.NoError(t, CenterCrop{H: 3, W: 4}.Apply(m, nil))
		assert.Equal(t, m.Pix, views[4].Pix)
		require.NoError(t, Flip{P: 1}.Apply(m, nil))
		assert.Equal(t, m.Pix, views[9].Pix)
	})
	t.Run("the source is untouched", func(t *testing.T) {
		assert.Equal(t, ramp(3, 7, 9), src)
	})
	t.Run("a view as large as the image gives five equal pairs", func(t *testing.T) {
		vs, err := TenCropImages(ramp(3, 4, 4), 4, 4)
		require.NoError(t, err)
		for v := range 5 {
			assert.Equal(t, ramp(3, 4, 4).Pix, vs[v].Pix)
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, err := TenCropImages(ramp(3, 4, 4), 5, 4)
		assert.ErrorContains(t, err, "smaller than the crop")
		err = TenCrop{H: 2, W: 2}.WriteViews(make([]float32, 10), ramp(3, 4, 4))
		assert.ErrorContains(t, err, "holds 10 values, want 120")
	})
}
