package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/dnngo/dnngo/collective"
	"github.com/dnngo/dnngo/train"
)

// endDist closes the communicator after a command that returned err. After
// an error in a job of several ranks it does not: MPI_Finalize would wait
// for ranks that may be blocked in a collective with this one. The process
// then exits non-zero without finalising, and mpirun ends the whole job.
func endDist(c collective.Comm, err error) {
	if c == nil || (err != nil && c.Size() > 1) {
		return
	}
	c.Close()
}

// distFlag declares --dist.
func distFlag(fs interface {
	String(string, string, string) *string
}) *string {
	return fs.String("dist", "", "data-parallel across the processes of an MPI job: mpi (start with mpirun -np N …; --batch is the global batch, split between the ranks; only rank 0 prints and writes files); empty: one process")
}

// openDist opens the communicator --dist names (Local when empty) and
// returns the output of this rank: stdout on rank 0, nothing elsewhere.
// batch is the global batch, which must split evenly between the ranks.
func openDist(kind string, batch int, stdout io.Writer) (collective.Comm, io.Writer, error) {
	switch kind {
	case "":
		return collective.Local(), stdout, nil
	case "mpi":
	default:
		return nil, nil, usageError{fmt.Sprintf("--dist %q: want mpi or nothing", kind)}
	}
	c, err := collective.Open(kind)
	if err != nil {
		if strings.Contains(err.Error(), "built without MPI") {
			return nil, nil, usageError{"--dist mpi: " + err.Error()}
		}
		return nil, nil, err
	}
	if batch%c.Size() != 0 {
		c.Close()
		return nil, nil, usageError{fmt.Sprintf("--batch %d: the global batch must split evenly between the %d ranks", batch, c.Size())}
	}
	if c.Rank() != 0 {
		stdout = io.Discard
	}
	// mpirun gives the ranks a pseudo-terminal even when its own output is
	// a pipe or a file: report progress as lines, not a redrawn bar.
	stdout = struct{ io.Writer }{stdout}
	lib := ""
	if l, ok := c.(interface{ Library() string }); ok {
		lib = strings.SplitN(l.Library(), "\n", 2)[0]
		lib = strings.TrimRight(strings.SplitN(lib, ",", 2)[0], " ")
	}
	fmt.Fprintf(stdout, "data-parallel: %d ranks over MPI (%s), %d images per rank per step\n", c.Size(), lib, batch/c.Size())
	return c, stdout, nil
}

// scaling holds the flags of the linear scaling rule with warm-up.
type scaling struct {
	base *int
	warm *float64
}

func scalingFlags(fs interface {
	Int(string, int, string) *int
	Float64(string, float64, string) *float64
}) *scaling {
	return &scaling{
		base: fs.Int("lr-batch", 0, "the batch --lr is meant for: if set, train at --lr × batch/lr-batch (the linear scaling rule of Goyal et al. 2017), reached by a linear warm-up from --lr over --warmup-epochs; pass the same flags with --resume. 0: --lr as given"),
		warm: fs.Float64("warmup-epochs", 5, "epochs of linear warm-up with --lr-batch"),
	}
}

func (s *scaling) check() error {
	switch {
	case *s.base < 0:
		return usageError{fmt.Sprintf("--lr-batch %d: want ≥ 0", *s.base)}
	case *s.warm < 0:
		return usageError{fmt.Sprintf("--warmup-epochs %g: want ≥ 0", *s.warm)}
	}
	return nil
}

// target is the learning rate the run trains at after the warm-up.
func (s *scaling) target(lr float64, batch int) float64 {
	if *s.base == 0 {
		return lr
	}
	t, _ := train.LinearScaling(lr, batch, *s.base) // both checked ≥ 1
	return t
}

// warmup returns the warm-up steps and starting rate (0, 0 when off).
func (s *scaling) warmup(lr float64, batch, trainImages int) (int, float32) {
	if *s.base == 0 {
		return 0, 0
	}
	return int(*s.warm * float64(trainImages/batch)), float32(lr)
}
