//go:build mpi

package collective

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/dnngo/dnngo/internal/golden"
	"github.com/dnngo/dnngo/internal/mpitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The ranks' entry point: TestMPI* below start it under mpirun.
func TestMPIChild(t *testing.T) { mpitest.Child(t, childCases) }

var childCases = map[string]func(t *testing.T){
	"collectives": childCollectives,
	"chunked":     childChunked,
	"errors":      childErrors,
	"death":       childDeath,
}

// oddSizes are the buffer lengths the collectives are checked on.
var oddSizes = []int{1, 7, 1001, 65537}

// fill is rank r's buffer: values that differ by rank and position.
func fill(n, r int) []float32 {
	b := make([]float32, n)
	for i := range b {
		b[i] = float32(r+1)*float32(i%13) + 0.25*float32(r)
	}
	return b
}

func openWorld(t *testing.T) Comm {
	c, err := Open("mpi")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	require.Equal(t, 2, c.Size(), "the tests run with -np 2")
	return c
}

// checkCollectives checks all-reduce (sum, mean, float32 and float64) and
// broadcast (float32 and bytes, from each root) on every odd size.
func checkCollectives(t *testing.T, c Comm) {
	for _, n := range oddSizes {
		want := make([]float32, n)
		for r := range c.Size() {
			for i, v := range fill(n, r) {
				want[i] += v
			}
		}
		buf := fill(n, c.Rank())
		require.NoError(t, c.AllReduce(buf, Sum))
		assert.LessOrEqual(t, golden.RelErr(buf, f64(want)), 1e-7, "sum of %d", n)
		buf = fill(n, c.Rank())
		require.NoError(t, c.AllReduce(buf, Mean))
		for i := range want {
			want[i] /= float32(c.Size())
		}
		assert.LessOrEqual(t, golden.RelErr(buf, f64(want)), 1e-7, "mean of %d", n)

		b64 := make([]float64, n)
		for i := range b64 {
			b64[i] = float64(c.Rank()+1) * float64(i)
		}
		require.NoError(t, c.AllReduceFloat64(b64, Sum))
		for i := range b64 {
			require.InDelta(t, 3*float64(i), b64[i], 1e-9, "float64 sum of %d at %d", n, i)
		}

		for root := range c.Size() {
			buf = fill(n, c.Rank())
			require.NoError(t, c.Broadcast(buf, root))
			assert.LessOrEqual(t, golden.RelErr(buf, f64(fill(n, root))), 0.0, "broadcast of %d from %d", n, root)
			bs := []byte(strings.Repeat(string(rune('a'+c.Rank())), n))
			require.NoError(t, c.BroadcastBytes(bs, root))
			assert.Equal(t, strings.Repeat(string(rune('a'+root)), n), string(bs), "byte broadcast of %d from %d", n, root)
		}
	}
	require.NoError(t, c.Barrier())
}

func childCollectives(t *testing.T) { checkCollectives(t, openWorld(t)) }

// childChunked runs the same checks with at most 7 elements per MPI call,
// so every buffer above 7 goes in several chunks, the last one short: the
// chunking of buffers beyond INT_MAX elements, without 8 GiB buffers.
func childChunked(t *testing.T) {
	old := maxCount
	maxCount = 7
	defer func() { maxCount = old }()
	checkCollectives(t, openWorld(t))
}

// childErrors checks that MPI's own errors come back as Go errors with
// MPI_Error_string's text (a negative count), and the Go-side checks.
func childErrors(t *testing.T) {
	c := openWorld(t)
	m := c.(*mpiComm)
	x := []float32{1}
	err := m.bcast(unsafe.Pointer(&x[0]), -1, dtFloat, 0)
	require.Error(t, err)
	assert.Contains(t, strings.ToLower(err.Error()), "count", "MPI_Error_string's text: %v", err)
	assert.Contains(t, err.Error(), "collective: mpi broadcast (rank")
	assert.ErrorContains(t, c.Broadcast(x, 2), "root 2 outside [0, 2)")
	assert.ErrorContains(t, c.AllReduce(x, Op(9)), "unknown reduction")
	// The communicator still works after an error.
	require.NoError(t, c.AllReduce(x, Sum))
	assert.Equal(t, float32(2), x[0])
	_, err = Open("mpi")
	assert.ErrorContains(t, err, "already opened")
}

// childDeath: rank 1 kills itself with SIGKILL while rank 0 waits in an
// all-reduce that can never complete.
func childDeath(t *testing.T) {
	c, err := Open("mpi")
	require.NoError(t, err)
	require.NoError(t, c.Barrier())
	if c.Rank() == 1 {
		time.Sleep(200 * time.Millisecond)
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGKILL))
	}
	buf := make([]float32, 1000)
	err = c.AllReduce(buf, Sum)
	// Reached only if MPI reports the failure instead of mpirun ending us.
	t.Fatalf("rank 0's all-reduce with a dead rank returned (%v): the job should have been ended", err)
}

func TestMPICollectives(t *testing.T) {
	mpitest.Run(t, "TestMPIChild", 2, "collectives")
}

func TestMPIChunked(t *testing.T) {
	mpitest.Run(t, "TestMPIChild", 2, "chunked")
}

func TestMPIErrors(t *testing.T) {
	mpitest.Run(t, "TestMPIChild", 2, "errors")
}

// A rank's death ends the job, non-zero, well within 60 s.
func TestMPIRankDeathEndsJob(t *testing.T) {
	r := mpitest.Launch(t, "TestMPIChild", 2, "death")
	require.Error(t, r.Err, r.Output)
	var ee interface{ ExitCode() int }
	if errors.As(r.Err, &ee) {
		assert.NotEqual(t, 0, ee.ExitCode())
	}
	assert.Less(t, r.Elapsed, 60*time.Second, r.Output)
	assert.NotContains(t, r.Output, "should have been ended", r.Output)
	t.Logf("mpirun ended after %v: %s", r.Elapsed.Round(time.Millisecond), lastLines(r.Output, 6))
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

func f64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
