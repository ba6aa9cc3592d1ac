package collective

import (
	"fmt"
	"math"
	"sort"
	"sync"
)

// Op is a reduction.
type Op int

const (
	// Sum adds the buffers of every rank.
	Sum Op = iota
	// Mean adds them and divides by Size.
	Mean
)

func (o Op) String() string {
	switch o {
	case Sum:
		return "sum"
	case Mean:
		return "mean"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

func (o Op) valid() error {
	if o != Sum && o != Mean {
		return fmt.Errorf("collective: unknown reduction %v", o)
	}
	return nil
}

// Comm is a communicator: the ranks 0 … Size−1 of one job. Every rank
// must call the collectives (AllReduce, Broadcast, Barrier) in the same
// order with buffers of the same length; a collective returns when this
// rank's part is done.
type Comm interface {
	// Rank is this process's number, from 0.
	Rank() int
	// Size is the number of ranks.
	Size() int
	// AllReduce replaces buf, on every rank, by the element-wise reduction
	// of every rank's buf.
	AllReduce(buf []float32, op Op) error
	// AllReduceFloat64 is AllReduce for float64 buffers (sums of counts
	// and losses).
	AllReduceFloat64(buf []float64, op Op) error
	// Broadcast copies root's buf into every other rank's buf.
	Broadcast(buf []float32, root int) error
	// BroadcastBytes copies root's buf into every other rank's buf.
	BroadcastBytes(buf []byte, root int) error
	// Barrier returns once every rank has called it.
	Barrier() error
	// Close releases the communicator (MPI_Finalize for MPI). Closing
	// twice is harmless; other calls after Close fail.
	Close() error
}

// ErrClosed is wrapped by the errors of calls on a closed Comm.
var ErrClosed = fmt.Errorf("collective: communicator is closed")

// Local returns a communicator of one process: rank 0 of 1. Its
// collectives leave the buffers as they are (the mean of one buffer is
// itself).
func Local() Comm { return &local{} }

type local struct {
	mu     sync.Mutex
	closed bool
}

func (l *local) Rank() int { return 0 }
func (l *local) Size() int { return 1 }

func (l *local) check(op string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("collective: %s: %w", op, ErrClosed)
	}
	return nil
}

func (l *local) AllReduce(_ []float32, op Op) error {
	if err := op.valid(); err != nil {
		return err
	}
	return l.check("all-reduce")
}

func (l *local) AllReduceFloat64(_ []float64, op Op) error {
	if err := op.valid(); err != nil {
		return err
	}
	return l.check("all-reduce")
}

func (l *local) Broadcast(_ []float32, root int) error {
	if err := checkRoot(root, 1); err != nil {
		return err
	}
	return l.check("broadcast")
}

func (l *local) BroadcastBytes(_ []byte, root int) error {
	if err := checkRoot(root, 1); err != nil {
		return err
	}
	return l.check("broadcast")
}

func (l *local) Barrier() error { return l.check("barrier") }

func (l *local) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return nil
}

func checkRoot(root, size int) error {
	if root < 0 || root >= size {
		return fmt.Errorf("collective: broadcast root %d outside [0, %d)", root, size)
	}
	return nil
}

// opener opens a communicator of one kind.
type opener func() (Comm, error)

var openers = map[string]opener{
	"":      func() (Comm, error) { return Local(), nil },
	"local": func() (Comm, error) { return Local(), nil },
}

// Kinds lists the kinds Open accepts in this build ("local", and "mpi"
// with -tags mpi).
func Kinds() []string {
	var ks []string
	for k := range openers {
		if k != "" {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// Open opens a communicator: "" or "local" for Local, "mpi" for MPI (a
// build with -tags mpi, in a process started by mpirun or alone as a job
// of one).
func Open(kind string) (Comm, error) {
	o, ok := openers[kind]
	if !ok {
		if kind == "mpi" {
			return nil, fmt.Errorf("collective: %q: this binary was built without MPI: build with -tags mpi (needs mpi.h: apt-get install libopenmpi-dev openmpi-bin)", kind)
		}
		return nil, fmt.Errorf("collective: unknown kind %q (have %v)", kind, Kinds())
	}
	return o()
}

// maxCount is the largest element count of one MPI call (MPI counts are
// C ints). Tests lower it to exercise chunking without 8 GiB buffers.
var maxCount = math.MaxInt32

// chunks calls f on consecutive [off, off+cnt) ranges of [0, n), each of at
// most max elements, in order, stopping at the first error. n = 0 makes
// no call.
func chunks(n, max int, f func(off, cnt int) error) error {
	if max < 1 {
		return fmt.Errorf("collective: chunk size %d, want ≥ 1", max)
	}
	for off := 0; off < n; off += max {
		if err := f(off, min(max, n-off)); err != nil {
			return err
		}
	}
	return nil
}
