//go:build onednn

package onednn_test

import (
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/backend/onednn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func() (backend.Backend, error) { return onednn.Open(backend.Options{}) })
}

// TestExecuteAllocatesNothing: executing a plan allocates no Go memory.
func TestExecuteAllocatesNothing(t *testing.T) {
	backendtest.RunAllocations(t, func() (backend.Backend, error) { return onednn.Open(backend.Options{}) })
}

func TestLimits(t *testing.T) {
	backendtest.RunLimits(t, func(o backend.Options) (backend.Backend, error) { return onednn.Open(o) })
}

// TestArenaBeyondMemoryBudgetIsAnError: the shim's scratchpad arena counts
// against the memory budget. A backward whose scratchpad (about 6 MB here)
// does not fit beside the tensors fails with ErrMemory and the byte count,
// checked in the shim before it allocates; with room it runs.
func TestArenaBeyondMemoryBudgetIsAnError(t *testing.T) {
	d := backend.ConvDesc{Input: backend.Shape{1, 1, 512, 512}, Out: 1, KernelH: 31, KernelW: 31, StrideH: 1, StrideW: 1, Groups: 1}
	tensors := 4 * int64(2*d.Input.Numel()+2*d.OutputShape().Numel()+d.WeightShape().Numel())
	for _, tc := range []struct {
		name  string
		extra int64
		want  error
	}{
		{"8 KiB of room", 8 << 10, backend.ErrMemory},
		{"64 MiB of room", 64 << 20, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := onednn.Open(backend.Options{MemoryBudget: tensors + tc.extra})
			require.NoError(t, err)
			defer b.Close()
			p, err := b.Conv(d)
			require.NoError(t, err)
			mk := func(s backend.Shape) backend.Tensor {
				x, err := b.NewTensor(s...)
				require.NoError(t, err)
				return x
			}
			x, w, y, dy, dx := mk(d.Input), mk(d.WeightShape()), mk(d.OutputShape()), mk(d.OutputShape()), mk(d.Input)
			require.NoError(t, p.Forward(x, w, nil, y))
			err = p.BackwardData(dy, w, dx)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), "growing the scratchpad arena to")
		})
	}
}

// TestOneOpenMPMasterForEveryCaller: primitives (a convolution) and the
// shim's own OpenMP loops (ReLU) run on the backend's executor thread,
// whichever OS thread calls, so libgomp keeps one worker pool, not one per
// thread Go ran the caller on.
func TestOneOpenMPMasterForEveryCaller(t *testing.T) {
	b, err := onednn.Open(backend.Options{Threads: 2})
	require.NoError(t, err)
	defer b.Close()
	d := backend.ConvDesc{Input: backend.Shape{1, 8, 32, 32}, Out: 16, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Groups: 1}
	conv, err := b.Conv(d)
	require.NoError(t, err)
	relu, err := b.ReLU(d.OutputShape())
	require.NoError(t, err)
	mk := func(s backend.Shape) backend.Tensor {
		x, err := b.NewTensor(s...)
		require.NoError(t, err)
		return x
	}
	x, w, y := mk(d.Input), mk(d.WeightShape()), mk(d.OutputShape())
	const callers = 3
	type seen struct{ caller, conv, relu int64 }
	got := make([]seen, callers)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		ready := make(chan struct{})
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // a thread of its own until every caller has run
			defer runtime.UnlockOSThread()
			got[i].caller = int64(syscall.Gettid())
			if assert.NoError(t, conv.Forward(x, w, nil, y)) {
				got[i].conv = onednn.RanOn(b)
			}
			if assert.NoError(t, relu.Forward(y, y)) {
				got[i].relu = onednn.RanOn(b)
			}
			close(ready)
			<-release
		}()
		<-ready
	}
	close(release)
	wg.Wait()
	callerThreads := map[int64]bool{}
	for i, g := range got {
		callerThreads[g.caller] = true
		assert.Equal(t, got[0].conv, g.conv, "caller %d: convolution ran on another thread", i)
		assert.Equal(t, got[0].conv, g.relu, "caller %d: ReLU loop ran on another thread", i)
	}
	require.Len(t, callerThreads, callers, "the callers were not on distinct threads")
	assert.False(t, callerThreads[got[0].conv], "the work ran on a caller's thread, not the executor")
}
