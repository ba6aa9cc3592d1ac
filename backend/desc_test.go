package backend_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// planRecorder is a Backend whose Conv and Linear record the desc they got
// (every other method is the nil embedded interface's and panics).
type planRecorder struct {
	backend.Backend
	got any
}

func (r *planRecorder) Conv(d backend.ConvDesc) (backend.WeightPlan, error) {
	r.got = d
	return nil, nil
}

func (r *planRecorder) Linear(d backend.LinearDesc) (backend.WeightPlan, error) {
	r.got = d
	return nil, nil
}

func TestWeightDesc(t *testing.T) {
	conv := backend.ConvDesc{Input: backend.Shape{2, 3, 8, 8}, Out: 4, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1, Bias: true}
	lin := backend.LinearDesc{Input: backend.Shape{2, 3, 2, 2}, Out: 5, Bias: true}
	for _, tc := range []struct {
		name                string
		d                   backend.WeightDesc
		in, out, w, outAt16 backend.Shape
		flops               int64
	}{
		{"conv", conv, backend.Shape{2, 3, 8, 8}, backend.Shape{2, 4, 8, 8}, backend.Shape{4, 3, 3, 3}, backend.Shape{16, 4, 8, 8}, 2 * 2 * 4 * 64 * 27},
		{"linear", lin, backend.Shape{2, 3, 2, 2}, backend.Shape{2, 5}, backend.Shape{5, 12}, backend.Shape{16, 5}, 2 * 2 * 12 * 5},
	} {
		t.Run(tc.name+"/shapes and FLOPs", func(t *testing.T) {
			require.NoError(t, tc.d.Validate())
			assert.Equal(t, tc.in, tc.d.InputShape())
			assert.Equal(t, tc.out, tc.d.OutputShape())
			assert.Equal(t, tc.w, tc.d.WeightShape())
			assert.Equal(t, tc.flops, tc.d.FLOPs())
		})
		t.Run(tc.name+"/WithBatch copies", func(t *testing.T) {
			d16 := tc.d.WithBatch(16)
			assert.Equal(t, tc.outAt16, d16.OutputShape())
			assert.Equal(t, 16, d16.InputShape()[0])
			assert.Equal(t, tc.in, tc.d.InputShape(), "the receiver's input shape must not change")
			assert.Equal(t, tc.w, d16.WeightShape(), "the weights do not depend on the batch")
		})
		t.Run(tc.name+"/PlanWeight dispatches", func(t *testing.T) {
			r := &planRecorder{}
			_, err := backend.PlanWeight(r, tc.d)
			require.NoError(t, err)
			assert.Equal(t, tc.d, r.got)
		})
	}
	t.Run("PlanWeight of nil", func(t *testing.T) {
		r := &planRecorder{}
		_, err := backend.PlanWeight(r, nil)
		require.ErrorIs(t, err, backend.ErrInvalid)
		assert.Nil(t, r.got)
	})
}
