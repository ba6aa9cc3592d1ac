package alexnet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/safetensors"
	"github.com/stretchr/testify/require"
)

// goldenMini reads the mini_alexnet golden case from the directory the
// conformance suite uses ($DNNGO_GOLDEN_DIR, else ../shared/testdata/golden
// beside the module, else testdata/golden written by ./build.sh goldens). Without the default directory the test skips; a
// directory named by the variable must hold the file.
func goldenMini(t *testing.T) *safetensors.File {
	t.Helper()
	dir, explicit, err := backendtest.GoldenDir()
	require.NoError(t, err)
	path := filepath.Join(dir, "mini_alexnet.safetensors")
	if _, err := os.Stat(path); err != nil && !explicit {
		t.Skipf("golden data not found at %s: run ./build.sh goldens to generate it with PyTorch, or set %s to the golden directory", path, backendtest.GoldenEnv)
	}
	f, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "mini_alexnet", f.Metadata["op"])
	return f
}

func goldenF32(t *testing.T, f *safetensors.File, name string) []float32 {
	t.Helper()
	v, _, err := f.Float32(name)
	require.NoError(t, err, name)
	return v
}

// goldenName maps a parameter name to the golden's: conv1.weight → conv1.w.
func goldenName(p string) string {
	return strings.TrimSuffix(strings.TrimSuffix(p, "eight"), "ias")
}

var (
	kvRe    = regexp.MustCompile(`(\w+)=([-+0-9.eE]+)`)
	convSeg = regexp.MustCompile(`^conv(\d) (\d+)->(\d+)((?: [ksp]\d+)*)((?:, [\w/]+)*)$`)
	fcSeg   = regexp.MustCompile(`^fc(\d) (\d+)->(\d+)((?:, [\w/]+)*)$`)
)

func kv(s string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range kvRe.FindAllStringSubmatch(s, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err == nil {
			out[m[1]] = v
		}
	}
	return out
}

// TestMiniIsTheGoldenNetwork checks Mini() field by field against the
// golden file's own description of its network, optimiser and LRN.
func TestMiniIsTheGoldenNetwork(t *testing.T) {
	f := goldenMini(t)
	c := alexnet.Mini()
	meta := f.Metadata
	x, _ := f.Info("x")
	require.Equal(t, []int{c.Channels, c.Input, c.Input}, x.Shape[1:], "input")

	lrn := kv(meta["lrn"])
	require.Equal(t, alexnet.LRN{Size: int(lrn["size"]), Alpha: lrn["alpha"], Beta: lrn["beta"], K: lrn["k"]}, c.LRN, "LRN constants")
	require.Equal(t, alexnet.LRNTorch, c.LRN)
	require.Contains(t, meta["maxpool"], fmt.Sprintf("%dx%d stride %d padding 0 floor", c.Pool.Kernel, c.Pool.Kernel, c.Pool.Stride))

	opt := kv(meta["optimizer"])
	require.Equal(t, float32(opt["lr"]), c.SGD.LR)
	require.Equal(t, float32(opt["momentum"]), c.SGD.Momentum)
	require.Equal(t, float32(opt["weight_decay"]), c.SGD.WeightDecay)
	require.Zero(t, opt["dampening"])
	require.Contains(t, meta["optimizer"], "biases too", "weight decay on every parameter")
	require.Equal(t, backend.PyTorchSGD, c.SGD.Rule)

	topo := meta["topology"]
	require.True(t, strings.HasSuffix(topo, "no dropout"), topo)
	require.Zero(t, c.Dropout)
	var fcs []int
	convs := 0
	for _, seg := range strings.Split(strings.Split(topo, ";")[0], "|") {
		seg = strings.TrimSpace(seg)
		switch {
		case convSeg.MatchString(seg):
			m := convSeg.FindStringSubmatch(seg)
			i, _ := strconv.Atoi(m[1])
			cv := c.Conv[i-1]
			want := alexnet.Conv{Stride: 1, Groups: 1}
			want.Out, _ = strconv.Atoi(m[3])
			for _, f := range strings.Fields(m[4]) {
				v, _ := strconv.Atoi(f[1:])
				switch f[0] {
				case 'k':
					want.Kernel = v
				case 's':
					want.Stride = v
				case 'p':
					want.Pad = v
				}
			}
			require.Equal(t, want, cv, seg)
			require.Equal(t, i <= 2, strings.Contains(m[5], "LRN"), "%s: LRN after conv1 and conv2 only", seg)
			require.Equal(t, i == 1 || i == 2 || i == 5, strings.Contains(m[5], "maxpool3/2"), "%s: pooling after conv1, conv2, conv5", seg)
			require.Contains(t, m[5], "ReLU", seg)
			convs++
		case fcSeg.MatchString(seg):
			m := fcSeg.FindStringSubmatch(seg)
			w, _ := strconv.Atoi(m[3])
			fcs = append(fcs, w)
			require.Equal(t, m[1] != "8", strings.Contains(m[4], "ReLU"), seg)
		}
	}
	require.Equal(t, 5, convs, "conv segments in %q", topo)
	require.Equal(t, []int{c.Hidden[0], c.Hidden[1], c.Classes}, fcs)
}

