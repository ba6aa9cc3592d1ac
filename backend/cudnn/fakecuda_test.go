//go:build cudnn

package cudnn_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/cudnn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file need dnngo's test double of the CUDA libraries
// (testdata/fakecuda, built by build.sh test into $DNNGO_CUDA_LIB_DIR):
// they steer its fault injection and read its leak counts. On NVIDIA's
// real libraries they skip.

// openDouble opens the backend on the test double, or skips (fails in CI).
func openDouble(t testing.TB, o backend.Options) *cudnn.Backend {
	t.Helper()
	b := openOrSkip(t, o)
	if !b.TestDouble() {
		b.Close()
		t.Skip("needs dnngo's test double of the CUDA libraries (this is a real GPU)")
	}
	require.True(t, b.Info().TestDouble)
	require.Contains(t, b.Info().Device, "test double (not a GPU)")
	require.Contains(t, b.Info().Library, "TEST DOUBLE")
	return b
}

// configure sets the double's faults and unsupported list for one test.
func configure(t testing.TB, fail, unsupported string) {
	t.Helper()
	require.NoError(t, openDouble(t, backend.Options{}).Close()) // skips unless the double is there
	require.NoError(t, cudnn.DoubleConfigure("", fail, unsupported))
	t.Cleanup(func() { require.NoError(t, cudnn.DoubleConfigure("", "", "")) })
}

// leakBase is what stays live in the double for good: nothing, unless the
// fault sweep made it refuse a release (then that object can never go).
var leakBase cudnn.DoubleCounts

// requireNoLeaks checks that nothing the backends made is still live.
func requireNoLeaks(t testing.TB) {
	t.Helper()
	c, err := cudnn.DoubleLive()
	require.NoError(t, err)
	require.Equal(t, leakBase, c, "live after Close")
}

// convCase is a small grouped, strided, padded convolution with long sums
// (so that summation order shows in the last bits).
var convCase = backend.ConvDesc{Input: backend.Shape{4, 8, 16, 16}, Out: 8, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 2,
	PadH: 1, PadW: 1, Groups: 2}

// convRef is the float64 forward convolution of convCase.
func convRef(d backend.ConvDesc, x, w []float32) []float64 {
	in, out := d.Input, d.OutputShape()
	cg, kg := in[1]/d.Groups, d.Out/d.Groups
	y := make([]float64, out.Numel())
	for n := range out[0] {
		for k := range out[1] {
			g := k / kg
			for p := range out[2] {
				for q := range out[3] {
					var s float64
					for c := range cg {
						for r := range d.KernelH {
							for u := range d.KernelW {
								ih, iw := p*d.StrideH-d.PadH+r, q*d.StrideW-d.PadW+u
								if ih < 0 || ih >= in[2] || iw < 0 || iw >= in[3] {
									continue
								}
								s += float64(x[((n*in[1]+g*cg+c)*in[2]+ih)*in[3]+iw]) * float64(w[((k*cg+c)*d.KernelH+r)*d.KernelW+u])
							}
						}
					}
					y[((n*out[1]+k)*out[2]+p)*out[3]+q] = s
				}
			}
		}
	}
	return y
}

type convRun struct {
	b                   backend.Backend
	p                   backend.WeightPlan
	x, w, y, dy, dx, dw backend.Tensor
	xv, wv              []float32
}

func newConvRun(t *testing.T, b backend.Backend, d backend.ConvDesc) *convRun {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 12))
	c := &convRun{b: b}
	var err error
	c.p, err = b.Conv(d)
	require.NoError(t, err)
	mk := func(s backend.Shape, v []float32) backend.Tensor {
		x, err := b.NewTensor(s...)
		require.NoError(t, err)
		if v != nil {
			require.NoError(t, b.Upload(x, v))
		}
		return x
	}
	rnd := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	c.xv, c.wv = rnd(d.Input.Numel()), rnd(d.WeightShape().Numel())
	c.x, c.w = mk(d.Input, c.xv), mk(d.WeightShape(), c.wv)
	c.y, c.dy = mk(d.OutputShape(), nil), mk(d.OutputShape(), rnd(d.OutputShape().Numel()))
	c.dx, c.dw = mk(d.Input, nil), mk(d.WeightShape(), nil)
	return c
}

func (c *convRun) read(t *testing.T, x backend.Tensor) []float32 {
	t.Helper()
	v := make([]float32, x.Shape().Numel())
	require.NoError(t, c.b.Download(v, x))
	return v
}

