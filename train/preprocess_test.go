package train

import (
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultPreprocess(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  alexnet.Config
		want Preprocess
	}{
		{"seed: 256 then 227", alexnet.SeedConfig(), Preprocess{Resize: 256, Crop: 227, Mean: [3]float32{0.1, 0.2, 0.3}}},
		{"mini: 112 then 99", alexnet.Mini(), Preprocess{Resize: 112, Crop: 99, Mean: [3]float32{0.1, 0.2, 0.3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, DefaultPreprocess(tc.cfg, [3]float32{0.1, 0.2, 0.3}))
		})
	}
}

func TestDescribedWithoutNoteIsErrNoPreprocess(t *testing.T) {
	b := openCPU(t)
	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	defer net.Close()
	_, _, err = Described(net)
	require.ErrorIs(t, err, ErrNoPreprocess)
	assert.Contains(t, err.Error(), "train.Describe")
	require.NoError(t, net.SetNote(NotePreprocess, `{"resize":50,"crop":99}`))
	_, _, err = Described(net)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNoPreprocess, "a bad note is another error")
}
