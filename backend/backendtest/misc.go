package backendtest

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RunDropout checks inverted dropout: on a large tensor the fraction
// dropped is p within 5 standard deviations, kept values are scaled by
// 1/(1−p), the mask follows backend.DropoutKeep (so the same seed gives the
// same mask on every backend), another seed gives another mask, and the
// backward routes dy through the mask of the latest forward.
func RunDropout(t *testing.T, open Opener) {
	e := newEnv(t, open)
	r := rand.New(rand.NewPCG(31, 32))
	s := backend.Shape{8, 4096, 4, 4}
	n := s.Numel()
	x := randn(r, n, 1)
	for i := range x {
		if x[i] == 0 {
			x[i] = 1
		}
	}
	xt, yt, dyt, dxt := e.tensor(s, x), e.tensor(s, nil), e.tensor(s, nil), e.tensor(s, nil)
	for _, p := range []float64{0, 0.1, 0.5, 0.9} {
		dp, err := e.b.Dropout(backend.DropoutDesc{Shape: s, P: p})
		require.NoError(t, err)
		const seed = 12345
		require.NoError(t, dp.Forward(xt, yt, seed))
		y := e.read(yt)
		scale := 1 / (1 - p)
		dropped := 0
		for i, v := range y {
			keep := backend.DropoutKeep(seed, i, p)
			if v == 0 {
				dropped++
				require.False(t, keep, "p=%g: element %d dropped but DropoutKeep keeps it", p, i)
				continue
			}
			require.True(t, keep, "p=%g: element %d kept but DropoutKeep drops it", p, i)
			require.InDelta(t, float64(x[i])*scale, float64(v), 1e-6*math.Abs(float64(x[i])*scale), "p=%g: kept value %d", p, i)
		}
		frac, sd := float64(dropped)/float64(n), math.Sqrt(p*(1-p)/float64(n))
		assert.InDelta(t, p, frac, 5*sd+1e-9, "p=%g: fraction dropped", p)

		// Same seed, same mask; another seed, another mask.
		require.NoError(t, dp.Forward(xt, yt, seed))
		require.Equal(t, y, e.read(yt), "p=%g: same seed, same output", p)
		if p > 0 {
			require.NoError(t, dp.Forward(xt, yt, seed+1))
			require.NotEqual(t, y, e.read(yt), "p=%g: another seed gives another mask", p)
			require.NoError(t, dp.Forward(xt, yt, seed)) // back to the first mask for the backward
		}

		dy := randn(r, n, 1)
		require.NoError(t, e.b.Upload(dyt, dy))
		require.NoError(t, dp.Backward(dyt, dxt))
		dx := e.read(dxt)
		for i, v := range y {
			want := 0.0
			if v != 0 {
				want = float64(dy[i]) * scale
			}
			require.InDelta(t, want, float64(dx[i]), 1e-6*math.Abs(want), "p=%g: dx[%d]", p, i)
		}
		require.NoError(t, dp.Close())
	}

	// In place: y may be x.
	dp, err := e.b.Dropout(backend.DropoutDesc{Shape: backend.Shape{100}, P: 0.5})
	require.NoError(t, err)
	defer dp.Close()
	v := randn(r, 100, 1)
	vt := e.tensor(backend.Shape{100}, v)
	require.NoError(t, dp.Forward(vt, vt, 7))
	for i, got := range e.read(vt) {
		want := 0.0
		if backend.DropoutKeep(7, i, 0.5) {
			want = float64(v[i]) * 2
		}
		require.InDelta(t, want, float64(got), 1e-6, "in-place dropout element %d", i)
	}
}

// RunSGD checks both update rules over several steps, the learning rate
// changing between them, against the float64 reference.
func RunSGD(t *testing.T, open Opener) {
	e := newEnv(t, open)
	r := rand.New(rand.NewPCG(41, 42))
	s := backend.Shape{3, 5, 7}
	for _, rule := range []backend.SGDRule{backend.PyTorchSGD, backend.PaperSGD} {
		t.Run(rule.String(), func(t *testing.T) {
			p, err := e.b.SGD(s)
			require.NoError(t, err)
			defer p.Close()
			w := randn(r, s.Numel(), 1)
			wt, gt, vt := e.tensor(s, w), e.tensor(s, nil), e.tensor(s, nil)
			ww, vv := f64(w), make([]float64, len(w))
			for step, lr := range []float32{0.1, 0.1, 0.01, 0.05} {
				g := randn(r, s.Numel(), 1)
				require.NoError(t, e.b.Upload(gt, g))
				hp := backend.SGDParams{LR: lr, Momentum: 0.9, WeightDecay: 5e-4, Rule: rule}
				require.NoError(t, p.Step(wt, gt, vt, hp))
				refSGD(hp, ww, f64(g), vv)
				Near(t, "w after step "+string(rune('1'+step)), e.read(wt), ww, 1e-6)
				Near(t, "velocity after step "+string(rune('1'+step)), e.read(vt), vv, 1e-6)
				Near(t, "grad unchanged", e.read(gt), f64(g), 0)
			}
		})
	}
}

// RunResources checks Close semantics: double close is harmless, use after
// close is ErrClosed, closing the backend closes what it made.
func RunResources(t *testing.T, open Opener) {
	b, err := open()
	require.NoError(t, err)
	info := b.Info()
	require.NotEmpty(t, info.Name, "Info().Name")
	require.NoError(t, b.Sync())

	x, err := b.NewTensor(2, 3)
	require.NoError(t, err)
	require.Equal(t, backend.Shape{2, 3}, x.Shape())
	require.Equal(t, make([]float32, 6), download(t, b, x), "new tensors are zero")
	require.NoError(t, b.Upload(x, []float32{1, 2, 3, 4, 5, 6}))
	require.Equal(t, []float32{1, 2, 3, 4, 5, 6}, download(t, b, x))
	require.NoError(t, x.Close())
	require.NoError(t, x.Close(), "double close of a tensor")
	require.ErrorIs(t, b.Upload(x, make([]float32, 6)), backend.ErrClosed)

	p, err := b.ReLU(backend.Shape{2, 3})
	require.NoError(t, err)
	y, err := b.NewTensor(2, 3)
	require.NoError(t, err)
	require.NoError(t, p.Forward(y, y))
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "double close of a plan")
	require.ErrorIs(t, p.Forward(y, y), backend.ErrClosed)

	q, err := b.ReLU(backend.Shape{2, 3})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "double close of a backend")
	for name, f := range map[string]func() error{
		"NewTensor": func() error { _, err := b.NewTensor(1); return err },
		"Upload":    func() error { return b.Upload(y, make([]float32, 6)) },
		"Download":  func() error { return b.Download(make([]float32, 6), y) },
		"plan":      func() error { return q.Forward(y, y) },
		"new plan":  func() error { _, err := b.ReLU(backend.Shape{1}); return err },
		"Sync":      func() error { return b.Sync() },
	} {
		err := noPanic(t, name+" after Close", f)
		require.True(t, errors.Is(err, backend.ErrClosed), "%s after the backend's Close: got %v, want ErrClosed", name, err)
	}
	require.NoError(t, y.Close(), "closing a tensor of a closed backend")
	require.NoError(t, q.Close(), "closing a plan of a closed backend")
}

func download(t *testing.T, b backend.Backend, x backend.Tensor) []float32 {
	t.Helper()
	out := make([]float32, x.Shape().Numel())
	require.NoError(t, b.Download(out, x))
	return out
}