// TestDoubleStrictFP32IgnoresTF32Results (review item 1): the double's
// fastest Find result has mathType DEFAULT_MATH under an FMA descriptor,
// which it runs as TF32; strict FP32 must skip it and match float64 to
// ~1e-7, while the tf32 precision must not.
func TestDoubleStrictFP32IgnoresTF32Results(t *testing.T) {
	for _, tc := range []struct {
		prec     backend.Precision
		min, max float64
	}{{backend.FP32, 0, 1e-6}, {backend.TF32, 1e-5, 5e-3}} {
		t.Run(tc.prec.String(), func(t *testing.T) {
			b := openDouble(t, backend.Options{Precision: tc.prec})
			c := newConvRun(t, b, convCase)
			require.NoError(t, c.p.Forward(c.x, c.w, nil, c.y))
			e := backendtest.RelErr(c.read(t, c.y), convRef(convCase, c.xv, c.wv))
			t.Logf("%v forward rel err vs float64: %.2e", tc.prec, e)
			assert.GreaterOrEqual(t, e, tc.min)
			assert.LessOrEqual(t, e, tc.max)
			require.NoError(t, b.Close())
			requireNoLeaks(t)
		})
	}
}

// TestDoubleDeterministic (review item 5): the double's fastest backward
// algorithms are the ones NVIDIA documents as non-deterministic, and it
// makes them differ from run to run; strict FP32 and Options.Deterministic
// must avoid them, so two runs agree bit for bit.
func TestDoubleDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    backend.Options
		same bool
	}{
		{"fp32", backend.Options{}, true},
		{"tf32 deterministic", backend.Options{Precision: backend.TF32, Deterministic: true}, true},
		{"tf32", backend.Options{Precision: backend.TF32}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := openDouble(t, tc.o)
			c := newConvRun(t, b, convCase)
			var dx, dw [2][]float32
			for i := range 2 {
				require.NoError(t, c.p.BackwardData(c.dy, c.w, c.dx))
				require.NoError(t, c.p.BackwardFilter(c.x, c.dy, c.dw, nil))
				dx[i], dw[i] = c.read(t, c.dx), c.read(t, c.dw)
			}
			same := func(a, b []float32) bool {
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						return false
					}
				}
				return true
			}
			assert.Equal(t, tc.same, same(dx[0], dx[1]), "dx repeats bit for bit")
			assert.Equal(t, tc.same, same(dw[0], dw[1]), "dw repeats bit for bit")
			require.NoError(t, b.Close())
			requireNoLeaks(t)
		})
	}
}

// TestDoubleFusedFallback (review item 2): the fused conv+bias+ReLU falls
// back to separate calls only when cuDNN answers NOT_SUPPORTED; a
// BAD_PARAM is an error naming the call.
func TestDoubleFusedFallback(t *testing.T) {
	d := convCase
	d.Bias, d.ReLU = true, true
	for _, tc := range []struct {
		status string
		ok     bool
	}{{"3000", true}, {"2000", false}} {
		t.Run("status "+tc.status, func(t *testing.T) {
			configure(t, "cudnnConvolutionBiasActivationForward:*:"+tc.status, "")
			b := openDouble(t, backend.Options{})
			defer func() { require.NoError(t, b.Close()); requireNoLeaks(t) }()
			c := newConvRun(t, b, d)
			bias, err := b.NewTensor(d.Out)
			require.NoError(t, err)
			bv := make([]float32, d.Out)
			for i := range bv {
				bv[i] = float32(i) * 0.1
			}
			require.NoError(t, b.Upload(bias, bv))
			err = c.p.Forward(c.x, c.w, bias, c.y)
			if !tc.ok {
				require.ErrorIs(t, err, backend.ErrLibrary)
				require.ErrorContains(t, err, "cudnnConvolutionBiasActivationForward")
				return
			}
			require.NoError(t, err)
			want := convRef(d, c.xv, c.wv)
			hw := d.OutputShape()[2] * d.OutputShape()[3]
			for i := range want {
				want[i] = math.Max(0, want[i]+float64(bv[(i/hw)%d.Out]))
			}
			require.LessOrEqual(t, backendtest.RelErr(c.read(t, c.y), want), 1e-6)
		})
	}
}

