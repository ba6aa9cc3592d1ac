/*
 * fc_selftest.c — checks dnngo's CUDA/cuDNN/cuBLAS TEST DOUBLE directly
 * (not a GPU; see README.md). Usage: fc_selftest DIR, where DIR holds the
 * built libcuda.so.1, libcudnn.so.9, libcublas.so.13. Run by
 * backend/cudnn's TestFakeCUDASelfTest in both execution modes. Prints one
 * line per failed check and "PASS" or "FAIL n" at the end.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnngo_cuda.h"

#define FIELD(ret, name, params) dn_pfn_##name name;
static struct {
    DN_CUDA_FUNCS(FIELD) DN_CUDNN_FUNCS(FIELD) DN_CUBLAS_FUNCS(FIELD)
} L;
#undef FIELD

static int (*live)(long long *, int);
static int (*configure)(const char *, const char *, const char *);
static const char *(*last_error)(void);
static int failures;
static int deferred;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            failures++;                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);    \
            printf(__VA_ARGS__);                           \
            printf("\n");                                  \
        }                                                  \
    } while (0)

static void *open_lib(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("FAIL dlopen %s: %s\n", path, dlerror());
        exit(2);
    }
    return h;
}

static float h2f(uint16_t h) {
    /* an independent decoder: value = (-1)^s * 2^(e-15) * (1 + m/1024) */
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
    return (float)(s ? -v : v);
}


static dn_CUstream stream;
static dn_cudnnHandle_t dnn;
static dn_cublasHandle_t blas;

static float *dalloc(size_t n) {
    dn_CUdeviceptr p = 0;
    int r = L.cuMemAlloc_v2(&p, n * 4);
    CHECK(r == 0, "cuMemAlloc_v2(%zu floats) = %d", n, r);
    return (float *)(uintptr_t)p;
}
static void dfree(void *p) { CHECK(L.cuMemFree_v2((dn_CUdeviceptr)(uintptr_t)p) == 0, "cuMemFree_v2"); }
static void up(float *d, const float *h, size_t n) {
    CHECK(L.cuMemcpyHtoDAsync_v2((dn_CUdeviceptr)(uintptr_t)d, h, n * 4, stream) == 0, "HtoD");
}
static void down(float *h, const float *d, size_t n) {
    CHECK(L.cuMemcpyDtoHAsync_v2(h, (dn_CUdeviceptr)(uintptr_t)d, n * 4, stream) == 0, "DtoH");
    CHECK(L.cuStreamSynchronize(stream) == 0, "sync");
}
static dn_cudnnTensorDescriptor_t tensor(int dt, int n, int c, int h, int w) {
    dn_cudnnTensorDescriptor_t t;
    CHECK(L.cudnnCreateTensorDescriptor(&t) == 0, "create tensor");
    CHECK(L.cudnnSetTensor4dDescriptor(t, DN_CUDNN_TENSOR_NCHW, dt, n, c, h, w) == 0, "set tensor");
    return t;
}
static double relerr(const float *a, const double *b, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
    return sqrt(num / (den > 0 ? den : 1));
}
static unsigned rng = 12345;
static float frand(void) {
    rng = rng * 1103515245u + 12345u;
    return ((rng >> 8) & 0xffff) / 32768.0f - 1.0f + 1e-3f * ((rng >> 4) & 15);
}

static void test_identity(void) {
    char name[128];
    CHECK(L.cuDeviceGetName(name, sizeof name, 0) == 0 && strstr(name, "test double (not a GPU)"), "device name %s", name);
}

