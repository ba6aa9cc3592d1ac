package alexnet_test

import (
	"strings"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/require"
)

// TestSeedSummary checks the SeedConfig() table against the numbers of the spec,
// written here as the spec writes them (products of the layer sizes).
func TestSeedSummary(t *testing.T) {
	s, err := alexnet.SeedConfig().Summary()
	require.NoError(t, err)

	var names []string
	var sizes []int
	for _, r := range s.Layers {
		names = append(names, r.Name)
		if r.Size > 0 {
			sizes = append(sizes, r.Size)
		}
	}
	require.Equal(t, []string{"conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"}, names)
	require.Equal(t, []int{55, 27, 27, 13, 13, 13, 13, 6}, sizes, "output sizes")

	layer := func(name string) alexnet.LayerSummary {
		for _, r := range s.Layers {
			if r.Name == name {
				return r
			}
		}
		require.Failf(t, "no layer", "%s", name)
		return alexnet.LayerSummary{}
	}
	weights := []struct {
		name    string
		weights int64
		shape   backend.Shape
	}{
		{"conv1", 11 * 11 * 3 * 96, backend.Shape{96, 3, 11, 11}},
		{"conv2", 5 * 5 * 96 * 256, backend.Shape{256, 96, 5, 5}},
		{"conv3", 3 * 3 * 256 * 384, backend.Shape{384, 256, 3, 3}},
		{"conv4", 3 * 3 * 384 * 384, backend.Shape{384, 384, 3, 3}},
		{"conv5", 3 * 3 * 384 * 256, backend.Shape{256, 384, 3, 3}},
		{"fc6", 4096 * 9216, backend.Shape{4096, 9216}},
		{"fc7", 4096 * 4096, backend.Shape{4096, 4096}},
		{"fc8", 4096 * 1000, backend.Shape{1000, 4096}},
	}
	for _, w := range weights {
		t.Run("weights of "+w.name, func(t *testing.T) {
			r := layer(w.name)
			require.Equal(t, w.weights, r.Weights)
			require.Equal(t, w.shape, r.WeightShape)
			require.Equal(t, int64(w.shape[0]), r.Biases)
		})
	}
	require.Equal(t, int64(62_367_776), s.Weights, "total weights")
	require.Equal(t, int64(62_378_344), s.Weights+s.Biases, "weights and biases")

	t.Run("multiply-adds", func(t *testing.T) {
		macs := map[string]int64{
			"conv1": 55 * 55 * 96 * (11 * 11 * 3), "conv2": 27 * 27 * 256 * (5 * 5 * 96), "conv3": 13 * 13 * 384 * (3 * 3 * 256),
			"conv4": 13 * 13 * 384 * (3 * 3 * 384), "conv5": 13 * 13 * 256 * (3 * 3 * 384),
			"fc6": 9216 * 4096, "fc7": 4096 * 4096, "fc8": 4096 * 1000,
		}
		var total int64
		for name, m := range macs {
			require.Equal(t, m, layer(name).MACs, name)
			total += m
		}
		require.Equal(t, total, s.MACs)
		require.InDelta(t, 1.135e9, float64(s.MACs), 0.0005e9, "≈1.135 G multiply-adds per image")
	})

	t.Run("activations with the spec's accounting", func(t *testing.T) {
		want := map[string]int64{
			"conv1": 96 * 55 * 55 * 3, "conv2": 256 * 27 * 27 * 3, // conv+ReLU+LRN
			"conv3": 384 * 13 * 13 * 2, "conv4": 384 * 13 * 13 * 2, "conv5": 256 * 13 * 13 * 2, // conv+ReLU
			"fc6": 4096 * 3, "fc7": 4096 * 3, // FC+ReLU+dropout
			"pool1": 96 * 27 * 27, "pool2": 256 * 13 * 13, "pool5": 256 * 6 * 6, "fc8": 1000,
		}
		var total int64
		for name, a := range want {
			require.Equal(t, a, layer(name).Activations, name)
			total += a
		}
		require.Equal(t, total, s.Activations)
		require.Equal(t, int64(1_925_224), s.Activations)
	})

	t.Run("no accounting reaches the spec's 2.24 million", func(t *testing.T) {
		// The claim the summary prints: count the input (0 or 1 times), the
		// pools (0 to 2 times) and fc8 (0 to 3 times) on top of the spec's
		// ×3/×2/×3 rows; no total rounds to 2.24 M.
		var base, pools int64
		for _, r := range s.Layers {
			switch {
			case strings.HasPrefix(r.Name, "pool"):
				pools += r.Activations
			case r.Name != "fc8":
				base += r.Activations
			}
		}
		input := int64(3 * 227 * 227)
		for in := int64(0); in <= 1; in++ {
			for p := int64(0); p <= 2; p++ {
				for f := int64(0); f <= 3; f++ {
					total := base + in*input + p*pools + f*1000
					require.False(t, total >= 2_235_000 && total < 2_245_000, "input×%d pools×%d fc8×%d gives %d", in, p, f, total)
				}
			}
		}
	})

	t.Run("printed table", func(t *testing.T) {
		out := s.String()
		t.Log("\n" + out)
		for _, want := range []string{"62,367,776 weights", "62,378,344 with biases", "1,135,256,096 multiply-adds",
			"1,925,224 values per image", "the spec states 2.24 M", "11×11×3×96", "4096×9216", "290,400 ×3"} {
			require.Contains(t, out, want)
		}
	})
}

