/*
 * dnngo_onednn.h — the C interface between backend/onednn (Go, cgo) and its
 * shim (the C files of backend/onednn: compat.c, context.c, layout.c,
 * primitives.c, elementwise.c), which drives oneDNN 2.x or 3.x.
 *
 * The Go side never sees a oneDNN type: it holds opaque handles (a context,
 * tensors, plans) and makes one cgo call per step (create a plan, run one
 * pass of an op). Every function returns 0 on success; otherwise a
 * nonzero code (a dnnl_status_t, or DNO_ENOMEM / DNO_EINTERNAL) and the
 * context's message buffer (dno_ctx_message) says what failed, with
 * oneDNN's status name.
 *
 * Tensors keep one logical shape and whatever physical layout the plans
 * that use them prefer (nChw8c on AVX2, for instance). A plan's inputs
 * are reordered into the layout its primitive wants on first use; in a
 * network that runs the same plans every step the layouts settle after the
 * first step and no reorder happens again (dno_ctx_relayouts counts them).
 */
#ifndef DNNGO_ONEDNN_H
#define DNNGO_ONEDNN_H

#include <stddef.h>
#include <stdint.h>

#define DNO_ENOMEM 1001    /* a host allocation failed */
#define DNO_EINTERNAL 1002 /* a shim invariant failed (a bug) */
#define DNO_EBUDGET 1003   /* the scratchpad arena would exceed dno_ctx_set_arena_max */

typedef struct dno_ctx dno_ctx;
typedef struct dno_tensor dno_tensor;
typedef struct dno_conv dno_conv;
typedef struct dno_linear dno_linear;
typedef struct dno_lrn dno_lrn;
typedef struct dno_pool dno_pool;

/* Context: engine, stream, thread count, scratchpad arena, messages. With
 * bf16, convolutions and inner products compute on bf16 copies of their
 * inputs and weights (f32 accumulation and outputs); tensors stay f32. */
int dno_ctx_create(dno_ctx **out, int threads, int bf16, char *msg, size_t msglen);
void dno_ctx_destroy(dno_ctx *c);
const char *dno_ctx_message(const dno_ctx *c);
int64_t dno_ctx_relayouts(const dno_ctx *c);
/* dno_ctx_allocs counts the buffers allocated (tensors, reorders, staging, arena). */
int64_t dno_ctx_allocs(const dno_ctx *c);
/* dno_ctx_ran_on is the OS thread id that ran the context's last parallel
 * work: its executor thread (for tests). */
int64_t dno_ctx_ran_on(const dno_ctx *c);
/* The scratchpad arena's size, and the most it may grow to (the room the
 * backend's memory budget leaves; < 0: no limit, the default). */
int64_t dno_ctx_arena_bytes(const dno_ctx *c);
void dno_ctx_set_arena_max(dno_ctx *c, int64_t bytes);
void dno_version(int *major, int *minor, int *patch);
/* dno_isa is what oneDNN may dispatch to on this machine, as DNO_ISA_* bits:
 * the CPU's instruction sets, or fewer where ONEDNN_MAX_CPU_ISA (or
 * DNNL_MAX_CPU_ISA) caps them. Reading it fixes oneDNN's ISA for the process. */
#define DNO_ISA_AVX2 1
#define DNO_ISA_AVX512 2   /* avx512_core */
#define DNO_ISA_BF16 4     /* avx512_core_bf16 */
#define DNO_ISA_AMX 8      /* avx512_core_amx */
int dno_isa(void);

/* Tensors: zero-filled at creation; upload/download in dense row-major. */
int dno_tensor_create(dno_ctx *c, dno_tensor **out, int ndims, const int64_t *dims);
void dno_tensor_destroy(dno_tensor *t);
int dno_upload(dno_ctx *c, dno_tensor *t, const float *src);
int dno_download(dno_ctx *c, dno_tensor *t, float *dst);

/* Plans made with infer = 1 (backend's Inference) use forward_inference
 * primitives (other implementations and layouts, no workspace) and have no
 * backward: their backward calls fail with DNO_EINTERNAL. */

/* Convolution with optional bias and fused ReLU. x: {N, C, H, W}. */
int dno_conv_create(dno_ctx *c, dno_conv **out, const int64_t *x, int64_t oc, int64_t kh, int64_t kw, int64_t sh,
                   int64_t sw, int64_t ph, int64_t pw, int64_t groups, int bias, int relu, int infer);
