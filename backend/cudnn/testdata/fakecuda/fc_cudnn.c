/*
 * fc_cudnn.c — TEST DOUBLE of libcudnn.so.9 (the legacy cuDNN 9 API subset
 * that include/dnngo_cuda.h declares). NOT A GPU and not cuDNN: plain host
 * loops written from NVIDIA's documented semantics of each function (cuDNN 9
 * API reference: formulas, alpha/beta blending, descriptor rules, status
 * codes). Contains no NVIDIA code. Never on a user's library path; never a
 * source of performance numbers (the "time" of Find results is invented).
 *
 * Modelled strictly: descriptors used before set or after destroy, handles
 * without a bound stream, every data pointer against the live device
 * allocations with the extent its descriptor needs, workspaces smaller than
 * the size reported for the algorithm, TF32 rounding of FP32 convolution
 * operands when the descriptor's math type is not CUDNN_FMA_MATH (on a
 * compute capability >= 8.0), run-to-run differing sums for the algorithms
 * documented as non-deterministic, and Find results poisoning their output.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_core.h"

#define PROTO(ret, name, params) ret name params;
DN_CUDNN_FUNCS(PROTO)
#undef PROTO

enum {
    ACT_SIGMOID = 0,
    ACT_RELU = 1,
    ACT_IDENTITY = 5,
    CONV_CONVOLUTION = 0,
    POOL_MAX = 0,
    DT_DOUBLE = 1,
    FMT_NCHW = 0,
    SOFTMAX_FAST = 0,
    SOFTMAX_MODE_CHANNEL = 1,
    NON_DETERMINISTIC = 0,
    DETERMINISTIC = 1,
};

typedef struct {
    fc_obj h;
    int n, c, hh, w, dt;
} tdesc;
typedef struct {
    fc_obj h;
    int k, c, r, s, dt;
} fdesc;
typedef struct {
    fc_obj h;
    int ph, pw, u, v, dh, dw, mode, compute, math, groups;
} cdesc;
typedef struct {
    fc_obj h;
    int mode, nan;
    double coef;
} adesc;
typedef struct {
    fc_obj h;
    unsigned n;
    double alpha, beta, k;
} ldesc;
typedef struct {
    fc_obj h;
    int mode, nan, wh, ww, ph, pw, sh, sw;
} pdesc;
typedef struct {
    fc_obj h;
    const void *stream;
    int stream_set;
    unsigned cb_mask;
    void *cb_udata;
    dn_cudnnCallback_t cb;
} handle;

/* ------------------------------------------------------------------ */
/* helpers                                                              */
/* ------------------------------------------------------------------ */

#define ENTER(name)                                     \
    fc_lock();                                          \
    int fc_inj_ = fc_fault(#name, FC_LIB_CUDNN);         \
    if (fc_inj_) {                                      \
        fc_unlock();                                    \
        return fc_inj_;                                 \
    }                                                   \
    static const char *const FN = #name;                \
    (void)FN
#define RETURN(v)     \
    do {              \
        int r_ = (v); \
        fc_unlock();  \
        return r_;    \
    } while (0)
#define ERR(code, ...) RETURN(fc_error(FC_LIB_CUDNN, code, __VA_ARGS__))
#define BAD(...) ERR(FC_CUDNN_STATUS_BAD_PARAM, __VA_ARGS__)
/* get a live object or return BAD_PARAM */
#define GET(var, type, kind, ptr, what, need_set)                                                          \
    type *var = fc_get(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, FN, what, ptr, kind, need_set);            \
    if (!var) RETURN(FC_CUDNN_STATUS_BAD_PARAM)
/* a device pointer of extent bytes, else EXECUTION_FAILED (a real GPU would
 * fault on the access) */
#define DEV(ptr, what, bytes)                                                                               \
    if (fc_check_dev(FC_LIB_CUDNN, FC_CUDNN_STATUS_EXECUTION_FAILED, FN, what, ptr, bytes))                  \
    RETURN(FC_CUDNN_STATUS_EXECUTION_FAILED)
#define SCALAR(var, ptr, what)                                                                              \
    float var;                                                                                              \
    if (!(ptr)) BAD("%s: %s is NULL (a host pointer to a float scaling factor)", FN, what);                \
    if (fc_is_device(ptr)) BAD("%s: %s %p is device memory; cuDNN reads scaling factors from host memory", FN, \
                               what, (const void *)(ptr));                                                 \
    var = *(const float *)(ptr)

static size_t esize(int dt) { return dt == DN_CUDNN_DATA_FLOAT ? 4 : 2; }
static const char *dt_tag(int dt) {
    return dt == DN_CUDNN_DATA_FLOAT ? "f32" : dt == DN_CUDNN_DATA_HALF ? "f16" : dt == DN_CUDNN_DATA_BFLOAT16 ? "bf16" : "?";
}
static size_t tcount(const tdesc *t) { return (size_t)t->n * t->c * t->hh * t->w; }
static size_t tbytes(const tdesc *t) { return tcount(t) * esize(t->dt); }
static size_t fcount(const fdesc *f) { return (size_t)f->k * f->c * f->r * f->s; }
static size_t fbytes(const fdesc *f) { return fcount(f) * esize(f->dt); }

static float ld(const void *p, int dt, size_t i) {
    if (dt == DN_CUDNN_DATA_FLOAT) return ((const float *)p)[i];
    if (dt == DN_CUDNN_DATA_HALF) return fc_half_to_float(((const uint16_t *)p)[i]);
    return fc_bf16_to_float(((const uint16_t *)p)[i]);
}
static void st(void *p, int dt, size_t i, float v) {
    if (dt == DN_CUDNN_DATA_FLOAT)
        ((float *)p)[i] = v;
    else if (dt == DN_CUDNN_DATA_HALF)
        ((uint16_t *)p)[i] = fc_float_to_half(v);
    else
        ((uint16_t *)p)[i] = fc_float_to_bf16(v);
}
/* out = alpha*v + beta*out; beta == 0 does not read out (documented: the
 * output may then hold anything, NaN included) */
static void blend(void *p, int dt, size_t i, float alpha, float beta, double v) {
    double r = alpha * v;
    if (beta != 0) r += (double)beta * ld(p, dt, i);
    st(p, dt, i, (float)r);
}
/* load a whole tensor into a float array, rounding to TF32 when tf32 */
static float *load_all(const void *p, int dt, size_t n, int tf32) {
    float *a = calloc(n + 1, sizeof *a);
    if (!a) abort();
    for (size_t i = 0; i < n; i++) a[i] = tf32 ? fc_round_tf32(ld(p, dt, i)) : ld(p, dt, i);
    return a;
}

static int need_stream(handle *h, const char *fn) {
    if (!h->stream_set)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM,
                        "%s: the handle has no stream (cudnnSetStream was not called; the test double does not "
                        "model the legacy default stream)",
                        fn);
    if (!fc_stream_ok(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, fn, h->stream)) return FC_CUDNN_STATUS_BAD_PARAM;
    return 0;
}
#define HANDLE(h, ptr)                                  \
    GET(h, handle, FC_OBJ_CUDNN, ptr, "handle", 0);     \
    do {                                                \
        int e_ = need_stream(h, FN);                    \
        if (e_) RETURN(e_);                             \
    } while (0)

static int same_dims(const tdesc *a, const tdesc *b) { return a->n == b->n && a->c == b->c && a->hh == b->hh && a->w == b->w; }
#define DIMS(t) (t)->n, (t)->c, (t)->hh, (t)->w

static int dtype_ok(int dt) { return dt == DN_CUDNN_DATA_FLOAT || dt == DN_CUDNN_DATA_HALF || dt == DN_CUDNN_DATA_BFLOAT16; }
/* BF16 needs compute capability 8.0 */
static int dtype_unsupported(const char *fn, int dt) {
    if (dt == DN_CUDNN_DATA_BFLOAT16 && fc_cc_major() < 8)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: BFLOAT16 needs compute capability 8.0, the device has %d.%d", fn,
                        fc_cc_major(), fc_cc_minor());
    if (fc_unsupported(fn, dt_tag(dt)))
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_NOT_SUPPORTED,
                        "%s: %s data not supported (DNNGO_FAKECUDA_UNSUPPORTED)", fn, dt_tag(dt));
    return 0;
}

/* ------------------------------------------------------------------ */
/* version, errors, handle                                              */
/* ------------------------------------------------------------------ */

size_t cudnnGetVersion(void) { return 91300; }
size_t cudnnGetCudartVersion(void) { return 13000; }

const char *cudnnGetErrorString(dn_cudnnStatus_t s) {
    switch (s) {
    case 0: return "CUDNN_STATUS_SUCCESS";
    case 1001: return "CUDNN_STATUS_NOT_INITIALIZED";
    case 2000: return "CUDNN_STATUS_BAD_PARAM";
    case 2002: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
    case 2008: return "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH";
    case 3000: return "CUDNN_STATUS_NOT_SUPPORTED";
    case 4000: return "CUDNN_STATUS_INTERNAL_ERROR";
    case 4003: return "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED";
    case 4004: return "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED";
    case 5000: return "CUDNN_STATUS_EXECUTION_FAILED";
    default: return "CUDNN_STATUS_UNKNOWN (test double)";
    }
}

void cudnnGetLastErrorString(char *message, size_t max) {
    if (!message || max == 0) return;
    snprintf(message, max, "%s", fc_last_message(FC_LIB_CUDNN, -1));
}

/* The callback is stored; the double emits no log messages through it. */
dn_cudnnStatus_t cudnnSetCallback(unsigned mask, void *udata, dn_cudnnCallback_t fptr) {
    ENTER(cudnnSetCallback);
    (void)mask;
    (void)udata;
    (void)fptr;
    RETURN(0);
}

dn_cudnnStatus_t cudnnCreate(dn_cudnnHandle_t *ph) {
    ENTER(cudnnCreate);
    if (!ph) BAD("cudnnCreate: handle is NULL");
    handle *h = fc_new(FC_OBJ_CUDNN, sizeof *h);
    if (!h) ERR(FC_CUDNN_STATUS_ALLOC_FAILED, "cudnnCreate: out of host memory");
    h->h.set = 1;
    *ph = (dn_cudnnHandle_t)h;
    RETURN(0);
}

/* documented: cudnnDestroy synchronises the device */
dn_cudnnStatus_t cudnnDestroy(dn_cudnnHandle_t ph) {
    ENTER(cudnnDestroy);
    GET(h, handle, FC_OBJ_CUDNN, ph, "handle", 0);
    fc_flush_all();
    fc_destroy(h);
    RETURN(0);
}