// TestDoubleHalfProbe (review item 3): when cuDNN refuses 16-bit data in
// cudnnTransformTensor or cudnnConvolutionBackwardBias (which every BF16 or
// FP16 step needs), Open says so, naming the call, instead of every step
// failing later.
func TestDoubleHalfProbe(t *testing.T) {
	for _, tc := range []struct {
		unsupported string
		prec        backend.Precision
		call        string
	}{
		{"cudnnTransformTensor:bf16", backend.BF16, "cudnnTransformTensor"},
		{"cudnnConvolutionBackwardBias:bf16", backend.BF16, "cudnnConvolutionBackwardBias"},
		{"cudnnConvolutionBackwardBias:f16", backend.FP16, "cudnnConvolutionBackwardBias"},
		{"cudnnTransformTensor:bf16", backend.FP16, ""}, // FP16 is not affected
	} {
		t.Run(tc.unsupported+"/"+tc.prec.String(), func(t *testing.T) {
			configure(t, "", tc.unsupported)
			b, err := cudnn.Open(backend.Options{Precision: tc.prec})
			if tc.call == "" {
				require.NoError(t, err)
				require.NoError(t, b.Close())
			} else {
				require.ErrorIs(t, err, backend.ErrInvalid)
				require.ErrorContains(t, err, tc.call)
				require.ErrorContains(t, err, "use precision")
			}
			requireNoLeaks(t)
		})
	}
}

// miniStep is one training step of a small network through every kind of
// plan the backend has (conv with fused bias+ReLU, LRN, max pooling,
// dropout, fully connected, softmax cross-entropy, SGD).
type miniStep struct {
	b    backend.Backend
	run  func() error
	name string
}

func newMiniStep(b backend.Backend) (*miniStep, error) {
	conv := backend.ConvDesc{Input: backend.Shape{2, 3, 12, 12}, Out: 4, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1,
		PadH: 1, PadW: 1, Groups: 1, Bias: true, ReLU: true}
	lrn := backend.LRNDesc{Input: conv.OutputShape(), Size: 3, Alpha: 1e-4, Beta: 0.75, K: 2}
	pool := backend.PoolDesc{Input: conv.OutputShape(), KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}
	ps := pool.OutputShape()
	lin := backend.LinearDesc{Input: ps, Out: 5, Bias: true}
	drop := backend.DropoutDesc{Shape: ps, P: 0.5}
	loss := backend.SoftmaxDesc{Logits: backend.Shape{2, 5}}
	var err error
	var tensors []backend.Tensor
	mk := func(s backend.Shape) backend.Tensor {
		if err != nil {
			return nil
		}
		var x backend.Tensor
		x, err = b.NewTensor(s...)
		if err == nil {
			v := make([]float32, s.Numel())
			for i := range v {
				v[i] = float32(math.Sin(float64(i)*0.37)) * 0.5
			}
			err = b.Upload(x, v)
		}
		tensors = append(tensors, x)
		return x
	}
	x, w, cb, y := mk(conv.Input), mk(conv.WeightShape()), mk(backend.Shape{conv.Out}), mk(conv.OutputShape())
	ly, py, dy := mk(lrn.Input), mk(ps), mk(ps)
	lw, lb, logits := mk(lin.WeightShape()), mk(backend.Shape{lin.Out}), mk(backend.Shape{2, 5})
	lossT, dlogits := mk(backend.Shape{1}), mk(backend.Shape{2, 5})
	gdy, gpy, gly, gy, gx := mk(ps), mk(ps), mk(lrn.Input), mk(conv.OutputShape()), mk(conv.Input)
	dw, dcb, dlw, dlb := mk(conv.WeightShape()), mk(backend.Shape{conv.Out}), mk(lin.WeightShape()), mk(backend.Shape{lin.Out})
	vw, vcb, vlw, vlb := mk(conv.WeightShape()), mk(backend.Shape{conv.Out}), mk(lin.WeightShape()), mk(backend.Shape{lin.Out})
	if err != nil {
		return nil, err
	}
	cp, err := b.Conv(conv)
	if err != nil {
		return nil, err
	}
	relu, err := b.ReLU(conv.OutputShape())
	if err != nil {
		return nil, err
	}
	lp, err := b.LRN(lrn)
	if err != nil {
		return nil, err
	}
	pp, err := b.MaxPool(pool)
	if err != nil {
		return nil, err
	}
	dp, err := b.Dropout(drop)
	if err != nil {
		return nil, err
	}
	fp, err := b.Linear(lin)
	if err != nil {
		return nil, err
	}
	sp, err := b.SoftmaxCrossEntropy(loss)
	if err != nil {
		return nil, err
	}
	sgd1, err := b.SGD(conv.WeightShape())
	if err != nil {
		return nil, err
	}
	sgd2, err := b.SGD(backend.Shape{conv.Out})
	if err != nil {
		return nil, err
	}
	sgd3, err := b.SGD(lin.WeightShape())
	if err != nil {
		return nil, err
	}
	sgd4, err := b.SGD(backend.Shape{lin.Out})
	if err != nil {
		return nil, err
	}
	hp := backend.SGDParams{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4}
	labels := []int32{1, 3}
	m := &miniStep{b: b}
	m.run = func() error {
		steps := []struct {
			name string
			f    func() error
		}{
			{"conv forward", func() error { return cp.Forward(x, w, cb, y) }},
			{"lrn forward", func() error { return lp.Forward(y, ly) }},
			{"pool forward", func() error { return pp.Forward(ly, py) }},
			{"dropout forward", func() error { return dp.Forward(py, dy, 7) }},
			{"linear forward", func() error { return fp.Forward(dy, lw, lb, logits) }},
			{"loss", func() error { return sp.Forward(logits, labels, lossT, dlogits) }},
			{"linear backward filter", func() error { return fp.BackwardFilter(dy, dlogits, dlw, dlb) }},
			{"linear backward data", func() error { return fp.BackwardData(dlogits, lw, gdy) }},
			{"dropout backward", func() error { return dp.Backward(gdy, gpy) }},
			{"pool backward", func() error { return pp.Backward(ly, py, gpy, gly) }},
			{"lrn backward", func() error { return lp.Backward(y, ly, gly, gy) }},
			{"relu backward", func() error { return relu.Backward(y, gy, gy) }},
			{"conv backward filter", func() error { return cp.BackwardFilter(x, gy, dw, dcb) }},
			{"conv backward data", func() error { return cp.BackwardData(gy, w, gx) }},
			{"sgd", func() error {
				for _, s := range []struct {
					p       backend.SGDPlan
					x, g, v backend.Tensor
				}{{sgd1, w, dw, vw}, {sgd2, cb, dcb, vcb}, {sgd3, lw, dlw, vlw}, {sgd4, lb, dlb, vlb}} {
					if err := s.p.Step(s.x, s.g, s.v, hp); err != nil {
						return err
					}
				}
				return nil
			}},
			{"download", func() error {
				v := make([]float32, 1)
				return b.Download(v, lossT)
			}},
		}
		for _, s := range steps {
			m.name = s.name
			if err := s.f(); err != nil {
				return err
			}
		}
		return b.Sync()
	}
	return m, nil
}