static void test_memory_checks(void) {
    float host[16] = {0};
    float *d = dalloc(16);
    float *small = dalloc(4);
    const char *s = NULL;
    /* host pointer where device memory is expected */
    int r = L.cuMemcpyDtoDAsync_v2((dn_CUdeviceptr)(uintptr_t)host, (dn_CUdeviceptr)(uintptr_t)d, 64, stream);
    CHECK(r == 1, "DtoD from host pointer: %d, want CUDA_ERROR_INVALID_VALUE", r);
    L.cuGetErrorString(r, &s);
    CHECK(s && strstr(s, "host pointer"), "cuGetErrorString names the host pointer: %s", s ? s : "(null)");
    /* too short */
    r = L.cuMemcpyHtoDAsync_v2((dn_CUdeviceptr)(uintptr_t)small, host, 64, stream);
    CHECK(r == 1, "HtoD of 64 bytes into 16: %d", r);
    CHECK(strstr(last_error(), "needs 64 bytes"), "message: %s", last_error());
    /* cuDNN: tensor bigger than the buffer */
    dn_cudnnTensorDescriptor_t t = tensor(DN_CUDNN_DATA_FLOAT, 1, 1, 4, 4);
    float one = 1, zero = 0;
    r = L.cudnnAddTensor(dnn, &one, t, small, &zero, t, d);
    CHECK(r == 5000, "cudnnAddTensor with short A: %d", r);
    char msg[512];
    L.cudnnGetLastErrorString(msg, sizeof msg);
    CHECK(strstr(msg, "cudnnAddTensor") && strstr(msg, "A"), "cudnnGetLastErrorString: %s", msg);
    r = L.cudnnAddTensor(dnn, &one, t, host, &zero, t, d);
    CHECK(r == 5000, "cudnnAddTensor with host A: %d", r);
    /* alpha in device memory is refused (cuDNN reads scaling factors from the host) */
    r = L.cudnnAddTensor(dnn, d, t, d, &zero, t, d);
    CHECK(r == 2000, "device alpha: %d", r);
    /* freed */
    dfree(small);
    r = L.cudnnAddTensor(dnn, &one, t, d, &zero, t, small);
    CHECK(r == 5000 && strstr(last_error(), "freed"), "freed C: %d %s", r, last_error());
    r = L.cuMemFree_v2((dn_CUdeviceptr)(uintptr_t)small);
    CHECK(r == 1 && strstr(last_error(), "double free"), "double free: %d %s", r, last_error());
    /* cuBLAS: ld x cols extent */
    r = L.cublasSgemm_v2(blas, DN_CUBLAS_OP_N, DN_CUBLAS_OP_N, 4, 4, 4, &one, d, 4, d, 4, &zero, d, 5);
    CHECK(r == 13, "Sgemm with ldc 5 over a 16-float buffer: %d", r);
    L.cudnnDestroyTensorDescriptor(t);
    dfree(d);
}

