/*
 * dnngo_onednn.h — the C interface between backend/onednn (Go, cgo) and its
 * shim (backend/onednn/shim.c), which drives oneDNN 2.x or 3.x.
 *
 * The Go side never sees a oneDNN type: it holds opaque handles (a context,
 * tensors, plans) and makes one cgo call per step (create a plan, run one
 * pass of an op). Every function returns 0 on success; otherwise a
 * nonzero code (a dnnl_status_t, or DN_ENOMEM / DN_EINTERNAL) and the
 * context's message buffer (dn_ctx_message) says what failed, with
 * oneDNN's status name.
 *
 * Tensors keep one logical shape and whatever physical layout the plans
 * that use them prefer (nChw8c on AVX2, for instance). A plan's inputs
 * are reordered into the layout its primitive wants on first use; in a
 * network that runs the same plans every step the layouts settle after the
 * first step and no reorder happens again (dn_ctx_relayouts counts them).
 */
#ifndef DNNGO_ONEDNN_H
#define DNNGO_ONEDNN_H

#include <stddef.h>
#include <stdint.h>

#define DN_ENOMEM 1001    /* a host allocation failed */
#define DN_EINTERNAL 1002 /* a shim invariant failed (a bug) */

typedef struct dn_ctx dn_ctx;
typedef struct dn_tensor dn_tensor;
typedef struct dn_conv dn_conv;
typedef struct dn_linear dn_linear;
typedef struct dn_lrn dn_lrn;
typedef struct dn_pool dn_pool;

/* Context: engine, stream, thread count, scratchpad arena, messages. */
int dn_ctx_create(dn_ctx **out, int threads, char *msg, size_t msglen);
void dn_ctx_destroy(dn_ctx *c);
const char *dn_ctx_message(const dn_ctx *c);
int64_t dn_ctx_relayouts(const dn_ctx *c);
/* dn_ctx_allocs counts the buffers allocated (tensors, reorders, staging, arena). */
int64_t dn_ctx_allocs(const dn_ctx *c);
size_t dn_ctx_arena_bytes(const dn_ctx *c);
void dn_version(int *major, int *minor, int *patch, int *cpu_runtime);
int dn_max_threads(void);

/* Tensors: zero-filled at creation; upload/download in dense row-major. */
int dn_tensor_create(dn_ctx *c, dn_tensor **out, int ndims, const int64_t *dims);
void dn_tensor_destroy(dn_tensor *t);
int dn_upload(dn_ctx *c, dn_tensor *t, const float *src);
int dn_download(dn_ctx *c, dn_tensor *t, float *dst);
/* dn_tensor_layout writes a short description of t's physical layout. */
void dn_tensor_layout(const dn_tensor *t, char *buf, size_t len);

/* Convolution with optional bias and fused ReLU. x: {N, C, H, W}. */
int dn_conv_create(dn_ctx *c, dn_conv **out, const int64_t *x, int64_t oc, int64_t kh, int64_t kw, int64_t sh,
                   int64_t sw, int64_t ph, int64_t pw, int64_t groups, int bias, int relu);
void dn_conv_destroy(dn_conv *p);
int dn_conv_forward(dn_ctx *c, dn_conv *p, dn_tensor *x, dn_tensor *w, dn_tensor *b, dn_tensor *y);
int dn_conv_backward_data(dn_ctx *c, dn_conv *p, dn_tensor *dy, dn_tensor *w, dn_tensor *dx);
int dn_conv_backward_filter(dn_ctx *c, dn_conv *p, dn_tensor *x, dn_tensor *dy, dn_tensor *dw, dn_tensor *db);
/* dn_conv_impl names the implementations oneDNN chose (fwd / bwd data / bwd weights). */
void dn_conv_impl(const dn_conv *p, char *buf, size_t len);

/* Fully connected y = x·wᵀ + b; x: nd (2 to 4) dimensions, read as {N, product of the rest}. */
int dn_linear_create(dn_ctx *c, dn_linear **out, int nd, const int64_t *x, int64_t out_features, int bias, int relu);
void dn_linear_destroy(dn_linear *p);
int dn_linear_forward(dn_ctx *c, dn_linear *p, dn_tensor *x, dn_tensor *w, dn_tensor *b, dn_tensor *y);
int dn_linear_backward_data(dn_ctx *c, dn_linear *p, dn_tensor *dy, dn_tensor *w, dn_tensor *dx);
int dn_linear_backward_filter(dn_ctx *c, dn_linear *p, dn_tensor *x, dn_tensor *dy, dn_tensor *dw, dn_tensor *db);

/* LRN across channels (alpha already in oneDNN's alpha/n convention). */
int dn_lrn_create(dn_ctx *c, dn_lrn **out, int64_t size, float alpha, float beta, float k);
void dn_lrn_destroy(dn_lrn *p);
int dn_lrn_forward(dn_ctx *c, dn_lrn *p, dn_tensor *x, dn_tensor *y);
int dn_lrn_backward(dn_ctx *c, dn_lrn *p, dn_tensor *x, dn_tensor *dy, dn_tensor *dx);

/* Max pooling. */
int dn_pool_create(dn_ctx *c, dn_pool **out, const int64_t *x, const int64_t *y, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                   int64_t ph, int64_t pw);
void dn_pool_destroy(dn_pool *p);
int dn_pool_forward(dn_ctx *c, dn_pool *p, dn_tensor *x, dn_tensor *y);
int dn_pool_backward(dn_ctx *c, dn_pool *p, dn_tensor *dy, dn_tensor *dx);

/* Element-wise steps, written in the shim (layout-agnostic where they can be). */
int dn_relu_forward(dn_ctx *c, dn_tensor *x, dn_tensor *y);
int dn_relu_backward(dn_ctx *c, dn_tensor *y, dn_tensor *dy, dn_tensor *dx);
int dn_bias_forward(dn_ctx *c, dn_tensor *x, dn_tensor *b, dn_tensor *y);
int dn_bias_backward(dn_ctx *c, dn_tensor *dy, dn_tensor *db);
/* mask has one byte per element; scale = 1/(1-p); threshold as in backend.DropoutThreshold. */
int dn_dropout_forward(dn_ctx *c, dn_tensor *x, dn_tensor *y, uint8_t *mask, uint64_t seed, uint32_t threshold,
                       float scale);
int dn_dropout_backward(dn_ctx *c, dn_tensor *dy, dn_tensor *dx, const uint8_t *mask, float scale);
/* dlogits may be NULL. labels are checked by the caller. */
int dn_softmax_xent(dn_ctx *c, dn_tensor *logits, const int32_t *labels, dn_tensor *loss, dn_tensor *dlogits);
int dn_softmax(dn_ctx *c, dn_tensor *logits, dn_tensor *probs);
/* rule 0: PyTorch, 1: the paper (see backend.SGDRule). */
int dn_sgd(dn_ctx *c, dn_tensor *param, dn_tensor *grad, dn_tensor *velocity, float lr, float momentum, float wd,
           int rule);

#endif