void dno_conv_destroy(dno_conv *p);
int dno_conv_forward(dno_ctx *c, dno_conv *p, dno_tensor *x, dno_tensor *w, dno_tensor *b, dno_tensor *y);
int dno_conv_backward_data(dno_ctx *c, dno_conv *p, dno_tensor *dy, dno_tensor *w, dno_tensor *dx);
int dno_conv_backward_filter(dno_ctx *c, dno_conv *p, dno_tensor *x, dno_tensor *dy, dno_tensor *dw, dno_tensor *db);
/* dno_conv_impl names the implementations oneDNN chose (fwd / bwd data / bwd weights). */
void dno_conv_impl(const dno_conv *p, char *buf, size_t len);

/* Fully connected y = x·wᵀ + b; x: nd (2 to 4) dimensions, read as {N, product of the rest}
 * (the primitives are made for that 2-D problem). */
int dno_linear_create(dno_ctx *c, dno_linear **out, int nd, const int64_t *x, int64_t out_features, int bias, int relu,
                     int infer);
void dno_linear_destroy(dno_linear *p);
int dno_linear_forward(dno_ctx *c, dno_linear *p, dno_tensor *x, dno_tensor *w, dno_tensor *b, dno_tensor *y);
int dno_linear_backward_data(dno_ctx *c, dno_linear *p, dno_tensor *dy, dno_tensor *w, dno_tensor *dx);
int dno_linear_backward_filter(dno_ctx *c, dno_linear *p, dno_tensor *x, dno_tensor *dy, dno_tensor *dw, dno_tensor *db);

/* LRN across channels (alpha already in oneDNN's alpha/n convention). */
int dno_lrn_create(dno_ctx *c, dno_lrn **out, int64_t size, float alpha, float beta, float k, int infer);
void dno_lrn_destroy(dno_lrn *p);
int dno_lrn_forward(dno_ctx *c, dno_lrn *p, dno_tensor *x, dno_tensor *y);
int dno_lrn_backward(dno_ctx *c, dno_lrn *p, dno_tensor *x, dno_tensor *dy, dno_tensor *dx);

/* Max pooling. */
int dno_pool_create(dno_ctx *c, dno_pool **out, const int64_t *x, const int64_t *y, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                   int64_t ph, int64_t pw, int infer);
void dno_pool_destroy(dno_pool *p);
int dno_pool_forward(dno_ctx *c, dno_pool *p, dno_tensor *x, dno_tensor *y);
int dno_pool_backward(dno_ctx *c, dno_pool *p, dno_tensor *dy, dno_tensor *dx);

/* Element-wise steps, written in the shim (layout-agnostic where they can be). */
int dno_relu_forward(dno_ctx *c, dno_tensor *x, dno_tensor *y);
int dno_relu_backward(dno_ctx *c, dno_tensor *y, dno_tensor *dy, dno_tensor *dx);
int dno_bias_forward(dno_ctx *c, dno_tensor *x, dno_tensor *b, dno_tensor *y);
int dno_bias_backward(dno_ctx *c, dno_tensor *dy, dno_tensor *db);
/* mask has one byte per element; scale = 1/(1-p); threshold as in backend.DropoutThreshold. */
int dno_dropout_forward(dno_ctx *c, dno_tensor *x, dno_tensor *y, uint8_t *mask, uint64_t seed, uint32_t threshold,
                       float scale);
int dno_dropout_backward(dno_ctx *c, dno_tensor *dy, dno_tensor *dx, const uint8_t *mask, float scale);
/* dlogits may be NULL. labels are checked by the caller. */
int dno_softmax_xent(dno_ctx *c, dno_tensor *logits, const int32_t *labels, dno_tensor *loss, dno_tensor *dlogits);
int dno_softmax(dno_ctx *c, dno_tensor *logits, dno_tensor *probs);
/* rule 0: PyTorch, 1: the paper (see backend.SGDRule). */
int dno_sgd(dno_ctx *c, dno_tensor *param, dno_tensor *grad, dno_tensor *velocity, float lr, float momentum, float wd,
           int rule);

/* oneDNN's row-major SGEMM out = a·b (m×k times k×n), for benchmarks. */
int dno_sgemm(dno_ctx *c, int64_t m, int64_t n, int64_t k, const float *a, const float *b, float *out);

#endif
