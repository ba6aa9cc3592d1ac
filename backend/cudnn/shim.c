//go:build cudnn

// shim.c: loading (dlopen/dlsym into a dn_table) and the GPU steps of
// backend/cudnn. See shim.h.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

static dn_table T; /* the process-wide table, filled once by the Go loader */

dn_table *dn_global_table(void) { return &T; }
dn_table *dn_table_new(void) { return (dn_table *)calloc(1, sizeof(dn_table)); }
void dn_table_free(dn_table *t) { free(t); }

void *dn_dlopen(const char *path, int global, char *err, size_t errlen) {
    dlerror();
    void *h = dlopen(path, RTLD_LAZY | (global ? RTLD_GLOBAL : RTLD_LOCAL));
    if (h == NULL && err != NULL && errlen > 0) {
        const char *e = dlerror();
        snprintf(err, errlen, "%s", e ? e : "dlopen failed");
    }
    return h;
}

#define DN_RESOLVE(ret, name, params)                     \
    t->name = (dn_pfn_##name)dlsym(handle, #name);        \
    if (t->name == NULL) return #name;

const char *dn_resolve(dn_table *t, int lib, void *handle) {
    switch (lib) {
    case DN_LIB_CUDA:
        DN_CUDA_FUNCS(DN_RESOLVE)
        break;
    case DN_LIB_CUDNN:
        DN_CUDNN_FUNCS(DN_RESOLVE)
        break;
    case DN_LIB_CUBLAS:
        DN_CUBLAS_FUNCS(DN_RESOLVE)
        break;
    default:
        return "(unknown library)";
    }
    return NULL;
}
#undef DN_RESOLVE

int dn_lib_path(void *sym, char *out, size_t len) {
    Dl_info info;
    if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL) return -1;
    snprintf(out, len, "%s", info.dli_fname);
    return 0;
}

void *dn_table_sym(dn_table *t, int which) {
    switch (which) {
    case DN_LIB_CUDA: return (void *)t->cuInit;
    case DN_LIB_CUDNN: return (void *)t->cudnnGetVersion;
    case DN_LIB_CUBLAS: return (void *)t->cublasCreate_v2;
    }
    return NULL;
}

size_t dn_table_cudnn_version(dn_table *t) { return t->cudnnGetVersion(); }
size_t dn_table_cudnn_cudart(dn_table *t) { return t->cudnnGetCudartVersion(); }

int dn_table_cublas_version(dn_table *t, int *major, int *minor, int *patch) {
    if (t->cublasGetProperty(DN_MAJOR_VERSION, major)) return -1;
    if (t->cublasGetProperty(DN_MINOR_VERSION, minor)) return -1;
    if (t->cublasGetProperty(DN_PATCH_LEVEL, patch)) return -1;
    return 0;
}

int dn_table_driver_version(dn_table *t, int *v) { return t->cuDriverGetVersion(v); }

/* ---- errors ---- */

static int dn_fail(dn_ctx *c, int lib, int code, const char *fn) {
    dn_err *e = &c->err;
    e->lib = lib;
    e->code = code;
    snprintf(e->fn, sizeof e->fn, "%s", fn);
    e->msg[0] = 0;
    switch (lib) {
    case DN_LIB_CUDA: {
        const char *name = NULL, *str = NULL;
        if (T.cuGetErrorName) T.cuGetErrorName(code, &name);
        if (T.cuGetErrorString) T.cuGetErrorString(code, &str);
        snprintf(e->msg, sizeof e->msg, "%s: %s", name ? name : "CUDA_ERROR_UNKNOWN", str ? str : "unknown error");
        break;
    }
    case DN_LIB_CUDNN: {
        char last[768];
        last[0] = 0;
        const char *s = T.cudnnGetErrorString ? T.cudnnGetErrorString(code) : NULL;
        if (T.cudnnGetLastErrorString) T.cudnnGetLastErrorString(last, sizeof last);
        if (last[0])
            snprintf(e->msg, sizeof e->msg, "%s: %s", s ? s : "CUDNN_STATUS_UNKNOWN", last);
        else
            snprintf(e->msg, sizeof e->msg, "%s", s ? s : "CUDNN_STATUS_UNKNOWN");
        break;
    }
    case DN_LIB_CUBLAS: {
        const char *s = T.cublasGetStatusString ? T.cublasGetStatusString(code) : NULL;
        snprintf(e->msg, sizeof e->msg, "%s", s ? s : "CUBLAS_STATUS_UNKNOWN");
        break;
    }
    }
    return -1;
}

