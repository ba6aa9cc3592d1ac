/*
 * fc_cublas.c — TEST DOUBLE of libcublas.so.13 (the cuBLAS v2 subset that
 * include/dnngo_cuda.h declares). NOT A GPU and not cuBLAS: plain host loops
 * written from NVIDIA's documented semantics (column-major storage, op(A),
 * leading dimensions, alpha/beta, pointer modes, math modes). Contains no
 * NVIDIA code. Never on a user's library path; never a source of
 * performance numbers.
 *
 * Strict points: a handle without a bound stream is refused; every matrix
 * and vector is checked against the live device allocations with the extent
 * its leading dimension and columns need ((cols-1)*ld + rows elements);
 * alpha/beta/result are host or device memory as the pointer mode says; FP32
 * operands are rounded to TF32 when the math mode (or GemmEx compute type)
 * allows TF32 on a compute capability >= 8.0; a host-mode dot product
 * blocks until the stream has run (documented), a device-mode one does not.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_core.h"

#define PROTO(ret, name, params) ret name params;
DN_CUBLAS_FUNCS(PROTO)
#undef PROTO

enum {
    SIDE_RIGHT = 1,
    COMPUTE_32F_PEDANTIC = 69,
    COMPUTE_32F_FAST_16F = 74,
    COMPUTE_32F_FAST_16BF = 75,
    COMPUTE_32F_FAST_TF32 = 77,
};

typedef struct {
    fc_obj h;
    const void *stream;
    int stream_set;
    int math;
    int ptrmode;
} handle;

#define ENTER(name)                                      \
    fc_lock();                                           \
    int fc_inj_ = fc_fault(#name, FC_LIB_CUBLAS);         \
    if (fc_inj_) {                                       \
        fc_unlock();                                     \
        return fc_inj_;                                  \
    }                                                    \
    static const char *const FN = #name;                 \
    (void)FN
#define RETURN(v)     \
    do {              \
        int r_ = (v); \
        fc_unlock();  \
        return r_;    \
    } while (0)
#define ERR(code, ...) RETURN(fc_error(FC_LIB_CUBLAS, code, __VA_ARGS__))
#define INVALID(...) ERR(FC_CUBLAS_STATUS_INVALID_VALUE, __VA_ARGS__)
#define DEV(ptr, what, bytes)                                                                         \
    if (fc_check_dev(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_EXECUTION_FAILED, FN, what, ptr, bytes))           \
    RETURN(FC_CUBLAS_STATUS_EXECUTION_FAILED)

static handle *get_handle(const char *fn, const void *p, int need_stream) {
    handle *h = fc_get(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_NOT_INITIALIZED, fn, "handle", p, FC_OBJ_CUBLAS, 0);
    if (!h) return NULL;
    if (!need_stream) return h;
    if (!h->stream_set) {
        fc_error(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_NOT_INITIALIZED,
                 "%s: the handle has no stream (cublasSetStream_v2 was not called; the test double does not model "
                 "the legacy default stream)",
                 fn);
        return NULL;
    }
    if (!fc_stream_ok(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_NOT_INITIALIZED, fn, h->stream)) return NULL;
    return h;
}
#define HANDLE(h, p, need_stream)                        \
    handle *h = get_handle(FN, p, need_stream);          \
    if (!h) RETURN(FC_CUBLAS_STATUS_NOT_INITIALIZED)

/* A scalar argument: in host pointer mode read now (host memory); in
 * device pointer mode a device float read when the work runs. */