static void test_object_checks(void) {
    dn_cudnnTensorDescriptor_t t, u;
    L.cudnnCreateTensorDescriptor(&t);
    u = tensor(DN_CUDNN_DATA_FLOAT, 1, 1, 1, 4);
    float *d = dalloc(4);
    float one = 1, zero = 0;
    int r = L.cudnnAddTensor(dnn, &one, t, d, &zero, u, d);
    CHECK(r == 2000 && strstr(last_error(), "before it was set"), "descriptor before set: %d %s", r, last_error());
    L.cudnnDestroyTensorDescriptor(t);
    r = L.cudnnAddTensor(dnn, &one, t, d, &zero, u, d);
    CHECK(r == 2000 && strstr(last_error(), "destroyed"), "after destroy: %d %s", r, last_error());
    /* a handle with no stream */
    dn_cudnnHandle_t h2;
    L.cudnnCreate(&h2);
    r = L.cudnnAddTensor(h2, &one, u, d, &zero, u, d);
    CHECK(r == 2000 && strstr(last_error(), "no stream"), "unbound stream: %d %s", r, last_error());
    L.cudnnDestroy(h2);
    /* workspace smaller than reported */
    dn_cudnnTensorDescriptor_t x = tensor(DN_CUDNN_DATA_FLOAT, 1, 2, 5, 5), y = tensor(DN_CUDNN_DATA_FLOAT, 1, 3, 3, 3);
    dn_cudnnFilterDescriptor_t w;
    L.cudnnCreateFilterDescriptor(&w);
    L.cudnnSetFilter4dDescriptor(w, DN_CUDNN_DATA_FLOAT, DN_CUDNN_TENSOR_NCHW, 3, 2, 3, 3);
    dn_cudnnConvolutionDescriptor_t c;
    L.cudnnCreateConvolutionDescriptor(&c);
    L.cudnnSetConvolution2dDescriptor(c, 0, 0, 1, 1, 1, 1, DN_CUDNN_CROSS_CORRELATION, DN_CUDNN_DATA_FLOAT);
    size_t need = 0;
    CHECK(L.cudnnGetConvolutionForwardWorkspaceSize(dnn, x, w, c, y, 2, &need) == 0 && need > 4, "ws size %zu", need);
    float *dx = dalloc(50), *dw = dalloc(54), *dy = dalloc(27), *ws = dalloc(need / 4 + 1);
    r = L.cudnnConvolutionForward(dnn, &one, x, dx, w, dw, c, 2, ws, need - 4, &zero, y, dy);
    CHECK(r == 2000 && strstr(last_error(), "workSpaceSizeInBytes"), "short workspace: %d %s", r, last_error());
    r = L.cudnnConvolutionForward(dnn, &one, x, dx, w, dw, c, 2, ws, need, &zero, y, dy);
    CHECK(r == 0, "conv with the reported workspace: %d %s", r, last_error());
    L.cuStreamSynchronize(stream);
    /* Find: several results, a DEFAULT_MATH one under an FMA descriptor,
     * a NOT_SUPPORTED one, determinism flags as documented */
    L.cudnnSetConvolutionMathType(c, DN_CUDNN_FMA_MATH);
    struct dn_cudnnAlgoPerf perf[8];
    int n = 0;
    r = L.cudnnFindConvolutionForwardAlgorithmEx(dnn, x, dx, w, dw, c, y, dy, 8, &n, perf, ws, need);
    CHECK(r == 0 && n >= 4, "find fwd: %d n=%d", r, n);
    int dflt = 0, unsup = 0;
    for (int i = 0; i < n; i++) {
        if (perf[i].status == 0 && perf[i].mathType == DN_CUDNN_DEFAULT_MATH) dflt++;
        if (perf[i].status == DN_CUDNN_STATUS_NOT_SUPPORTED) unsup++;
    }
    CHECK(dflt == 1 && unsup == 1, "find fwd: %d DEFAULT_MATH results, %d NOT_SUPPORTED", dflt, unsup);
    CHECK(perf[0].mathType == DN_CUDNN_DEFAULT_MATH, "the fastest result is the TF32-capable one");
    r = L.cudnnFindConvolutionBackwardFilterAlgorithmEx(dnn, x, dx, y, dy, c, w, dw, 8, &n, perf, ws, need);
    int nondet = 0;
    for (int i = 0; i < n; i++)
        if (perf[i].status != DN_CUDNN_STATUS_NOT_SUPPORTED && perf[i].determinism != DN_CUDNN_DETERMINISTIC) {
            nondet++;
            CHECK(perf[i].algo == 0 || perf[i].algo == 3, "non-deterministic bwd filter algo %d", perf[i].algo);
        }
    CHECK(r == 0 && nondet == 2, "find bwd filter: %d, %d non-deterministic", r, nondet);
    L.cuStreamSynchronize(stream);
    dfree(dx), dfree(dw), dfree(dy), dfree(ws), dfree(d);
    L.cudnnDestroyTensorDescriptor(x), L.cudnnDestroyTensorDescriptor(y), L.cudnnDestroyTensorDescriptor(u);
    L.cudnnDestroyFilterDescriptor(w), L.cudnnDestroyConvolutionDescriptor(c);
}

/* deferred mode: a DtoH into pinned memory is not there before a sync; a
 * pinned staging buffer rewritten before the copy runs uploads the new bytes */
