package train

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResumedHistoryIsExact interrupts a run in the middle of its second
// epoch and resumes it: every epoch's record, the split one included, has
// the training loss and image count of an uninterrupted run, and its
// seconds cover both parts.
func TestResumedHistoryIsExact(t *testing.T) {
	b := openCPU(t)
	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	want, err := Run(context.Background(), options(net, t.TempDir(), 3))
	require.NoError(t, err)
	net.Close()

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	o := options(nil, dir, 3)
	// Ctrl-C after the second epoch's second batch: the progress line of
	// that batch is written just before the loop looks at the context.
	o.Log = cancelOn{"epoch 2/3: batch 2/6,", cancel}
	o.Net, err = alexnet.New(b, miniConfig())
	require.NoError(t, err)
	_, err = Run(ctx, o)
	require.ErrorIs(t, err, ErrInterrupted)
	stopped := o.Net.Steps()
	require.Equal(t, uint64(8), stopped, "stopped after the second epoch's second batch")
	o.Net.Close()

	o.Net, err = alexnet.Load(b, o.Checkpoint)
	require.NoError(t, err)
	defer o.Net.Close()
	assert.NotEmpty(t, o.Net.Note(notePartial), "the checkpoint holds the epoch's first part")
	o.Log = nil
	got, err := Run(context.Background(), o)
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i := range want {
		assert.Equal(t, want[i].TrainLoss, got[i].TrainLoss, "epoch %d training loss, to the bit", i+1)
		assert.Equal(t, want[i].Steps, got[i].Steps, "epoch %d steps", i+1)
		assert.Equal(t, want[i].Val, got[i].Val, "epoch %d validation", i+1)
	}
	assert.Greater(t, got[1].Seconds, 0.0)
	assert.Empty(t, o.Net.Note(notePartial), "a finished epoch leaves no partial note")

	// The CSV log agrees with what Run returned.
	f, err := os.Open(o.CSV)
	require.NoError(t, err)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	for i, w := range want {
		assert.Equal(t, strings.TrimSpace(formatLoss(w.TrainLoss)), rows[i+1][2], "epoch %d train_loss in the CSV", i+1)
	}
}

// cancelOn calls cancel when a line containing text is written.
type cancelOn struct {
	text   string
	cancel func()
}

func (c cancelOn) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(c.text)) {
		c.cancel()
	}
	return len(p), nil
}

func formatLoss(v float64) string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = writeHistoryRow(w, Epoch{TrainLoss: v})
	w.Flush()
	r, _ := csv.NewReader(&buf).Read()
	return r[2]
}

// TestPartialFromIgnoresOtherEpochs: a saved part counts only for the
// epoch and batch it was saved at.
func TestPartialFromIgnoresOtherEpochs(t *testing.T) {
	b := openCPU(t)
	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	defer net.Close()
	require.NoError(t, net.SetNote(notePartial, `{"epoch":2,"batch":3,"loss_sum":1.5,"batches":3,"images":12,"seconds":2,"wait_s":0.5}`))
	for _, tc := range []struct {
		name         string
		epoch, first int
		want         partial
	}{
		{"the saved epoch and batch", 2, 3, partial{Epoch: 2, Batch: 3, LossSum: 1.5, Batches: 3, Images: 12, Seconds: 2, WaitS: 0.5}},
		{"another batch", 2, 4, partial{}},
		{"another epoch", 3, 3, partial{}},
		{"a fresh epoch", 2, 0, partial{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, partialFrom(net, tc.epoch, tc.first))
		})
	}
	require.NoError(t, net.SetNote(notePartial, "not json"))
	assert.Equal(t, partial{}, partialFrom(net, 2, 3))
}

// TestCSVLearningRateHasNoFloat32Noise: 0.01 as a float32 is written
// 0.01, not 0.009999999776482582, and reads back to the same float32.
func TestCSVLearningRateHasNoFloat32Noise(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	h := []Epoch{{Epoch: 1, Steps: 10, TrainLoss: 2.25, LR: 0.01}, {Epoch: 2, Steps: 20, TrainLoss: 1.5, LR: 0.001}}
	require.NoError(t, writeHistory(path, h))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, "lr", rows[0][5])
	assert.Equal(t, "0.01", rows[1][5])
	assert.Equal(t, "0.001", rows[2][5])
	back, err := readHistory(path, 2, false)
	require.NoError(t, err)
	assert.Equal(t, h, back)
}

// TestEpochTicksAreWholeEpochs: the chart's x axis is labelled at whole
// epochs only, at most about 10 of them.
func TestEpochTicksAreWholeEpochs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lo, hi float64
		want   []string
	}{
		{"three epochs", 1, 3, []string{"1", "2", "3"}},
		{"padded range", 0.8, 3.2, []string{"1", "2", "3"}},
		{"fifteen epochs", 1, 15, []string{"2", "4", "6", "8", "10", "12", "14"}},
		{"ninety epochs", 1, 90, []string{"10", "20", "30", "40", "50", "60", "70", "80", "90"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var labels []string
			for _, tk := range (epochTicks{}).Ticks(tc.lo, tc.hi) {
				assert.Equal(t, float64(int(tk.Value)), tk.Value, "whole epoch")
				if tk.Label != "" {
					labels = append(labels, tk.Label)
				}
			}
			assert.Equal(t, tc.want, labels)
		})
	}
}

func TestEstimateLine(t *testing.T) {
	got := estimateLine(1500*time.Millisecond, 3, 4687*10-4, 4687)
	assert.Equal(t, "time estimate: 1.5 s per batch (measured on 3 batches) → 1h57m0s per epoch, 19h32m0s for the 10 epochs left (validation not included)", got)
	got = estimateLine(20*time.Millisecond, 3, 96, 6)
	assert.Equal(t, "time estimate: 0.02 s per batch (measured on 3 batches) → 100ms per epoch, 1.9s for the 16 epochs left (validation not included)", got)
}

// TestRunPrintsTimeEstimateAndEvalProgress: the run says how long it will
// take after its first batches, once; evaluation reports its progress.
func TestRunPrintsTimeEstimateAndEvalProgress(t *testing.T) {
	b := openCPU(t)
	net, err := alexnet.New(b, miniConfig())
	require.NoError(t, err)
	defer net.Close()
	var log bytes.Buffer
	o := options(net, t.TempDir(), 2)
	o.Log = &log
	_, err = Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(log.String(), "time estimate:"), log.String())
	assert.Regexp(t, `time estimate: [0-9.e-]+ s per batch \(measured on 3 batches\) → .* per epoch, .* for the 1\.33 epochs left`, log.String())

	var ev bytes.Buffer
	res, err := EvaluateLogged(context.Background(), net, stripes{n: 10}, pre.Eval(false), 4, 2, &ev)
	require.NoError(t, err)
	assert.Equal(t, 10, res.N)
	assert.Contains(t, ev.String(), "evaluated 10/10 images (100%)")
}
