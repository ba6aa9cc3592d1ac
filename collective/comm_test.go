package collective

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocal(t *testing.T) {
	c, err := Open("local")
	require.NoError(t, err)
	assert.Equal(t, 0, c.Rank())
	assert.Equal(t, 1, c.Size())
	buf := []float32{1, -2, 3.5}
	for _, op := range []Op{Sum, Mean} {
		t.Run("allreduce "+op.String()+" is the identity", func(t *testing.T) {
			require.NoError(t, c.AllReduce(buf, op))
			assert.Equal(t, []float32{1, -2, 3.5}, buf)
			b64 := []float64{2, 4}
			require.NoError(t, c.AllReduceFloat64(b64, op))
			assert.Equal(t, []float64{2, 4}, b64)
		})
	}
	t.Run("broadcast from 0 keeps the buffer", func(t *testing.T) {
		require.NoError(t, c.Broadcast(buf, 0))
		assert.Equal(t, []float32{1, -2, 3.5}, buf)
		bs := []byte("abc")
		require.NoError(t, c.BroadcastBytes(bs, 0))
		assert.Equal(t, "abc", string(bs))
	})
	t.Run("bad root and bad op are errors", func(t *testing.T) {
		assert.ErrorContains(t, c.Broadcast(buf, 1), "root 1 outside [0, 1)")
		assert.ErrorContains(t, c.BroadcastBytes(nil, -1), "root -1")
		assert.ErrorContains(t, c.AllReduce(buf, Op(7)), "unknown reduction Op(7)")
	})
	require.NoError(t, c.Barrier())
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "closing twice is harmless")
	t.Run("calls after Close fail with ErrClosed", func(t *testing.T) {
		assert.True(t, errors.Is(c.AllReduce(buf, Sum), ErrClosed))
		assert.True(t, errors.Is(c.Broadcast(buf, 0), ErrClosed))
		assert.True(t, errors.Is(c.Barrier(), ErrClosed))
	})
}

func TestOpenKinds(t *testing.T) {
	c, err := Open("")
	require.NoError(t, err)
	assert.Equal(t, 1, c.Size())
	_, err = Open("carrier-pigeon")
	assert.ErrorContains(t, err, `unknown kind "carrier-pigeon"`)
	assert.Contains(t, Kinds(), "local")
	if _, ok := openers["mpi"]; !ok {
		_, err = Open("mpi")
		assert.ErrorContains(t, err, "built without MPI: build with -tags mpi")
	}
}

func TestChunks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n, max int
		want   [][2]int
	}{
		{"empty makes no call", 0, 4, nil},
		{"smaller than one chunk", 3, 4, [][2]int{{0, 3}}},
		{"exactly one chunk", 4, 4, [][2]int{{0, 4}}},
		{"odd remainder", 11, 4, [][2]int{{0, 4}, {4, 4}, {8, 3}}},
		{"INT_MAX chunks of a 2^32+5 buffer", 1<<32 + 5, 1<<31 - 1, [][2]int{{0, 1<<31 - 1}, {1<<31 - 1, 1<<31 - 1}, {1<<32 - 2, 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][2]int
			require.NoError(t, chunks(tc.n, tc.max, func(off, cnt int) error {
				got = append(got, [2]int{off, cnt})
				return nil
			}))
			assert.Equal(t, tc.want, got)
		})
	}
	t.Run("stops at the first error", func(t *testing.T) {
		calls := 0
		err := chunks(10, 3, func(off, cnt int) error {
			calls++
			if off == 3 {
				return errors.New("boom")
			}
			return nil
		})
		assert.EqualError(t, err, "boom")
		assert.Equal(t, 2, calls)
	})
	t.Run("chunk size below 1 is an error", func(t *testing.T) {
		assert.ErrorContains(t, chunks(10, 0, func(int, int) error { return nil }), "chunk size 0")
	})
}
