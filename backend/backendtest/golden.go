package backendtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/backend"
	goldendata "github.com/dnngo/dnngo/internal/golden"
	"github.com/dnngo/dnngo/safetensors"
	"github.com/stretchr/testify/require"
)

// GoldenEnv is the environment variable that points the suite at a
// directory of golden cases.
const GoldenEnv = goldendata.Env

// Tolerances, as relative norm errors ‖got − want‖/‖want‖ per tensor. The
// golden README shows that float32 PyTorch reaches ~3e-6; these leave room
// for other summation orders while real bugs show up at 1e-3 or more.
const (
	LayerTol = goldendata.LayerTol // per-layer cases
	MiniTol  = goldendata.MiniTol  // the end-to-end mini_alexnet case
)

// GoldenDir returns the directory of golden cases: $DNNGO_GOLDEN_DIR if
// set, else ../shared/testdata/golden beside the module root where it
// exists, else the module's testdata/golden that "./build.sh goldens"
// writes (goldendata.Dir). explicit reports whether the environment variable
// chose it.
func GoldenDir() (dir string, explicit bool, err error) {
	dir, explicit, _, err = goldendata.Dir()
	return dir, explicit, err
}

// GoldenFiles lists the *.safetensors files of the golden directory. A
// missing default directory skips the test with a message naming the
// command that generates the cases (a clone without the shared data); a
// directory named by $DNNGO_GOLDEN_DIR that is missing or empty fails it.
func GoldenFiles(t testing.TB) []string {
	t.Helper()
	dir, explicit, tried, err := goldendata.Dir()
	require.NoError(t, err)
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if len(files) == 0 {
		if _, statErr := os.Stat(dir); statErr != nil && !explicit {
			t.Skipf("golden data not found (looked in %s): run %s to generate it with PyTorch (needs python3-torch), or set %s to a directory of golden *.safetensors files",
				strings.Join(tried, " and "), goldendata.GenerateCommand, GoldenEnv)
		}
		require.Failf(t, "no golden cases", "no *.safetensors files in %s", dir)
	}
	sort.Strings(files)
	return files
}

// RunGolden runs every golden case of the golden directory as a subtest
// named golden/<file>, dispatched on its __metadata__ op. A case whose op the
// suite does not know fails.
func RunGolden(t *testing.T, open Opener) {
	for _, path := range GoldenFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".safetensors")
		t.Run(name, func(t *testing.T) {
			f, err := safetensors.ReadFile(path)
			require.NoError(t, err)
			g := &golden{t: t, f: f}
			op := f.Metadata["op"]
			run, ok := goldenOps[op]
			if !ok {
				require.Failf(t, "unknown golden op", "%s: op %q is not one the suite knows (%s)", path, op, strings.Join(goldenOpNames(), ", "))
			}
			run(newEnv(t, open), g)
		})
	}
}

var goldenOps = map[string]func(*env, *golden){
	"conv2d":                goldenConv,
	"linear":                goldenLinear,
	"relu":                  goldenReLU,
	"lrn":                   goldenLRN,
	"maxpool2d":             goldenPool,
	"softmax_cross_entropy": goldenSoftmax,
	"mini_alexnet":          goldenMini,
}

func goldenOpNames() []string {
	var names []string
	for k := range goldenOps {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// golden reads one case's tensors and metadata, failing the test on any
// missing or malformed entry.
type golden struct {
	t testing.TB
	f *safetensors.File
}

func (g *golden) f32(name string) ([]float32, backend.Shape) {
	g.t.Helper()
	v, shape, err := g.f.Float32(name)
	require.NoError(g.t, err)
	return v, backend.Shape(shape)
}

func (g *golden) want(name string) []float64 {
	v, _ := g.f32(name)
	return f64(v)
}

func (g *golden) labels(name string) []int32 {
	g.t.Helper()
	v, _, err := g.f.Int64(name)
	require.NoError(g.t, err)
	out := make([]int32, len(v))
	for i, l := range v {
		out[i] = int32(l)
	}
	return out
}

func (g *golden) meta(key string) string {
	g.t.Helper()
	v, ok := g.f.Metadata[key]
	require.True(g.t, ok, "metadata %q missing", key)
	return v
}

func (g *golden) float(key string) float64 {
	g.t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSpace(g.meta(key)), 64)
	require.NoError(g.t, err, "metadata %q", key)
	return v
}

// pair parses a hyper-parameter given as "3", "3,3", "(3, 3)" or "[3, 3]".
func (g *golden) pair(key string) (int, int) {
	g.t.Helper()
	s := strings.Trim(strings.TrimSpace(g.meta(key)), "()[]")
	parts := strings.Split(s, ",")
	var v []int
	for _, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		require.NoError(g.t, err, "metadata %q = %q", key, g.meta(key))
		v = append(v, n)
	}
	switch len(v) {
	case 1:
		return v[0], v[0]
	case 2:
		return v[0], v[1]
	}
	require.Failf(g.t, "bad metadata", "%q = %q: want one or two integers", key, g.meta(key))
	return 0, 0
}

