package alexnet_test

import (
	"encoding/json"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/require"
)

func TestConfigValidateRejectsWhatDoesNotFit(t *testing.T) {
	cases := []struct {
		name   string
		change func(c *alexnet.Config)
		want   string // the layer or field the error must name
	}{
		{"input too small for conv1", func(c *alexnet.Config) { c.Input = 10 }, "conv1"},
		{"input zero", func(c *alexnet.Config) { c.Input = 0 }, "input"},
		{"no input channels", func(c *alexnet.Config) { c.Channels = 0 }, "input"},
		{"pool5 output below 1x1", func(c *alexnet.Config) { c.Input = 51 }, "pool5"},
		{"pool1 window larger than conv1 output", func(c *alexnet.Config) { c.Input = 15 }, "pool1"},
		{"conv3 zero width", func(c *alexnet.Config) { c.Conv[2].Out = 0 }, "conv3"},
		{"conv2 stride zero", func(c *alexnet.Config) { c.Conv[1].Stride = 0 }, "conv2"},
		{"conv5 padding as large as the kernel", func(c *alexnet.Config) { c.Conv[4].Pad = 3 }, "conv5"},
		{"conv4 groups not dividing", func(c *alexnet.Config) { c.Conv[3].Groups = 5 }, "conv4"},
		{"conv1 groups not dividing the 3 input channels", func(c *alexnet.Config) { c.Conv[0].Groups = 2 }, "conv1"},
		{"fc6 zero width", func(c *alexnet.Config) { c.Hidden[0] = 0 }, "fc6"},
		{"fc7 negative width", func(c *alexnet.Config) { c.Hidden[1] = -4 }, "fc7"},
		{"no classes", func(c *alexnet.Config) { c.Classes = 0 }, "fc8"},
		{"huge width", func(c *alexnet.Config) { c.Conv[0].Out = 1 << 40 }, "conv1"},
		{"even LRN window", func(c *alexnet.Config) { c.LRN.Size = 4 }, "lrn1"},
		{"LRN k zero", func(c *alexnet.Config) { c.LRN.K = 0 }, "lrn1"},
		{"pool kernel zero", func(c *alexnet.Config) { c.Pool.Kernel = 0 }, "pool"},
		{"dropout one", func(c *alexnet.Config) { c.Dropout = 1 }, "dropout"},
		{"momentum one", func(c *alexnet.Config) { c.SGD.Momentum = 1 }, "sgd"},
		{"negative learning rate", func(c *alexnet.Config) { c.SGD.LR = -1 }, "sgd"},
		{"unknown rule", func(c *alexnet.Config) { c.SGD.Rule = 7 }, "sgd"},
		{"unknown init", func(c *alexnet.Config) { c.Init = 9 }, "init"},
		{"schedule factor one", func(c *alexnet.Config) { c.Schedule.Factor = 1 }, "schedule"},
		{"schedule patience zero", func(c *alexnet.Config) { c.Schedule.Patience = 0 }, "schedule"},
	}
	b := openCPU(t, 1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := alexnet.Mini()
			tc.change(&c)
			err := c.Validate()
			t.Log(err)
			require.Error(t, err)
			require.Contains(t, err.Error(), "config mini: "+tc.want+":")
			_, err = alexnet.New(b, c)
			require.Error(t, err, "New must reject what Validate rejects")
			require.Contains(t, err.Error(), tc.want)
			_, err = c.Summary()
			require.Error(t, err)
		})
	}
}

func TestPresetsAreValid(t *testing.T) {
	for _, c := range []alexnet.Config{alexnet.SeedConfig(), alexnet.Paper(), alexnet.Mini()} {
		t.Run(c.Name, func(t *testing.T) {
			require.NoError(t, c.Validate())
		})
	}
	t.Run("presets say which LRN they use", func(t *testing.T) {
		require.Equal(t, alexnet.LRNPaper, alexnet.SeedConfig().LRN)
		require.Equal(t, alexnet.LRNPaper, alexnet.Paper().LRN)
		require.Equal(t, alexnet.LRNTorch, alexnet.Mini().LRN)
		// The paper's α = 1e-4 without /n is α = 5e-4 with it.
		require.InDelta(t, 1e-4, alexnet.LRNPaper.Alpha/float64(alexnet.LRNPaper.Size), 1e-12)
		require.Equal(t, 1.0, alexnet.LRNCaffe.K)
	})
	t.Run("paper groups conv2, conv4, conv5", func(t *testing.T) {
		var groups []int
		for _, cv := range alexnet.Paper().Conv {
			groups = append(groups, cv.Groups)
		}
		require.Equal(t, []int{1, 2, 1, 2, 2}, groups)
		require.Equal(t, backend.PaperSGD, alexnet.Paper().SGD.Rule)
	})
}

func TestConfigJSONRoundTrip(t *testing.T) {
	for _, c := range []alexnet.Config{alexnet.SeedConfig(), alexnet.Paper(), alexnet.Mini()} {
		t.Run(c.Name, func(t *testing.T) {
			c.Seed = 1<<64 - 1 // a seed that float64 could not hold
			b, err := json.Marshal(c)
			require.NoError(t, err)
			var back alexnet.Config
			require.NoError(t, json.Unmarshal(b, &back))
			require.Equal(t, c, back)
		})
	}
	t.Run("unknown rule is an error", func(t *testing.T) {
		var s alexnet.SGD
		require.ErrorContains(t, json.Unmarshal([]byte(`{"lr":0.01,"momentum":0.9,"weight_decay":0,"rule":"adam"}`), &s), "adam")
	})
}

func TestSeedIsSeedConfig(t *testing.T) {
	require.Equal(t, alexnet.SeedConfig(), alexnet.Seed(), "the deprecated name returns the same config")
}