// TestDoubleFaultSweep fails, one at a time, every call the CUDA driver,
// cuDNN and cuBLAS receive while a backend opens (in fp32, and in bf16 with
// its capability probe), plans and runs two training steps of a small
// network: each failure must come back as an
// ErrLibrary or ErrUnavailable error naming the op and the library
// function, Close must succeed, and nothing may stay allocated.
func TestDoubleFaultSweep(t *testing.T) {
	for _, prec := range []backend.Precision{backend.FP32, backend.BF16} {
		t.Run(prec.String(), func(t *testing.T) { faultSweep(t, backend.Options{Precision: prec}) })
	}
}

func faultSweep(t *testing.T, o backend.Options) {
	b := openDouble(t, o)
	require.NoError(t, b.Close())
	requireNoLeaks(t)
	// A clean run counts the calls (counters restart at Open's cuInit).
	configure(t, "", "")
	// run opens a backend, runs two steps and closes it; before is the
	// call count of each function before Close (whose calls report no error).
	run := func() (before map[string]int, err error) {
		b, err := cudnn.Open(o)
		if err != nil {
			return nil, err
		}
		defer func() {
			if cerr := b.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
		defer func() { before, _ = cudnn.DoubleCalls() }()
		m, err := newMiniStep(b)
		if err != nil {
			return nil, err
		}
		if err := m.run(); err != nil {
			return nil, err
		}
		return nil, m.run() // the second step reuses plans, algorithms and buffers
	}
	calls, err := run()
	require.NoError(t, err)
	names := make([]string, 0, len(calls))
	total := 0
	for n, c := range calls {
		names = append(names, n)
		total += c
	}
	sort.Strings(names)
	t.Logf("%d library functions, %d calls in open + two steps", len(names), total)
	require.Greater(t, len(names), 30)
	failed := 0
	for _, name := range names {
		for n := 1; n <= calls[name]; n++ {
			spec := name + ":" + strconv.Itoa(n)
			if name == "cuMemAlloc_v2" {
				// Out of memory is retried once after the pool is emptied: fail both.
				spec += "," + name + ":" + strconv.Itoa(n+1)
			}
			require.NoError(t, cudnn.DoubleConfigure("", spec, ""))
			_, err := run()
			live, lerr := cudnn.DoubleLive()
			require.NoError(t, lerr)
			if isRelease(name) {
				// A refused release keeps its object for good: that is the
				// injected fault, not a leak. Later runs compare with this.
				leakBase = live
			} else {
				require.Equal(t, leakBase, live, "%s: live after Close differs from before Open (err %v)", spec, err)
			}
			if err == nil {
				// Only calls whose failure is ignored on purpose may vanish.
				assert.True(t, isIgnored(name), "%s: injected failure vanished", spec)
				continue
			}
			failed++
			var oe *backend.OpError
			require.True(t, errors.As(err, &oe), "%s: %v is not an *OpError", spec, err)
			assert.True(t, errors.Is(err, backend.ErrLibrary) || errors.Is(err, backend.ErrUnavailable), "%s: %v", spec, err)
			assert.NotEmpty(t, oe.Op, spec)
			assert.Contains(t, err.Error(), name, "%s: the error names the failing function", spec)
		}
	}
	t.Logf("%d injected failures surfaced as errors", failed)
}

// isRelease lists the functions that release an object.
func isRelease(name string) bool {
	return strings.HasPrefix(name, "cudnnDestroy") || name == "cublasDestroy_v2" || name == "cuMemFree_v2" ||
		name == "cuMemFreeHost" || name == "cuEventDestroy_v2" || name == "cuStreamDestroy_v2" ||
		name == "cuDevicePrimaryCtxRelease_v2"
}

// isIgnored lists the calls whose failures the backend ignores on purpose:
// release paths (nothing useful can be done) and best-effort facts (the PCI
// id labels the device; the log callback is optional).
func isIgnored(name string) bool {
	switch name {
	case "cuMemFree_v2", "cuMemFreeHost", "cuEventDestroy_v2", "cuStreamDestroy_v2", "cuDevicePrimaryCtxRelease_v2",
		"cudnnDestroy", "cublasDestroy_v2", "cudnnDestroyTensorDescriptor", "cudnnDestroyFilterDescriptor",
		"cudnnDestroyConvolutionDescriptor", "cudnnDestroyActivationDescriptor", "cudnnDestroyLRNDescriptor",
		"cudnnDestroyPoolingDescriptor", "cuDeviceGetPCIBusId", "cudnnSetCallback",
		// per-algorithm workspace queries: a refusal only drops that algorithm
		"cudnnGetConvolutionForwardWorkspaceSize", "cudnnGetConvolutionBackwardDataWorkspaceSize",
		"cudnnGetConvolutionBackwardFilterWorkspaceSize":
		return true
	}
	return false
}

// TestDoubleDeferredUploads: with the double's deferred execution, copies
// run only at synchronisation points, so uploads that cycle through the
// ring of pinned staging buffers are correct only if each buffer's last
// copy is waited for before it is refilled (without the event wait in
// upload, the first tensors would receive the last ones' data).
func TestDoubleDeferredUploads(t *testing.T) {
	require.NoError(t, openDouble(t, backend.Options{}).Close())
	require.NoError(t, cudnn.DoubleConfigure("deferred", "", ""))
	t.Cleanup(func() { require.NoError(t, cudnn.DoubleConfigure("", "", "")) })
	b := openDouble(t, backend.Options{})
	const n = 9 // more uploads than staging buffers
	var xs []backend.Tensor
	for i := range n {
		x, err := b.NewTensor(64)
		require.NoError(t, err)
		v := make([]float32, 64)
		for j := range v {
			v[j] = float32(i*1000 + j)
		}
		require.NoError(t, b.Upload(x, v))
		xs = append(xs, x)
	}
	for i, x := range xs {
		v := make([]float32, 64)
		require.NoError(t, b.Download(v, x))
		require.Equal(t, float32(i*1000), v[0], "tensor %d", i)
		require.Equal(t, float32(i*1000+63), v[63], "tensor %d", i)
	}
	require.NoError(t, b.Close())
	requireNoLeaks(t)
}
