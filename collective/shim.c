//go:build mpi

/*
 * shim.c — see shim.h. Kept thin: one MPI call per function, errors
 * returned, never an abort.
 */
#if defined(__has_include)
#if !__has_include(<mpi.h>)
#error "mpi.h not found: install an MPI (Debian/Ubuntu: apt-get install -y libopenmpi-dev openmpi-bin) or build without -tags mpi"
#endif
#endif
#include <mpi.h>
#include <string.h>

#include "shim.h"

static MPI_Comm dno_comm = MPI_COMM_NULL;

static MPI_Datatype dno_type(int dtype) {
	switch (dtype) {
	case DNO_MPI_FLOAT:
		return MPI_FLOAT;
	case DNO_MPI_DOUBLE:
		return MPI_DOUBLE;
	default:
		return MPI_BYTE;
	}
}

int dno_mpi_init(int *provided, int *rank, int *size) {
	int inited = 0, rc;
	*provided = -1;
	if ((rc = MPI_Initialized(&inited)) != MPI_SUCCESS) return rc;
	if (!inited) {
		if ((rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided)) != MPI_SUCCESS) return rc;
	} else if ((rc = MPI_Query_thread(provided)) != MPI_SUCCESS) {
		return rc;
	}
	if ((rc = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)) != MPI_SUCCESS) return rc;
	if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &dno_comm)) != MPI_SUCCESS) return rc;
	if ((rc = MPI_Comm_set_errhandler(dno_comm, MPI_ERRORS_RETURN)) != MPI_SUCCESS) return rc;
	if ((rc = MPI_Comm_rank(dno_comm, rank)) != MPI_SUCCESS) return rc;
	return MPI_Comm_size(dno_comm, size);
}

int dno_mpi_allreduce_sum(void *buf, int count, int dtype) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, count, dno_type(dtype), MPI_SUM, dno_comm);
}

int dno_mpi_bcast(void *buf, int count, int dtype, int root) {
	return MPI_Bcast(buf, count, dno_type(dtype), root, dno_comm);
}

int dno_mpi_barrier(void) { return MPI_Barrier(dno_comm); }

int dno_mpi_finalize(void) {
	int rc;
	if (dno_comm != MPI_COMM_NULL && (rc = MPI_Comm_free(&dno_comm)) != MPI_SUCCESS) return rc;
	return MPI_Finalize();
}

void dno_mpi_error_string(int code, char *buf, int cap) {
	char s[MPI_MAX_ERROR_STRING];
	int len = 0;
	if (cap <= 0) return;
	if (MPI_Error_string(code, s, &len) != MPI_SUCCESS) {
		len = 0;
	}
	if (len >= cap) len = cap - 1;
	memcpy(buf, s, (size_t)len);
	buf[len] = 0;
}

void dno_mpi_library(char *buf, int cap) {
	char s[MPI_MAX_LIBRARY_VERSION_STRING];
	int len = 0;
	if (cap <= 0) return;
	if (MPI_Get_library_version(s, &len) != MPI_SUCCESS) len = 0;
	if (len >= cap) len = cap - 1;
	memcpy(buf, s, (size_t)len);
	buf[len] = 0;
}
