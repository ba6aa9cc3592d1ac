//go:build mpi

package collective

/*
#cgo pkg-config: mpi-c
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

func init() { openers["mpi"] = openMPI }

// mpiState is the process's one MPI session: MPI can be initialised once.
var mpiState struct {
	mu     sync.Mutex
	opened bool
}

// mpiComm is the MPI communicator. Every MPI call runs on one goroutine
// locked to its OS thread (see the package documentation).
type mpiComm struct {
	calls      chan func()
	rank, size int
	library    string

	mu     sync.Mutex
	closed bool
}

func openMPI() (Comm, error) {
	mpiState.mu.Lock()
	defer mpiState.mu.Unlock()
	if mpiState.opened {
		return nil, fmt.Errorf("collective: mpi: already opened in this process (MPI can be initialised once per process)")
	}
	mpiState.opened = true
	c := &mpiComm{calls: make(chan func())}
	type result struct {
		provided, rank, size C.int
		rc                   C.int
		msg                  string
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread stays MPI's until Finalize
		var r result
		r.rc = C.dno_mpi_init(&r.provided, &r.rank, &r.size)
		if r.rc != 0 {
			r.msg = errorString(r.rc)
			res <- r
			return
		}
		var lib [512]C.char
		C.dno_mpi_library(&lib[0], C.int(len(lib)))
		c.library = strings.TrimSpace(C.GoString(&lib[0]))
		res <- r
		for f := range c.calls {
			f()
		}
	}()
	r := <-res
	if r.rc != 0 {
		return nil, fmt.Errorf("collective: mpi: init: %s (error %d)", r.msg, int(r.rc))
	}
	c.rank, c.size = int(r.rank), int(r.size)
	return c, nil
}

// errorString is MPI_Error_string of code (called on the MPI thread).
func errorString(code C.int) string {
	var buf [512]C.char
	C.dno_mpi_error_string(code, &buf[0], C.int(len(buf)))
	return C.GoString(&buf[0])
}

// run runs f on the MPI thread and turns its MPI error code into an error.
// Calls are serialised (the thread makes one MPI call at a time anyway).
func (c *mpiComm) run(op string, f func() C.int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("collective: mpi %s: %w", op, ErrClosed)
	}
	return c.call(op, f)
}

// call is run with c.mu held.
func (c *mpiComm) call(op string, f func() C.int) error {
	var rc C.int
	var msg string
	done := make(chan struct{})
	c.calls <- func() {
		rc = f()
		if rc != 0 {
			msg = errorString(rc)
		}
		close(done)
	}
	<-done
	if rc != 0 {
		return fmt.Errorf("collective: mpi %s (rank %d of %d): %s (error %d)", op, c.rank, c.size, msg, int(rc))
	}
	return nil
}

func (c *mpiComm) Rank() int { return c.rank }
func (c *mpiComm) Size() int { return c.size }

// Library is the MPI library's version string.
func (c *mpiComm) Library() string { return c.library }

// Element types of the shim (shim.h).
const (
	dtFloat  = 0
	dtDouble = 1
	dtByte   = 2
)

// allReduceSum sums cnt elements at p across ranks in place: one MPI call,
// cnt ≤ maxCount.
func (c *mpiComm) allReduceSum(p unsafe.Pointer, cnt, dtype int) error {
	return c.run("all-reduce", func() C.int { return C.dno_mpi_allreduce_sum(p, C.int(cnt), C.int(dtype)) })
}

// bcast broadcasts cnt elements at p from root: one MPI call, cnt ≤
// maxCount.
func (c *mpiComm) bcast(p unsafe.Pointer, cnt, dtype, root int) error {
	return c.run("broadcast", func() C.int { return C.dno_mpi_bcast(p, C.int(cnt), C.int(dtype), C.int(root)) })
}

func (c *mpiComm) AllReduce(buf []float32, op Op) error {
	if err := op.valid(); err != nil {
		return err
	}
	err := chunks(len(buf), maxCount, func(off, cnt int) error {
		return c.allReduceSum(unsafe.Pointer(&buf[off]), cnt, dtFloat)
	})
	if err != nil || op != Mean || c.size == 1 {
		return err
	}
	s := 1 / float32(c.size)
	for i := range buf {
		buf[i] *= s
	}
	return nil
}

func (c *mpiComm) AllReduceFloat64(buf []float64, op Op) error {
	if err := op.valid(); err != nil {
		return err
	}
	err := chunks(len(buf), maxCount, func(off, cnt int) error {
		return c.allReduceSum(unsafe.Pointer(&buf[off]), cnt, dtDouble)
	})
	if err != nil || op != Mean || c.size == 1 {
		return err
	}
	for i := range buf {
		buf[i] /= float64(c.size)
	}
	return nil
}

func (c *mpiComm) Broadcast(buf []float32, root int) error {
	if err := checkRoot(root, c.size); err != nil {
		return err
	}
	return chunks(len(buf), maxCount, func(off, cnt int) error {
		return c.bcast(unsafe.Pointer(&buf[off]), cnt, dtFloat, root)
	})
}

func (c *mpiComm) BroadcastBytes(buf []byte, root int) error {
	if err := checkRoot(root, c.size); err != nil {
		return err
	}
	return chunks(len(buf), maxCount, func(off, cnt int) error {
		return c.bcast(unsafe.Pointer(&buf[off]), cnt, dtByte, root)
	})
}

func (c *mpiComm) Barrier() error {
	return c.run("barrier", func() C.int { return C.dno_mpi_barrier() })
}

// Close finalises MPI. The ranks should close together (MPI_Finalize is
// collective in practice).
func (c *mpiComm) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	err := c.call("finalize", func() C.int { return C.dno_mpi_finalize() })
	c.closed = true
	close(c.calls)
	return err
}