dn_cudnnStatus_t cudnnSetStream(dn_cudnnHandle_t ph, dn_CUstream s) {
    ENTER(cudnnSetStream);
    GET(h, handle, FC_OBJ_CUDNN, ph, "handle", 0);
    if (!fc_stream_ok(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, FN, s)) RETURN(FC_CUDNN_STATUS_BAD_PARAM);
    h->stream = s;
    h->stream_set = 1;
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* descriptors                                                          */
/* ------------------------------------------------------------------ */

static int create_obj(const char *fn, void **pp, int kind, size_t size) {
    if (!pp) return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, "%s: output pointer is NULL", fn);
    void *o = fc_new(kind, size);
    if (!o) return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_ALLOC_FAILED, "%s: out of host memory", fn);
    *pp = o;
    return 0;
}
static int destroy_obj(const char *fn, const void *p, int kind) {
    /* documented: destroying NULL is allowed */
    if (!p) return 0;
    fc_obj *o = fc_get(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, fn, "descriptor", p, kind, 0);
    if (!o) return FC_CUDNN_STATUS_BAD_PARAM;
    fc_destroy(o);
    return 0;
}

dn_cudnnStatus_t cudnnCreateTensorDescriptor(dn_cudnnTensorDescriptor_t *p) {
    ENTER(cudnnCreateTensorDescriptor);
    RETURN(create_obj(FN, (void **)p, FC_OBJ_TENSOR, sizeof(tdesc)));
}
dn_cudnnStatus_t cudnnDestroyTensorDescriptor(dn_cudnnTensorDescriptor_t p) {
    ENTER(cudnnDestroyTensorDescriptor);
    RETURN(destroy_obj(FN, p, FC_OBJ_TENSOR));
}

dn_cudnnStatus_t cudnnSetTensor4dDescriptor(dn_cudnnTensorDescriptor_t p, dn_cudnnTensorFormat_t fmt, dn_cudnnDataType_t dt,
                                            int n, int c, int h, int w) {
    ENTER(cudnnSetTensor4dDescriptor);
    GET(t, tdesc, FC_OBJ_TENSOR, p, "tensorDesc", 0);
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0) BAD("%s: dims %dx%dx%dx%d must all be positive", FN, n, c, h, w);
    if (fmt != FMT_NCHW) ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: format %d: the test double models NCHW only", FN, fmt);
    if (!dtype_ok(dt)) ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: data type %d: the test double models FLOAT, HALF, BFLOAT16", FN, dt);
    if ((double)n * c * h * w > 2147483647.0) BAD("%s: %dx%dx%dx%d has more than 2^31-1 elements", FN, n, c, h, w);
    t->n = n, t->c = c, t->hh = h, t->w = w, t->dt = dt;
    t->h.set = 1;
    RETURN(0);
}

dn_cudnnStatus_t cudnnCreateFilterDescriptor(dn_cudnnFilterDescriptor_t *p) {
    ENTER(cudnnCreateFilterDescriptor);
    RETURN(create_obj(FN, (void **)p, FC_OBJ_FILTER, sizeof(fdesc)));
}
dn_cudnnStatus_t cudnnDestroyFilterDescriptor(dn_cudnnFilterDescriptor_t p) {
    ENTER(cudnnDestroyFilterDescriptor);
    RETURN(destroy_obj(FN, p, FC_OBJ_FILTER));
}
dn_cudnnStatus_t cudnnSetFilter4dDescriptor(dn_cudnnFilterDescriptor_t p, dn_cudnnDataType_t dt, dn_cudnnTensorFormat_t fmt,
                                            int k, int c, int h, int w) {
    ENTER(cudnnSetFilter4dDescriptor);
    GET(f, fdesc, FC_OBJ_FILTER, p, "filterDesc", 0);
    if (k <= 0 || c <= 0 || h <= 0 || w <= 0) BAD("%s: dims %dx%dx%dx%d must all be positive", FN, k, c, h, w);
    if (fmt != FMT_NCHW) ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: format %d: the test double models NCHW only", FN, fmt);
    if (!dtype_ok(dt)) ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: data type %d not modelled", FN, dt);
    f->k = k, f->c = c, f->r = h, f->s = w, f->dt = dt;
    f->h.set = 1;
    RETURN(0);
}

dn_cudnnStatus_t cudnnCreateConvolutionDescriptor(dn_cudnnConvolutionDescriptor_t *p) {
    ENTER(cudnnCreateConvolutionDescriptor);
    int r = create_obj(FN, (void **)p, FC_OBJ_CONV, sizeof(cdesc));
    if (!r) {
        cdesc *d = (cdesc *)*p;
        d->math = DN_CUDNN_DEFAULT_MATH; /* documented defaults */
        d->groups = 1;
    }
    RETURN(r);
}
dn_cudnnStatus_t cudnnDestroyConvolutionDescriptor(dn_cudnnConvolutionDescriptor_t p) {
    ENTER(cudnnDestroyConvolutionDescriptor);
    RETURN(destroy_obj(FN, p, FC_OBJ_CONV));
}
dn_cudnnStatus_t cudnnSetConvolution2dDescriptor(dn_cudnnConvolutionDescriptor_t p, int ph, int pw, int u, int v, int dh,
                                                 int dw, dn_cudnnConvolutionMode_t mode, dn_cudnnDataType_t compute) {
    ENTER(cudnnSetConvolution2dDescriptor);
    GET(d, cdesc, FC_OBJ_CONV, p, "convDesc", 0);
    if (ph < 0 || pw < 0) BAD("%s: padding %d,%d must be >= 0", FN, ph, pw);
    if (u <= 0 || v <= 0) BAD("%s: stride %d,%d must be > 0", FN, u, v);
    if (dh <= 0 || dw <= 0) BAD("%s: dilation %d,%d must be > 0", FN, dh, dw);
    if (mode != CONV_CONVOLUTION && mode != DN_CUDNN_CROSS_CORRELATION) BAD("%s: mode %d is not a cudnnConvolutionMode_t", FN, mode);
    if (!dtype_ok(compute) && compute != DT_DOUBLE) BAD("%s: computeType %d", FN, compute);
    d->ph = ph, d->pw = pw, d->u = u, d->v = v, d->dh = dh, d->dw = dw, d->mode = mode, d->compute = compute;
    d->h.set = 1;
    RETURN(0);
}
dn_cudnnStatus_t cudnnSetConvolutionMathType(dn_cudnnConvolutionDescriptor_t p, dn_cudnnMathType_t m) {
    ENTER(cudnnSetConvolutionMathType);
    GET(d, cdesc, FC_OBJ_CONV, p, "convDesc", 0);
    if (m < 0 || m > 3) BAD("%s: mathType %d is not a cudnnMathType_t", FN, m);
    d->math = m;
    RETURN(0);
}
dn_cudnnStatus_t cudnnSetConvolutionGroupCount(dn_cudnnConvolutionDescriptor_t p, int g) {
    ENTER(cudnnSetConvolutionGroupCount);
    GET(d, cdesc, FC_OBJ_CONV, p, "convDesc", 0);
    if (g <= 0) BAD("%s: groupCount %d must be > 0", FN, g);
    d->groups = g;
    RETURN(0);
}

/* validate x/w against the convolution; returns 0 and the output dims */
static int conv_shape(const char *fn, const tdesc *x, const fdesc *w, const cdesc *c, int *n, int *k, int *p, int *q) {
    if (x->c != w->c * c->groups)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM,
                        "%s: input has %d channels, filter %dx%dx%dx%d with %d groups needs %d", fn, x->c, w->k, w->c,
                        w->r, w->s, c->groups, w->c * c->groups);
    if (w->k % c->groups)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, "%s: %d output channels not divisible by %d groups", fn,
                        w->k, c->groups);
    int eh = (w->r - 1) * c->dh + 1, ew = (w->s - 1) * c->dw + 1;
    if (x->hh + 2 * c->ph < eh || x->w + 2 * c->pw < ew)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, "%s: filter %dx%d larger than padded input %dx%d", fn,
                        eh, ew, x->hh + 2 * c->ph, x->w + 2 * c->pw);
    *n = x->n;
    *k = w->k;
    *p = 1 + (x->hh + 2 * c->ph - eh) / c->u;
    *q = 1 + (x->w + 2 * c->pw - ew) / c->v;
    return 0;
}

dn_cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(dn_cudnnConvolutionDescriptor_t pc, dn_cudnnTensorDescriptor_t px,
                                                       dn_cudnnFilterDescriptor_t pw, int *n, int *c, int *h, int *w) {
    ENTER(cudnnGetConvolution2dForwardOutputDim);
    GET(cd, cdesc, FC_OBJ_CONV, pc, "convDesc", 1);
    GET(xd, tdesc, FC_OBJ_TENSOR, px, "inputTensorDesc", 1);
    GET(wd, fdesc, FC_OBJ_FILTER, pw, "filterDesc", 1);
    if (!n || !c || !h || !w) BAD("%s: NULL output", FN);
    int e = conv_shape(FN, xd, wd, cd, n, c, h, w);
    RETURN(e);
}

dn_cudnnStatus_t cudnnCreateActivationDescriptor(dn_cudnnActivationDescriptor_t *p) {
    ENTER(cudnnCreateActivationDescriptor);
    RETURN(create_obj(FN, (void **)p, FC_OBJ_ACT, sizeof(adesc)));
}
dn_cudnnStatus_t cudnnDestroyActivationDescriptor(dn_cudnnActivationDescriptor_t p) {
    ENTER(cudnnDestroyActivationDescriptor);
    RETURN(destroy_obj(FN, p, FC_OBJ_ACT));
}
dn_cudnnStatus_t cudnnSetActivationDescriptor(dn_cudnnActivationDescriptor_t p, dn_cudnnActivationMode_t mode,
                                              dn_cudnnNanPropagation_t nan, double coef) {
    ENTER(cudnnSetActivationDescriptor);
    GET(a, adesc, FC_OBJ_ACT, p, "activationDesc", 0);
    if (mode < 0 || mode > 7) BAD("%s: mode %d is not a cudnnActivationMode_t", FN, mode);
    if (nan != 0 && nan != 1) BAD("%s: reluNanOpt %d", FN, nan);
    a->mode = mode, a->nan = nan, a->coef = coef;
    a->h.set = 1;
    RETURN(0);
}

