/*
 * fakelib.c: a stand-in for libcuda.so.1, libcudnn.so.9 or libcublas.so.N
 * for the loader's tests, built by loader_test.go with the system C
 * compiler. It exports every symbol backend/cudnn resolves from that
 * library (from the same X-macro lists as the real table), each a stub
 * that does nothing but answer the version queries the loader makes:
 *
 *   -DLIB=1 (driver), 2 (cuDNN), 3 (cuBLAS)
 *   -DFAKE_DRIVER=12040 -DFAKE_CUDNN=90100 -DFAKE_CUDART=12080 -DFAKE_CUBLAS=12
 *   -D<symbol>=renamed_away   leaves <symbol> out
 *
 * Nothing here runs on a GPU; it only lets the search and its checks be
 * tested where no NVIDIA library exists.
 */
#include <string.h>
#include "dnngo_cuda.h"

static long fake(const char *name, long a, long b) {
    if (strcmp(name, "cuDriverGetVersion") == 0) {
        *(int *)a = FAKE_DRIVER;
        return 0;
    }
    if (strcmp(name, "cudnnGetVersion") == 0) return FAKE_CUDNN;
    if (strcmp(name, "cudnnGetCudartVersion") == 0) return FAKE_CUDART;
    if (strcmp(name, "cublasGetProperty") == 0) {
        *(int *)b = a == 0 ? FAKE_CUBLAS : a == 1 ? 4 : 2;
        return 0;
    }
    return 0;
}

#define STUB(ret, name, params) \
    long name(long a, long b, long c) { (void)c; return fake(#name, a, b); }

#if LIB == 1
DN_CUDA_FUNCS(STUB)
#elif LIB == 2
DN_CUDNN_FUNCS(STUB)
#else
DN_CUBLAS_FUNCS(STUB)
#endif
