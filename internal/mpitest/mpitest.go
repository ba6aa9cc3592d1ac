// Package mpitest runs a Go test's body as the ranks of an MPI job: the
// test re-executes its own test binary under
// mpirun --allow-run-as-root --oversubscribe -np N, with an environment
// variable naming the case, and the child processes run that case.
//
// Usage, in a package's tests built with -tags mpi:
//
//	func TestMPIChild(t *testing.T) { mpitest.Child(t, cases) } // the ranks' entry point
//	func TestX(t *testing.T) { out := mpitest.Run(t, "TestMPIChild", 2, "x") ... }
//
// Without mpirun on the PATH the parent test is skipped with the reason,
// unless DNNGO_REQUIRE_MPI=1 (CI), where it fails.
package mpitest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CaseEnv names the case a child process runs.
const CaseEnv = "DNNGO_MPITEST_CASE"

// RequireEnv, set to 1, makes a missing mpirun a failure instead of a skip.
const RequireEnv = "DNNGO_REQUIRE_MPI"

// Timeout bounds one mpirun.
const Timeout = 120 * time.Second

// Child runs, in a rank, the case named by CaseEnv; outside mpirun (CaseEnv
// unset) it skips.
func Child(t *testing.T, cases map[string]func(t *testing.T)) {
	name := os.Getenv(CaseEnv)
	if name == "" {
		t.Skip("runs only as a rank of an MPI job started by this package's TestMPI* tests")
	}
	f, ok := cases[name]
	if !ok {
		t.Fatalf("mpitest: no case %q", name)
	}
	// A rank that failed must not reach MPI_Finalize (register Close with
	// t.Cleanup, which runs after this): the other ranks may wait in a
	// collective forever. Exiting non-zero makes mpirun end the job.
	defer func() {
		if t.Failed() {
			fmt.Fprintf(os.Stderr, "mpitest: case %s failed on this rank: exiting without MPI_Finalize so that mpirun ends the job\n", name)
			os.Exit(1)
		}
	}()
	f(t)
}

// Mpirun returns mpirun's path, or skips t (fails it when RequireEnv=1).
func Mpirun(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("mpirun")
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("mpirun not found and %s=1: install openmpi-bin (%v)", RequireEnv, err)
		}
		t.Skipf("mpirun not found (install openmpi-bin; %s=1 makes this a failure): %v", RequireEnv, err)
	}
	return p
}

// Result is what one mpirun did.
type Result struct {
	Output  string        // stdout and stderr of every rank and of mpirun
	Err     error         // mpirun's exit error (nil: every rank passed)
	Elapsed time.Duration // wall time of mpirun
}

// Launch runs the test named child (the function that calls Child) of this
// test binary as np ranks under mpirun with case name, extra environment
// variables (KEY=VALUE) passed to every rank. It does not judge the
// result: see Run.
func Launch(t *testing.T, child string, np int, name string, env ...string) Result {
	t.Helper()
	mpirun := Mpirun(t)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	args := []string{"--allow-run-as-root", "--oversubscribe", "-np", strconv.Itoa(np), "-x", CaseEnv}
	for _, kv := range env {
		for i := range len(kv) {
			if kv[i] == '=' {
				args = append(args, "-x", kv[:i])
				break
			}
		}
	}
	args = append(args, os.Args[0], "-test.run=^"+child+"$", "-test.count=1", "-test.v")
	cmd := exec.CommandContext(ctx, mpirun, args...)
	// Open MPI's shared-memory transport copies large messages with
	// process_vm_readv, which containers often forbid: use plain copies.
	cmd.Env = append(os.Environ(), CaseEnv+"="+name, "OMPI_MCA_btl_vader_single_copy_mechanism=none")
	cmd.Env = append(cmd.Env, env...)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	r := Result{Output: string(out), Err: err, Elapsed: time.Since(t0)}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		r.Err = errors.Join(r.Err, errors.New("mpirun ran past "+Timeout.String()))
	}
	return r
}

// Run is Launch that fails t unless mpirun succeeded and each of the np
// ranks reported its child test passed (not skipped), and returns the
// output.
func Run(t *testing.T, child string, np int, name string, env ...string) string {
	t.Helper()
	r := Launch(t, child, np, name, env...)
	if r.Err != nil {
		t.Fatalf("mpirun -np %d (case %s): %v\n%s", np, name, r.Err, r.Output)
	}
	if n := strings.Count(r.Output, "--- PASS: "+child+" ("); n != np {
		t.Fatalf("mpirun -np %d (case %s): %d ranks passed, want %d\n%s", np, name, n, np, r.Output)
	}
	return r.Output
}
