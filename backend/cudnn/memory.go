//go:build cudnn

// Device and pinned host memory: the pool of size classes every tensor and
// plan buffer comes from, the convolution workspace arena, and the pinned
// staging buffers of asynchronous uploads.

package cudnn

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// cudaErrorOutOfMemory is CUresult CUDA_ERROR_OUT_OF_MEMORY.
const cudaErrorOutOfMemory = 2

// pool keeps freed device buffers by size class for reuse; nothing is
// returned to the driver before the backend closes. Every op runs on the
// backend's one stream, so a buffer freed after queued work and reused by
// later work is safe without waiting.
type pool struct {
	free map[uint64][]C.dn_dptr
	all  []C.dn_dptr
}

func (p *pool) init() { p.free = map[uint64][]C.dn_dptr{} }

// sizeClass rounds n up to a multiple of an eighth of the largest power
// of two not above it (at least 512 bytes): at most 12.5 % waste.
func sizeClass(n uint64) uint64 {
	if n <= 512 {
		return 512
	}
	p := uint64(1)
	for p*2 <= n {
		p <<= 1
	}
	g := p / 8
	return (n + g - 1) / g * g
}

// alloc returns a device buffer of at least n bytes and its class.
func (b *engine) alloc(n uint64) (C.dn_dptr, uint64, error) {
	cls := sizeClass(n)
	if l := b.pool.free[cls]; len(l) > 0 {
		p := l[len(l)-1]
		b.pool.free[cls] = l[:len(l)-1]
		return p, cls, nil
	}
	if b.memBudget > 0 && cls > b.memBudget-min(b.held, b.memBudget) {
		return 0, 0, driver.Errorf("alloc", backend.ErrMemory, "%d bytes of GPU memory (%d asked for) would exceed the memory budget of %d bytes, %d of which the backend holds (Options.MemoryBudget)",
			cls, n, b.memBudget, b.held)
	}
	var p C.dn_dptr
	if C.dn_malloc(b.c, C.size_t(cls), &p) != 0 {
		err := b.lastErr()
		if err.Library != "CUDA driver" || err.Function != "cuMemAlloc_v2" || err.Code != cudaErrorOutOfMemory {
			return 0, 0, &backend.OpError{Op: "alloc", Kind: backend.ErrLibrary, Msg: fmt.Sprintf("cannot allocate %d bytes of GPU memory", cls), Err: err}
		}
		// Out of memory: give the pooled buffers back and try once more.
		C.dn_sync(b.c)
		for k, l := range b.pool.free {
			for _, q := range l {
				C.dn_free(b.c, q)
				b.pool.forget(q)
				b.held -= min(k, b.held)
			}
			delete(b.pool.free, k)
		}
		if C.dn_malloc(b.c, C.size_t(cls), &p) != 0 {
			return 0, 0, &backend.OpError{Op: "alloc", Kind: backend.ErrLibrary, Msg: fmt.Sprintf("cannot allocate %d bytes of GPU memory", cls), Err: err}
		}
	}
	b.pool.all = append(b.pool.all, p)
	b.held += cls
	return p, cls, nil
}

func (p *pool) forget(q C.dn_dptr) {
	for i, r := range p.all {
		if r == q {
			p.all = append(p.all[:i], p.all[i+1:]...)
			return
		}
	}
}

func (b *engine) release(p C.dn_dptr, cls uint64) {
	if p != 0 {
		b.pool.free[cls] = append(b.pool.free[cls], p)
	}
}

func (p *pool) freeAll(b *engine) {
	for _, q := range p.all {
		C.dn_free(b.c, q)
	}
	p.all, p.free = nil, nil
}

// workspace grows the arena to at least n bytes and returns it.
func (b *engine) workspace(n uint64) (C.dn_dptr, uint64, error) {
	if n <= b.wsSize {
		return b.ws, b.wsSize, nil
	}
	p, cls, err := b.alloc(n)
	if err != nil {
		return 0, 0, err
	}
	b.release(b.ws, b.wsSize) // queued work that uses the old arena still finishes first
	b.ws, b.wsSize = p, cls
	return p, cls, nil
}

// ---- staging: pinned host buffers for asynchronous uploads ----

const stageBytes = 8 << 20

type stageSlot struct {
	host unsafe.Pointer
	ev   C.dn_CUevent
	busy bool // an upload from it may still be running
}

// upload sends n bytes from src (host memory that may be reused as soon as
// upload returns) to dst, in chunks through the ring of pinned buffers.
func (b *engine) upload(op string, dst C.dn_dptr, src unsafe.Pointer, n uint64) error {
	bytes := unsafe.Slice((*byte)(src), n)
	for off := uint64(0); off < n; off += stageBytes {
		chunk := min(n-off, stageBytes)
		s := &b.stage[b.next]
		b.next = (b.next + 1) % len(b.stage)
		if s.host == nil {
			if err := b.statusErr(C.dn_host_alloc(b.c, stageBytes, &s.host), op); err != nil {
				return err
			}
			if err := b.statusErr(C.dn_event_create(b.c, &s.ev), op); err != nil {
				return err
			}
		} else if s.busy {
			if err := b.statusErr(C.dn_event_sync(b.c, s.ev), op); err != nil {
				return err
			}
		}
		copy(unsafe.Slice((*byte)(s.host), chunk), bytes[off:off+chunk])
		if err := b.statusErr(C.dn_upload(b.c, dst+C.dn_dptr(off), s.host, C.size_t(chunk)), op); err != nil {
			return err
		}
		if err := b.statusErr(C.dn_event_record(b.c, s.ev), op); err != nil {
			return err
		}
		s.busy = true
	}
	return nil
}

// pinned is a page-locked host buffer with an event that says when the
// last upload from it has finished: plans that build data on the host
// (dropout masks, one-hot labels) write into their own.
type pinned struct {
	host unsafe.Pointer
	n    int // float32 count
	ev   C.dn_CUevent
	busy bool
}

func (b *engine) newPinned(op string, n int) (*pinned, error) {
	p := &pinned{n: n}
	if err := b.statusErr(C.dn_host_alloc(b.c, C.size_t(4*n), &p.host), op); err != nil {
		return nil, err
	}
	if err := b.statusErr(C.dn_event_create(b.c, &p.ev), op); err != nil {
		C.dn_host_free(b.c, p.host)
		return nil, err
	}
	return p, nil
}

// floats waits until the buffer may be written and returns it.
func (b *engine) floats(op string, p *pinned) ([]float32, error) {
	if p.busy {
		if err := b.statusErr(C.dn_event_sync(b.c, p.ev), op); err != nil {
			return nil, err
		}
		p.busy = false
	}
	return unsafe.Slice((*float32)(p.host), p.n), nil
}

// send queues the upload of the buffer to dst.
func (b *engine) send(op string, p *pinned, dst C.dn_dptr) error {
	if err := b.statusErr(C.dn_upload(b.c, dst, p.host, C.size_t(4*p.n)), op); err != nil {
		return err
	}
	if err := b.statusErr(C.dn_event_record(b.c, p.ev), op); err != nil {
		return err
	}
	p.busy = true
	return nil
}

func (b *engine) freePinned(p *pinned) {
	if p != nil && p.host != nil {
		C.dn_event_sync(b.c, p.ev)
		C.dn_event_destroy(b.c, p.ev)
		C.dn_host_free(b.c, p.host)
		p.host = nil
	}
}