typedef struct {
    float v;
    const float *dev;
} scalar;
static float sval(const scalar *s) { return s->dev ? *s->dev : s->v; }
static int get_scalar(const char *fn, const handle *h, const char *what, const float *p, scalar *out) {
    out->dev = NULL;
    if (!p) return fc_error(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_INVALID_VALUE, "%s: %s is NULL", fn, what);
    if (h->ptrmode == DN_CUBLAS_POINTER_MODE_HOST) {
        if (fc_is_device(p))
            return fc_error(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_INVALID_VALUE,
                            "%s: %s %p is device memory but the pointer mode is HOST", fn, what, (const void *)p);
        out->v = *p;
        return 0;
    }
    if (fc_check_dev(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_EXECUTION_FAILED, fn, what, p, 4))
        return FC_CUBLAS_STATUS_EXECUTION_FAILED;
    out->dev = p;
    return 0;
}
#define SCALAR(var, p, what)                           \
    scalar var;                                        \
    do {                                               \
        int e_ = get_scalar(FN, h, what, p, &var);     \
        if (e_) RETURN(e_);                            \
    } while (0)

static int tf32_math(const handle *h) { return (h->math & 0xf) == DN_CUBLAS_TF32_TENSOR_OP_MATH && fc_cc_major() >= 8; }

static size_t dsize(int t) { return t == DN_CUDA_R_32F ? 4 : 2; }
static float ldt(const void *p, int t, size_t i) {
    if (t == DN_CUDA_R_32F) return ((const float *)p)[i];
    if (t == DN_CUDA_R_16F) return fc_half_to_float(((const uint16_t *)p)[i]);
    return fc_bf16_to_float(((const uint16_t *)p)[i]);
}
static void stt(void *p, int t, size_t i, float v) {
    if (t == DN_CUDA_R_32F)
        ((float *)p)[i] = v;
    else if (t == DN_CUDA_R_16F)
        ((uint16_t *)p)[i] = fc_float_to_half(v);
    else
        ((uint16_t *)p)[i] = fc_float_to_bf16(v);
}
/* elements a column-major rows x cols matrix with leading dimension ld spans */
static size_t span(int rows, int cols, int ld) { return rows == 0 || cols == 0 ? 0 : (size_t)(cols - 1) * ld + rows; }

/* ------------------------------------------------------------------ */

dn_cublasStatus_t cublasGetProperty(dn_libraryPropertyType type, int *value) {
    ENTER(cublasGetProperty);
    if (!value) INVALID("%s: value is NULL", FN);
    switch (type) {
    case DN_MAJOR_VERSION: *value = 13; break;
    case DN_MINOR_VERSION: *value = 0; break;
    case DN_PATCH_LEVEL: *value = 0; break;
    default: INVALID("%s: type %d", FN, type);
    }
    RETURN(0);
}

static __thread char t_status[1200];
const char *cublasGetStatusString(dn_cublasStatus_t s) {
    const char *t;
    switch (s) {
    case 0: t = "CUBLAS_STATUS_SUCCESS"; break;
    case 1: t = "CUBLAS_STATUS_NOT_INITIALIZED"; break;
    case 3: t = "CUBLAS_STATUS_ALLOC_FAILED"; break;
    case 7: t = "CUBLAS_STATUS_INVALID_VALUE"; break;
    case 8: t = "CUBLAS_STATUS_ARCH_MISMATCH"; break;
    case 11: t = "CUBLAS_STATUS_MAPPING_ERROR"; break;
    case 13: t = "CUBLAS_STATUS_EXECUTION_FAILED"; break;
    case 14: t = "CUBLAS_STATUS_INTERNAL_ERROR"; break;
    case 15: t = "CUBLAS_STATUS_NOT_SUPPORTED"; break;
    case 16: t = "CUBLAS_STATUS_LICENSE_ERROR"; break;
    default: t = "CUBLAS_STATUS_UNKNOWN"; break;
    }
    const char *m = fc_last_message(FC_LIB_CUBLAS, s);
    if (s == 0 || !m[0]) return t;
    snprintf(t_status, sizeof t_status, "%s [test double: %s]", t, m);
    return t_status;
}

