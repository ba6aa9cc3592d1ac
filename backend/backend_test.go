package backend_test

import (
	"errors"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenNotCompiledNamesTheTag(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"onednn", "build with -tags onednn"},
		{"cudnn", "build with -tags cudnn"},
		{"cpu", `import _ "github.com/dnngo/dnngo/backend/all"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// This test binary links no backend package, so none is registered.
			_, err := backend.Open(tc.name)
			require.Error(t, err)
			assert.ErrorIs(t, err, backend.ErrNotCompiled)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestOpenUnknown(t *testing.T) {
	_, err := backend.Open("tpu")
	require.ErrorIs(t, err, backend.ErrUnknown)
	assert.Contains(t, err.Error(), "known: cudnn, onednn, cpu")
}

func TestBestWithNothingRegistered(t *testing.T) {
	_, err := backend.Best()
	require.ErrorIs(t, err, backend.ErrUnavailable)
}

func TestParsePrecision(t *testing.T) {
	for _, p := range []backend.Precision{backend.FP32, backend.TF32, backend.BF16, backend.FP16} {
		got, err := backend.ParsePrecision(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
	_, err := backend.ParsePrecision("fp8")
	assert.ErrorContains(t, err, `unknown precision "fp8"`)
}

func TestShape(t *testing.T) {
	s := backend.Shape{2, 96, 55, 55}
	assert.Equal(t, 2*96*55*55, s.Numel())
	assert.Equal(t, "[2 96 55 55]", s.String())
	c := s.Clone()
	c[0] = 3
	assert.Equal(t, 2, s[0], "Clone shares no memory")
	assert.True(t, s.Equal(backend.Shape{2, 96, 55, 55}))
	assert.False(t, s.Equal(backend.Shape{2, 96, 55}))
	for _, bad := range []backend.Shape{nil, {}, {0}, {2, -1}, {1, 2, 3, 4, 5}, {1 << 16, 1 << 16}} {
		assert.ErrorIs(t, bad.Validate(), backend.ErrShape, "%v", bad)
	}
}

func TestConvDescAlexNetShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    backend.ConvDesc
		out  backend.Shape
		gf   float64 // forward GFLOP
	}{
		{"conv1", backend.ConvDesc{Input: backend.Shape{1, 3, 227, 227}, Out: 96, KernelH: 11, KernelW: 11, StrideH: 4, StrideW: 4, Groups: 1}, backend.Shape{1, 96, 55, 55}, 0.2108},
		{"conv2", backend.ConvDesc{Input: backend.Shape{1, 96, 27, 27}, Out: 256, KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2, Groups: 1}, backend.Shape{1, 256, 27, 27}, 0.8958},
		{"conv2 paper groups", backend.ConvDesc{Input: backend.Shape{1, 96, 27, 27}, Out: 256, KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2, Groups: 2}, backend.Shape{1, 256, 27, 27}, 0.4479},
		{"conv3", backend.ConvDesc{Input: backend.Shape{1, 256, 13, 13}, Out: 384, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1}, backend.Shape{1, 384, 13, 13}, 0.2991},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.d.Validate())
			assert.Equal(t, tc.out, tc.d.OutputShape())
			assert.InDelta(t, tc.gf, float64(tc.d.FLOPs())/1e9, 1e-4)
		})
	}
}

func TestDescErrorsNameTheOp(t *testing.T) {
	err := backend.ConvDesc{Input: backend.Shape{1, 3, 8, 8}, Out: 4, KernelH: 3, KernelW: 3, StrideH: 0, StrideW: 1, Groups: 1}.Validate()
	require.ErrorIs(t, err, backend.ErrInvalid)
	assert.Contains(t, err.Error(), "dnngo: conv2d:")
	assert.Contains(t, err.Error(), "stride 0x1")
	assert.Contains(t, err.Error(), "[1 3 8 8]")
	var oe *backend.OpError
	require.True(t, errors.As(err, &oe))
	assert.Equal(t, "conv2d", oe.Op)
}

func TestDropoutKeep(t *testing.T) {
	// A value computed independently (Python, the same SplitMix64 finaliser)
	// pins the generator: a change here would change every mask.
	assert.Equal(t, uint32(0xbdd732), backend.DropoutBits(42, 0))
	assert.True(t, backend.DropoutKeep(1, 5, 0), "p = 0 keeps everything")
	kept := 0
	const n = 1 << 20
	for i := 0; i < n; i++ {
		if backend.DropoutKeep(7, i, 0.25) {
			kept++
		}
	}
	assert.InDelta(t, 0.75, float64(kept)/n, 0.002)
	assert.Equal(t, backend.DropoutKeep(9, 123, 0.5), backend.DropoutKeep(9, 123, 0.5))
}

func TestSGDParamsValidate(t *testing.T) {
	assert.NoError(t, backend.SGDParams{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4}.Validate())
	assert.ErrorIs(t, backend.SGDParams{LR: 0.01, Rule: 7}.Validate(), backend.ErrInvalid)
}