// TestGoldenMini initialises Mini() from the golden's init.* tensors and
// checks, on every backend compiled in, the logits, loss and activations
// of the forward pass, every parameter gradient, and the losses, logits and
// parameters through 3 SGD steps against PyTorch's float64 results
// (relative norm error ≤ 1e-4, the conformance suite's tolerance).
func TestGoldenMini(t *testing.T) {
	f := goldenMini(t)
	const tol = backendtest.MiniTol
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		net, err := alexnet.New(b, alexnet.Mini())
		require.NoError(t, err)
		defer net.Close()
		for _, p := range net.ParamNames() {
			require.NoError(t, net.SetParam(p, goldenF32(t, f, "init."+goldenName(p))), p)
		}
		x := goldenF32(t, f, "x")
		l64, _, err := f.Int64("labels")
		require.NoError(t, err)
		labels := make([]int32, len(l64))
		for i, v := range l64 {
			labels[i] = int32(v)
		}

		require.NoError(t, net.Forward(x, alexnet.Train))
		logits, err := net.Logits()
		require.NoError(t, err)
		backendtest.Near(t, "logits", logits, goldenF32(t, f, "logits"), tol)
		for _, a := range []string{"conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7"} {
			got, err := net.Activation(a)
			require.NoError(t, err, a)
			want := goldenF32(t, f, "act."+a)
			if !strings.HasPrefix(a, "pool") { // the golden's are pre-ReLU; ours after the fused ReLU
				for i, v := range want {
					want[i] = max(v, 0)
				}
			}
			backendtest.Near(t, "act."+a, got, want, tol)
		}
		loss, err := net.Loss(labels)
		require.NoError(t, err)
		losses := goldenF32(t, f, "losses")
		backendtest.Near(t, "loss", []float32{loss}, goldenF32(t, f, "loss"), tol)
		require.NoError(t, net.Backward())
		for _, p := range net.ParamNames() {
			g, err := net.Grad(p)
			require.NoError(t, err)
			backendtest.Near(t, "grad."+p, g, goldenF32(t, f, "grad."+goldenName(p)), tol)
		}
		require.NoError(t, net.Step())

		for step := 1; step < len(losses); step++ {
			require.NoError(t, net.Forward(x, alexnet.Train))
			loss, err := net.Loss(labels)
			require.NoError(t, err)
			backendtest.Near(t, fmt.Sprintf("losses[%d]", step), []float32{loss}, losses[step:step+1], tol)
			if step < len(losses)-1 {
				require.NoError(t, net.Backward())
				require.NoError(t, net.Step())
			}
		}
		require.Equal(t, uint64(3), net.Steps())
		logits, err = net.Logits()
		require.NoError(t, err)
		backendtest.Near(t, "logits_step3", logits, goldenF32(t, f, "logits_step3"), tol)
		for _, p := range net.ParamNames() {
			w, err := net.Param(p)
			require.NoError(t, err)
			backendtest.Near(t, "step3."+p, w, goldenF32(t, f, "step3."+goldenName(p)), tol)
		}
	})
}
