// Package collective is dnngo's collective communication: a Comm joins the
// processes of a data-parallel job (its ranks) and offers what data
// parallelism needs — all-reduce (sum or mean) of float32 buffers in place,
// broadcast, barrier.
//
// Two implementations:
//
//   - Local, a communicator of one process (rank 0 of size 1): every
//     collective is the identity. It is what training uses without
//     --dist, and what Open("local") and Open("") return.
//   - MPI (Open("mpi"), compiled in with -tags mpi): a thin cgo shim over
//     the MPI library (Open MPI or MPICH; on Debian/Ubuntu
//     apt-get install libopenmpi-dev openmpi-bin). The processes are
//     started by mpirun, e.g. mpirun -np 2 bin/alexnet train --dist mpi.
//
// # MPI: threads, errors, counts
//
// MPI is initialised with MPI_Init_thread(MPI_THREAD_FUNNELED): only the
// thread that initialised MPI calls it. cgo runs a goroutine on whatever OS
// thread the scheduler picks, so the MPI Comm starts one goroutine locked
// to its OS thread (runtime.LockOSThread) that makes every MPI call, from
// MPI_Init_thread to MPI_Finalize; the methods hand their call to it and
// wait. A Comm's methods may therefore be called from any goroutine, but
// collectives are matched by order across ranks, so each rank must issue
// the same collectives in the same order (one goroutine normally does).
//
// The communicator is a duplicate of MPI_COMM_WORLD with the error handler
// MPI_ERRORS_RETURN (set on MPI_COMM_WORLD too), so a failed call becomes a
// Go error carrying MPI_Error_string's text instead of aborting the
// process. A rank that dies does not make the others' calls fail by
// itself: Open MPI's mpirun notices a process that exits with a non-zero
// status, is killed by a signal, or exits without MPI_Finalize, and then
// kills the remaining processes and exits non-zero, so the job ends within
// seconds instead of hanging (TestMPIRankDeathEndsJob checks it).
//
// The same holds for a rank that fails with an error: it must exit
// non-zero without calling Close, because MPI_Finalize waits for the other
// ranks, which may be blocked in a collective with it; mpirun then ends the
// job (alexnet train does this).
//
// MPI counts are C ints; buffers of more than 2^31−1 elements are sent in
// chunks of at most that many elements, one collective per chunk.
//
// MPI can be initialised once per process: after Close, Open("mpi") fails.
//
// # Devices
//
// Buffers are host memory: a backend's tensors are staged through the
// backend contract's Download and Upload, which works for every backend.
// A device-buffer implementation (NCCL on CUDA streams) slots in beside
// it; see "NCCL" below.
//
// # NCCL (design, not built)
//
// NCCL reduces device memory on a CUDA stream. It would be a second
// interface, DeviceComm, implemented under -tags cudnn by a dlopen'd
// libnccl.so.2 the way the cudnn backend loads cuDNN: AllReduceTensor(t
// backend.Tensor, op Op) and BroadcastTensor(t, root). It needs from the
// backend an optional interface, e.g. backend.DeviceBuffer { DevicePtr(t)
// (uintptr, error); Stream() uintptr }, implemented by the cudnn backend
// only. The training loop would check, once, whether the Comm is a
// DeviceComm and the backend a DeviceBuffer, and then reduce each
// gradient bucket in place on the device (ncclAllReduce with ncclAvg on
// the backend's stream, buckets grouped with ncclGroupStart/End) instead
// of Download, AllReduce, Upload. The NCCL unique id would travel over
// this package's MPI BroadcastBytes, so mpirun still starts the job. The
// host path stays the fallback for every other pairing.
package collective
