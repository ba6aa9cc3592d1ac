// Package parallel is the worker pool of the pure-Go backend: a fixed set
// of goroutines that run the indices of a loop, started once and reused, so
// that running a parallel loop allocates nothing.
package parallel

import (
	"sync"
	"sync/atomic"
)

// Pool runs loops on a fixed number of workers. The goroutine calling Run
// is worker 0; the others are long-lived goroutines. A Pool is not safe for
// concurrent use, and fn must not call Run on the same Pool.
type Pool struct {
	workers int
	start   []chan struct{}
	wg      sync.WaitGroup
	fn      func(worker, i int)
	n       int64
	next    atomic.Int64
	closed  bool
}

// New starts a pool of n ≥ 1 workers.
func New(n int) *Pool {
	if n < 1 {
		n = 1
	}
	p := &Pool{workers: n}
	for w := 1; w < n; w++ {
		ch := make(chan struct{}, 1)
		p.start = append(p.start, ch)
		go p.loop(w, ch)
	}
	return p
}

// Workers is the number of workers, the caller included.
func (p *Pool) Workers() int { return p.workers }

// Run calls fn(worker, i) for every i in [0, n), spread over the workers,
// and returns when all calls have returned. Indices are handed out in
// increasing order as workers become free.
func (p *Pool) Run(n int, fn func(worker, i int)) {
	if n <= 0 {
		return
	}
	if n == 1 || p.workers == 1 || p.closed {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	p.fn, p.n = fn, int64(n)
	p.next.Store(0)
	helpers := min(n, p.workers) - 1
	p.wg.Add(helpers)
	for w := 0; w < helpers; w++ {
		p.start[w] <- struct{}{}
	}
	p.work(0)
	p.wg.Wait()
	p.fn = nil
}

// Chunks splits [0, n) into k nearly equal contiguous ranges and returns
// the bounds of range i.
func Chunks(n, k, i int) (lo, hi int) {
	return n * i / k, n * (i + 1) / k
}

func (p *Pool) loop(w int, start chan struct{}) {
	for range start {
		p.work(w)
		p.wg.Done()
	}
}

func (p *Pool) work(w int) {
	for {
		i := p.next.Add(1) - 1
		if i >= p.n {
			return
		}
		p.fn(w, int(i))
	}
}

// Close stops the workers. Run still works afterwards, on the caller only.
func (p *Pool) Close() {
	if p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.start {
		close(ch)
	}
}