static void test_async(void) {
    float *d = dalloc(4), *pin = NULL, *out = NULL;
    CHECK(L.cuMemAllocHost_v2((void **)&pin, 16) == 0 && L.cuMemAllocHost_v2((void **)&out, 16) == 0, "pinned");
    for (int i = 0; i < 4; i++) pin[i] = (float)i, out[i] = -1;
    L.cuMemcpyHtoDAsync_v2((dn_CUdeviceptr)(uintptr_t)d, pin, 16, stream);
    pin[0] = 42; /* reuse of the staging buffer before the copy completed */
    L.cuMemcpyDtoHAsync_v2(out, (dn_CUdeviceptr)(uintptr_t)d, 16, stream);
    if (deferred) {
        CHECK(out[0] == -1, "deferred: DtoH destination read before sync holds old data, got %g", out[0]);
    } else {
        CHECK(out[0] == 0 && out[3] == 3, "immediate: DtoH done at once, got %g %g", out[0], out[3]);
    }
    dn_CUevent ev;
    L.cuEventCreate(&ev, DN_CU_EVENT_DISABLE_TIMING);
    L.cuEventRecord(ev, stream);
    L.cuEventSynchronize(ev);
    CHECK(out[0] == (deferred ? 42 : 0) && out[3] == 3, "after the event: %g %g", out[0], out[3]);
    L.cuEventDestroy_v2(ev);
    L.cuMemFreeHost(pin), L.cuMemFreeHost(out);
    dfree(d);
}

