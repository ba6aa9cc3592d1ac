package alexnet_test

import (
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   alexnet.Config
		batch int
		names []string
		fc6In backend.Shape
	}{
		{"seed at batch 2", alexnet.SeedConfig(), 2,
			[]string{"conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "drop6", "fc7", "drop7", "fc8"},
			backend.Shape{2, 256, 6, 6}},
		{"mini at batch 1, no dropout", alexnet.Mini(), 1,
			[]string{"conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"},
			backend.Shape{1, 32, 2, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := tc.cfg.Ops(tc.batch)
			require.NoError(t, err)
			var names []string
			prev := backend.Shape{tc.batch, tc.cfg.Channels, tc.cfg.Input, tc.cfg.Input}
			for _, op := range ops {
				names = append(names, op.Name)
				require.NoError(t, op.Desc.Validate(), op.Name)
				var in, out backend.Shape
				switch d := op.Desc.(type) {
				case backend.WeightDesc:
					in, out = d.InputShape(), d.OutputShape()
				case backend.LRNDesc:
					in, out = d.Input, d.Input
				case backend.PoolDesc:
					in, out = d.Input, d.OutputShape()
				case backend.DropoutDesc:
					in, out = d.Shape, d.Shape
				}
				assert.Equal(t, prev, in, "%s reads the previous op's output", op.Name)
				prev = out
				if op.Name == "fc6" {
					assert.Equal(t, tc.fc6In, op.Desc.(backend.LinearDesc).Input)
				}
			}
			assert.Equal(t, tc.names, names)
			assert.Equal(t, backend.Shape{tc.batch, tc.cfg.Classes}, prev, "fc8's output")
		})
	}
	_, err := alexnet.SeedConfig().Ops(0)
	require.ErrorContains(t, err, "batch size 0")
	bad := alexnet.SeedConfig()
	bad.Conv[0].Kernel = 500
	_, err = bad.Ops(1)
	require.ErrorContains(t, err, "conv1")
}
