package cpu

import "github.com/dnngo/dnngo/backend/cpu/internal/parallel"

// minChunk is the fewest elements worth handing to another worker.
const minChunk = 1 << 14

// loop is a chunked parallel loop over n elements that allocates nothing
// per run: body is a method value bound once, when the plan is made, and
// reads its operands from the plan's fields.
type loop struct {
	b      *engine
	body   func(lo, hi int)
	n      int
	chunks int
	run    func(worker, i int)
}

func newLoop(b *engine, body func(lo, hi int)) *loop {
	l := &loop{b: b, body: body}
	l.run = l.chunk
	return l
}

// do runs body over [0, n) split into contiguous chunks.
func (l *loop) do(n int) {
	l.n = n
	l.chunks = min(l.b.threads, max(1, n/minChunk))
	if l.chunks == 1 {
		l.body(0, n)
		return
	}
	l.b.pool.Run(l.chunks, l.run)
}

func (l *loop) chunk(_, i int) {
	lo, hi := parallel.Chunks(l.n, l.chunks, i)
	l.body(lo, hi)
}