dn_cudnnStatus_t cudnnCreateLRNDescriptor(dn_cudnnLRNDescriptor_t *p) {
    ENTER(cudnnCreateLRNDescriptor);
    int r = create_obj(FN, (void **)p, FC_OBJ_LRN, sizeof(ldesc));
    if (!r) { /* documented defaults: n=5, alpha=1e-4, beta=0.75, k=2.0 */
        ldesc *l = (ldesc *)*p;
        l->n = 5, l->alpha = 1e-4, l->beta = 0.75, l->k = 2.0;
        l->h.set = 1;
    }
    RETURN(r);
}
dn_cudnnStatus_t cudnnDestroyLRNDescriptor(dn_cudnnLRNDescriptor_t p) {
    ENTER(cudnnDestroyLRNDescriptor);
    RETURN(destroy_obj(FN, p, FC_OBJ_LRN));
}
dn_cudnnStatus_t cudnnSetLRNDescriptor(dn_cudnnLRNDescriptor_t p, unsigned n, double alpha, double beta, double k) {
    ENTER(cudnnSetLRNDescriptor);
    GET(l, ldesc, FC_OBJ_LRN, p, "normDesc", 0);
    if (n < DN_CUDNN_LRN_MIN_N || n > DN_CUDNN_LRN_MAX_N) BAD("%s: lrnN %u outside [%d, %d]", FN, n, DN_CUDNN_LRN_MIN_N, DN_CUDNN_LRN_MAX_N);
    if (k < DN_CUDNN_LRN_MIN_K) BAD("%s: lrnK %g below %g", FN, k, DN_CUDNN_LRN_MIN_K);
    if (beta < DN_CUDNN_LRN_MIN_BETA) BAD("%s: lrnBeta %g below %g", FN, beta, DN_CUDNN_LRN_MIN_BETA);
    l->n = n, l->alpha = alpha, l->beta = beta, l->k = k;
    l->h.set = 1;
    RETURN(0);
}

dn_cudnnStatus_t cudnnCreatePoolingDescriptor(dn_cudnnPoolingDescriptor_t *p) {
    ENTER(cudnnCreatePoolingDescriptor);
    RETURN(create_obj(FN, (void **)p, FC_OBJ_POOL, sizeof(pdesc)));
}
dn_cudnnStatus_t cudnnDestroyPoolingDescriptor(dn_cudnnPoolingDescriptor_t p) {
    ENTER(cudnnDestroyPoolingDescriptor);
    RETURN(destroy_obj(FN, p, FC_OBJ_POOL));
}
dn_cudnnStatus_t cudnnSetPooling2dDescriptor(dn_cudnnPoolingDescriptor_t p, dn_cudnnPoolingMode_t mode,
                                             dn_cudnnNanPropagation_t nan, int wh, int ww, int ph, int pw, int sh, int sw) {
    ENTER(cudnnSetPooling2dDescriptor);
    GET(d, pdesc, FC_OBJ_POOL, p, "poolingDesc", 0);
    if (mode < 0 || mode > 3) BAD("%s: mode %d is not a cudnnPoolingMode_t", FN, mode);
    if (mode != POOL_MAX && mode != DN_CUDNN_POOLING_MAX_DETERMINISTIC)
        ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: average pooling is not modelled by the test double", FN);
    if (wh <= 0 || ww <= 0 || sh <= 0 || sw <= 0 || ph < 0 || pw < 0)
        BAD("%s: window %dx%d, padding %d,%d, stride %d,%d", FN, wh, ww, ph, pw, sh, sw);
    d->mode = mode, d->nan = nan, d->wh = wh, d->ww = ww, d->ph = ph, d->pw = pw, d->sh = sh, d->sw = sw;
    d->h.set = 1;
    RETURN(0);
}
static int pool_shape(const char *fn, const pdesc *d, const tdesc *x, int *p, int *q) {
    if (x->hh + 2 * d->ph < d->wh || x->w + 2 * d->pw < d->ww)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, "%s: window %dx%d larger than padded input %dx%d", fn,
                        d->wh, d->ww, x->hh + 2 * d->ph, x->w + 2 * d->pw);
    *p = 1 + (x->hh + 2 * d->ph - d->wh) / d->sh;
    *q = 1 + (x->w + 2 * d->pw - d->ww) / d->sw;
    return 0;
}
dn_cudnnStatus_t cudnnGetPooling2dForwardOutputDim(dn_cudnnPoolingDescriptor_t pp, dn_cudnnTensorDescriptor_t px, int *n,
                                                   int *c, int *h, int *w) {
    ENTER(cudnnGetPooling2dForwardOutputDim);
    GET(d, pdesc, FC_OBJ_POOL, pp, "poolingDesc", 1);
    GET(x, tdesc, FC_OBJ_TENSOR, px, "inputTensorDesc", 1);
    if (!n || !c || !h || !w) BAD("%s: NULL output", FN);
    int e = pool_shape(FN, d, x, h, w);
    if (e) RETURN(e);
    *n = x->n;
    *c = x->c;
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* tensor ops: transform, add                                           */
/* ------------------------------------------------------------------ */

struct transform_job {
    tdesc x, y;
    const void *px;
    void *py;
    float alpha, beta;
};
static void run_transform(void *pl) {
    struct transform_job *j = pl;
    size_t n = tcount(&j->x);
    float *a = load_all(j->px, j->x.dt, n, 0); /* x may alias y */
    for (size_t i = 0; i < n; i++) blend(j->py, j->y.dt, i, j->alpha, j->beta, a[i]);
    free(a);
}
dn_cudnnStatus_t cudnnTransformTensor(dn_cudnnHandle_t ph, const void *alpha, dn_cudnnTensorDescriptor_t pxd, const void *x,
                                      const void *beta, dn_cudnnTensorDescriptor_t pyd, void *y) {
    ENTER(cudnnTransformTensor);
    HANDLE(h, ph);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    if (!same_dims(xd, yd)) BAD("%s: x %dx%dx%dx%d and y %dx%dx%dx%d differ", FN, DIMS(xd), DIMS(yd));
    int e = dtype_unsupported(FN, xd->dt);
    if (!e) e = dtype_unsupported(FN, yd->dt);
    if (e) RETURN(e);
    DEV(x, "x", tbytes(xd));
    DEV(y, "y", tbytes(yd));
    struct transform_job j = {*xd, *yd, x, y, a, b};
    fc_submit(h->stream, run_transform, &j, sizeof j);
    RETURN(0);
}

struct add_job {
    tdesc a, c;
    const void *pa;
    void *pc;
    float alpha, beta;
};
static void run_add(void *pl) {
    struct add_job *j = pl;
    const tdesc *A = &j->a, *C = &j->c;
    for (int n = 0; n < C->n; n++)
        for (int c = 0; c < C->c; c++)
            for (int h = 0; h < C->hh; h++)
                for (int w = 0; w < C->w; w++) {
                    size_t ia = (((size_t)(A->n == 1 ? 0 : n) * A->c + (A->c == 1 ? 0 : c)) * A->hh + (A->hh == 1 ? 0 : h)) * A->w +
                                (A->w == 1 ? 0 : w);
                    size_t ic = (((size_t)n * C->c + c) * C->hh + h) * C->w + w;
                    blend(j->pc, C->dt, ic, j->alpha, j->beta, ld(j->pa, A->dt, ia));
                }
}
dn_cudnnStatus_t cudnnAddTensor(dn_cudnnHandle_t ph, const void *alpha, dn_cudnnTensorDescriptor_t pad, const void *A,
                                const void *beta, dn_cudnnTensorDescriptor_t pcd, void *C) {
    ENTER(cudnnAddTensor);
    HANDLE(h, ph);
    GET(ad, tdesc, FC_OBJ_TENSOR, pad, "aDesc", 1);
    GET(cd, tdesc, FC_OBJ_TENSOR, pcd, "cDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    if ((ad->n != 1 && ad->n != cd->n) || (ad->c != 1 && ad->c != cd->c) || (ad->hh != 1 && ad->hh != cd->hh) ||
        (ad->w != 1 && ad->w != cd->w))
        BAD("%s: A %dx%dx%dx%d does not broadcast to C %dx%dx%dx%d (each dim must match or be 1)", FN, DIMS(ad), DIMS(cd));
    if (ad->dt != cd->dt) BAD("%s: A and C data types differ (%s, %s)", FN, dt_tag(ad->dt), dt_tag(cd->dt));
    int e = dtype_unsupported(FN, cd->dt);
    if (e) RETURN(e);
    DEV(A, "A", tbytes(ad));
    DEV(C, "C", tbytes(cd));
    struct add_job j = {*ad, *cd, A, C, a, b};
    fc_submit(h->stream, run_add, &j, sizeof j);
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* convolution                                                          */
/* ------------------------------------------------------------------ */

/* workspace sizes, per algorithm (the double's own, fixed per shape) */
static long ws_fwd(int algo, const tdesc *x, const fdesc *w, const cdesc *c, int P, int Q) {
    (void)x;
    size_t crs = (size_t)w->c * w->r * w->s;
    switch (algo) {
    case 0: return 0;                                            /* IMPLICIT_GEMM */
    case 1: return (long)(crs * 4 + 256);                        /* IMPLICIT_PRECOMP_GEMM */
    case 2: return (long)(crs * (size_t)P * Q * 4 * c->groups); /* GEMM: im2col of one image */
    default: return -1;
    }
}
static long ws_bwd_data(int algo, const fdesc *w) {
    switch (algo) {
    case 0: return 0;
    case 1: return (long)((size_t)w->k * w->r * w->s * 4 + 512);
    default: return -1;
    }
}
static long ws_bwd_filter(int algo, const fdesc *w) {
    switch (algo) {
    case 0: return 0;
    case 1: return (long)(fcount(w) * 4 + 128);
    case 3: return 1024;
    default: return -1;
    }
}

/* every algorithm's documented determinism: backward data algo 0 and
 * backward filter algos 0 and 3 accumulate with atomics */
static int bwd_data_det(int algo) { return algo != 0; }
static int bwd_filter_det(int algo) { return algo != 0 && algo != 3; }

static int use_tf32(const cdesc *c, int dt) { return dt == DN_CUDNN_DATA_FLOAT && c->math != DN_CUDNN_FMA_MATH && fc_cc_major() >= 8; }

/* a counter that flips the summation order of non-deterministic algorithms
 * from call to call, so their results differ in the last bits */
static unsigned g_nondet_data, g_nondet_filter; /* one per direction */

/* the range [lo, hi) of output positions q whose input position
 * q*stride - pad + s*dil lies inside [0, len) */
static void qrange(int Q, int stride, int pad, int off, int len, int *lo, int *hi) {
    int l = 0, h = Q;
    while (l < h && l * stride - pad + off < 0) l++;
    while (h > l && (h - 1) * stride - pad + off >= len) h--;
    *lo = l;
    *hi = h;
}

/* the convolution of x with w into acc (double, N*K*P*Q) */
static void conv_fwd_core(const tdesc *xd, const float *X, const fdesc *wd, const float *W, const cdesc *c, int P, int Q,
                          double *acc) {
    int N = xd->n, C = xd->c, H = xd->hh, Wd = xd->w, K = wd->k, Cg = wd->c, R = wd->r, S = wd->s, Kg = K / c->groups;
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            int g = k / Kg;
            double *out = acc + ((size_t)n * K + k) * P * Q;
            memset(out, 0, sizeof *out * (size_t)P * Q);
            for (int cc = 0; cc < Cg; cc++) {
                int ci = g * Cg + cc;
                for (int r = 0; r < R; r++) {
                    int rr = c->mode == CONV_CONVOLUTION ? R - 1 - r : r;
                    for (int s = 0; s < S; s++) {
                        int ss = c->mode == CONV_CONVOLUTION ? S - 1 - s : s;
                        double wv = W[(((size_t)k * Cg + cc) * R + rr) * S + ss];
                        int lo, hi;
                        qrange(Q, c->v, c->pw, s * c->dw, Wd, &lo, &hi);
                        for (int p = 0; p < P; p++) {
                            int ih = p * c->u - c->ph + r * c->dh;
                            if (ih < 0 || ih >= H) continue;
                            const float *xr = X + (((size_t)n * C + ci) * H + ih) * Wd - c->pw + s * c->dw;
                            double *o = out + (size_t)p * Q;
                            for (int q = lo; q < hi; q++) o[q] += wv * xr[q * c->v];
                        }
                    }
                }
            }
        }
}

struct conv_job {
    tdesc x, y, z, b;
    fdesc w;
    cdesc c;
    const void *px, *pw, *pz, *pb;
    void *py;
    float alpha, beta, alpha2;
    int fused, relu;
    void *ws;
    size_t wsn;
};
static void run_conv_fwd(void *pl) {
    struct conv_job *j = pl;
    int tf = use_tf32(&j->c, j->x.dt);
    float *X = load_all(j->px, j->x.dt, tcount(&j->x), tf);
    float *W = load_all(j->pw, j->w.dt, fcount(&j->w), tf);
    size_t ny = tcount(&j->y);
    double *acc = malloc(ny * sizeof *acc + 1);
    if (!acc) abort();
    conv_fwd_core(&j->x, X, &j->w, W, &j->c, j->y.hh, j->y.w, acc);
    if (j->ws && j->wsn) memset(j->ws, 0xA5, j->wsn); /* scribble: the workspace is scratch */
    if (!j->fused) {
        for (size_t i = 0; i < ny; i++) blend(j->py, j->y.dt, i, j->alpha, j->beta, acc[i]);
    } else {
        /* y = act(alpha1*conv + alpha2*z + bias) */
        size_t hw = (size_t)j->y.hh * j->y.w;
        for (size_t i = 0; i < ny; i++) {
            int k = (int)((i / hw) % (size_t)j->y.c);
            double v = j->alpha * acc[i];
            if (j->alpha2 != 0) v += (double)j->alpha2 * ld(j->pz, j->z.dt, i);
            v += ld(j->pb, j->b.dt, (size_t)k);
            if (j->relu && !(v > 0)) v = v != v ? v : 0;
            st(j->py, j->y.dt, i, (float)v);
        }
    }
    free(acc);
    free(X);
    free(W);
}

/* common argument checks of the forward convolutions */
static int conv_fwd_args(const char *fn, const tdesc *xd, const void *x, const fdesc *wd, const void *w, const cdesc *cd,
                         const tdesc *yd, const void *y) {
    int n, k, p, q;
    int e = conv_shape(fn, xd, wd, cd, &n, &k, &p, &q);
    if (e) return e;
    if (yd->n != n || yd->c != k || yd->hh != p || yd->w != q)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, "%s: y is %dx%dx%dx%d, the convolution gives %dx%dx%dx%d",
                        fn, DIMS(yd), n, k, p, q);
    if (xd->dt != wd->dt || xd->dt != yd->dt)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM, "%s: x, w, y data types differ (%s, %s, %s)", fn,
                        dt_tag(xd->dt), dt_tag(wd->dt), dt_tag(yd->dt));
    if (xd->dt == DN_CUDNN_DATA_FLOAT && cd->compute != DN_CUDNN_DATA_FLOAT)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: FLOAT data needs a FLOAT computeType", fn);
    if (xd->dt == DN_CUDNN_DATA_BFLOAT16 && cd->compute != DN_CUDNN_DATA_FLOAT)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: BFLOAT16 data needs a FLOAT computeType", fn);
    e = dtype_unsupported(fn, xd->dt);
    if (e) return e;
    if (fc_check_dev(FC_LIB_CUDNN, FC_CUDNN_STATUS_EXECUTION_FAILED, fn, "x", x, tbytes(xd)) ||
        fc_check_dev(FC_LIB_CUDNN, FC_CUDNN_STATUS_EXECUTION_FAILED, fn, "w", w, fbytes(wd)) ||
        fc_check_dev(FC_LIB_CUDNN, FC_CUDNN_STATUS_EXECUTION_FAILED, fn, "y", y, tbytes(yd)))
        return FC_CUDNN_STATUS_EXECUTION_FAILED;
    return 0;
}