static void test_math(void) {
    /* conv with groups, stride, padding against a float64 loop here */
    int N = 2, C = 4, H = 7, W = 6, K = 6, G = 2, R = 3, S = 2, ph = 1, pw = 1, u = 2, v = 1;
    int Cg = C / G, P = 1 + (H + 2 * ph - R) / u, Q = 1 + (W + 2 * pw - S) / v;
    int nx = N * C * H * W, nw = K * Cg * R * S, ny = N * K * P * Q;
    float *hx = malloc(nx * 4), *hw = malloc(nw * 4), *hy = malloc(ny * 4);
    double *ref = calloc(ny, 8);
    for (int i = 0; i < nx; i++) hx[i] = frand();
    for (int i = 0; i < nw; i++) hw[i] = frand();
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++) {
                    double s = 0;
                    int g = k / (K / G);
                    for (int c = 0; c < Cg; c++)
                        for (int r = 0; r < R; r++)
                            for (int t = 0; t < S; t++) {
                                int ih = p * u - ph + r, iw = q * v - pw + t;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                s += (double)hx[((n * C + g * Cg + c) * H + ih) * W + iw] * hw[((k * Cg + c) * R + r) * S + t];
                            }
                    ref[((n * K + k) * P + p) * Q + q] = s;
                }
    dn_cudnnTensorDescriptor_t xd = tensor(DN_CUDNN_DATA_FLOAT, N, C, H, W), yd = tensor(DN_CUDNN_DATA_FLOAT, N, K, P, Q);
    dn_cudnnFilterDescriptor_t wd;
    L.cudnnCreateFilterDescriptor(&wd);
    L.cudnnSetFilter4dDescriptor(wd, DN_CUDNN_DATA_FLOAT, DN_CUDNN_TENSOR_NCHW, K, Cg, R, S);
    dn_cudnnConvolutionDescriptor_t cd;
    L.cudnnCreateConvolutionDescriptor(&cd);
    L.cudnnSetConvolution2dDescriptor(cd, ph, pw, u, v, 1, 1, DN_CUDNN_CROSS_CORRELATION, DN_CUDNN_DATA_FLOAT);
    L.cudnnSetConvolutionGroupCount(cd, G);
    int n, c, h, w;
    CHECK(L.cudnnGetConvolution2dForwardOutputDim(cd, xd, wd, &n, &c, &h, &w) == 0 && n == N && c == K && h == P && w == Q,
          "output dim %d %d %d %d", n, c, h, w);
    float *dx = dalloc(nx), *dw = dalloc(nw), *dy = dalloc(ny);
    up(dx, hx, nx), up(dw, hw, nw);
    float one = 1, zero = 0;
    L.cudnnSetConvolutionMathType(cd, DN_CUDNN_FMA_MATH);
    CHECK(L.cudnnConvolutionForward(dnn, &one, xd, dx, wd, dw, cd, 0, NULL, 0, &zero, yd, dy) == 0, "conv: %s", last_error());
    down(hy, dy, ny);
    double e_fma = relerr(hy, ref, ny);
    CHECK(e_fma < 1e-6, "FMA conv rel err %g", e_fma);
    L.cudnnSetConvolutionMathType(cd, DN_CUDNN_DEFAULT_MATH);
    CHECK(L.cudnnConvolutionForward(dnn, &one, xd, dx, wd, dw, cd, 0, NULL, 0, &zero, yd, dy) == 0, "conv tf32");
    down(hy, dy, ny);
    double e_tf = relerr(hy, ref, ny);
    CHECK(e_tf > 1e-5 && e_tf < 3e-3, "TF32 conv rel err %g: must differ from FP32 and stay near", e_tf);

    /* Sgemm column-major with transposes: C(m x n) = A^T(m x k) * B(k x n) */
    int M = 3, Nn = 2, Kk = 4;
    float A[12], B[8], Cm[6];
    for (int i = 0; i < 12; i++) A[i] = (float)(i + 1);
    for (int i = 0; i < 8; i++) B[i] = (float)(i % 3 - 1);
    double cref[6];
    for (int j = 0; j < Nn; j++)
        for (int i = 0; i < M; i++) {
            double s = 0;
            for (int l = 0; l < Kk; l++) s += (double)A[l + i * Kk] * B[l + j * Kk]; /* A stored k x m, lda = k */
            cref[i + j * M] = s;
        }
    float *dA = dalloc(12), *dB = dalloc(8), *dC = dalloc(6);
    up(dA, A, 12), up(dB, B, 8);
    CHECK(L.cublasSgemm_v2(blas, DN_CUBLAS_OP_T, DN_CUBLAS_OP_N, M, Nn, Kk, &one, dA, Kk, dB, Kk, &zero, dC, M) == 0, "sgemm");
    down(Cm, dC, 6);
    CHECK(relerr(Cm, cref, 6) < 1e-7, "Sgemm T,N rel err %g", relerr(Cm, cref, 6));
    /* dot in both pointer modes */
    float dot = 0;
    CHECK(L.cublasSdot_v2(blas, 8, dB, 1, dB, 1, &dot) == 0 && dot == 5.0f, "dot host mode = %g", dot);
    L.cublasSetPointerMode_v2(blas, DN_CUBLAS_POINTER_MODE_DEVICE);
    CHECK(L.cublasSdot_v2(blas, 8, dB, 1, dB, 1, dC) == 0, "dot device mode");
    CHECK(L.cublasSdot_v2(blas, 8, dB, 1, dB, 1, &dot) != 0, "device mode with a host result is refused");
    L.cublasSetPointerMode_v2(blas, DN_CUBLAS_POINTER_MODE_HOST);
    down(Cm, dC, 1);
    CHECK(Cm[0] == 5.0f, "device-mode dot result %g", Cm[0]);

    /* float -> half / bf16 round to nearest even through cudnnTransformTensor */
    float vals[8] = {1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, 65519.0f, 65520.0f, 5.96e-8f, 1.0f + 1.0f / 256, 1.0f + 3.0f / 256, -0.0f};
    dn_cudnnTensorDescriptor_t fd = tensor(DN_CUDNN_DATA_FLOAT, 1, 1, 1, 8), hd = tensor(DN_CUDNN_DATA_HALF, 1, 1, 1, 8),
                               bd = tensor(DN_CUDNN_DATA_BFLOAT16, 1, 1, 1, 8);
    float *dv = dalloc(8), *dh = dalloc(4), *db16 = dalloc(4);
    up(dv, vals, 8);
    CHECK(L.cudnnTransformTensor(dnn, &one, fd, dv, &zero, hd, dh) == 0, "to half");
    CHECK(L.cudnnTransformTensor(dnn, &one, fd, dv, &zero, bd, db16) == 0, "to bf16");
    uint16_t hh[8], bb[8];
    down((float *)hh, dh, 4), down((float *)bb, db16, 4);
    CHECK(h2f(hh[0]) == 1.0f, "half(1+2^-11) ties to even 1, got %.9g", h2f(hh[0]));
    CHECK(h2f(hh[1]) == 1.0f + 2.0f / 1024, "half(1+3*2^-11) ties up to 1+2^-9, got %.9g", h2f(hh[1]));
    CHECK(h2f(hh[2]) == 65504.0f && isinf(h2f(hh[3])), "half overflow boundary: %g %g", h2f(hh[2]), h2f(hh[3]));
    CHECK(h2f(hh[4]) == ldexpf(1, -24), "half subnormal %g", h2f(hh[4]));
    CHECK(bb[5] == 0x3f80 && bb[6] == 0x3f82, "bf16 ties to even: %#x %#x", bb[5], bb[6]);

    /* LRN with cuDNN's formula: y = x / (k + alpha/n * sum x^2)^beta, window
     * [c - floor((n-1)/2), c + n - 1 - floor((n-1)/2)] */
    float lx[4] = {1, 2, 3, 4}, ly[4];
    dn_cudnnTensorDescriptor_t ld4 = tensor(DN_CUDNN_DATA_FLOAT, 1, 4, 1, 1);
    dn_cudnnLRNDescriptor_t lrn;
    L.cudnnCreateLRNDescriptor(&lrn);
    CHECK(L.cudnnSetLRNDescriptor(lrn, 2, 0.5, 0.75, 2.0) == 0, "set lrn");
    float *dl = dalloc(4), *dly = dalloc(4);
    up(dl, lx, 4);
    CHECK(L.cudnnLRNCrossChannelForward(dnn, lrn, 0, &one, ld4, dl, &zero, ld4, dly) == 0, "lrn");
    down(ly, dly, 4);
    /* n=2: lookBehind 0, lookAhead 1: channel 0 sums x0^2 + x1^2 = 5 */
    double want0 = 1.0 / pow(2.0 + 0.25 * 5, 0.75), want3 = 4.0 / pow(2.0 + 0.25 * 16, 0.75);
    CHECK(fabs(ly[0] - want0) < 1e-6 && fabs(ly[3] - want3) < 1e-6, "lrn %g %g want %g %g", ly[0], ly[3], want0, want3);

    /* log softmax, instance mode */
    float sx[3] = {1, 2, 3}, sy[3];
    dn_cudnnTensorDescriptor_t sd = tensor(DN_CUDNN_DATA_FLOAT, 1, 3, 1, 1);
    float *ds = dalloc(3), *dsy = dalloc(3);
    up(ds, sx, 3);
    CHECK(L.cudnnSoftmaxForward(dnn, DN_CUDNN_SOFTMAX_LOG, DN_CUDNN_SOFTMAX_MODE_INSTANCE, &one, sd, ds, &zero, sd, dsy) == 0, "softmax");
    down(sy, dsy, 3);
    double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
    CHECK(fabs(sy[2] - (3 - lse)) < 1e-6, "log softmax %g want %g", sy[2], 3 - lse);

    dfree(dx), dfree(dw), dfree(dy), dfree(dA), dfree(dB), dfree(dC), dfree(dv), dfree(dh), dfree(db16);
    dfree(dl), dfree(dly), dfree(ds), dfree(dsy);
    L.cudnnDestroyTensorDescriptor(xd), L.cudnnDestroyTensorDescriptor(yd), L.cudnnDestroyTensorDescriptor(fd);
    L.cudnnDestroyTensorDescriptor(hd), L.cudnnDestroyTensorDescriptor(bd), L.cudnnDestroyTensorDescriptor(ld4);
    L.cudnnDestroyTensorDescriptor(sd), L.cudnnDestroyFilterDescriptor(wd), L.cudnnDestroyConvolutionDescriptor(cd);
    L.cudnnDestroyLRNDescriptor(lrn);
    free(hx), free(hw), free(hy), free(ref);
}

