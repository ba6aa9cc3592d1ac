//go:build mpi

package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/collective"
	"github.com/dnngo/dnngo/internal/mpitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirEnv passes the parent's temporary directory to the ranks.
const dirEnv = "DNNGO_TRAIN_MPI_DIR"

// The ranks' entry point: TestMPI* below start it under mpirun.
func TestMPIChild(t *testing.T) {
	mpitest.Child(t, map[string]func(*testing.T){"run": childRun, "die": childDie})
}

// distConfig is the tests' Mini with dropout, so the replicas' masks
// matter.
func distConfig() alexnet.Config {
	c := miniConfig()
	c.Dropout = 0.5
	return c
}

func openMPI(t *testing.T) collective.Comm {
	c, err := collective.Open("mpi")
	require.NoError(t, err)
	require.Equal(t, 2, c.Size())
	return c
}

// childRun: 2 ranks train 1 epoch at global batch 4, resume from the
// checkpoint (rank 0 reads it, LoadShared broadcasts it) for a second;
// rank 0 then trains 2 epochs alone and compares.
func childRun(t *testing.T) {
	c := openMPI(t)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	dir := os.Getenv(dirEnv)
	b := openCPU(t)
	net, err := alexnet.New(b, distConfig())
	require.NoError(t, err)
	o := options(net, dir, 1)
	o.Comm = c
	_, err = Run(context.Background(), o)
	require.NoError(t, err)
	net.Close()
	require.NoError(t, c.Barrier())

	net, err = LoadShared(c, b, o.Checkpoint)
	require.NoError(t, err)
	defer net.Close()
	o = options(net, dir, 2)
	o.Comm = c
	hist, err := Run(context.Background(), o)
	require.NoError(t, err)
	if c.Rank() != 0 {
		return
	}
	require.Len(t, hist, 2, "rank 0 keeps the history of both epochs")

	ref, err := alexnet.New(b, distConfig())
	require.NoError(t, err)
	defer ref.Close()
	want, err := Run(context.Background(), options(ref, t.TempDir(), 2))
	require.NoError(t, err)
	for i := range want {
		assert.InEpsilon(t, want[i].TrainLoss, hist[i].TrainLoss, 1e-5, "epoch %d train loss", i+1)
		assert.InEpsilon(t, want[i].Val.Loss, hist[i].Val.Loss, 1e-5, "epoch %d validation loss", i+1)
		assert.Equal(t, want[i].Val.N, hist[i].Val.N, "validation counts summed over the ranks")
		assert.Equal(t, want[i].Val.Top1, hist[i].Val.Top1)
	}
	for _, name := range ref.ParamNames() {
		got, err := net.Param(name)
		require.NoError(t, err)
		w, err := ref.Param(name)
		require.NoError(t, err)
		assert.LessOrEqual(t, backendtest.RelErr(got, f64(w)), 1e-5, "%s", name)
	}
}

// childDie: 2 ranks train up to 2 epochs; rank 1 kills itself with SIGKILL
// while loading batch 4 of epoch 2, after the epoch-1 checkpoint is written.
func childDie(t *testing.T) {
	c := openMPI(t)
	dir := os.Getenv(dirEnv)
	b := openCPU(t)
	net, err := alexnet.New(b, distConfig())
	require.NoError(t, err)
	var reads atomic.Int64
	rank := c.Rank()
	o := options(net, dir, 2)
	o.Train = stripes{n: 24, onRead: func(int) {
		// Rank 1 reads 12 items an epoch, 2 a batch; read 19 is the first
		// item of epoch 2's batch 4, loaded only once batch 1 was taken,
		// i.e. after a step whose all-reduce followed rank 0's save.
		if reads.Add(1) == 19 && rank == 1 {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}}
	o.Comm = c
	_, err = Run(context.Background(), o)
	t.Fatalf("rank %d: the run returned (%v) although rank 1 died", rank, err)
}

// Two ranks × batch 2 train (and resume) as one process × batch 4, only
// rank 0 writes files.
func TestMPITrainRun(t *testing.T) {
	dir := t.TempDir()
	mpitest.Run(t, "TestMPIChild", 2, "run", dirEnv+"="+dir)
	for _, f := range []string{"ck.safetensors", "log.csv", "curve.png"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 3, "one checkpoint, log and chart; no temporary or per-rank files")
}

// When a rank dies mid-epoch the job ends non-zero within 60 s, the last
// checkpoint loads, and training resumes from it (here in one process).
func TestMPIRankDeathCheckpointResumes(t *testing.T) {
	dir := t.TempDir()
	r := mpitest.Launch(t, "TestMPIChild", 2, "die", dirEnv+"="+dir)
	require.Error(t, r.Err, r.Output)
	var ee interface{ ExitCode() int }
	if errors.As(r.Err, &ee) {
		assert.NotEqual(t, 0, ee.ExitCode())
	}
	assert.Less(t, r.Elapsed, 60*time.Second)
	assert.NotContains(t, r.Output, "the run returned", r.Output)

	b := openCPU(t)
	net, err := alexnet.Load(b, filepath.Join(dir, "ck.safetensors"))
	require.NoError(t, err, r.Output)
	defer net.Close()
	assert.Equal(t, uint64(6), net.Steps(), "the checkpoint of epoch 1: 24 images / global batch 4")
	hist, err := Run(context.Background(), options(net, dir, 2))
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, uint64(12), net.Steps())
}

func f64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
