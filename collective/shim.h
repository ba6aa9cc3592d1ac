/*
 * shim.h — dnngo's C shim over MPI (Open MPI or MPICH), used by mpi.go
 * under -tags mpi. Every function returns an MPI error code (MPI_SUCCESS
 * = 0). All of them are called from one OS thread, the one that called
 * dno_mpi_init (MPI_THREAD_FUNNELED).
 */
#ifndef DNNGO_MPI_SHIM_H
#define DNNGO_MPI_SHIM_H

#include <stddef.h>

enum { DNO_MPI_FLOAT = 0, DNO_MPI_DOUBLE = 1, DNO_MPI_BYTE = 2 };

/* MPI_Init_thread(MPI_THREAD_FUNNELED) unless MPI is initialised already;
 * then a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN (set on
 * MPI_COMM_WORLD too). *provided receives the thread level granted. */
int dno_mpi_init(int *provided, int *rank, int *size);
int dno_mpi_allreduce_sum(void *buf, int count, int dtype);
int dno_mpi_bcast(void *buf, int count, int dtype, int root);
int dno_mpi_barrier(void);
/* Frees the communicator and calls MPI_Finalize. */
int dno_mpi_finalize(void);
/* MPI_Error_string into buf (NUL-terminated, at most cap bytes). */
void dno_mpi_error_string(int code, char *buf, int cap);
/* The library's version string (MPI_Get_library_version). */
void dno_mpi_library(char *buf, int cap);

#endif
