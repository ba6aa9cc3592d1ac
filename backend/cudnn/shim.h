// shim.h: the C side of backend/cudnn. The function table filled by dlsym
// at Open, and one small wrapper per GPU step, each of which makes the
// backend's context current first (Go moves goroutines between OS
// threads) and, on failure, records the library, the status code, the
// function and the vendor's own message in the context's dn_err.
#ifndef DNNGO_CUDNN_SHIM_H
#define DNNGO_CUDNN_SHIM_H

#include <stddef.h>
#include "dnngo_cuda.h"

typedef dn_CUdeviceptr dn_dptr;

#define DN_TABLE_FIELD(ret, name, params) dn_pfn_##name name;
typedef struct dn_table {
    DN_CUDA_FUNCS(DN_TABLE_FIELD)
    DN_CUDNN_FUNCS(DN_TABLE_FIELD)
    DN_CUBLAS_FUNCS(DN_TABLE_FIELD)
} dn_table;
#undef DN_TABLE_FIELD

enum { DN_LIB_SHIM = 0, DN_LIB_CUDA = 1, DN_LIB_CUDNN = 2, DN_LIB_CUBLAS = 3 };

typedef struct dn_err {
    int lib, code;
    char fn[64];
    char msg[1024];
} dn_err;

typedef struct dn_ctx {
    dn_CUdevice dev;
    dn_CUcontext ctx;
    dn_CUstream stream;
    dn_cudnnHandle_t dnn;
    dn_cublasHandle_t blas;
    dn_cudnnActivationDescriptor_t relu;
    int retained;
    int blas_device; /* the cuBLAS handle may be in device pointer mode */
    dn_err err;
    char name[256];
    char pci[64];
    size_t total_mem;
    int cc_major, cc_minor;
} dn_ctx;

/* Loading (no context needed). */
void *dn_dlopen(const char *path, int global, char *err, size_t errlen);
const char *dn_resolve(dn_table *t, int lib, void *handle);
int dn_lib_path(void *sym, char *out, size_t len);
dn_table *dn_global_table(void);
dn_table *dn_table_new(void);
void dn_table_free(dn_table *t);
size_t dn_table_cudnn_version(dn_table *t);
size_t dn_table_cudnn_cudart(dn_table *t);
int dn_table_cublas_version(dn_table *t, int *major, int *minor, int *patch);
int dn_table_driver_version(dn_table *t, int *v);
void *dn_table_sym(dn_table *t, int which);

/* Backend lifetime. */
int dn_init(dn_ctx *c, int *count);
int dn_open(dn_ctx *c, int ordinal, int blas_math);
void dn_close(dn_ctx *c);
int dn_mem_info(dn_ctx *c, size_t *free_b, size_t *total_b);
int dn_set_log(dn_ctx *c, unsigned mask, void *udata);

/* Memory and ordering. */
int dn_malloc(dn_ctx *c, size_t bytes, dn_dptr *p);
int dn_free(dn_ctx *c, dn_dptr p);
int dn_host_alloc(dn_ctx *c, size_t bytes, void **p);
int dn_host_free(dn_ctx *c, void *p);
int dn_event_create(dn_ctx *c, dn_CUevent *e);
int dn_event_record(dn_ctx *c, dn_CUevent e);
int dn_event_sync(dn_ctx *c, dn_CUevent e);
int dn_event_destroy(dn_ctx *c, dn_CUevent e);
int dn_upload(dn_ctx *c, dn_dptr dst, const void *pinned, size_t bytes);
int dn_download(dn_ctx *c, void *dst, dn_dptr src, size_t bytes);
int dn_copy(dn_ctx *c, dn_dptr dst, dn_dptr src, size_t bytes);
int dn_zero(dn_ctx *c, dn_dptr p, size_t words);
int dn_sync(dn_ctx *c);

/* Descriptors. */
int dn_tensor_desc(dn_ctx *c, dn_cudnnTensorDescriptor_t *d, int dtype, int n, int ch, int h, int w);
void dn_tensor_desc_destroy(dn_ctx *c, dn_cudnnTensorDescriptor_t d);
int dn_filter_desc(dn_ctx *c, dn_cudnnFilterDescriptor_t *d, int dtype, int k, int ch, int h, int w);
void dn_filter_desc_destroy(dn_ctx *c, dn_cudnnFilterDescriptor_t d);
int dn_conv_desc(dn_ctx *c, dn_cudnnConvolutionDescriptor_t *d, int ph, int pw, int sh, int sw, int groups,
                 int math, int compute);
int dn_conv_set_math(dn_ctx *c, dn_cudnnConvolutionDescriptor_t d, int math);
void dn_conv_desc_destroy(dn_ctx *c, dn_cudnnConvolutionDescriptor_t d);
int dn_conv_out_dim(dn_ctx *c, dn_cudnnConvolutionDescriptor_t cd, dn_cudnnTensorDescriptor_t xd,
                    dn_cudnnFilterDescriptor_t wd, int *out);
int dn_pool_desc(dn_ctx *c, dn_cudnnPoolingDescriptor_t *d, int kh, int kw, int ph, int pw, int sh, int sw);
void dn_pool_desc_destroy(dn_ctx *c, dn_cudnnPoolingDescriptor_t d);
int dn_pool_out_dim(dn_ctx *c, dn_cudnnPoolingDescriptor_t pd, dn_cudnnTensorDescriptor_t xd, int *out);
int dn_lrn_desc(dn_ctx *c, dn_cudnnLRNDescriptor_t *d, unsigned n, double alpha, double beta, double k);
void dn_lrn_desc_destroy(dn_ctx *c, dn_cudnnLRNDescriptor_t d);