func (g *golden) flag(key string) bool {
	v, ok := g.f.Metadata[key]
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(v)))
	require.NoError(g.t, err, "metadata %q = %q", key, v)
	return b
}

func goldenConv(e *env, g *golden) {
	x, xs := g.f32("x")
	w, _ := g.f32("w")
	kh, kw := g.pair("kernel_size")
	sh, sw := g.pair("stride")
	ph, pw := g.pair("padding")
	if dh, dw := g.pair("dilation"); dh != 1 || dw != 1 {
		require.Failf(e.t, "unsupported", "dilation %dx%d: the contract has no dilated convolution", dh, dw)
	}
	groups, _ := g.pair("groups")
	bias := g.flag("bias")
	d := backend.ConvDesc{Input: xs, Out: int(g.float("out_channels")), KernelH: kh, KernelW: kw, StrideH: sh, StrideW: sw,
		PadH: ph, PadW: pw, Groups: groups, Bias: bias}
	var b []float32
	if bias {
		b, _ = g.f32("b")
	}
	dy, _ := g.f32("dy")
	checkWeightLayer(e, "conv2d", func(relu bool) (backend.WeightPlan, error) {
		d.ReLU = relu
		return e.b.Conv(d)
	}, d.WeightShape(), d.OutputShape(), x, xs, w, b, dy, g)
}

func goldenLinear(e *env, g *golden) {
	x, xs := g.f32("x")
	w, ws := g.f32("w")
	require.Equal(e.t, int(g.float("out_features")), ws[0], "out_features vs w")
	require.Equal(e.t, int(g.float("in_features")), ws[1], "in_features vs w")
	_, hasBias := g.f.Info("b")
	d := backend.LinearDesc{Input: xs, Out: ws[0], Bias: hasBias}
	var b []float32
	if hasBias {
		b, _ = g.f32("b")
	}
	dy, _ := g.f32("dy")
	checkWeightLayer(e, "linear", func(relu bool) (backend.WeightPlan, error) {
		d.ReLU = relu
		return e.b.Linear(d)
	}, d.WeightShape(), d.OutputShape(), x, xs, w, b, dy, g)
}

// checkWeightLayer runs forward, backward data and backward filter of a
// conv or linear case and compares y, dx, dw, db; then the same layer with
// the fused ReLU against max(y, 0).
func checkWeightLayer(e *env, op string, plan func(relu bool) (backend.WeightPlan, error), wshape, yshape backend.Shape,
	x []float32, xs backend.Shape, w, b, dy []float32, g *golden) {
	t := e.t
	p, err := plan(false)
	require.NoError(t, err)
	defer p.Close()
	xt, wt, dyt := e.tensor(xs, x), e.tensor(wshape, w), e.tensor(yshape, dy)
	var bt, dbt backend.Tensor
	if b != nil {
		bt, dbt = e.tensor(backend.Shape{len(b)}, b), e.tensor(backend.Shape{len(b)}, nil)
	}
	yt, dxt, dwt := e.tensor(yshape, nil), e.tensor(xs, nil), e.tensor(wshape, nil)
	require.NoError(t, p.Forward(xt, wt, bt, yt))
	want := g.want("y")
	Near(t, op+" y", e.read(yt), want, LayerTol)
	require.NoError(t, p.BackwardData(dyt, wt, dxt))
	Near(t, op+" dx", e.read(dxt), g.want("dx"), LayerTol)
	require.NoError(t, p.BackwardFilter(xt, dyt, dwt, dbt))
	Near(t, op+" dw", e.read(dwt), g.want("dw"), LayerTol)
	if b != nil {
		Near(t, op+" db", e.read(dbt), g.want("db"), LayerTol)
	}

	fused, err := plan(true)
	require.NoError(t, err)
	defer fused.Close()
	require.NoError(t, fused.Forward(xt, wt, bt, yt))
	for i := range want {
		want[i] = max(want[i], 0)
	}
	Near(t, op+"+relu y", e.read(yt), want, LayerTol)
}