dn_cublasStatus_t cublasCreate_v2(dn_cublasHandle_t *ph) {
    ENTER(cublasCreate_v2);
    if (!ph) INVALID("%s: handle is NULL", FN);
    handle *h = fc_new(FC_OBJ_CUBLAS, sizeof *h);
    if (!h) ERR(FC_CUBLAS_STATUS_ALLOC_FAILED, "%s: out of host memory", FN);
    h->h.set = 1;
    h->math = DN_CUBLAS_DEFAULT_MATH;
    h->ptrmode = DN_CUBLAS_POINTER_MODE_HOST;
    *ph = (dn_cublasHandle_t)h;
    RETURN(0);
}

/* documented: cublasDestroy synchronises */
dn_cublasStatus_t cublasDestroy_v2(dn_cublasHandle_t ph) {
    ENTER(cublasDestroy_v2);
    HANDLE(h, ph, 0);
    fc_flush_all();
    fc_destroy(h);
    RETURN(0);
}

dn_cublasStatus_t cublasSetStream_v2(dn_cublasHandle_t ph, dn_CUstream s) {
    ENTER(cublasSetStream_v2);
    HANDLE(h, ph, 0);
    if (!fc_stream_ok(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_INVALID_VALUE, FN, s)) RETURN(FC_CUBLAS_STATUS_INVALID_VALUE);
    h->stream = s;
    h->stream_set = 1;
    RETURN(0);
}

dn_cublasStatus_t cublasSetMathMode(dn_cublasHandle_t ph, dn_cublasMath_t mode) {
    ENTER(cublasSetMathMode);
    HANDLE(h, ph, 0);
    int base = mode & ~16;
    if (base < 0 || base > 4) INVALID("%s: mode %d is not a cublasMath_t", FN, mode);
    h->math = mode;
    RETURN(0);
}

