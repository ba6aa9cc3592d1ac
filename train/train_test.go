package train

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/cpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stripes is a two-class dataset a small network learns in a few epochs:
// class 0 has a bright top half, class 1 a bright bottom half, both with
// noise.
type stripes struct {
	n      int
	reads  *atomic.Int64 // counts Item calls, when set
	onRead func(i int)
}

func (s stripes) Len() int          { return s.n }
func (s stripes) Classes() []string { return []string{"top", "bottom"} }
func (s stripes) Item(i int) (image.Image, int, error) {
	if s.onRead != nil {
		s.onRead(i)
	}
	r := rand.New(rand.NewPCG(uint64(i), 7))
	label := i % 2
	img := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 40; x++ {
			v := 40 + r.IntN(60)
			if (y < 20) == (label == 0) {
				v += 120
			}
			img.Set(x, y, color.RGBA{uint8(v), uint8(v), uint8(v), 255})
		}
	}
	return img, label, nil
}

func miniConfig() alexnet.Config {
	cfg := alexnet.Mini()
	cfg.Classes = 2
	cfg.SGD.LR = 0.01
	return cfg
}

var pre = Preprocess{Resize: 113, Crop: 99, Mean: [3]float32{0.4, 0.4, 0.4}}

func openCPU(t *testing.T) backend.Backend {
	t.Helper()
	b, err := cpu.Open(backend.Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

func options(net *alexnet.Network, dir string, epochs int) Options {
	return Options{Net: net, Train: stripes{n: 24}, Test: stripes{n: 8}, TrainPipe: pre.Train(nil), TestPipe: pre.Eval(false),
		Epochs: epochs, Batch: 4, Workers: 2, Seed: 5, Checkpoint: filepath.Join(dir, "ck.safetensors"),
		CSV: filepath.Join(dir, "log.csv"), Plot: filepath.Join(dir, "curve.png")}
}

func params(t *testing.T, net *alexnet.Network) map[string][]float32 {
	out := map[string][]float32{}
	for _, name := range net.ParamNames() {
		p, err := net.Param(name)
		require.NoError(t, err)
		out[name] = p
	}
	return out
}

// TestResumeIsBitIdentical: 3 epochs in one go equal 2 epochs, a fresh
// process loading the checkpoint, and 1 more — to the bit, with the loss
// log and the schedule carried over.
func TestResumeIsBitIdentical(t *testing.T) {
	b := openCPU(t)
	straightDir, splitDir := t.TempDir(), t.TempDir()

	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	want, err := Run(context.Background(), options(net, straightDir, 3))
	require.NoError(t, err)
	wantParams := params(t, net)
	net.Close()

	net, err = alexnet.New(b, miniConfig())
	require.NoError(t, err)
	_, err = Run(context.Background(), options(net, splitDir, 2))
	require.NoError(t, err)
	net.Close()
	net, err = alexnet.Load(b, filepath.Join(splitDir, "ck.safetensors"))
	require.NoError(t, err)
	defer net.Close()
	got, err := Run(context.Background(), options(net, splitDir, 3))
	require.NoError(t, err)

	require.Len(t, got, 3, "the first two epochs come back from the CSV log")
	for i := range want {
		assert.Equal(t, want[i].TrainLoss, got[i].TrainLoss, "epoch %d training loss", i+1)
		assert.Equal(t, want[i].Val.Top1, got[i].Val.Top1, "epoch %d validation", i+1)
	}
	assert.Equal(t, wantParams, params(t, net), "parameters after 3 epochs")
	_, err = os.Stat(filepath.Join(splitDir, "curve.png"))
	assert.NoError(t, err)
}

// TestInterruptSavesAndResumes cancels a run mid-epoch: the checkpoint
// holds the last finished step, and resuming from it ends where an
// uninterrupted run ends.
func TestInterruptSavesAndResumes(t *testing.T) {
	b := openCPU(t)
	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	_, err = Run(context.Background(), options(net, t.TempDir(), 2))
	require.NoError(t, err)
	want := params(t, net)
	net.Close()

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var reads atomic.Int64
	o := options(nil, dir, 2)
	o.Train = stripes{n: 24, onRead: func(int) {
		if reads.Add(1) == 30 { // in the second epoch's first half
			cancel()
		}
	}}
	o.Net, err = alexnet.New(b, miniConfig())
	require.NoError(t, err)
	_, err = Run(ctx, o)
	require.ErrorIs(t, err, ErrInterrupted)
	assert.Contains(t, err.Error(), "checkpoint saved")
	stopped := o.Net.Steps()
	o.Net.Close()

	o.Net, err = alexnet.Load(b, o.Checkpoint)
	require.NoError(t, err)
	defer o.Net.Close()
	assert.Equal(t, stopped, o.Net.Steps())
	assert.Less(t, stopped, uint64(12), "stopped before the end")
	o.Train = stripes{n: 24}
	_, err = Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, want, params(t, o.Net))
}

// TestNaNLossStops: a diverging run stops at the first non-finite loss
// with the step in the message and leaves the last checkpoint as it was.
func TestNaNLossStops(t *testing.T) {
	b := openCPU(t)
	dir := t.TempDir()
	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	o := options(net, dir, 1)
	_, err = Run(context.Background(), o)
	require.NoError(t, err)
	before, err := os.ReadFile(o.Checkpoint)
	require.NoError(t, err)

	require.NoError(t, net.Optimizer().SetLR(1e30))
	o.Epochs = 3
	_, err = Run(context.Background(), o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the loss is")
	assert.Regexp(t, `step \d+ \(epoch 2, batch \d+\)`, err.Error())
	after, err := os.ReadFile(o.Checkpoint)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "the checkpoint of epoch 1 is intact")
	net.Close()
}

// TestLearnsAndEvaluates trains on the stripes until validation is
// near-perfect, then checks Evaluate with the centre crop and ten crops.
func TestLearnsAndEvaluates(t *testing.T) {
	b := openCPU(t)
	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	defer net.Close()
	var log bytes.Buffer
	o := options(net, t.TempDir(), 4)
	o.Train = stripes{n: 64}
	o.Log = &log
	h, err := Run(context.Background(), o)
	require.NoError(t, err)
	require.Len(t, h, 4)
	assert.Less(t, h[3].TrainLoss, h[0].TrainLoss, "the loss falls")
	assert.Contains(t, log.String(), "epoch 4/4: train loss")
	for _, ten := range []bool{false, true} {
		ev, err := Evaluate(context.Background(), net, stripes{n: 10}, pre.Eval(ten), 4, 2)
		require.NoError(t, err)
		assert.Equal(t, 10, ev.N, "ten-crop=%v: every image once, padding not counted", ten)
		assert.GreaterOrEqual(t, ev.Top1, 0.9, "ten-crop=%v", ten)
		assert.Equal(t, 1.0, ev.Top5, "two classes: always in the top five")
		assert.GreaterOrEqual(t, ev.Loss, 0.0)
		assert.Less(t, ev.Loss, 0.5)
	}
}

func TestRunRejects(t *testing.T) {
	b := openCPU(t)
	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	defer net.Close()
	for name, o := range map[string]Options{
		"no net":        {Train: stripes{n: 4}, TrainPipe: pre.Train(nil), Epochs: 1, Batch: 2},
		"zero epochs":   {Net: net, Train: stripes{n: 4}, TrainPipe: pre.Train(nil), Epochs: 0, Batch: 2},
		"wrong input":   {Net: net, Train: stripes{n: 4}, TrainPipe: Preprocess{Resize: 64, Crop: 50}.Train(nil), Epochs: 1, Batch: 2},
		"no full batch": {Net: net, Train: stripes{n: 3}, TrainPipe: pre.Train(nil), Epochs: 1, Batch: 4},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Run(context.Background(), o)
			require.Error(t, err)
			assert.False(t, errors.Is(err, ErrInterrupted))
			assert.True(t, strings.HasPrefix(err.Error(), "train:") || strings.Contains(err.Error(), "data"), err.Error())
		})
	}
}

func TestDescribedRoundTrip(t *testing.T) {
	b := openCPU(t)
	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	defer net.Close()
	_, _, err = Described(net)
	assert.ErrorContains(t, err, "no \"preprocess\" note")
	require.NoError(t, Describe(net, pre, []string{"top", "bottom"}))
	p, labels, err := Described(net)
	require.NoError(t, err)
	assert.Equal(t, pre, p)
	assert.Equal(t, []string{"top", "bottom"}, labels)
}