// TestPaperSummary checks the two-tower variant: groups halve the weights
// and multiply-adds of conv2, conv4 and conv5 and change nothing else.
func TestPaperSummary(t *testing.T) {
	seed, err := alexnet.SeedConfig().Summary()
	require.NoError(t, err)
	paper, err := alexnet.Paper().Summary()
	require.NoError(t, err)
	require.Equal(t, len(seed.Layers), len(paper.Layers))
	for i, r := range paper.Layers {
		s := seed.Layers[i]
		require.Equal(t, s.Output, r.Output, r.Name)
		require.Equal(t, s.Activations, r.Activations, r.Name)
		if r.Name == "conv2" || r.Name == "conv4" || r.Name == "conv5" {
			require.Equal(t, s.Weights/2, r.Weights, r.Name)
			require.Equal(t, s.MACs/2, r.MACs, r.Name)
			require.Contains(t, r.Op, "in 2 groups")
		} else {
			require.Equal(t, s.Weights, r.Weights, r.Name)
		}
	}
	// 5×5×48×256, 3×3×192×384, 3×3×192×256 in conv2, conv4, conv5.
	require.Equal(t, int64(62_367_776-5*5*48*256-3*3*192*384-3*3*192*256), paper.Weights)
	require.Equal(t, int64(60_965_224), paper.Weights+paper.Biases)
	require.NotContains(t, paper.String(), "spec states")

	// The table stays aligned although "in 2 groups" makes the op column
	// longer: every row's output column starts where the header's does.
	lines := strings.Split(paper.String(), "\n")
	col := strings.Index(lines[1], "output")
	require.Positive(t, col)
	for _, l := range lines[2:] {
		if !strings.HasPrefix(l, "conv") && !strings.HasPrefix(l, "pool") {
			continue
		}
		r := []rune(l)
		hdr := []rune(lines[1][:col])
		require.Greater(t, len(r), len(hdr), l)
		require.Equal(t, ' ', r[len(hdr)-1], "a space before the output column: %q", l)
		require.NotEqual(t, ' ', r[len(hdr)], "the output column starts at the header's: %q", l)
	}
}

// TestMiniSummary checks the golden's mini network sizes: 23, 11, 11, 5,
// 5, 5, 5, 2 and the 128-wide flatten.
func TestMiniSummary(t *testing.T) {
	s, err := alexnet.Mini().Summary()
	require.NoError(t, err)
	var sizes []int
	for _, r := range s.Layers {
		if r.Size > 0 {
			sizes = append(sizes, r.Size)
		}
	}
	require.Equal(t, []int{23, 11, 11, 5, 5, 5, 5, 2}, sizes)
	require.Equal(t, backend.Shape{64, 128}, s.Layers[8].WeightShape)
	require.Contains(t, s.String(), "FC 128→64 + ReLU (no dropout)")
}