#define CU(c, fn, args)                                          \
    do {                                                         \
        dn_CUresult _r = T.fn args;                              \
        if (_r != DN_CUDA_SUCCESS) return dn_fail(c, DN_LIB_CUDA, _r, #fn); \
    } while (0)
#define DNN(c, fn, args)                                         \
    do {                                                         \
        dn_cudnnStatus_t _r = T.fn args;                         \
        if (_r != DN_CUDNN_STATUS_SUCCESS) return dn_fail(c, DN_LIB_CUDNN, _r, #fn); \
    } while (0)
#define BLAS(c, fn, args)                                        \
    do {                                                         \
        dn_cublasStatus_t _r = T.fn args;                        \
        if (_r != DN_CUBLAS_STATUS_SUCCESS) return dn_fail(c, DN_LIB_CUBLAS, _r, #fn); \
    } while (0)
/* ENTER_BLAS also puts the cuBLAS handle back into host pointer mode if a
 * failure left it in device mode (the scalars below live on the host). */
#define ENTER_BLAS(c)                                                              \
    ENTER(c);                                                                      \
    if ((c)->blas_device) {                                                        \
        BLAS(c, cublasSetPointerMode_v2, ((c)->blas, DN_CUBLAS_POINTER_MODE_HOST)); \
        (c)->blas_device = 0;                                                      \
    }
/* DNN_UNDO runs one setter of a descriptor constructor; if it fails, the
 * descriptor *d just created is destroyed (after the error is recorded), so
 * the caller, which never sees it, leaks nothing. */
#define DNN_UNDO(c, fn, args, destroy)                           \
    do {                                                         \
        dn_cudnnStatus_t _r = T.fn args;                         \
        if (_r != DN_CUDNN_STATUS_SUCCESS) {                     \
            int _e = dn_fail(c, DN_LIB_CUDNN, _r, #fn);          \
            T.destroy(*d);                                       \
            *d = NULL;                                           \
            return _e;                                           \
        }                                                        \
    } while (0)
/* Every entry point makes the backend's context current on the calling OS
 * thread: cheap, and the goroutine may have moved since the last call. */
#define ENTER(c) CU(c, cuCtxSetCurrent, ((c)->ctx))

static const float one = 1.0f, zero = 0.0f;

/* ---- lifetime ---- */

int dn_init(dn_ctx *c, int *count) {
    CU(c, cuInit, (0));
    CU(c, cuDeviceGetCount, (count));
    return 0;
}

int dn_open(dn_ctx *c, int ordinal, int blas_math) {
    CU(c, cuDeviceGet, (&c->dev, ordinal));
    CU(c, cuDeviceGetName, (c->name, (int)sizeof c->name, c->dev));
    CU(c, cuDeviceTotalMem_v2, (&c->total_mem, c->dev));
    CU(c, cuDeviceGetAttribute, (&c->cc_major, DN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, c->dev));
    CU(c, cuDeviceGetAttribute, (&c->cc_minor, DN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, c->dev));
    if (T.cuDeviceGetPCIBusId(c->pci, (int)sizeof c->pci, c->dev) != DN_CUDA_SUCCESS) c->pci[0] = 0;
    CU(c, cuDevicePrimaryCtxRetain, (&c->ctx, c->dev));
    c->retained = 1;
    ENTER(c);
    CU(c, cuStreamCreate, (&c->stream, DN_CU_STREAM_NON_BLOCKING));
    DNN(c, cudnnCreate, (&c->dnn));
    DNN(c, cudnnSetStream, (c->dnn, c->stream));
    BLAS(c, cublasCreate_v2, (&c->blas));
    BLAS(c, cublasSetStream_v2, (c->blas, c->stream));
    BLAS(c, cublasSetMathMode, (c->blas, blas_math));
    BLAS(c, cublasSetPointerMode_v2, (c->blas, DN_CUBLAS_POINTER_MODE_HOST));
    DNN(c, cudnnCreateActivationDescriptor, (&c->relu));
    DNN(c, cudnnSetActivationDescriptor, (c->relu, DN_CUDNN_ACTIVATION_RELU, DN_CUDNN_NOT_PROPAGATE_NAN, 0.0));
    return 0;
}

/* dn_close releases what dn_open made, in reverse, ignoring errors (it also
 * cleans up after a dn_open that failed half way). */
void dn_close(dn_ctx *c) {
    if (c->ctx) T.cuCtxSetCurrent(c->ctx);
    if (c->stream) T.cuStreamSynchronize(c->stream);
    if (c->relu) T.cudnnDestroyActivationDescriptor(c->relu);
    if (c->blas) T.cublasDestroy_v2(c->blas);
    if (c->dnn) T.cudnnDestroy(c->dnn);
    if (c->stream) T.cuStreamDestroy_v2(c->stream);
    if (c->retained) T.cuDevicePrimaryCtxRelease_v2(c->dev);
    c->relu = NULL;
    c->blas = NULL;
    c->dnn = NULL;
    c->stream = NULL;
    c->retained = 0;
    c->ctx = NULL;
}

int dn_mem_info(dn_ctx *c, size_t *free_b, size_t *total_b) {
    ENTER(c);
    CU(c, cuMemGetInfo_v2, (free_b, total_b));
    return 0;
}

static void dn_log_trampoline(dn_cudnnSeverity_t sev, void *udata, const dn_cudnnDebug_t *dbg, const char *msg) {
    (void)dbg;
    dnngoCudnnLog((int)sev, udata, (char *)msg);
}

int dn_set_log(dn_ctx *c, unsigned mask, void *udata) {
    DNN(c, cudnnSetCallback, (mask, udata, mask ? dn_log_trampoline : NULL));
    return 0;
}

/* ---- memory ---- */

int dn_malloc(dn_ctx *c, size_t bytes, dn_dptr *p) {
    ENTER(c);
    CU(c, cuMemAlloc_v2, (p, bytes));
    return 0;
}

int dn_free(dn_ctx *c, dn_dptr p) {
    ENTER(c);
    CU(c, cuMemFree_v2, (p));
    return 0;
}

int dn_host_alloc(dn_ctx *c, size_t bytes, void **p) {
    ENTER(c);
    CU(c, cuMemAllocHost_v2, (p, bytes));
    return 0;
}

int dn_host_free(dn_ctx *c, void *p) {
    ENTER(c);
    CU(c, cuMemFreeHost, (p));
    return 0;
}

int dn_event_create(dn_ctx *c, dn_CUevent *e) {
    ENTER(c);
    CU(c, cuEventCreate, (e, DN_CU_EVENT_DISABLE_TIMING));
    return 0;
}

int dn_event_record(dn_ctx *c, dn_CUevent e) {
    ENTER(c);
    CU(c, cuEventRecord, (e, c->stream));
    return 0;
}

int dn_event_sync(dn_ctx *c, dn_CUevent e) {
    ENTER(c);
    CU(c, cuEventSynchronize, (e));
    return 0;
}

int dn_event_destroy(dn_ctx *c, dn_CUevent e) {
    ENTER(c);
    CU(c, cuEventDestroy_v2, (e));
    return 0;
}

int dn_upload(dn_ctx *c, dn_dptr dst, const void *pinned, size_t bytes) {
    ENTER(c);
    CU(c, cuMemcpyHtoDAsync_v2, (dst, pinned, bytes, c->stream));
    return 0;
}

/* dn_download may be given Go memory: it returns only once the copy is done. */
int dn_download(dn_ctx *c, void *dst, dn_dptr src, size_t bytes) {
    ENTER(c);
    CU(c, cuMemcpyDtoHAsync_v2, (dst, src, bytes, c->stream));
    CU(c, cuStreamSynchronize, (c->stream));
    return 0;
}

int dn_copy(dn_ctx *c, dn_dptr dst, dn_dptr src, size_t bytes) {
    ENTER(c);
    CU(c, cuMemcpyDtoDAsync_v2, (dst, src, bytes, c->stream));
    return 0;
}

int dn_zero(dn_ctx *c, dn_dptr p, size_t words) {
    ENTER(c);
    CU(c, cuMemsetD32Async, (p, 0, words, c->stream));
    return 0;
}

int dn_sync(dn_ctx *c) {
    ENTER(c);
    CU(c, cuStreamSynchronize, (c->stream));
    return 0;
}

/* ---- descriptors ---- */

int dn_tensor_desc(dn_ctx *c, dn_cudnnTensorDescriptor_t *d, int dtype, int n, int ch, int h, int w) {
    *d = NULL;
    DNN(c, cudnnCreateTensorDescriptor, (d));
    DNN_UNDO(c, cudnnSetTensor4dDescriptor, (*d, DN_CUDNN_TENSOR_NCHW, dtype, n, ch, h, w),
             cudnnDestroyTensorDescriptor);
    return 0;
}

void dn_tensor_desc_destroy(dn_ctx *c, dn_cudnnTensorDescriptor_t d) {
    (void)c;
    if (d) T.cudnnDestroyTensorDescriptor(d);
}

int dn_filter_desc(dn_ctx *c, dn_cudnnFilterDescriptor_t *d, int dtype, int k, int ch, int h, int w) {
    *d = NULL;
    DNN(c, cudnnCreateFilterDescriptor, (d));
    DNN_UNDO(c, cudnnSetFilter4dDescriptor, (*d, dtype, DN_CUDNN_TENSOR_NCHW, k, ch, h, w),
             cudnnDestroyFilterDescriptor);
    return 0;
}

void dn_filter_desc_destroy(dn_ctx *c, dn_cudnnFilterDescriptor_t d) {
    (void)c;
    if (d) T.cudnnDestroyFilterDescriptor(d);
}

int dn_conv_desc(dn_ctx *c, dn_cudnnConvolutionDescriptor_t *d, int ph, int pw, int sh, int sw, int groups,
                 int math, int compute) {
    *d = NULL;
    DNN(c, cudnnCreateConvolutionDescriptor, (d));
    DNN_UNDO(c, cudnnSetConvolution2dDescriptor, (*d, ph, pw, sh, sw, 1, 1, DN_CUDNN_CROSS_CORRELATION, compute),
             cudnnDestroyConvolutionDescriptor);
    DNN_UNDO(c, cudnnSetConvolutionGroupCount, (*d, groups), cudnnDestroyConvolutionDescriptor);
    DNN_UNDO(c, cudnnSetConvolutionMathType, (*d, math), cudnnDestroyConvolutionDescriptor);
    return 0;
}

int dn_conv_set_math(dn_ctx *c, dn_cudnnConvolutionDescriptor_t d, int math) {
    DNN(c, cudnnSetConvolutionMathType, (d, math));
    return 0;
}

void dn_conv_desc_destroy(dn_ctx *c, dn_cudnnConvolutionDescriptor_t d) {
    (void)c;
    if (d) T.cudnnDestroyConvolutionDescriptor(d);
}

int dn_conv_out_dim(dn_ctx *c, dn_cudnnConvolutionDescriptor_t cd, dn_cudnnTensorDescriptor_t xd,
                    dn_cudnnFilterDescriptor_t wd, int *out) {
    DNN(c, cudnnGetConvolution2dForwardOutputDim, (cd, xd, wd, &out[0], &out[1], &out[2], &out[3]));
    return 0;
}

int dn_pool_desc(dn_ctx *c, dn_cudnnPoolingDescriptor_t *d, int kh, int kw, int ph, int pw, int sh, int sw) {
    *d = NULL;
    DNN(c, cudnnCreatePoolingDescriptor, (d));
    DNN_UNDO(c, cudnnSetPooling2dDescriptor,
             (*d, DN_CUDNN_POOLING_MAX_DETERMINISTIC, DN_CUDNN_NOT_PROPAGATE_NAN, kh, kw, ph, pw, sh, sw),
             cudnnDestroyPoolingDescriptor);
    return 0;
}

void dn_pool_desc_destroy(dn_ctx *c, dn_cudnnPoolingDescriptor_t d) {
    (void)c;
    if (d) T.cudnnDestroyPoolingDescriptor(d);
}

int dn_pool_out_dim(dn_ctx *c, dn_cudnnPoolingDescriptor_t pd, dn_cudnnTensorDescriptor_t xd, int *out) {
    DNN(c, cudnnGetPooling2dForwardOutputDim, (pd, xd, &out[0], &out[1], &out[2], &out[3]));
    return 0;
}

int dn_lrn_desc(dn_ctx *c, dn_cudnnLRNDescriptor_t *d, unsigned n, double alpha, double beta, double k) {
    *d = NULL;
    DNN(c, cudnnCreateLRNDescriptor, (d));
    DNN_UNDO(c, cudnnSetLRNDescriptor, (*d, n, alpha, beta, k), cudnnDestroyLRNDescriptor);
    return 0;
}

void dn_lrn_desc_destroy(dn_ctx *c, dn_cudnnLRNDescriptor_t d) {
    (void)c;
    if (d) T.cudnnDestroyLRNDescriptor(d);
}

/* ---- convolution ---- */

/* excluded reports whether strict FP32 must not use algo of direction dir:
 * FFT and Winograd variants round differently from a direct sum. */
static int excluded(int dir, int algo) {
    switch (dir) {
    case 0:
        return algo == DN_CUDNN_CONVOLUTION_FWD_ALGO_FFT || algo == DN_CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
               algo == DN_CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD || algo == DN_CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
    case 1:
        return algo == DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT || algo == DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
               algo == DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD ||
               algo == DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
    default:
        return algo == DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT ||
               algo == DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING ||
               algo == DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD ||
               algo == DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
    }
}

static int algo_count(int dir) {
    return dir == 0 ? DN_CUDNN_CONVOLUTION_FWD_ALGO_COUNT
                    : dir == 1 ? DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT : DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
}

/* dn_conv_ws_max: the largest workspace, at most limit, that any usable
 * algorithm of direction dir asks for; the arena grows to it before Find. */
int dn_conv_ws_max(dn_ctx *c, int dir, dn_cudnnTensorDescriptor_t xd, dn_cudnnFilterDescriptor_t wd,
                   dn_cudnnConvolutionDescriptor_t cd, dn_cudnnTensorDescriptor_t yd, int strict, size_t limit,
                   size_t *ws) {
    ENTER(c);
    *ws = 0;
    for (int a = 0; a < algo_count(dir); a++) {
        size_t s = 0;
        dn_cudnnStatus_t r;
        if (strict && excluded(dir, a)) continue;
        if (dir == 0)
            r = T.cudnnGetConvolutionForwardWorkspaceSize(c->dnn, xd, wd, cd, yd, a, &s);
        else if (dir == 1)
            r = T.cudnnGetConvolutionBackwardDataWorkspaceSize(c->dnn, wd, yd, cd, xd, a, &s);
        else
            r = T.cudnnGetConvolutionBackwardFilterWorkspaceSize(c->dnn, xd, yd, cd, wd, a, &s);
        if (r == DN_CUDNN_STATUS_SUCCESS && s <= limit && s > *ws) *ws = s;
    }
    return 0;
}

/* dn_conv_find runs cudnnFind...AlgorithmEx for direction dir on the given
 * buffers (it overwrites the output: y, x as dx, or w as dw) and picks the
 * fastest algorithm that succeeded within the workspace. flags:
 * DN_FIND_STRICT (strict FP32): neither FFT nor Winograd, and only results
 * whose mathType is CUDNN_FMA_MATH (a DEFAULT_MATH result may run as TF32);
 * DN_FIND_DETERMINISTIC: only CUDNN_DETERMINISTIC results. */
int dn_conv_find(dn_ctx *c, int dir, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnFilterDescriptor_t wd,
                 dn_dptr w, dn_cudnnConvolutionDescriptor_t cd, dn_cudnnTensorDescriptor_t yd, dn_dptr y,
                 dn_dptr ws, size_t ws_size, int flags, int *algo, size_t *mem, int *math, float *ms) {
    struct dn_cudnnAlgoPerf perf[16];
    int strict = flags & DN_FIND_STRICT, det = flags & DN_FIND_DETERMINISTIC;
    int n = 0;
    ENTER(c);
    memset(perf, 0, sizeof perf);
    void *wsp = ws_size ? (void *)(size_t)ws : NULL;
    if (dir == 0)
        DNN(c, cudnnFindConvolutionForwardAlgorithmEx,
            (c->dnn, xd, (void *)(size_t)x, wd, (void *)(size_t)w, cd, yd, (void *)(size_t)y, algo_count(dir), &n,
             perf, wsp, ws_size));
    else if (dir == 1)
        DNN(c, cudnnFindConvolutionBackwardDataAlgorithmEx,
            (c->dnn, wd, (void *)(size_t)w, yd, (void *)(size_t)y, cd, xd, (void *)(size_t)x, algo_count(dir), &n,
             perf, wsp, ws_size));
    else
        DNN(c, cudnnFindConvolutionBackwardFilterAlgorithmEx,
            (c->dnn, xd, (void *)(size_t)x, yd, (void *)(size_t)y, cd, wd, (void *)(size_t)w, algo_count(dir), &n,
             perf, wsp, ws_size));
    for (int i = 0; i < n; i++) {
        if (perf[i].status != DN_CUDNN_STATUS_SUCCESS || perf[i].memory > ws_size) continue;
        if (strict && (excluded(dir, perf[i].algo) || perf[i].mathType != DN_CUDNN_FMA_MATH)) continue;
        if (det && perf[i].determinism != DN_CUDNN_DETERMINISTIC) continue;
        *algo = perf[i].algo;
        *mem = perf[i].memory;
        *math = perf[i].mathType;
        *ms = perf[i].time;
        return 0;
    }
    c->err.lib = DN_LIB_SHIM;
    c->err.code = DN_CUDNN_STATUS_NOT_SUPPORTED;
    snprintf(c->err.fn, sizeof c->err.fn, "cudnnFindConvolution%sAlgorithmEx",
             dir == 0 ? "Forward" : dir == 1 ? "BackwardData" : "BackwardFilter");
    snprintf(c->err.msg, sizeof c->err.msg, "none of the %d algorithms tried succeeded within a %zu-byte workspace%s%s", n,
             ws_size, strict ? " without FFT, Winograd or a non-FMA math type (strict fp32)" : "",
             det ? " among the deterministic ones" : "");
    return -1;
}

#define P(p) ((void *)(size_t)(p))

int dn_conv_fwd(dn_ctx *c, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnFilterDescriptor_t wd, dn_dptr w,
                dn_cudnnConvolutionDescriptor_t cd, int algo, dn_dptr ws, size_t ws_size,
                dn_cudnnTensorDescriptor_t yd, dn_dptr y) {
    ENTER(c);
    DNN(c, cudnnConvolutionForward, (c->dnn, &one, xd, P(x), wd, P(w), cd, algo, P(ws), ws_size, &zero, yd, P(y)));
    return 0;
}

int dn_conv_fwd_bias_relu(dn_ctx *c, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnFilterDescriptor_t wd,
                          dn_dptr w, dn_cudnnConvolutionDescriptor_t cd, int algo, dn_dptr ws, size_t ws_size,
                          dn_cudnnTensorDescriptor_t bd, dn_dptr b, dn_cudnnTensorDescriptor_t yd, dn_dptr y) {
    ENTER(c);
    DNN(c, cudnnConvolutionBiasActivationForward,
        (c->dnn, &one, xd, P(x), wd, P(w), cd, algo, P(ws), ws_size, &zero, yd, P(y), bd, P(b), c->relu, yd, P(y)));
    return 0;
}

int dn_conv_bwd_data(dn_ctx *c, dn_cudnnFilterDescriptor_t wd, dn_dptr w, dn_cudnnTensorDescriptor_t dyd, dn_dptr dy,
                     dn_cudnnConvolutionDescriptor_t cd, int algo, dn_dptr ws, size_t ws_size,
                     dn_cudnnTensorDescriptor_t dxd, dn_dptr dx) {
    ENTER(c);
    DNN(c, cudnnConvolutionBackwardData,
        (c->dnn, &one, wd, P(w), dyd, P(dy), cd, algo, P(ws), ws_size, &zero, dxd, P(dx)));
    return 0;
}

int dn_conv_bwd_filter(dn_ctx *c, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnTensorDescriptor_t dyd,
                       dn_dptr dy, dn_cudnnConvolutionDescriptor_t cd, int algo, dn_dptr ws, size_t ws_size,
                       dn_cudnnFilterDescriptor_t dwd, dn_dptr dw) {
    ENTER(c);
    DNN(c, cudnnConvolutionBackwardFilter,
        (c->dnn, &one, xd, P(x), dyd, P(dy), cd, algo, P(ws), ws_size, &zero, dwd, P(dw)));
    return 0;
}

int dn_bias_grad(dn_ctx *c, dn_cudnnTensorDescriptor_t dyd, dn_dptr dy, dn_cudnnTensorDescriptor_t dbd, dn_dptr db) {
    ENTER(c);
    DNN(c, cudnnConvolutionBackwardBias, (c->dnn, &one, dyd, P(dy), &zero, dbd, P(db)));
    return 0;
}

/* dn_probe_half checks once, on a few elements of buf (64 bytes of device
 * memory), that cuDNN accepts the
 * 16-bit type dtype in the two calls every BF16/FP16 step depends on and
 * that have no fallback: cudnnTransformTensor (float to 16-bit and back)
 * and cudnnConvolutionBackwardBias on 16-bit dy and db. On failure the
 * context's error names the call that refused. */
int dn_probe_half(dn_ctx *c, int dtype, dn_dptr buf) {
    dn_cudnnTensorDescriptor_t f = NULL, h = NULL, hb = NULL;
    int rc = -1;
    dn_cudnnStatus_t r;
    const char *fn = "cudnnCreateTensorDescriptor";
    ENTER(c);
    dn_CUresult cr = T.cuMemsetD32Async(buf, 0, 16, c->stream);
    if (cr != DN_CUDA_SUCCESS) return dn_fail(c, DN_LIB_CUDA, cr, "cuMemsetD32Async");
#define PROBE(call, name)     \
    fn = name;                \
    r = call;                 \
    if (r != DN_CUDNN_STATUS_SUCCESS) goto fail
    PROBE(T.cudnnCreateTensorDescriptor(&f), "cudnnCreateTensorDescriptor");
    PROBE(T.cudnnCreateTensorDescriptor(&h), "cudnnCreateTensorDescriptor");
    PROBE(T.cudnnCreateTensorDescriptor(&hb), "cudnnCreateTensorDescriptor");
    PROBE(T.cudnnSetTensor4dDescriptor(f, DN_CUDNN_TENSOR_NCHW, DN_CUDNN_DATA_FLOAT, 1, 4, 1, 1), "cudnnSetTensor4dDescriptor");
    PROBE(T.cudnnSetTensor4dDescriptor(h, DN_CUDNN_TENSOR_NCHW, dtype, 1, 4, 1, 1), "cudnnSetTensor4dDescriptor");
    PROBE(T.cudnnSetTensor4dDescriptor(hb, DN_CUDNN_TENSOR_NCHW, dtype, 1, 4, 1, 1), "cudnnSetTensor4dDescriptor");
    PROBE(T.cudnnTransformTensor(c->dnn, &one, f, P(buf), &zero, h, P(buf + 16)), "cudnnTransformTensor");
    PROBE(T.cudnnTransformTensor(c->dnn, &one, h, P(buf + 16), &zero, f, P(buf)), "cudnnTransformTensor");
    PROBE(T.cudnnConvolutionBackwardBias(c->dnn, &one, h, P(buf + 16), &zero, hb, P(buf + 32)), "cudnnConvolutionBackwardBias");
#undef PROBE
    cr = T.cuStreamSynchronize(c->stream);
    if (cr != DN_CUDA_SUCCESS) {
        dn_fail(c, DN_LIB_CUDA, cr, "cuStreamSynchronize");
        goto out;
    }
    rc = 0;
    goto out;
fail:
    dn_fail(c, DN_LIB_CUDNN, r, fn);
out:
    if (f) T.cudnnDestroyTensorDescriptor(f);
    if (h) T.cudnnDestroyTensorDescriptor(h);
    if (hb) T.cudnnDestroyTensorDescriptor(hb);
    return rc;
}

int dn_add_bias(dn_ctx *c, dn_cudnnTensorDescriptor_t bd, dn_dptr b, dn_cudnnTensorDescriptor_t yd, dn_dptr y) {
    ENTER(c);
    DNN(c, cudnnAddTensor, (c->dnn, &one, bd, P(b), &one, yd, P(y)));
    return 0;
}

int dn_transform(dn_ctx *c, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnTensorDescriptor_t yd, dn_dptr y) {
    ENTER(c);
    DNN(c, cudnnTransformTensor, (c->dnn, &one, xd, P(x), &zero, yd, P(y)));
    return 0;
}

/* ---- elementwise and normalisation ---- */

int dn_relu_fwd(dn_ctx *c, dn_cudnnTensorDescriptor_t d, dn_dptr x, dn_dptr y) {
    ENTER(c);
    DNN(c, cudnnActivationForward, (c->dnn, c->relu, &one, d, P(x), &zero, d, P(y)));
    return 0;
}

/* For ReLU, y > 0 exactly where x > 0, so y serves as both. */
int dn_relu_bwd(dn_ctx *c, dn_cudnnTensorDescriptor_t d, dn_dptr y, dn_dptr dy, dn_dptr dx) {
    ENTER(c);
    DNN(c, cudnnActivationBackward, (c->dnn, c->relu, &one, d, P(y), d, P(dy), d, P(y), &zero, d, P(dx)));
    return 0;
}

int dn_lrn_fwd(dn_ctx *c, dn_cudnnLRNDescriptor_t ld, dn_cudnnTensorDescriptor_t d, dn_dptr x, dn_dptr y) {
    ENTER(c);
    DNN(c, cudnnLRNCrossChannelForward, (c->dnn, ld, DN_CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, d, P(x), &zero, d, P(y)));
    return 0;
}

int dn_lrn_bwd(dn_ctx *c, dn_cudnnLRNDescriptor_t ld, dn_cudnnTensorDescriptor_t d, dn_dptr x, dn_dptr y,
               dn_dptr dy, dn_dptr dx) {
    ENTER(c);
    DNN(c, cudnnLRNCrossChannelBackward,
        (c->dnn, ld, DN_CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, d, P(y), d, P(dy), d, P(x), &zero, d, P(dx)));
    return 0;
}

int dn_pool_fwd(dn_ctx *c, dn_cudnnPoolingDescriptor_t pd, dn_cudnnTensorDescriptor_t xd, dn_dptr x,
                dn_cudnnTensorDescriptor_t yd, dn_dptr y) {
    ENTER(c);
    DNN(c, cudnnPoolingForward, (c->dnn, pd, &one, xd, P(x), &zero, yd, P(y)));
    return 0;
}

int dn_pool_bwd(dn_ctx *c, dn_cudnnPoolingDescriptor_t pd, dn_cudnnTensorDescriptor_t xd, dn_dptr x,
                dn_cudnnTensorDescriptor_t yd, dn_dptr y, dn_dptr dy, dn_dptr dx) {
    ENTER(c);
    DNN(c, cudnnPoolingBackward, (c->dnn, pd, &one, yd, P(y), yd, P(dy), xd, P(x), &zero, xd, P(dx)));
    return 0;
}

int dn_softmax(dn_ctx *c, int algo, dn_cudnnTensorDescriptor_t d, dn_dptr x, dn_dptr y) {
    ENTER(c);
    DNN(c, cudnnSoftmaxForward, (c->dnn, algo, DN_CUDNN_SOFTMAX_MODE_INSTANCE, &one, d, P(x), &zero, d, P(y)));
    return 0;
}

/* dn_xent: loss = dot(log_softmax(logits), onehot) where onehot holds -1/n at
 * each row's label (so the dot is the mean cross-entropy), written straight
 * into the device scalar loss; dlogits = softmax(logits)/n + onehot. */
int dn_xent(dn_ctx *c, dn_cudnnTensorDescriptor_t d, int n, int k, dn_dptr logits, dn_dptr logp, dn_dptr onehot,
            dn_dptr loss, dn_dptr dlogits) {
    ENTER_BLAS(c);
    DNN(c, cudnnSoftmaxForward,
        (c->dnn, DN_CUDNN_SOFTMAX_LOG, DN_CUDNN_SOFTMAX_MODE_INSTANCE, &one, d, P(logits), &zero, d, P(logp)));
    BLAS(c, cublasSetPointerMode_v2, (c->blas, DN_CUBLAS_POINTER_MODE_DEVICE));
    c->blas_device = 1;
    dn_cublasStatus_t r = T.cublasSdot_v2(c->blas, n * k, (const float *)P(logp), 1, (const float *)P(onehot), 1,
                                          (float *)P(loss));
    dn_cublasStatus_t r2 = T.cublasSetPointerMode_v2(c->blas, DN_CUBLAS_POINTER_MODE_HOST);
    if (r != DN_CUBLAS_STATUS_SUCCESS) return dn_fail(c, DN_LIB_CUBLAS, r, "cublasSdot_v2");
    if (r2 != DN_CUBLAS_STATUS_SUCCESS) return dn_fail(c, DN_LIB_CUBLAS, r2, "cublasSetPointerMode_v2");
    c->blas_device = 0;
    if (dlogits) {
        float inv = 1.0f / (float)n;
        DNN(c, cudnnSoftmaxForward,
            (c->dnn, DN_CUDNN_SOFTMAX_ACCURATE, DN_CUDNN_SOFTMAX_MODE_INSTANCE, &one, d, P(logits), &zero, d,
             P(dlogits)));
        BLAS(c, cublasSgeam,
             (c->blas, DN_CUBLAS_OP_N, DN_CUBLAS_OP_N, n * k, 1, &inv, (const float *)P(dlogits), n * k, &one,
              (const float *)P(onehot), n * k, (float *)P(dlogits), n * k));
    }
    return 0;
}

/* ---- cuBLAS ---- */

int dn_gemm(dn_ctx *c, int ta, int tb, int m, int n, int k, dn_dptr a, int lda, dn_dptr b, int ldb, float beta,
            dn_dptr cc, int ldc) {
    ENTER_BLAS(c);
    BLAS(c, cublasSgemm_v2,
         (c->blas, ta, tb, m, n, k, &one, (const float *)P(a), lda, (const float *)P(b), ldb, &beta, (float *)P(cc),
          ldc));
    return 0;
}

int dn_gemm_ex(dn_ctx *c, int dtype, int ta, int tb, int m, int n, int k, dn_dptr a, int lda, dn_dptr b, int ldb,
               float beta, dn_dptr cc, int ldc) {
    ENTER_BLAS(c);
    BLAS(c, cublasGemmEx,
         (c->blas, ta, tb, m, n, k, &one, P(a), dtype, lda, P(b), dtype, ldb, &beta, P(cc), dtype, ldc,
          DN_CUBLAS_COMPUTE_32F, DN_CUBLAS_GEMM_DEFAULT));
    return 0;
}

/* dn_dgmm: out = a * x elementwise over n floats (diag(x)·a as an n×1
 * matrix); out may be a. */
int dn_dgmm(dn_ctx *c, int n, dn_dptr a, dn_dptr x, dn_dptr out) {
    ENTER_BLAS(c);
    BLAS(c, cublasSdgmm,
         (c->blas, DN_CUBLAS_SIDE_LEFT, n, 1, (const float *)P(a), n, (const float *)P(x), 1, (float *)P(out), n));
    return 0;
}

/* dn_sgd: the two momentum rules of backend.SGDRule over n floats.
 *   PyTorch: v = mu*v + g; v += wd*w; w -= lr*v
 *   paper:   v = mu*v - lr*g; v -= wd*lr*w; w += v */
int dn_sgd(dn_ctx *c, int n, int paper, float lr, float mu, float wd, dn_dptr w, dn_dptr g, dn_dptr v) {
    float *wp = (float *)P(w), *vp = (float *)P(v);
    const float *gp = (const float *)P(g);
    float gscale = paper ? -lr : 1.0f;
    float wscale = paper ? -wd * lr : wd;
    float vscale = paper ? 1.0f : -lr;
    ENTER_BLAS(c);
    BLAS(c, cublasSgeam, (c->blas, DN_CUBLAS_OP_N, DN_CUBLAS_OP_N, n, 1, &mu, vp, n, &gscale, gp, n, vp, n));
    if (wd != 0) BLAS(c, cublasSaxpy_v2, (c->blas, n, &wscale, wp, 1, vp, 1));
    BLAS(c, cublasSaxpy_v2, (c->blas, n, &vscale, vp, 1, wp, 1));
    return 0;
}
