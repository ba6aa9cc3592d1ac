package alexnet_test

import (
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryEstimate(t *testing.T) {
	s, err := alexnet.SeedConfig().Summary()
	require.NoError(t, err)
	m := s.Memory()
	const params, perImage = 4 * 62_378_344, 4 * (1_925_224 + 154_587)
	assert.Equal(t, alexnet.Memory{Params: params, Inference: 2 * params, Training: 4 * params, PerImage: perImage,
		PerImageTrained: perImage * 3 / 2}, m)
	for _, tc := range []struct {
		name           string
		forward, train []int
		want           int64
	}{
		{"nothing", nil, nil, 2 * params},
		{"forward 1 and 16", []int{1, 16}, nil, 2*params + 17*perImage},
		{"training 16", nil, []int{16}, 4*params + 16*(perImage*3/2)},
		{"a size in both counts once", []int{16, 64}, []int{16}, 4*params + 16*(perImage*3/2) + 64*perImage},
		{"a repeated size counts once", []int{8, 8}, nil, 2*params + 8*perImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, m.Need(tc.forward, tc.train))
		})
	}
	// The calibration runs: the estimate is not below what was measured.
	assert.GreaterOrEqual(t, m.Need([]int{32}, nil), int64(718408*1024), "bench --batch 32 measured 718 MB")
	assert.GreaterOrEqual(t, m.Need(nil, []int{32}), int64(1132000*1024), "bench --train 32 measured 1.13 GB")
}

func TestGB(t *testing.T) {
	assert.Equal(t, "0.50 GB", alexnet.GB(500e6))
	assert.Equal(t, "718 GB", alexnet.GB(718e9))
}