/* Convolution. dir: 0 forward, 1 backward data, 2 backward filter. */
int dn_conv_ws_max(dn_ctx *c, int dir, dn_cudnnTensorDescriptor_t xd, dn_cudnnFilterDescriptor_t wd,
                   dn_cudnnConvolutionDescriptor_t cd, dn_cudnnTensorDescriptor_t yd, int strict, size_t limit,
                   size_t *ws);
int dn_conv_find(dn_ctx *c, int dir, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnFilterDescriptor_t wd,
                 dn_dptr w, dn_cudnnConvolutionDescriptor_t cd, dn_cudnnTensorDescriptor_t yd, dn_dptr y,
                 dn_dptr ws, size_t ws_size, int flags, int *algo, size_t *mem, int *math, float *ms);
enum { DN_FIND_STRICT = 1, DN_FIND_DETERMINISTIC = 2 };
int dn_conv_fwd(dn_ctx *c, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnFilterDescriptor_t wd, dn_dptr w,
                dn_cudnnConvolutionDescriptor_t cd, int algo, dn_dptr ws, size_t ws_size,
                dn_cudnnTensorDescriptor_t yd, dn_dptr y);
int dn_conv_fwd_bias_relu(dn_ctx *c, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnFilterDescriptor_t wd,
                          dn_dptr w, dn_cudnnConvolutionDescriptor_t cd, int algo, dn_dptr ws, size_t ws_size,
                          dn_cudnnTensorDescriptor_t bd, dn_dptr b, dn_cudnnTensorDescriptor_t yd, dn_dptr y);
int dn_conv_bwd_data(dn_ctx *c, dn_cudnnFilterDescriptor_t wd, dn_dptr w, dn_cudnnTensorDescriptor_t dyd, dn_dptr dy,
                     dn_cudnnConvolutionDescriptor_t cd, int algo, dn_dptr ws, size_t ws_size,
                     dn_cudnnTensorDescriptor_t dxd, dn_dptr dx);
int dn_conv_bwd_filter(dn_ctx *c, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnTensorDescriptor_t dyd,
                       dn_dptr dy, dn_cudnnConvolutionDescriptor_t cd, int algo, dn_dptr ws, size_t ws_size,
                       dn_cudnnFilterDescriptor_t dwd, dn_dptr dw);
int dn_bias_grad(dn_ctx *c, dn_cudnnTensorDescriptor_t dyd, dn_dptr dy, dn_cudnnTensorDescriptor_t dbd, dn_dptr db);
int dn_add_bias(dn_ctx *c, dn_cudnnTensorDescriptor_t bd, dn_dptr b, dn_cudnnTensorDescriptor_t yd, dn_dptr y);
int dn_probe_half(dn_ctx *c, int dtype, dn_dptr buf);
int dn_transform(dn_ctx *c, dn_cudnnTensorDescriptor_t xd, dn_dptr x, dn_cudnnTensorDescriptor_t yd, dn_dptr y);

/* Elementwise and normalisation. */
int dn_relu_fwd(dn_ctx *c, dn_cudnnTensorDescriptor_t d, dn_dptr x, dn_dptr y);
int dn_relu_bwd(dn_ctx *c, dn_cudnnTensorDescriptor_t d, dn_dptr y, dn_dptr dy, dn_dptr dx);
int dn_lrn_fwd(dn_ctx *c, dn_cudnnLRNDescriptor_t ld, dn_cudnnTensorDescriptor_t d, dn_dptr x, dn_dptr y);
int dn_lrn_bwd(dn_ctx *c, dn_cudnnLRNDescriptor_t ld, dn_cudnnTensorDescriptor_t d, dn_dptr x, dn_dptr y,
               dn_dptr dy, dn_dptr dx);
int dn_pool_fwd(dn_ctx *c, dn_cudnnPoolingDescriptor_t pd, dn_cudnnTensorDescriptor_t xd, dn_dptr x,
                dn_cudnnTensorDescriptor_t yd, dn_dptr y);
int dn_pool_bwd(dn_ctx *c, dn_cudnnPoolingDescriptor_t pd, dn_cudnnTensorDescriptor_t xd, dn_dptr x,
                dn_cudnnTensorDescriptor_t yd, dn_dptr y, dn_dptr dy, dn_dptr dx);
int dn_softmax(dn_ctx *c, int algo, dn_cudnnTensorDescriptor_t d, dn_dptr x, dn_dptr y);
int dn_xent(dn_ctx *c, dn_cudnnTensorDescriptor_t d, int n, int k, dn_dptr logits, dn_dptr logp, dn_dptr onehot,
            dn_dptr loss, dn_dptr dlogits);

/* cuBLAS. dtype: a cudaDataType for dn_gemm_ex. */
int dn_gemm(dn_ctx *c, int ta, int tb, int m, int n, int k, dn_dptr a, int lda, dn_dptr b, int ldb, float beta,
            dn_dptr cc, int ldc);
int dn_gemm_ex(dn_ctx *c, int dtype, int ta, int tb, int m, int n, int k, dn_dptr a, int lda, dn_dptr b, int ldb,
               float beta, dn_dptr cc, int ldc);
int dn_dgmm(dn_ctx *c, int n, dn_dptr a, dn_dptr x, dn_dptr out);
int dn_sgd(dn_ctx *c, int n, int paper, float lr, float mu, float wd, dn_dptr w, dn_dptr g, dn_dptr v);

#endif