func goldenReLU(e *env, g *golden) {
	x, xs := g.f32("x")
	dy, _ := g.f32("dy")
	p, err := e.b.ReLU(xs)
	require.NoError(e.t, err)
	defer p.Close()
	xt, yt, dyt, dxt := e.tensor(xs, x), e.tensor(xs, nil), e.tensor(xs, dy), e.tensor(xs, nil)
	require.NoError(e.t, p.Forward(xt, yt))
	Near(e.t, "relu y", e.read(yt), g.want("y"), LayerTol)
	require.NoError(e.t, p.Backward(yt, dyt, dxt))
	Near(e.t, "relu dx", e.read(dxt), g.want("dx"), LayerTol)
}

func goldenLRN(e *env, g *golden) {
	x, xs := g.f32("x")
	dy, _ := g.f32("dy")
	d := backend.LRNDesc{Input: xs, Size: int(g.float("size")), Alpha: g.float("alpha"), Beta: g.float("beta"), K: g.float("k")}
	p, err := e.b.LRN(d)
	require.NoError(e.t, err)
	defer p.Close()
	xt, yt, dyt, dxt := e.tensor(xs, x), e.tensor(xs, nil), e.tensor(xs, dy), e.tensor(xs, nil)
	require.NoError(e.t, p.Forward(xt, yt))
	Near(e.t, "lrn y", e.read(yt), g.want("y"), LayerTol)
	require.NoError(e.t, p.Backward(xt, yt, dyt, dxt))
	Near(e.t, "lrn dx", e.read(dxt), g.want("dx"), LayerTol)
}

func goldenPool(e *env, g *golden) {
	x, xs := g.f32("x")
	dy, ys := g.f32("dy")
	if g.flag("ceil_mode") {
		require.Fail(e.t, "unsupported", "ceil_mode pooling: the contract pools in floor mode")
	}
	kh, kw := g.pair("kernel_size")
	sh, sw := g.pair("stride")
	ph, pw := g.pair("padding")
	d := backend.PoolDesc{Input: xs, KernelH: kh, KernelW: kw, StrideH: sh, StrideW: sw, PadH: ph, PadW: pw}
	require.NoError(e.t, d.Validate())
	require.Equal(e.t, ys, d.OutputShape(), "output shape from the metadata vs the stored dy")
	p, err := e.b.MaxPool(d)
	require.NoError(e.t, err)
	defer p.Close()
	xt, yt, dyt, dxt := e.tensor(xs, x), e.tensor(ys, nil), e.tensor(ys, dy), e.tensor(xs, nil)
	require.NoError(e.t, p.Forward(xt, yt))
	Near(e.t, "maxpool y", e.read(yt), g.want("y"), LayerTol)
	require.NoError(e.t, p.Backward(xt, yt, dyt, dxt))
	Near(e.t, "maxpool dx", e.read(dxt), g.want("dx"), LayerTol)
}

func goldenSoftmax(e *env, g *golden) {
	logits, ls := g.f32("logits")
	labels := g.labels("labels")
	if r, ok := g.f.Metadata["reduction"]; ok && r != "mean" {
		require.Failf(e.t, "unsupported", "reduction %q: the contract's loss is the batch mean", r)
	}
	p, err := e.b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: ls})
	require.NoError(e.t, err)
	defer p.Close()
	lt, losst, dlt := e.tensor(ls, logits), e.tensor(backend.Shape{1}, nil), e.tensor(ls, nil)
	require.NoError(e.t, p.Forward(lt, labels, losst, dlt))
	Near(e.t, "loss", e.read(losst), g.want("loss"), LayerTol)
	Near(e.t, "dlogits", e.read(dlt), g.want("dlogits"), LayerTol)
}

// parseKV parses "size=5 alpha=1e-4 beta=0.75 k=2" or "lr=0.01, momentum=0.9".
func parseKV(s string) map[string]float64 {
	out := map[string]float64{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '(' || r == ')' }) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		if x, err := strconv.ParseFloat(v, 64); err == nil {
			out[k] = x
		}
	}
	return out
}

func mustKV(t testing.TB, m map[string]float64, key, from string) float64 {
	t.Helper()
	v, ok := m[key]
	require.True(t, ok, "%s: no %s=", from, key)
	return v
}

// String names a layer for messages.
func (l miniLayer) String() string { return fmt.Sprintf("%s(%s)", l.name, l.kind) }
