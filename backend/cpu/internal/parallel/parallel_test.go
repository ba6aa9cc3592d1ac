package parallel

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunCoversEveryIndexOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 5} {
		p := New(workers)
		for _, n := range []int{0, 1, 3, 100} {
			hits := make([]atomic.Int32, n)
			var maxWorker atomic.Int32
			p.Run(n, func(w, i int) {
				hits[i].Add(1)
				if int32(w) > maxWorker.Load() {
					maxWorker.Store(int32(w))
				}
			})
			for i := range hits {
				require.Equal(t, int32(1), hits[i].Load(), "workers=%d n=%d index %d", workers, n, i)
			}
			assert.Less(t, int(maxWorker.Load()), workers)
		}
		p.Close()
		p.Close()
		ran := 0
		p.Run(3, func(w, i int) { ran++; assert.Zero(t, w) })
		assert.Equal(t, 3, ran, "a closed pool runs on the caller")
	}
}

func TestChunksTile(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100} {
		for _, k := range []int{1, 2, 3, 8} {
			prev := 0
			for i := 0; i < k; i++ {
				lo, hi := Chunks(n, k, i)
				require.Equal(t, prev, lo)
				require.GreaterOrEqual(t, hi, lo)
				prev = hi
			}
			require.Equal(t, n, prev)
		}
	}
}

func TestRunAllocatesNothing(t *testing.T) {
	p := New(2)
	defer p.Close()
	var sum atomic.Int64
	fn := func(_, i int) { sum.Add(int64(i)) }
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.Run(8, fn) }))
}