dn_cublasStatus_t cublasSetPointerMode_v2(dn_cublasHandle_t ph, dn_cublasPointerMode_t mode) {
    ENTER(cublasSetPointerMode_v2);
    HANDLE(h, ph, 0);
    if (mode != DN_CUBLAS_POINTER_MODE_HOST && mode != DN_CUBLAS_POINTER_MODE_DEVICE) INVALID("%s: mode %d", FN, mode);
    h->ptrmode = mode;
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* GEMM: C = alpha op(A) op(B) + beta C, column-major                    */
/* ------------------------------------------------------------------ */

struct gemm_job {
    int ta, tb, m, n, k, lda, ldb, ldc, at, bt, ct, tf32;
    scalar alpha, beta;
    const void *A, *B;
    void *C;
};
static float opget(const void *p, int t, int trans, int ld, int i, int j, int tf) {
    size_t idx = trans ? (size_t)j * 1 + (size_t)i * ld : (size_t)i + (size_t)j * ld;
    float v = ldt(p, t, idx);
    return tf ? fc_round_tf32(v) : v;
}
static void run_gemm(void *pl) {
    struct gemm_job *j = pl;
    float a = sval(&j->alpha), b = sval(&j->beta);
    size_t nc = (size_t)j->m * j->n;
    double *acc = calloc(nc + 1, sizeof *acc);
    if (!acc) abort();
    if (a != 0)
        for (int c = 0; c < j->n; c++)
            for (int r = 0; r < j->m; r++) {
                double s = 0;
                for (int l = 0; l < j->k; l++)
                    s += (double)opget(j->A, j->at, j->ta, j->lda, r, l, j->tf32) *
                         opget(j->B, j->bt, j->tb, j->ldb, l, c, j->tf32);
                acc[(size_t)c * j->m + r] = s;
            }
    for (int c = 0; c < j->n; c++)
        for (int r = 0; r < j->m; r++) {
            size_t ic = (size_t)r + (size_t)c * j->ldc;
            double v = (double)a * acc[(size_t)c * j->m + r];
            if (b != 0) v += (double)b * ldt(j->C, j->ct, ic); /* beta == 0: C is not read */
            stt(j->C, j->ct, ic, (float)v);
        }
    free(acc);
}

static int gemm_args(const char *fn, handle *h, int ta, int tb, int m, int n, int k, const void *A, int at, int lda,
                     const void *B, int bt, int ldb, void *C, int ct, int ldc, const float *alpha, const float *beta,
                     struct gemm_job *j) {
    if ((ta != DN_CUBLAS_OP_N && ta != DN_CUBLAS_OP_T) || (tb != DN_CUBLAS_OP_N && tb != DN_CUBLAS_OP_T))
        return fc_error(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_INVALID_VALUE,
                        "%s: transa %d / transb %d: the test double models OP_N and OP_T (real FP32 data)", fn, ta, tb);
    if (m < 0 || n < 0 || k < 0) return fc_error(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_INVALID_VALUE, "%s: m=%d n=%d k=%d", fn, m, n, k);
    int arows = ta == DN_CUBLAS_OP_N ? m : k, acols = ta == DN_CUBLAS_OP_N ? k : m;
    int brows = tb == DN_CUBLAS_OP_N ? k : n, bcols = tb == DN_CUBLAS_OP_N ? n : k;
    if (lda < (arows > 1 ? arows : 1))
        return fc_error(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_INVALID_VALUE, "%s: lda %d < max(1, %d)", fn, lda, arows);
    if (ldb < (brows > 1 ? brows : 1))
        return fc_error(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_INVALID_VALUE, "%s: ldb %d < max(1, %d)", fn, ldb, brows);
    if (ldc < (m > 1 ? m : 1))
        return fc_error(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_INVALID_VALUE, "%s: ldc %d < max(1, %d)", fn, ldc, m);
    int e = get_scalar(fn, h, "alpha", alpha, &j->alpha);
    if (!e) e = get_scalar(fn, h, "beta", beta, &j->beta);
    if (e) return e;
    if (m == 0 || n == 0) return -1; /* nothing to do */
    if (k > 0) {
        if (fc_check_dev(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_EXECUTION_FAILED, fn, "A", A, span(arows, acols, lda) * dsize(at)) ||
            fc_check_dev(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_EXECUTION_FAILED, fn, "B", B, span(brows, bcols, ldb) * dsize(bt)))
            return FC_CUBLAS_STATUS_EXECUTION_FAILED;
    }
    if (fc_check_dev(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_EXECUTION_FAILED, fn, "C", C, span(m, n, ldc) * dsize(ct)))
        return FC_CUBLAS_STATUS_EXECUTION_FAILED;
    j->ta = ta, j->tb = tb, j->m = m, j->n = n, j->k = k, j->lda = lda, j->ldb = ldb, j->ldc = ldc;
    j->at = at, j->bt = bt, j->ct = ct, j->A = A, j->B = B, j->C = C;
    return 0;
}

dn_cublasStatus_t cublasSgemm_v2(dn_cublasHandle_t ph, dn_cublasOperation_t ta, dn_cublasOperation_t tb, int m, int n, int k,
                                 const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                                 float *C, int ldc) {
    ENTER(cublasSgemm_v2);
    HANDLE(h, ph, 1);
    struct gemm_job j;
    memset(&j, 0, sizeof j);
    int e = gemm_args(FN, h, ta, tb, m, n, k, A, DN_CUDA_R_32F, lda, B, DN_CUDA_R_32F, ldb, C, DN_CUDA_R_32F, ldc, alpha, beta, &j);
    if (e < 0) RETURN(0);
    if (e) RETURN(e);
    j.tf32 = tf32_math(h);
    fc_submit(h->stream, run_gemm, &j, sizeof j);
    RETURN(0);
}

dn_cublasStatus_t cublasGemmEx(dn_cublasHandle_t ph, dn_cublasOperation_t ta, dn_cublasOperation_t tb, int m, int n, int k,
                               const void *alpha, const void *A, dn_cudaDataType at, int lda, const void *B, dn_cudaDataType bt,
                               int ldb, const void *beta, void *C, dn_cudaDataType ct, int ldc, dn_cublasComputeType_t compute,
                               dn_cublasGemmAlgo_t algo) {
    ENTER(cublasGemmEx);
    HANDLE(h, ph, 1);
    if (compute != DN_CUBLAS_COMPUTE_32F && compute != COMPUTE_32F_PEDANTIC && compute != COMPUTE_32F_FAST_TF32 &&
        compute != COMPUTE_32F_FAST_16F && compute != COMPUTE_32F_FAST_16BF)
        ERR(FC_CUBLAS_STATUS_NOT_SUPPORTED, "%s: computeType %d: the test double models the 32F compute types", FN, compute);
    if (!(algo == DN_CUBLAS_GEMM_DEFAULT || (algo >= 0 && algo <= 23) || (algo >= 99 && algo <= 115)))
        INVALID("%s: algo %d is not a cublasGemmAlgo_t", FN, algo);
    int ok_t = (at == DN_CUDA_R_32F || at == DN_CUDA_R_16F || at == DN_CUDA_R_16BF);
    if (!ok_t || at != bt || !(ct == DN_CUDA_R_32F || ct == at))
        ERR(FC_CUBLAS_STATUS_NOT_SUPPORTED, "%s: Atype %d, Btype %d, Ctype %d is not a documented combination for a 32F compute type",
            FN, at, bt, ct);
    if (at == DN_CUDA_R_16BF && fc_cc_major() < 8)
        ERR(FC_CUBLAS_STATUS_ARCH_MISMATCH, "%s: BF16 needs compute capability 8.0", FN);
    if (fc_unsupported(FN, at == DN_CUDA_R_32F ? "f32" : at == DN_CUDA_R_16F ? "f16" : "bf16"))
        ERR(FC_CUBLAS_STATUS_NOT_SUPPORTED, "%s: not supported (DNNGO_FAKECUDA_UNSUPPORTED)", FN);
    struct gemm_job j;
    memset(&j, 0, sizeof j);
    int e = gemm_args(FN, h, ta, tb, m, n, k, A, at, lda, B, bt, ldb, C, ct, ldc, alpha, beta, &j);
    if (e < 0) RETURN(0);
    if (e) RETURN(e);
    j.tf32 = at == DN_CUDA_R_32F && fc_cc_major() >= 8 &&
             (compute == COMPUTE_32F_FAST_TF32 || (compute == DN_CUBLAS_COMPUTE_32F && tf32_math(h)));
    fc_submit(h->stream, run_gemm, &j, sizeof j);
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* level 1                                                              */
/* ------------------------------------------------------------------ */

static int vec_args(const char *fn, int n, int inc, const char *what, const void *p) {
    if (inc <= 0)
        return fc_error(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_NOT_SUPPORTED,
                        "%s: inc%s %d: the test double models positive increments only", fn, what, inc);
    if (fc_check_dev(FC_LIB_CUBLAS, FC_CUBLAS_STATUS_EXECUTION_FAILED, fn, what, p, ((size_t)(n - 1) * inc + 1) * 4))
        return FC_CUBLAS_STATUS_EXECUTION_FAILED;
    return 0;
}

struct vec_job {
    int n, incx, incy;
    scalar alpha;
    const float *x;
    float *y;
    float *result; /* dot */
};
static void run_axpy(void *pl) {
    struct vec_job *j = pl;
    float a = sval(&j->alpha);
    for (int i = 0; i < j->n; i++) j->y[(size_t)i * j->incy] = (float)((double)a * j->x[(size_t)i * j->incx] + j->y[(size_t)i * j->incy]);
}
static void run_scal(void *pl) {
    struct vec_job *j = pl;
    float a = sval(&j->alpha);
    for (int i = 0; i < j->n; i++) j->y[(size_t)i * j->incy] = a * j->y[(size_t)i * j->incy];
}
static void run_dot(void *pl) {
    struct vec_job *j = pl;
    double s = 0;
    for (int i = 0; i < j->n; i++) s += (double)j->x[(size_t)i * j->incx] * j->y[(size_t)i * j->incy];
    *j->result = (float)s;
}

dn_cublasStatus_t cublasSaxpy_v2(dn_cublasHandle_t ph, int n, const float *alpha, const float *x, int incx, float *y, int incy) {
    ENTER(cublasSaxpy_v2);
    HANDLE(h, ph, 1);
    SCALAR(a, alpha, "alpha");
    if (n <= 0) RETURN(0);
    int e = vec_args(FN, n, incx, "x", x);
    if (!e) e = vec_args(FN, n, incy, "y", y);
    if (e) RETURN(e);
    struct vec_job j = {n, incx, incy, a, x, y, NULL};
    fc_submit(h->stream, run_axpy, &j, sizeof j);
    RETURN(0);
}

dn_cublasStatus_t cublasSscal_v2(dn_cublasHandle_t ph, int n, const float *alpha, float *x, int incx) {
    ENTER(cublasSscal_v2);
    HANDLE(h, ph, 1);
    SCALAR(a, alpha, "alpha");
    if (n <= 0) RETURN(0);
    int e = vec_args(FN, n, incx, "x", x);
    if (e) RETURN(e);
    struct vec_job j = {n, 0, incx, a, NULL, x, NULL};
    fc_submit(h->stream, run_scal, &j, sizeof j);
    RETURN(0);
}

dn_cublasStatus_t cublasSdot_v2(dn_cublasHandle_t ph, int n, const float *x, int incx, const float *y, int incy, float *result) {
    ENTER(cublasSdot_v2);
    HANDLE(h, ph, 1);
    if (!result) INVALID("%s: result is NULL", FN);
    if (h->ptrmode == DN_CUBLAS_POINTER_MODE_HOST) {
        if (fc_is_device(result)) INVALID("%s: result %p is device memory but the pointer mode is HOST", FN, (void *)result);
    } else {
        DEV(result, "result", 4);
    }
    if (n > 0) {
        int e = vec_args(FN, n, incx, "x", x);
        if (!e) e = vec_args(FN, n, incy, "y", y);
        if (e) RETURN(e);
    }
    /* documented: the result is 0 when n <= 0 */
    struct vec_job j = {n > 0 ? n : 0, incx, incy, {0, NULL}, x, (float *)y, result};
    fc_submit(h->stream, run_dot, &j, sizeof j);
    /* HOST pointer mode: the call returns once the result is in host memory */
    if (h->ptrmode == DN_CUBLAS_POINTER_MODE_HOST) fc_flush_stream(h->stream);
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* geam: C = alpha op(A) + beta op(B); dgmm: C = diag(x) A or A diag(x)  */
/* ------------------------------------------------------------------ */

struct geam_job {
    int ta, tb, m, n, lda, ldb, ldc;
    scalar alpha, beta;
    const float *A, *B;
    float *C;
};
static void run_geam(void *pl) {
    struct geam_job *j = pl;
    float a = sval(&j->alpha), b = sval(&j->beta);
    size_t nc = (size_t)j->m * j->n;
    float *t = malloc(nc * sizeof *t + 1);
    if (!t) abort();
    for (int c = 0; c < j->n; c++)
        for (int r = 0; r < j->m; r++) {
            double v = 0;
            if (a != 0) v += (double)a * (j->ta ? j->A[(size_t)c + (size_t)r * j->lda] : j->A[(size_t)r + (size_t)c * j->lda]);
            if (b != 0) v += (double)b * (j->tb ? j->B[(size_t)c + (size_t)r * j->ldb] : j->B[(size_t)r + (size_t)c * j->ldb]);
            t[(size_t)c * j->m + r] = (float)v;
        }
    for (int c = 0; c < j->n; c++)
        for (int r = 0; r < j->m; r++) j->C[(size_t)r + (size_t)c * j->ldc] = t[(size_t)c * j->m + r];
    free(t);
}

dn_cublasStatus_t cublasSgeam(dn_cublasHandle_t ph, dn_cublasOperation_t ta, dn_cublasOperation_t tb, int m, int n,
                              const float *alpha, const float *A, int lda, const float *beta, const float *B, int ldb,
                              float *C, int ldc) {
    ENTER(cublasSgeam);
    HANDLE(h, ph, 1);
    if ((ta != DN_CUBLAS_OP_N && ta != DN_CUBLAS_OP_T) || (tb != DN_CUBLAS_OP_N && tb != DN_CUBLAS_OP_T))
        INVALID("%s: transa %d / transb %d", FN, ta, tb);
    if (m < 0 || n < 0) INVALID("%s: m=%d n=%d", FN, m, n);
    int arows = ta == DN_CUBLAS_OP_N ? m : n, acols = ta == DN_CUBLAS_OP_N ? n : m;
    int brows = tb == DN_CUBLAS_OP_N ? m : n, bcols = tb == DN_CUBLAS_OP_N ? n : m;
    if (lda < (arows > 1 ? arows : 1) || ldb < (brows > 1 ? brows : 1) || ldc < (m > 1 ? m : 1))
        INVALID("%s: lda %d, ldb %d, ldc %d too small for %dx%d", FN, lda, ldb, ldc, m, n);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    if (m == 0 || n == 0) RETURN(0);
    /* documented in-place rules: C may be A only with transa N and lda == ldc (same for B) */
    if ((void *)C == (const void *)A && (ta != DN_CUBLAS_OP_N || lda != ldc))
        INVALID("%s: in place C == A needs transa = N and lda == ldc", FN);
    if ((void *)C == (const void *)B && (tb != DN_CUBLAS_OP_N || ldb != ldc))
        INVALID("%s: in place C == B needs transb = N and ldb == ldc", FN);
    int need_a = a.dev || a.v != 0, need_b = b.dev || b.v != 0;
    if (need_a) DEV(A, "A", span(arows, acols, lda) * 4);
    if (need_b) DEV(B, "B", span(brows, bcols, ldb) * 4);
    DEV(C, "C", span(m, n, ldc) * 4);
    struct geam_job j = {ta, tb, m, n, lda, ldb, ldc, a, b, A, B, C};
    fc_submit(h->stream, run_geam, &j, sizeof j);
    RETURN(0);
}

struct dgmm_job {
    int mode, m, n, lda, incx, ldc;
    const float *A, *x;
    float *C;
};
static void run_dgmm(void *pl) {
    struct dgmm_job *j = pl;
    for (int c = 0; c < j->n; c++)
        for (int r = 0; r < j->m; r++) {
            float d = j->x[(size_t)(j->mode == SIDE_RIGHT ? c : r) * j->incx];
            j->C[(size_t)r + (size_t)c * j->ldc] = d * j->A[(size_t)r + (size_t)c * j->lda];
        }
}

dn_cublasStatus_t cublasSdgmm(dn_cublasHandle_t ph, dn_cublasSideMode_t mode, int m, int n, const float *A, int lda,
                              const float *x, int incx, float *C, int ldc) {
    ENTER(cublasSdgmm);
    HANDLE(h, ph, 1);
    if (mode != DN_CUBLAS_SIDE_LEFT && mode != SIDE_RIGHT) INVALID("%s: mode %d", FN, mode);
    if (m < 0 || n < 0) INVALID("%s: m=%d n=%d", FN, m, n);
    if (lda < (m > 1 ? m : 1) || ldc < (m > 1 ? m : 1)) INVALID("%s: lda %d / ldc %d < max(1, m=%d)", FN, lda, ldc, m);
    if (m == 0 || n == 0) RETURN(0);
    if ((void *)C == (const void *)A && lda != ldc) INVALID("%s: in place C == A needs lda == ldc", FN);
    DEV(A, "A", span(m, n, lda) * 4);
    int e = vec_args(FN, mode == SIDE_RIGHT ? n : m, incx, "x", x);
    if (e) RETURN(e);
    DEV(C, "C", span(m, n, ldc) * 4);
    struct dgmm_job j = {mode, m, n, lda, incx, ldc, A, x, C};
    fc_submit(h->stream, run_dgmm, &j, sizeof j);
    RETURN(0);
}