static void test_faults(void) {
    configure(NULL, "cuMemAlloc_v2:2,cudnnAddTensor:1:3000", NULL);
    dn_CUdeviceptr a = 0, b = 0;
    CHECK(L.cuMemAlloc_v2(&a, 64) == 0, "first alloc succeeds");
    int r = L.cuMemAlloc_v2(&b, 64);
    CHECK(r == 2, "second alloc: %d, want CUDA_ERROR_OUT_OF_MEMORY", r);
    CHECK(strstr(last_error(), "injected"), "message %s", last_error());
    dn_cudnnTensorDescriptor_t t = tensor(DN_CUDNN_DATA_FLOAT, 1, 1, 1, 16);
    float one = 1;
    r = L.cudnnAddTensor(dnn, &one, t, (void *)(uintptr_t)a, &one, t, (void *)(uintptr_t)a);
    CHECK(r == 3000, "injected NOT_SUPPORTED: %d", r);
    L.cudnnDestroyTensorDescriptor(t);
    L.cuMemFree_v2(a);
    configure(NULL, "", NULL);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fc_selftest DIR\n");
        return 2;
    }
    void *cu = open_lib(argv[1], "libcuda.so.1"), *dn = open_lib(argv[1], "libcudnn.so.9"),
         *bl = open_lib(argv[1], "libcublas.so.13");