static int workspace_args(const char *fn, int algo, long need, void *ws, size_t wsn) {
    if (need < 0)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: algorithm %d is not supported for this configuration", fn, algo);
    if (wsn < (size_t)need)
        return fc_error(FC_LIB_CUDNN, FC_CUDNN_STATUS_BAD_PARAM,
                        "%s: workSpaceSizeInBytes %zu is smaller than the %ld bytes algorithm %d needs", fn, wsn, need,
                        algo);
    if (wsn > 0 && fc_check_dev(FC_LIB_CUDNN, FC_CUDNN_STATUS_EXECUTION_FAILED, fn, "workSpace", ws, wsn))
        return FC_CUDNN_STATUS_EXECUTION_FAILED;
    return 0;
}

dn_cudnnStatus_t cudnnConvolutionForward(dn_cudnnHandle_t ph, const void *alpha, dn_cudnnTensorDescriptor_t pxd, const void *x,
                                         dn_cudnnFilterDescriptor_t pwd, const void *w, dn_cudnnConvolutionDescriptor_t pcd,
                                         dn_cudnnConvolutionFwdAlgo_t algo, void *ws, size_t wsn, const void *beta,
                                         dn_cudnnTensorDescriptor_t pyd, void *y) {
    ENTER(cudnnConvolutionForward);
    HANDLE(h, ph);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(wd, fdesc, FC_OBJ_FILTER, pwd, "wDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    int e = conv_fwd_args(FN, xd, x, wd, w, cd, yd, y);
    if (!e) e = workspace_args(FN, algo, ws_fwd(algo, xd, wd, cd, yd->hh, yd->w), ws, wsn);
    if (e) RETURN(e);
    struct conv_job j = {.x = *xd, .y = *yd, .w = *wd, .c = *cd, .px = x, .pw = w, .py = y, .alpha = a, .beta = b, .ws = ws, .wsn = wsn};
    fc_submit(h->stream, run_conv_fwd, &j, sizeof j);
    RETURN(0);
}

dn_cudnnStatus_t cudnnConvolutionBiasActivationForward(
    dn_cudnnHandle_t ph, const void *alpha1, dn_cudnnTensorDescriptor_t pxd, const void *x, dn_cudnnFilterDescriptor_t pwd,
    const void *w, dn_cudnnConvolutionDescriptor_t pcd, dn_cudnnConvolutionFwdAlgo_t algo, void *ws, size_t wsn,
    const void *alpha2, dn_cudnnTensorDescriptor_t pzd, const void *z, dn_cudnnTensorDescriptor_t pbd, const void *bias,
    dn_cudnnActivationDescriptor_t pad, dn_cudnnTensorDescriptor_t pyd, void *y) {
    ENTER(cudnnConvolutionBiasActivationForward);
    HANDLE(h, ph);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(wd, fdesc, FC_OBJ_FILTER, pwd, "wDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(zd, tdesc, FC_OBJ_TENSOR, pzd, "zDesc", 1);
    GET(bd, tdesc, FC_OBJ_TENSOR, pbd, "biasDesc", 1);
    GET(ad, adesc, FC_OBJ_ACT, pad, "activationDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    SCALAR(a1, alpha1, "alpha1");
    SCALAR(a2, alpha2, "alpha2");
    if (fc_unsupported(FN, NULL) || fc_unsupported(FN, dt_tag(xd->dt)))
        ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: not supported for this configuration (DNNGO_FAKECUDA_UNSUPPORTED)", FN);
    /* documented: only RELU and IDENTITY; IDENTITY only with IMPLICIT_PRECOMP_GEMM */
    if (ad->mode != ACT_RELU && ad->mode != ACT_IDENTITY)
        BAD("%s: activation mode %d: only RELU and IDENTITY are allowed", FN, ad->mode);
    if (ad->mode == ACT_IDENTITY && algo != 1)
        ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: IDENTITY activation needs algorithm IMPLICIT_PRECOMP_GEMM", FN);
    int e = conv_fwd_args(FN, xd, x, wd, w, cd, yd, y);
    if (e) RETURN(e);
    if (!same_dims(zd, yd) || zd->dt != yd->dt) BAD("%s: zDesc %dx%dx%dx%d must equal yDesc %dx%dx%dx%d", FN, DIMS(zd), DIMS(yd));
    if (bd->n != 1 || bd->c != yd->c || bd->hh != 1 || bd->w != 1)
        BAD("%s: biasDesc %dx%dx%dx%d must be 1x%dx1x1", FN, DIMS(bd), yd->c);
    DEV(bias, "bias", tbytes(bd));
    DEV(z, "z", tbytes(zd));
    e = workspace_args(FN, algo, ws_fwd(algo, xd, wd, cd, yd->hh, yd->w), ws, wsn);
    if (e) RETURN(e);
    struct conv_job j = {.x = *xd, .y = *yd, .z = *zd, .b = *bd, .w = *wd, .c = *cd, .px = x, .pw = w, .pz = z, .pb = bias,
                         .py = y, .alpha = a1, .alpha2 = a2, .fused = 1, .relu = ad->mode == ACT_RELU, .ws = ws, .wsn = wsn};
    fc_submit(h->stream, run_conv_fwd, &j, sizeof j);
    RETURN(0);
}

struct bwd_job {
    tdesc dy, x; /* x: dx for backward data */
    fdesc w;
    cdesc c;
    const void *pw_or_x, *pdy;
    void *out;
    float alpha, beta;
    int nondet;
    unsigned order;
    void *ws;
    size_t wsn;
};
static void run_bwd_data(void *pl) {
    struct bwd_job *j = pl;
    int tf = use_tf32(&j->c, j->dy.dt);
    const tdesc *dx = &j->x, *dy = &j->dy;
    const fdesc *wd = &j->w;
    float *W = load_all(j->pw_or_x, wd->dt, fcount(wd), tf);
    float *DY = load_all(j->pdy, dy->dt, tcount(dy), tf);
    size_t nx = tcount(dx);
    double *acc = calloc(nx + 1, sizeof *acc);
    float *accf = calloc(nx + 1, sizeof *accf);
    if (!acc || !accf) abort();
    int N = dy->n, K = dy->c, P = dy->hh, Q = dy->w, C = dx->c, H = dx->hh, Wd = dx->w, Cg = wd->c, R = wd->r, S = wd->s;
    int Kg = K / j->c.groups, u = j->c.u, v = j->c.v;
    for (int n = 0; n < N; n++)
        for (int kk = 0; kk < K; kk++) {
            /* non-deterministic algorithms: the order over k flips per call */
            int k = (j->nondet && (j->order & 1)) ? K - 1 - kk : kk;
            int g = k / Kg;
            const float *dyk = DY + ((size_t)n * K + k) * P * Q;
            for (int cc = 0; cc < Cg; cc++) {
                int ci = g * Cg + cc;
                for (int r = 0; r < R; r++) {
                    int rr = j->c.mode == CONV_CONVOLUTION ? R - 1 - r : r;
                    for (int s = 0; s < S; s++) {
                        int ss = j->c.mode == CONV_CONVOLUTION ? S - 1 - s : s;
                        float wv = W[(((size_t)k * Cg + cc) * R + rr) * S + ss];
                        int lo, hi;
                        qrange(Q, v, j->c.pw, s * j->c.dw, Wd, &lo, &hi);
                        for (int p = 0; p < P; p++) {
                            int ih = p * u - j->c.ph + r * j->c.dh;
                            if (ih < 0 || ih >= H) continue;
                            size_t base = (((size_t)n * C + ci) * H + ih) * Wd - j->c.pw + s * j->c.dw;
                            const float *d = dyk + (size_t)p * Q;
                            if (j->nondet)
                                for (int q = lo; q < hi; q++) accf[base + (size_t)q * v] += d[q] * wv;
                            else
                                for (int q = lo; q < hi; q++) acc[base + (size_t)q * v] += (double)d[q] * wv;
                        }
                    }
                }
            }
        }
    if (j->ws && j->wsn) memset(j->ws, 0xA5, j->wsn);
    for (size_t i = 0; i < nx; i++) blend(j->out, dx->dt, i, j->alpha, j->beta, j->nondet ? accf[i] : acc[i]);
    free(acc);
    free(accf);
    free(W);
    free(DY);
}
static void run_bwd_filter(void *pl) {
    struct bwd_job *j = pl;
    int tf = use_tf32(&j->c, j->dy.dt);
    const tdesc *xd = &j->x, *dy = &j->dy;
    const fdesc *wd = &j->w;
    float *X = load_all(j->pw_or_x, xd->dt, tcount(xd), tf);
    float *DY = load_all(j->pdy, dy->dt, tcount(dy), tf);
    int N = dy->n, K = dy->c, P = dy->hh, Q = dy->w, C = xd->c, H = xd->hh, Wd = xd->w, Cg = wd->c, R = wd->r, S = wd->s;
    int Kg = K / j->c.groups, v = j->c.v;
    if (j->ws && j->wsn) memset(j->ws, 0xA5, j->wsn);
    for (int k = 0; k < K; k++) {
        int g = k / Kg;
        for (int cc = 0; cc < Cg; cc++) {
            int ci = g * Cg + cc;
            for (int r = 0; r < R; r++)
                for (int s = 0; s < S; s++) {
                    int rr = j->c.mode == CONV_CONVOLUTION ? R - 1 - r : r;
                    int ss = j->c.mode == CONV_CONVOLUTION ? S - 1 - s : s;
                    int lo, hi;
                    qrange(Q, v, j->c.pw, s * j->c.dw, Wd, &lo, &hi);
                    double sum = 0;
                    float sumf = 0;
                    for (int nn = 0; nn < N; nn++) {
                        /* non-deterministic algorithms: the order over n and p flips per call */
                        int n = (j->nondet && (j->order & 1)) ? N - 1 - nn : nn;
                        for (int pp = 0; pp < P; pp++) {
                            int p = (j->nondet && (j->order & 1)) ? P - 1 - pp : pp;
                            int ih = p * j->c.u - j->c.ph + r * j->c.dh;
                            if (ih < 0 || ih >= H) continue;
                            const float *d = DY + (((size_t)n * K + k) * P + p) * Q;
                            const float *xr = X + (((size_t)n * C + ci) * H + ih) * Wd - j->c.pw + s * j->c.dw;
                            if (j->nondet)
                                for (int q = lo; q < hi; q++) sumf += d[q] * xr[(size_t)q * v];
                            else
                                for (int q = lo; q < hi; q++) sum += (double)d[q] * xr[(size_t)q * v];
                        }
                    }
                    blend(j->out, wd->dt, (((size_t)k * Cg + cc) * R + rr) * S + ss, j->alpha, j->beta,
                          j->nondet ? sumf : sum);
                }
        }
    }
    free(X);
    free(DY);
}

dn_cudnnStatus_t cudnnConvolutionBackwardData(dn_cudnnHandle_t ph, const void *alpha, dn_cudnnFilterDescriptor_t pwd,
                                              const void *w, dn_cudnnTensorDescriptor_t pdyd, const void *dy,
                                              dn_cudnnConvolutionDescriptor_t pcd, dn_cudnnConvolutionBwdDataAlgo_t algo,
                                              void *ws, size_t wsn, const void *beta, dn_cudnnTensorDescriptor_t pdxd,
                                              void *dx) {
    ENTER(cudnnConvolutionBackwardData);
    HANDLE(h, ph);
    GET(wd, fdesc, FC_OBJ_FILTER, pwd, "wDesc", 1);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(dxd, tdesc, FC_OBJ_TENSOR, pdxd, "dxDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    /* dx plays x, dy plays y */
    int e = conv_fwd_args(FN, dxd, dx, wd, w, cd, dyd, dy);
    if (!e) e = workspace_args(FN, algo, ws_bwd_data(algo, wd), ws, wsn);
    if (e) RETURN(e);
    struct bwd_job j = {*dyd, *dxd, *wd, *cd, w, dy, dx, a, b, !bwd_data_det(algo), g_nondet_data, ws, wsn};
    if (getenv("DNNGO_FAKECUDA_VERBOSE")) fprintf(stderr, "fakecuda: %s algo %d math %d\n", FN, algo, cd->math);
    if (j.nondet) g_nondet_data++;
    fc_submit(h->stream, run_bwd_data, &j, sizeof j);
    RETURN(0);
}

dn_cudnnStatus_t cudnnConvolutionBackwardFilter(dn_cudnnHandle_t ph, const void *alpha, dn_cudnnTensorDescriptor_t pxd,
                                                const void *x, dn_cudnnTensorDescriptor_t pdyd, const void *dy,
                                                dn_cudnnConvolutionDescriptor_t pcd, dn_cudnnConvolutionBwdFilterAlgo_t algo,
                                                void *ws, size_t wsn, const void *beta, dn_cudnnFilterDescriptor_t pdwd,
                                                void *dw) {
    ENTER(cudnnConvolutionBackwardFilter);
    HANDLE(h, ph);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(dwd, fdesc, FC_OBJ_FILTER, pdwd, "dwDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    int e = conv_fwd_args(FN, xd, x, dwd, dw, cd, dyd, dy);
    if (!e) e = workspace_args(FN, algo, ws_bwd_filter(algo, dwd), ws, wsn);
    if (e) RETURN(e);
    struct bwd_job j = {*dyd, *xd, *dwd, *cd, x, dy, dw, a, b, !bwd_filter_det(algo), g_nondet_filter, ws, wsn};
    if (getenv("DNNGO_FAKECUDA_VERBOSE")) fprintf(stderr, "fakecuda: %s algo %d math %d\n", FN, algo, cd->math);
    if (j.nondet) g_nondet_filter++;
    fc_submit(h->stream, run_bwd_filter, &j, sizeof j);
    RETURN(0);
}

struct bias_job {
    tdesc dy, db;
    const void *pdy;
    void *pdb;
    float alpha, beta;
};
static void run_bwd_bias(void *pl) {
    struct bias_job *j = pl;
    const tdesc *d = &j->dy;
    size_t hw = (size_t)d->hh * d->w;
    for (int k = 0; k < d->c; k++) {
        double s = 0;
        for (int n = 0; n < d->n; n++)
            for (size_t i = 0; i < hw; i++) s += ld(j->pdy, d->dt, ((size_t)n * d->c + k) * hw + i);
        blend(j->pdb, j->db.dt, (size_t)k, j->alpha, j->beta, s);
    }
}
dn_cudnnStatus_t cudnnConvolutionBackwardBias(dn_cudnnHandle_t ph, const void *alpha, dn_cudnnTensorDescriptor_t pdyd,
                                              const void *dy, const void *beta, dn_cudnnTensorDescriptor_t pdbd, void *db) {
    ENTER(cudnnConvolutionBackwardBias);
    HANDLE(h, ph);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(dbd, tdesc, FC_OBJ_TENSOR, pdbd, "dbDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    if (dbd->n != 1 || dbd->c != dyd->c || dbd->hh != 1 || dbd->w != 1)
        BAD("%s: dbDesc %dx%dx%dx%d must be 1x%dx1x1", FN, DIMS(dbd), dyd->c);
    int e = dtype_unsupported(FN, dyd->dt);
    if (!e) e = dtype_unsupported(FN, dbd->dt);
    if (e) RETURN(e);
    DEV(dy, "dy", tbytes(dyd));
    DEV(db, "db", tbytes(dbd));
    struct bias_job j = {*dyd, *dbd, dy, db, a, b};
    fc_submit(h->stream, run_bwd_bias, &j, sizeof j);
    RETURN(0);
}

/* ---- workspace queries and Find ---- */

dn_cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(dn_cudnnHandle_t ph, dn_cudnnTensorDescriptor_t pxd,
                                                         dn_cudnnFilterDescriptor_t pwd, dn_cudnnConvolutionDescriptor_t pcd,
                                                         dn_cudnnTensorDescriptor_t pyd, dn_cudnnConvolutionFwdAlgo_t algo,
                                                         size_t *size) {
    ENTER(cudnnGetConvolutionForwardWorkspaceSize);
    GET(h, handle, FC_OBJ_CUDNN, ph, "handle", 0);
    (void)h;
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(wd, fdesc, FC_OBJ_FILTER, pwd, "wDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    if (!size) BAD("%s: sizeInBytes is NULL", FN);
    long n = ws_fwd(algo, xd, wd, cd, yd->hh, yd->w);
    if (n < 0) ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: algorithm %d is not supported for this configuration", FN, algo);
    *size = (size_t)n;
    RETURN(0);
}
dn_cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(dn_cudnnHandle_t ph, dn_cudnnFilterDescriptor_t pwd,
                                                              dn_cudnnTensorDescriptor_t pdyd, dn_cudnnConvolutionDescriptor_t pcd,
                                                              dn_cudnnTensorDescriptor_t pdxd, dn_cudnnConvolutionBwdDataAlgo_t algo,
                                                              size_t *size) {
    ENTER(cudnnGetConvolutionBackwardDataWorkspaceSize);
    GET(h, handle, FC_OBJ_CUDNN, ph, "handle", 0);
    (void)h;
    GET(wd, fdesc, FC_OBJ_FILTER, pwd, "wDesc", 1);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(dxd, tdesc, FC_OBJ_TENSOR, pdxd, "dxDesc", 1);
    (void)dyd, (void)cd, (void)dxd;
    if (!size) BAD("%s: sizeInBytes is NULL", FN);
    long n = ws_bwd_data(algo, wd);
    if (n < 0) ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: algorithm %d is not supported for this configuration", FN, algo);
    *size = (size_t)n;
    RETURN(0);
}
dn_cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(dn_cudnnHandle_t ph, dn_cudnnTensorDescriptor_t pxd,
                                                                dn_cudnnTensorDescriptor_t pdyd, dn_cudnnConvolutionDescriptor_t pcd,
                                                                dn_cudnnFilterDescriptor_t pdwd,
                                                                dn_cudnnConvolutionBwdFilterAlgo_t algo, size_t *size) {
    ENTER(cudnnGetConvolutionBackwardFilterWorkspaceSize);
    GET(h, handle, FC_OBJ_CUDNN, ph, "handle", 0);
    (void)h;
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(dwd, fdesc, FC_OBJ_FILTER, pdwd, "gradDesc", 1);
    (void)xd, (void)dyd, (void)cd;
    if (!size) BAD("%s: sizeInBytes is NULL", FN);
    long n = ws_bwd_filter(algo, dwd);
    if (n < 0) ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: algorithm %d is not supported for this configuration", FN, algo);
    *size = (size_t)n;
    RETURN(0);
}

/* One candidate of a Find: algorithm, time (invented, ms: a ranking only),
 * determinism and math type; status NOT_SUPPORTED marks a failed one. */
struct cand {
    int algo, status, det, math;
    float time;
    long mem;
};

/* Fill perf (sorted by time, failures last) from the candidates; results
 * whose workspace exceeds the one given get ALLOC_FAILED. */
static int fill_perf(struct cand *c, int nc, int req, int *ret, struct dn_cudnnAlgoPerf *perf, size_t wsn) {
    for (int i = 0; i < nc; i++)
        if (c[i].status == 0 && c[i].mem > (long)wsn) c[i].status = FC_CUDNN_STATUS_ALLOC_FAILED;
    /* stable sort: successes by time, then failures */
    for (int i = 1; i < nc; i++)
        for (int k = i; k > 0; k--) {
            struct cand *a = &c[k - 1], *b = &c[k];
            int swap = (a->status != 0 && b->status == 0) || (a->status == 0 && b->status == 0 && b->time < a->time);
            if (!swap) break;
            struct cand t = *a;
            *a = *b;
            *b = t;
        }
    int n = nc < req ? nc : req;
    for (int i = 0; i < n; i++) {
        memset(&perf[i], 0, sizeof perf[i]);
        perf[i].algo = c[i].algo;
        perf[i].status = c[i].status;
        perf[i].time = c[i].status ? -1.0f : c[i].time;
        perf[i].memory = c[i].status ? 0 : (size_t)c[i].mem;
        perf[i].determinism = c[i].det;
        perf[i].mathType = c[i].math;
    }
    *ret = n;
    return 0;
}

static void poison_output(void *p, size_t n) { memset(p, 0xff, n); }

struct poison_job {
    void *p;
    size_t n;
};
static void run_poison(void *pl) {
    struct poison_job *j = pl;
    poison_output(j->p, j->n);
}

/* Documented for the Find...AlgorithmEx calls: the output buffer's content
 * (and the workspace's) is overwritten with arbitrary values, in stream order. */
static void poison_find_buffers(const void *stream, void *out, size_t outn, void *ws, size_t wsn) {
    struct poison_job pj = {out, outn};
    fc_submit(stream, run_poison, &pj, sizeof pj);
    if (wsn) {
        struct poison_job wj = {ws, wsn};
        fc_submit(stream, run_poison, &wj, sizeof wj);
    }
}

#define FIND_COMMON(perf, req, ret)                                                          \
    if ((req) <= 0) BAD("%s: requestedAlgoCount %d must be > 0", FN, (req));                 \
    if (!(ret) || !(perf)) BAD("%s: returnedAlgoCount or perfResults is NULL", FN);          \
    if (fc_is_device(perf)) BAD("%s: perfResults must be host memory", FN)

dn_cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(dn_cudnnHandle_t ph, dn_cudnnTensorDescriptor_t pxd, const void *x,
                                                        dn_cudnnFilterDescriptor_t pwd, const void *w,
                                                        dn_cudnnConvolutionDescriptor_t pcd, dn_cudnnTensorDescriptor_t pyd,
                                                        void *y, const int req, int *ret,
                                                        dn_cudnnConvolutionFwdAlgoPerf_t *perf, void *ws, size_t wsn) {
    ENTER(cudnnFindConvolutionForwardAlgorithmEx);
    HANDLE(h, ph);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(wd, fdesc, FC_OBJ_FILTER, pwd, "wDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    FIND_COMMON(perf, req, ret);
    int e = conv_fwd_args(FN, xd, x, wd, w, cd, yd, y);
    if (e) RETURN(e);
    if (wsn > 0 && fc_check_dev(FC_LIB_CUDNN, FC_CUDNN_STATUS_EXECUTION_FAILED, FN, "workSpace", ws, wsn))
        RETURN(FC_CUDNN_STATUS_EXECUTION_FAILED);
    int m = cd->math, P = yd->hh, Q = yd->w;
    struct cand c[] = {
        /* the fastest is a DEFAULT_MATH (TF32-capable) result even under an FMA descriptor */
        {1, 0, DETERMINISTIC, DN_CUDNN_DEFAULT_MATH, 0.05f, ws_fwd(1, xd, wd, cd, P, Q)},
        {0, 0, DETERMINISTIC, m, 0.08f, ws_fwd(0, xd, wd, cd, P, Q)},
        {2, 0, DETERMINISTIC, m, 0.12f, ws_fwd(2, xd, wd, cd, P, Q)},
        {DN_CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, FC_CUDNN_STATUS_NOT_SUPPORTED, DETERMINISTIC, m, 0, 0},
    };
    fill_perf(c, 4, req, ret, perf, wsn);
    poison_find_buffers(h->stream, y, tbytes(yd), ws, wsn);
    RETURN(0);
}

dn_cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(dn_cudnnHandle_t ph, dn_cudnnFilterDescriptor_t pwd, const void *w,
                                                             dn_cudnnTensorDescriptor_t pdyd, const void *dy,
                                                             dn_cudnnConvolutionDescriptor_t pcd, dn_cudnnTensorDescriptor_t pdxd,
                                                             void *dx, const int req, int *ret,
                                                             dn_cudnnConvolutionBwdDataAlgoPerf_t *perf, void *ws, size_t wsn) {
    ENTER(cudnnFindConvolutionBackwardDataAlgorithmEx);
    HANDLE(h, ph);
    GET(wd, fdesc, FC_OBJ_FILTER, pwd, "wDesc", 1);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(dxd, tdesc, FC_OBJ_TENSOR, pdxd, "dxDesc", 1);
    FIND_COMMON(perf, req, ret);
    int e = conv_fwd_args(FN, dxd, dx, wd, w, cd, dyd, dy);
    if (e) RETURN(e);
    if (wsn > 0 && fc_check_dev(FC_LIB_CUDNN, FC_CUDNN_STATUS_EXECUTION_FAILED, FN, "workSpace", ws, wsn))
        RETURN(FC_CUDNN_STATUS_EXECUTION_FAILED);
    int m = cd->math;
    struct cand c[] = {
        /* the fastest is non-deterministic, the next a DEFAULT_MATH one */
        {0, 0, NON_DETERMINISTIC, m, 0.04f, ws_bwd_data(0, wd)},
        {1, 0, DETERMINISTIC, DN_CUDNN_DEFAULT_MATH, 0.05f, ws_bwd_data(1, wd)},
        {1, 0, DETERMINISTIC, m, 0.10f, ws_bwd_data(1, wd)},
        {DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD, FC_CUDNN_STATUS_NOT_SUPPORTED, DETERMINISTIC, m, 0, 0},
    };
    fill_perf(c, 4, req, ret, perf, wsn);
    poison_find_buffers(h->stream, dx, tbytes(dxd), ws, wsn);
    RETURN(0);
}

dn_cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(dn_cudnnHandle_t ph, dn_cudnnTensorDescriptor_t pxd, const void *x,
                                                               dn_cudnnTensorDescriptor_t pdyd, const void *dy,
                                                               dn_cudnnConvolutionDescriptor_t pcd, dn_cudnnFilterDescriptor_t pdwd,
                                                               void *dw, const int req, int *ret,
                                                               dn_cudnnConvolutionBwdFilterAlgoPerf_t *perf, void *ws, size_t wsn) {
    ENTER(cudnnFindConvolutionBackwardFilterAlgorithmEx);
    HANDLE(h, ph);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(cd, cdesc, FC_OBJ_CONV, pcd, "convDesc", 1);
    GET(dwd, fdesc, FC_OBJ_FILTER, pdwd, "dwDesc", 1);
    FIND_COMMON(perf, req, ret);
    int e = conv_fwd_args(FN, xd, x, dwd, dw, cd, dyd, dy);
    if (e) RETURN(e);
    if (wsn > 0 && fc_check_dev(FC_LIB_CUDNN, FC_CUDNN_STATUS_EXECUTION_FAILED, FN, "workSpace", ws, wsn))
        RETURN(FC_CUDNN_STATUS_EXECUTION_FAILED);
    int m = cd->math;
    struct cand c[] = {
        {3, 0, NON_DETERMINISTIC, m, 0.04f, ws_bwd_filter(3, dwd)},
        {1, 0, DETERMINISTIC, DN_CUDNN_DEFAULT_MATH, 0.05f, ws_bwd_filter(1, dwd)},
        {0, 0, NON_DETERMINISTIC, m, 0.07f, ws_bwd_filter(0, dwd)},
        {1, 0, DETERMINISTIC, m, 0.11f, ws_bwd_filter(1, dwd)},
        {DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT, FC_CUDNN_STATUS_NOT_SUPPORTED, DETERMINISTIC, m, 0, 0},
    };
    fill_perf(c, 5, req, ret, perf, wsn);
    poison_find_buffers(h->stream, dw, fbytes(dwd), ws, wsn);
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* activation                                                           */
/* ------------------------------------------------------------------ */

struct act_job {
    tdesc a, b, c, d;
    const void *p1, *p2, *p3;
    void *out;
    float alpha, beta;
};
static void run_act_fwd(void *pl) {
    struct act_job *j = pl;
    size_t n = tcount(&j->a);
    float *X = load_all(j->p1, j->a.dt, n, 0);
    for (size_t i = 0; i < n; i++) blend(j->out, j->b.dt, i, j->alpha, j->beta, X[i] > 0 ? X[i] : (X[i] != X[i] ? X[i] : 0));
    free(X);
}
dn_cudnnStatus_t cudnnActivationForward(dn_cudnnHandle_t ph, dn_cudnnActivationDescriptor_t pad, const void *alpha,
                                        dn_cudnnTensorDescriptor_t pxd, const void *x, const void *beta,
                                        dn_cudnnTensorDescriptor_t pyd, void *y) {
    ENTER(cudnnActivationForward);
    HANDLE(h, ph);
    GET(ad, adesc, FC_OBJ_ACT, pad, "activationDesc", 1);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    if (ad->mode != ACT_RELU) ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: the test double models RELU only (mode %d)", FN, ad->mode);
    if (!same_dims(xd, yd) || xd->dt != yd->dt) BAD("%s: x %dx%dx%dx%d and y %dx%dx%dx%d must match", FN, DIMS(xd), DIMS(yd));
    int e = dtype_unsupported(FN, xd->dt);
    if (e) RETURN(e);
    DEV(x, "x", tbytes(xd));
    DEV(y, "y", tbytes(yd));
    struct act_job j = {.a = *xd, .b = *yd, .p1 = x, .out = y, .alpha = a, .beta = b};
    fc_submit(h->stream, run_act_fwd, &j, sizeof j);
    RETURN(0);
}

/* ReLU'(x): dy where x > 0 (and y > 0: the y the forward produced) */
static void run_act_bwd(void *pl) {
    struct act_job *j = pl;
    size_t n = tcount(&j->a);
    float *Y = load_all(j->p1, j->a.dt, n, 0), *DY = load_all(j->p2, j->b.dt, n, 0), *X = load_all(j->p3, j->c.dt, n, 0);
    for (size_t i = 0; i < n; i++) blend(j->out, j->d.dt, i, j->alpha, j->beta, (X[i] > 0 && Y[i] > 0) ? DY[i] : 0);
    free(Y);
    free(DY);
    free(X);
}
dn_cudnnStatus_t cudnnActivationBackward(dn_cudnnHandle_t ph, dn_cudnnActivationDescriptor_t pad, const void *alpha,
                                         dn_cudnnTensorDescriptor_t pyd, const void *y, dn_cudnnTensorDescriptor_t pdyd,
                                         const void *dy, dn_cudnnTensorDescriptor_t pxd, const void *x, const void *beta,
                                         dn_cudnnTensorDescriptor_t pdxd, void *dx) {
    ENTER(cudnnActivationBackward);
    HANDLE(h, ph);
    GET(ad, adesc, FC_OBJ_ACT, pad, "activationDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(dxd, tdesc, FC_OBJ_TENSOR, pdxd, "dxDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    if (ad->mode != ACT_RELU) ERR(FC_CUDNN_STATUS_NOT_SUPPORTED, "%s: the test double models RELU only (mode %d)", FN, ad->mode);
    if (!same_dims(yd, dyd) || !same_dims(yd, xd) || !same_dims(yd, dxd))
        BAD("%s: y, dy, x, dx must have the same dims", FN);
    int e = dtype_unsupported(FN, xd->dt);
    if (e) RETURN(e);
    DEV(y, "y", tbytes(yd));
    DEV(dy, "dy", tbytes(dyd));
    DEV(x, "x", tbytes(xd));
    DEV(dx, "dx", tbytes(dxd));
    struct act_job j = {*yd, *dyd, *xd, *dxd, y, dy, x, dx, a, b};
    fc_submit(h->stream, run_act_bwd, &j, sizeof j);
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* LRN (cross channel): y = x / (k + alpha/n * sum x^2)^beta over the    */
/* window [c - floor((n-1)/2), c + n - 1 - floor((n-1)/2)]               */
/* ------------------------------------------------------------------ */

struct lrn_job {
    tdesc t[4];
    const void *p[3];
    void *out;
    ldesc l;
    float alpha, beta;
};
static void lrn_scale(const ldesc *l, const tdesc *t, const float *X, double *scale) {
    int lb = ((int)l->n - 1) / 2, la = (int)l->n - 1 - lb;
    size_t hw = (size_t)t->hh * t->w;
    for (int n = 0; n < t->n; n++)
        for (int c = 0; c < t->c; c++)
            for (size_t i = 0; i < hw; i++) {
                double s = 0;
                for (int j = c - lb; j <= c + la; j++) {
                    if (j < 0 || j >= t->c) continue;
                    double v = X[((size_t)n * t->c + j) * hw + i];
                    s += v * v;
                }
                scale[((size_t)n * t->c + c) * hw + i] = l->k + l->alpha / l->n * s;
            }
}
static void run_lrn_fwd(void *pl) {
    struct lrn_job *j = pl;
    size_t n = tcount(&j->t[0]);
    float *X = load_all(j->p[0], j->t[0].dt, n, 0);
    double *sc = malloc(n * sizeof *sc + 1);
    if (!sc) abort();
    lrn_scale(&j->l, &j->t[0], X, sc);
    for (size_t i = 0; i < n; i++) blend(j->out, j->t[1].dt, i, j->alpha, j->beta, X[i] * pow(sc[i], -j->l.beta));
    free(sc);
    free(X);
}
dn_cudnnStatus_t cudnnLRNCrossChannelForward(dn_cudnnHandle_t ph, dn_cudnnLRNDescriptor_t pl, dn_cudnnLRNMode_t mode,
                                             const void *alpha, dn_cudnnTensorDescriptor_t pxd, const void *x, const void *beta,
                                             dn_cudnnTensorDescriptor_t pyd, void *y) {
    ENTER(cudnnLRNCrossChannelForward);
    HANDLE(h, ph);
    GET(l, ldesc, FC_OBJ_LRN, pl, "normDesc", 1);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    if (mode != DN_CUDNN_LRN_CROSS_CHANNEL_DIM1) BAD("%s: lrnMode %d", FN, mode);
    if (!same_dims(xd, yd) || xd->dt != yd->dt) BAD("%s: x and y descriptors must match", FN);
    int e = dtype_unsupported(FN, xd->dt);
    if (e) RETURN(e);
    DEV(x, "x", tbytes(xd));
    DEV(y, "y", tbytes(yd));
    struct lrn_job j = {.t = {*xd, *yd}, .p = {x}, .out = y, .l = *l, .alpha = a, .beta = b};
    fc_submit(h->stream, run_lrn_fwd, &j, sizeof j);
    RETURN(0);
}
/* dx_c = dy_c * s_c^-beta - 2*beta*alpha/n * x_c * sum_{j: c in window(j)} dy_j * y_j / s_j */
static void run_lrn_bwd(void *pl) {
    struct lrn_job *j = pl;
    const tdesc *t = &j->t[2];
    size_t n = tcount(t), hw = (size_t)t->hh * t->w;
    float *Y = load_all(j->p[0], j->t[0].dt, n, 0), *DY = load_all(j->p[1], j->t[1].dt, n, 0),
          *X = load_all(j->p[2], j->t[2].dt, n, 0);
    double *sc = malloc(n * sizeof *sc + 1);
    if (!sc) abort();
    lrn_scale(&j->l, t, X, sc);
    int lb = ((int)j->l.n - 1) / 2, la = (int)j->l.n - 1 - lb;
    double coef = 2.0 * j->l.beta * j->l.alpha / j->l.n;
    for (int b = 0; b < t->n; b++)
        for (int c = 0; c < t->c; c++)
            for (size_t i = 0; i < hw; i++) {
                size_t ic = ((size_t)b * t->c + c) * hw + i;
                double s = 0;
                for (int k = c - la; k <= c + lb; k++) {
                    if (k < 0 || k >= t->c) continue;
                    size_t ik = ((size_t)b * t->c + k) * hw + i;
                    s += (double)DY[ik] * Y[ik] / sc[ik];
                }
                double v = DY[ic] * pow(sc[ic], -j->l.beta) - coef * X[ic] * s;
                blend(j->out, j->t[3].dt, ic, j->alpha, j->beta, v);
            }
    free(sc);
    free(Y);
    free(DY);
    free(X);
}
dn_cudnnStatus_t cudnnLRNCrossChannelBackward(dn_cudnnHandle_t ph, dn_cudnnLRNDescriptor_t pl, dn_cudnnLRNMode_t mode,
                                              const void *alpha, dn_cudnnTensorDescriptor_t pyd, const void *y,
                                              dn_cudnnTensorDescriptor_t pdyd, const void *dy, dn_cudnnTensorDescriptor_t pxd,
                                              const void *x, const void *beta, dn_cudnnTensorDescriptor_t pdxd, void *dx) {
    ENTER(cudnnLRNCrossChannelBackward);
    HANDLE(h, ph);
    GET(l, ldesc, FC_OBJ_LRN, pl, "normDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(dxd, tdesc, FC_OBJ_TENSOR, pdxd, "dxDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    if (mode != DN_CUDNN_LRN_CROSS_CHANNEL_DIM1) BAD("%s: lrnMode %d", FN, mode);
    if (!same_dims(yd, dyd) || !same_dims(yd, xd) || !same_dims(yd, dxd)) BAD("%s: y, dy, x, dx must have the same dims", FN);
    int e = dtype_unsupported(FN, xd->dt);
    if (e) RETURN(e);
    DEV(y, "y", tbytes(yd));
    DEV(dy, "dy", tbytes(dyd));
    DEV(x, "x", tbytes(xd));
    DEV(dx, "dx", tbytes(dxd));
    struct lrn_job j = {.t = {*yd, *dyd, *xd, *dxd}, .p = {y, dy, x}, .out = dx, .l = *l, .alpha = a, .beta = b};
    fc_submit(h->stream, run_lrn_bwd, &j, sizeof j);
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* max pooling; backward recomputes the argmax: the first window element  */
/* (row-major scan) equal to y                                            */
/* ------------------------------------------------------------------ */

struct pool_job {
    pdesc d;
    tdesc t[4];
    const void *p[3];
    void *out;
    float alpha, beta;
};
static void run_pool_fwd(void *pl) {
    struct pool_job *j = pl;
    const tdesc *x = &j->t[0], *y = &j->t[1];
    float *X = load_all(j->p[0], x->dt, tcount(x), 0);
    for (int n = 0; n < y->n; n++)
        for (int c = 0; c < y->c; c++)
            for (int p = 0; p < y->hh; p++)
                for (int q = 0; q < y->w; q++) {
                    float m = -INFINITY;
                    for (int r = 0; r < j->d.wh; r++)
                        for (int s = 0; s < j->d.ww; s++) {
                            int ih = p * j->d.sh - j->d.ph + r, iw = q * j->d.sw - j->d.pw + s;
                            if (ih < 0 || ih >= x->hh || iw < 0 || iw >= x->w) continue;
                            float v = X[(((size_t)n * x->c + c) * x->hh + ih) * x->w + iw];
                            if (v > m || v != v) m = v;
                        }
                    blend(j->out, y->dt, (((size_t)n * y->c + c) * y->hh + p) * y->w + q, j->alpha, j->beta, m);
                }
    free(X);
}
dn_cudnnStatus_t cudnnPoolingForward(dn_cudnnHandle_t ph, dn_cudnnPoolingDescriptor_t ppd, const void *alpha,
                                     dn_cudnnTensorDescriptor_t pxd, const void *x, const void *beta,
                                     dn_cudnnTensorDescriptor_t pyd, void *y) {
    ENTER(cudnnPoolingForward);
    HANDLE(h, ph);
    GET(d, pdesc, FC_OBJ_POOL, ppd, "poolingDesc", 1);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    int P, Q;
    int e = pool_shape(FN, d, xd, &P, &Q);
    if (e) RETURN(e);
    if (yd->n != xd->n || yd->c != xd->c || yd->hh != P || yd->w != Q || yd->dt != xd->dt)
        BAD("%s: y is %dx%dx%dx%d, pooling gives %dx%dx%dx%d", FN, DIMS(yd), xd->n, xd->c, P, Q);
    e = dtype_unsupported(FN, xd->dt);
    if (e) RETURN(e);
    DEV(x, "x", tbytes(xd));
    DEV(y, "y", tbytes(yd));
    struct pool_job j = {.d = *d, .t = {*xd, *yd}, .p = {x}, .out = y, .alpha = a, .beta = b};
    fc_submit(h->stream, run_pool_fwd, &j, sizeof j);
    RETURN(0);
}
static void run_pool_bwd(void *pl) {
    struct pool_job *j = pl;
    const tdesc *yd = &j->t[0], *xd = &j->t[2], *dxd = &j->t[3];
    size_t nx = tcount(xd);
    float *Y = load_all(j->p[0], yd->dt, tcount(yd), 0), *DY = load_all(j->p[1], j->t[1].dt, tcount(yd), 0),
          *X = load_all(j->p[2], xd->dt, nx, 0);
    double *acc = calloc(nx + 1, sizeof *acc);
    if (!acc) abort();
    for (int n = 0; n < yd->n; n++)
        for (int c = 0; c < yd->c; c++)
            for (int p = 0; p < yd->hh; p++)
                for (int q = 0; q < yd->w; q++) {
                    size_t iy = (((size_t)n * yd->c + c) * yd->hh + p) * yd->w + q;
                    int found = 0;
                    for (int r = 0; r < j->d.wh && !found; r++)
                        for (int s = 0; s < j->d.ww && !found; s++) {
                            int ih = p * j->d.sh - j->d.ph + r, iw = q * j->d.sw - j->d.pw + s;
                            if (ih < 0 || ih >= xd->hh || iw < 0 || iw >= xd->w) continue;
                            size_t ix = (((size_t)n * xd->c + c) * xd->hh + ih) * xd->w + iw;
                            if (X[ix] == Y[iy]) {
                                acc[ix] += DY[iy];
                                found = 1;
                            }
                        }
                }
    for (size_t i = 0; i < nx; i++) blend(j->out, dxd->dt, i, j->alpha, j->beta, acc[i]);
    free(acc);
    free(Y);
    free(DY);
    free(X);
}
dn_cudnnStatus_t cudnnPoolingBackward(dn_cudnnHandle_t ph, dn_cudnnPoolingDescriptor_t ppd, const void *alpha,
                                      dn_cudnnTensorDescriptor_t pyd, const void *y, dn_cudnnTensorDescriptor_t pdyd,
                                      const void *dy, dn_cudnnTensorDescriptor_t pxd, const void *x, const void *beta,
                                      dn_cudnnTensorDescriptor_t pdxd, void *dx) {
    ENTER(cudnnPoolingBackward);
    HANDLE(h, ph);
    GET(d, pdesc, FC_OBJ_POOL, ppd, "poolingDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    GET(dyd, tdesc, FC_OBJ_TENSOR, pdyd, "dyDesc", 1);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(dxd, tdesc, FC_OBJ_TENSOR, pdxd, "dxDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    int P, Q;
    int e = pool_shape(FN, d, xd, &P, &Q);
    if (e) RETURN(e);
    if (yd->n != xd->n || yd->c != xd->c || yd->hh != P || yd->w != Q) BAD("%s: y dims do not match pooling of x", FN);
    if (!same_dims(yd, dyd) || !same_dims(xd, dxd)) BAD("%s: dy must match y and dx must match x", FN);
    e = dtype_unsupported(FN, xd->dt);
    if (e) RETURN(e);
    DEV(y, "y", tbytes(yd));
    DEV(dy, "dy", tbytes(dyd));
    DEV(x, "x", tbytes(xd));
    DEV(dx, "dx", tbytes(dxd));
    struct pool_job j = {.d = *d, .t = {*yd, *dyd, *xd, *dxd}, .p = {y, dy, x}, .out = dx, .alpha = a, .beta = b};
    fc_submit(h->stream, run_pool_bwd, &j, sizeof j);
    RETURN(0);
}

/* ------------------------------------------------------------------ */
/* softmax                                                              */
/* ------------------------------------------------------------------ */

struct softmax_job {
    tdesc x, y;
    const void *px;
    void *py;
    int algo, mode;
    float alpha, beta;
};
static void run_softmax(void *pl) {
    struct softmax_job *j = pl;
    const tdesc *t = &j->x;
    size_t n = tcount(t);
    float *X = load_all(j->px, t->dt, n, 0);
    size_t hw = (size_t)t->hh * t->w, chw = (size_t)t->c * hw;
    /* INSTANCE: one distribution per n over C*H*W; CHANNEL: per (n, h, w) over C */
    size_t groups = j->mode == SOFTMAX_MODE_CHANNEL ? (size_t)t->n * hw : (size_t)t->n;
    size_t len = j->mode == SOFTMAX_MODE_CHANNEL ? (size_t)t->c : chw;
    for (size_t g = 0; g < groups; g++) {
        size_t base, stride;
        if (j->mode == SOFTMAX_MODE_CHANNEL)
            base = (g / hw) * chw + g % hw, stride = hw;
        else
            base = g * chw, stride = 1;
        double m = j->algo == SOFTMAX_FAST ? 0 : -INFINITY;
        if (j->algo != SOFTMAX_FAST)
            for (size_t i = 0; i < len; i++) m = fmax(m, X[base + i * stride]);
        double s = 0;
        for (size_t i = 0; i < len; i++) s += exp(X[base + i * stride] - m);
        for (size_t i = 0; i < len; i++) {
            double xv = X[base + i * stride] - m;
            double v = j->algo == DN_CUDNN_SOFTMAX_LOG ? xv - log(s) : exp(xv) / s;
            blend(j->py, j->y.dt, base + i * stride, j->alpha, j->beta, v);
        }
    }
    free(X);
}
dn_cudnnStatus_t cudnnSoftmaxForward(dn_cudnnHandle_t ph, dn_cudnnSoftmaxAlgorithm_t algo, dn_cudnnSoftmaxMode_t mode,
                                     const void *alpha, dn_cudnnTensorDescriptor_t pxd, const void *x, const void *beta,
                                     dn_cudnnTensorDescriptor_t pyd, void *y) {
    ENTER(cudnnSoftmaxForward);
    HANDLE(h, ph);
    GET(xd, tdesc, FC_OBJ_TENSOR, pxd, "xDesc", 1);
    GET(yd, tdesc, FC_OBJ_TENSOR, pyd, "yDesc", 1);
    SCALAR(a, alpha, "alpha");
    SCALAR(b, beta, "beta");
    if (algo < 0 || algo > 2) BAD("%s: algorithm %d is not a cudnnSoftmaxAlgorithm_t", FN, algo);
    if (mode != 0 && mode != 1) BAD("%s: mode %d is not a cudnnSoftmaxMode_t", FN, mode);
    if (!same_dims(xd, yd) || xd->dt != yd->dt) BAD("%s: x and y descriptors must match", FN);
    int e = dtype_unsupported(FN, xd->dt);
    if (e) RETURN(e);
    DEV(x, "x", tbytes(xd));
    DEV(y, "y", tbytes(yd));
    struct softmax_job j = {*xd, *yd, x, y, algo, mode, a, b};
    fc_submit(h->stream, run_softmax, &j, sizeof j);
    RETURN(0);
}