#define LCU(ret, name, params) L.name = (dn_pfn_##name)dlsym(cu, #name); if (!L.name) { printf("FAIL missing %s\n", #name); return 2; }
#define LDN(ret, name, params) L.name = (dn_pfn_##name)dlsym(dn, #name); if (!L.name) { printf("FAIL missing %s\n", #name); return 2; }
#define LBL(ret, name, params) L.name = (dn_pfn_##name)dlsym(bl, #name); if (!L.name) { printf("FAIL missing %s\n", #name); return 2; }
    DN_CUDA_FUNCS(LCU)
    DN_CUDNN_FUNCS(LDN)
    DN_CUBLAS_FUNCS(LBL)
    live = (int (*)(long long *, int))dlsym(cu, "dnngo_fakecuda_live");
    configure = (int (*)(const char *, const char *, const char *))dlsym(cu, "dnngo_fakecuda_configure");
    last_error = (const char *(*)(void))dlsym(cu, "dnngo_fakecuda_last_error");
    CHECK(live && configure && last_error && dlsym(cu, "dnngo_fakecuda_test_double"), "extra symbols");
    const char *m = getenv("DNNGO_FAKECUDA_MODE");
    deferred = m && strcmp(m, "deferred") == 0;

    dn_CUdeviceptr p;
    CHECK(L.cuMemAlloc_v2(&p, 4) == 3, "cuMemAlloc_v2 before cuInit: CUDA_ERROR_NOT_INITIALIZED");
    CHECK(L.cuInit(0) == 0, "cuInit");
    dn_CUcontext ctx;
    CHECK(L.cuDevicePrimaryCtxRetain(&ctx, 0) == 0, "retain");
    CHECK(L.cuMemAlloc_v2(&p, 4) == 201, "cuMemAlloc_v2 without a current context: CUDA_ERROR_INVALID_CONTEXT");
    CHECK(L.cuCtxSetCurrent(ctx) == 0, "set current");
    CHECK(L.cuStreamCreate(&stream, DN_CU_STREAM_NON_BLOCKING) == 0, "stream");
    CHECK(L.cudnnCreate(&dnn) == 0 && L.cudnnSetStream(dnn, stream) == 0, "cudnn handle");
    CHECK(L.cublasCreate_v2(&blas) == 0 && L.cublasSetStream_v2(blas, stream) == 0, "cublas handle");

    test_identity();
    test_memory_checks();
    test_object_checks();
    test_async();
    test_math();
    test_faults();

    L.cublasDestroy_v2(blas);
    L.cudnnDestroy(dnn);
    L.cuStreamDestroy_v2(stream);
    L.cuDevicePrimaryCtxRelease_v2(0);
    long long counts[9];
    live(counts, 9);
    for (int i = 0; i < 8; i++) CHECK(counts[i] == 0, "live count %d = %lld after teardown", i, counts[i]);
    if (failures) {
        printf("FAIL %d\n", failures);
        return 1;
    }
    printf("PASS\n");
    return 0;
}
