//go:build onednn

/*
 * shim.c — dnngo's C shim over oneDNN (2.x or 3.x, chosen by the header it
 * is compiled against). See include/dnngo_onednn.h for the interface; the
 * API facts both branches rely on are oneDNN's own documentation (the C API
 * reference of 2.x and 3.x, and the "Transition to oneDNN v3.0" guide).
 *
 * Everything that differs between the majors is in the "compat" section:
 * memory descriptors (a struct in 2.x, a handle in 3.x) and primitive
 * descriptor creation (op descriptor + dnnl_primitive_desc_create in 2.x,
 * one *_primitive_desc_create call per op in 3.x). The rest is common.
 */
#if defined(__has_include)
#if !__has_include(<oneapi/dnnl/dnnl.h>)
#error "oneDNN headers not found (oneapi/dnnl/dnnl.h): install them (Debian/Ubuntu: apt-get install -y libdnnl-dev; Fedora: dnf install onednn-devel) or build without -tags onednn"
#endif
#endif
#include <oneapi/dnnl/dnnl.h>

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnngo_onednn.h"

#if DNNL_VERSION_MAJOR < 2
#error "oneDNN 2.0 or newer is required"
#endif

/* ------------------------------------------------------------------ */
/* compat: memory descriptors                                          */
/* ------------------------------------------------------------------ */

#if DNNL_VERSION_MAJOR >= 3
typedef dnnl_memory_desc_t md_t;        /* an owned handle */
typedef const_dnnl_memory_desc_t cmd_t; /* a borrowed handle */

static dnnl_status_t md_new(md_t *out, int nd, const dnnl_dims_t dims, dnnl_data_type_t dt, dnnl_format_tag_t tag) {
    *out = NULL;
    return dnnl_memory_desc_create_with_tag(out, nd, dims, dt, tag);
}

static md_t md_clone(cmd_t m) {
    md_t r = NULL;
    if (dnnl_memory_desc_clone(&r, m) != dnnl_success) return NULL;
    return r;
}

static void md_free(md_t m) {
    if (m) dnnl_memory_desc_destroy(m);
}

static int md_dims(cmd_t m, int64_t *dims) {
    int nd = 0;
    const dnnl_dims_t *d = NULL;
    if (dnnl_memory_desc_query(m, dnnl_query_ndims_s32, &nd) != dnnl_success) return 0;
    if (dnnl_memory_desc_query(m, dnnl_query_dims, &d) != dnnl_success || d == NULL) return 0;
    for (int i = 0; i < nd; i++) dims[i] = (*d)[i];
    return nd;
}
#else
typedef dnnl_memory_desc_t *md_t;        /* a malloc'd struct */
typedef const dnnl_memory_desc_t *cmd_t; /* a borrowed struct */

static dnnl_status_t md_new(md_t *out, int nd, const dnnl_dims_t dims, dnnl_data_type_t dt, dnnl_format_tag_t tag) {
    *out = calloc(1, sizeof **out);
    if (*out == NULL) return dnnl_out_of_memory;
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(*out, nd, dims, dt, tag);
    if (st != dnnl_success) {
        free(*out);
        *out = NULL;
    }
    return st;
}

static md_t md_clone(cmd_t m) {
    md_t r = malloc(sizeof *r);
    if (r) *r = *m;
    return r;
}

static void md_free(md_t m) { free(m); }

static int md_dims(cmd_t m, int64_t *dims) {
    for (int i = 0; i < m->ndims; i++) dims[i] = m->dims[i];
    return m->ndims;
}
#endif

static int md_eq(cmd_t a, cmd_t b) { return dnnl_memory_desc_equal(a, b); }

static dnnl_data_type_t md_dtype(cmd_t m) {
#if DNNL_VERSION_MAJOR >= 3
    dnnl_data_type_t dt = dnnl_data_type_undef;
    if (dnnl_memory_desc_query(m, dnnl_query_data_type, &dt) != dnnl_success) return dnnl_data_type_undef;
    return dt;
#else
    return m->data_type;
#endif
}
static size_t md_size(cmd_t m) { return dnnl_memory_desc_get_size(m); }

static dnnl_format_tag_t plain_tag(int nd) {
    switch (nd) {
    case 1: return dnnl_a;
    case 2: return dnnl_ab;
    case 3: return dnnl_abc;
    case 4: return dnnl_abcd;
    case 5: return dnnl_abcde;
    }
    return dnnl_format_tag_undef;
}

/* ------------------------------------------------------------------ */
/* compat: primitive descriptors (3.x parameter lists)                 */
/* ------------------------------------------------------------------ */

typedef dnnl_primitive_desc_t pd_t;
typedef const_dnnl_primitive_desc_t cpd_t;
typedef const_dnnl_primitive_attr_t cattr_t;

#if DNNL_VERSION_MAJOR < 3
/* CREATE2 makes a 2.x primitive descriptor from an op descriptor. */
#define CREATE2(desc, pd, attr, eng, hint) dnnl_primitive_desc_create(pd, &(desc), attr, eng, hint)
#endif

/* prop is the forward's kind: dnnl_forward_training, or dnnl_forward_inference
 * for a plan made with Inference (other implementations, no workspace). */
static dnnl_status_t conv_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t w, cmd_t b,
                                 cmd_t dst, const dnnl_dims_t s, const dnnl_dims_t dil, const dnnl_dims_t pl,
                                 const dnnl_dims_t pr, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_convolution_forward_primitive_desc_create(pd, e, prop, dnnl_convolution_direct, src, w, b, dst, s,
                                                          dil, pl, pr, attr);
#else
    dnnl_convolution_desc_t d;
    dnnl_status_t st = dnnl_dilated_convolution_forward_desc_init(&d, prop,
                                                                  dnnl_convolution_direct, src, w, b, dst, s, dil,
                                                                  pl, pr);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, NULL);
#endif
}

static dnnl_status_t conv_bwd_data_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t w, cmd_t ddst,
                                      const dnnl_dims_t s, const dnnl_dims_t dil, const dnnl_dims_t pl,
                                      const dnnl_dims_t pr, cpd_t hint, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_convolution_backward_data_primitive_desc_create(pd, e, dnnl_convolution_direct, dsrc, w, ddst, s,
                                                                dil, pl, pr, hint, attr);
#else
    dnnl_convolution_desc_t d;
    dnnl_status_t st = dnnl_dilated_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, dsrc, w, ddst,
                                                                        s, dil, pl, pr);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

static dnnl_status_t conv_bwd_w_pd(pd_t *pd, dnnl_engine_t e, cmd_t src, cmd_t dw, cmd_t db, cmd_t ddst,
                                   const dnnl_dims_t s, const dnnl_dims_t dil, const dnnl_dims_t pl,
                                   const dnnl_dims_t pr, cpd_t hint, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_convolution_backward_weights_primitive_desc_create(pd, e, dnnl_convolution_direct, src, dw, db, ddst,
                                                                   s, dil, pl, pr, hint, attr);
#else
    dnnl_convolution_desc_t d;
    dnnl_status_t st = dnnl_dilated_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, src, dw, db,
                                                                           ddst, s, dil, pl, pr);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

static dnnl_status_t ip_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t w, cmd_t b,
                               cmd_t dst, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_inner_product_forward_primitive_desc_create(pd, e, prop, src, w, b, dst, attr);
#else
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_forward_desc_init(&d, prop, src, w, b, dst);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, NULL);
#endif
}

static dnnl_status_t ip_bwd_data_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t w, cmd_t ddst, cpd_t hint,
                                    cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_inner_product_backward_data_primitive_desc_create(pd, e, dsrc, w, ddst, hint, attr);
#else
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_backward_data_desc_init(&d, dsrc, w, ddst);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

static dnnl_status_t ip_bwd_w_pd(pd_t *pd, dnnl_engine_t e, cmd_t src, cmd_t dw, cmd_t db, cmd_t ddst, cpd_t hint,
                                 cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_inner_product_backward_weights_primitive_desc_create(pd, e, src, dw, db, ddst, hint, attr);
#else
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_backward_weights_desc_init(&d, src, dw, db, ddst);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

static dnnl_status_t lrn_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t dst, int64_t n,
                                float alpha, float beta, float k, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_lrn_forward_primitive_desc_create(pd, e, prop, dnnl_lrn_across_channels, src, dst, n, alpha, beta, k,
                                                  attr);
#else
    (void)dst; /* 2.x: the output has the input's layout */
    dnnl_lrn_desc_t d;
    dnnl_status_t st = dnnl_lrn_forward_desc_init(&d, prop, dnnl_lrn_across_channels, src, n, alpha, beta, k);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, NULL);
#endif
}

static dnnl_status_t lrn_bwd_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t ddst, cmd_t src, int64_t n,
                                float alpha, float beta, float k, cpd_t hint, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_lrn_backward_primitive_desc_create(pd, e, dnnl_lrn_across_channels, dsrc, ddst, src, n, alpha, beta,
                                                   k, hint, attr);
#else
    (void)ddst; /* 2.x: one layout for both gradients */
    dnnl_lrn_desc_t d;
    dnnl_status_t st = dnnl_lrn_backward_desc_init(&d, dnnl_lrn_across_channels, dsrc, src, n, alpha, beta, k);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

static dnnl_status_t pool_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t dst,
                                 const dnnl_dims_t s, const dnnl_dims_t k, const dnnl_dims_t dil,
                                 const dnnl_dims_t pl, const dnnl_dims_t pr, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_pooling_forward_primitive_desc_create(pd, e, prop, dnnl_pooling_max, src, dst, s, k, dil, pl, pr,
                                                      attr);
#else
    (void)dil;
    dnnl_pooling_desc_t d;
    dnnl_status_t st = dnnl_pooling_forward_desc_init(&d, prop, dnnl_pooling_max, src, dst, s, k, pl, pr);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, NULL);
#endif
}

static dnnl_status_t pool_bwd_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t ddst, const dnnl_dims_t s,
                                 const dnnl_dims_t k, const dnnl_dims_t dil, const dnnl_dims_t pl,
                                 const dnnl_dims_t pr, cpd_t hint, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_pooling_backward_primitive_desc_create(pd, e, dnnl_pooling_max, dsrc, ddst, s, k, dil, pl, pr, hint,
                                                       attr);
#else
    (void)dil;
    dnnl_pooling_desc_t d;
    dnnl_status_t st = dnnl_pooling_backward_desc_init(&d, dnnl_pooling_max, dsrc, ddst, s, k, pl, pr);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

static dnnl_status_t post_ops_relu(dnnl_post_ops_t po) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0.f, 0.f);
#else
    return dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f);
#endif
}

/* ------------------------------------------------------------------ */
/* context, errors, memory                                             */
/* ------------------------------------------------------------------ */

/* A reorder made once and kept: creating a reorder's primitive descriptor
 * costs tens of microseconds, and a network repeats the same few reorders
 * every step (the uploaded input into conv1's layout, pool5's output to
 * fc6's plain view, weights into the backward-data layout). */
typedef struct rcache_entry {
    md_t src, dst; /* NULL: an empty entry */
    pd_t pd;
    dnnl_primitive_t p;
    dnnl_memory_t a, b; /* pointed at the buffers on each run */
    uint64_t used;      /* the context's tick at the last use (LRU) */
} rcache_entry;

#define RCACHE 16

struct dno_ctx {
    int bf16; /* convolutions and inner products read bf16 copies of their inputs (tensors stay f32) */
    rcache_entry rc[RCACHE];
    uint64_t tick;
    uint64_t writes; /* counts writes to tensors: each write's number is its tensor's version */
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    int threads;
    void *arena; /* user scratchpad shared by every primitive */
    size_t arena_cap;
    int64_t arena_max; /* the most bytes the arena may grow to (the memory budget's room); < 0: no limit */
    int64_t relayouts;
    int64_t allocs; /* tensor, staging and arena buffers allocated */
    char msg[1024];
};

static const char *status_name(dnnl_status_t st) {
    switch ((int)st) {
    case dnnl_success: return "dnnl_success";
    case dnnl_out_of_memory: return "dnnl_out_of_memory";
    case dnnl_invalid_arguments: return "dnnl_invalid_arguments";
    case dnnl_unimplemented: return "dnnl_unimplemented";
#if DNNL_VERSION_MAJOR >= 3
    case dnnl_last_impl_reached: return "dnnl_last_impl_reached";
#else
    case dnnl_iterator_ends: return "dnnl_iterator_ends";
#endif
    case dnnl_runtime_error: return "dnnl_runtime_error";
    case dnnl_not_required: return "dnnl_not_required";
    case DNO_ENOMEM: return "out of host memory";
    case DNO_EINTERNAL: return "internal error";
    case DNO_EBUDGET: return "over the memory budget";
    }
    return "unknown dnnl_status_t";
}

/* fail records "what: status_name (code)" in the context and returns code. */
static int fail(dno_ctx *c, int code, const char *fmt, ...) {
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->msg, sizeof c->msg, "%s: %s (status %d)", what, status_name((dnnl_status_t)code), code);
    return code;
}

#define CK(call, ...)                                                                                                 \
    do {                                                                                                              \
        dnnl_status_t st_ = (call);                                                                                   \
        if (st_ != dnnl_success) return fail(c, (int)st_, __VA_ARGS__);                                               \
    } while (0)

static void *zalloc(size_t n) {
    void *p = NULL;
    if (n < 64) n = 64;
    n = (n + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, n) != 0) return NULL;
    memset(p, 0, n);
    return p;
}

/* enter makes this OS thread's OpenMP team the backend's size: the value is
 * thread-local in libgomp and Go may run each call on another thread. */
static void enter(dno_ctx *c) {
    if (omp_get_max_threads() != c->threads) omp_set_num_threads(c->threads);
}

int dno_ctx_create(dno_ctx **out, int threads, int bf16, char *msg, size_t msglen) {
    *out = NULL;
    dno_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(msg, msglen, "allocating the context: out of memory");
        return DNO_ENOMEM;
    }
    c->threads = threads > 0 ? threads : omp_get_max_threads();
    c->bf16 = bf16;
    c->arena_max = -1;
    dnnl_status_t st = dnnl_engine_create(&c->eng, dnnl_cpu, 0);
    if (st == dnnl_success) st = dnnl_stream_create(&c->strm, c->eng, dnnl_stream_default_flags);
    if (st != dnnl_success) {
        snprintf(msg, msglen, "creating the CPU engine and stream: %s (status %d)", status_name(st), (int)st);
        dno_ctx_destroy(c);
        return (int)st;
    }
    *out = c;
    return 0;
}

static void rcache_clear(rcache_entry *e) {
    if (e->p) dnnl_primitive_destroy(e->p);
    if (e->pd) dnnl_primitive_desc_destroy(e->pd);
    if (e->a) dnnl_memory_destroy(e->a);
    if (e->b) dnnl_memory_destroy(e->b);
    md_free(e->src);
    md_free(e->dst);
    memset(e, 0, sizeof *e);
}

void dno_ctx_destroy(dno_ctx *c) {
    if (c == NULL) return;
    for (int i = 0; i < RCACHE; i++) rcache_clear(&c->rc[i]);
    if (c->strm) dnnl_stream_destroy(c->strm);
    if (c->eng) dnnl_engine_destroy(c->eng);
    free(c->arena);
    free(c);
}

const char *dno_ctx_message(const dno_ctx *c) { return c->msg; }
int64_t dno_ctx_relayouts(const dno_ctx *c) { return c->relayouts; }
int64_t dno_ctx_allocs(const dno_ctx *c) { return c->allocs; }
int64_t dno_ctx_arena_bytes(const dno_ctx *c) { return (int64_t)c->arena_cap; }
void dno_ctx_set_arena_max(dno_ctx *c, int64_t bytes) { c->arena_max = bytes; }

void dno_version(int *major, int *minor, int *patch) {
    const dnnl_version_t *v = dnnl_version();
    *major = v->major;
    *minor = v->minor;
    *patch = v->patch;
}

static int arena_reserve(dno_ctx *c, size_t n) {
    if (n <= c->arena_cap) return 0;
    if (c->arena_max >= 0 && (n > (size_t)INT64_MAX || (int64_t)n > c->arena_max))
        return fail(c, DNO_EBUDGET, "growing the scratchpad arena to %zu bytes: the memory budget leaves room for %lld",
                    n, (long long)c->arena_max);
    void *p = zalloc(n);
    if (p == NULL) return fail(c, DNO_ENOMEM, "growing the scratchpad arena to %zu bytes", n);
    c->allocs++;
    free(c->arena);
    c->arena = p;
    c->arena_cap = n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* tensors                                                             */
/* ------------------------------------------------------------------ */

struct dno_tensor {
    int nd; /* logical shape */
    dnnl_dims_t dims;
    md_t cur;      /* physical layout; its dims may differ from the logical ones (see relayout) */
    int cur_plain; /* cur is dense row-major over its dims: the bytes are the logical row-major order */
    void *buf;
    size_t cap;
    void *spare; /* the buffer of the previous layout, reused by the next reorder */
    size_t spare_cap;
    uint64_t ver; /* the context's write count at the latest write of the values (unique per write) */
    /* bf16 copies of the values (Precision bf16), each valid while its ver is
     * the tensor's: the forward, backward-data and backward-weights
     * primitives read the same x, w or dy without converting them again. */
    struct shadow {
        md_t md; /* NULL: unused */
        void *buf;
        size_t cap;
        uint64_t ver, used;
    } shadow[2];
};

/* written marks t's values as new (see dno_tensor.ver): every write to a
 * tensor's values goes through here, so that a staging copy made from an
 * older version is never reused. */
static void written(dno_ctx *c, dno_tensor *t) { t->ver = ++c->writes; }

static int md_is_plain(cmd_t m) {
    int64_t d[DNNL_MAX_NDIMS];
    int nd = md_dims(m, d);
    md_t p = NULL;
    if (nd < 1 || nd > 5 || md_new(&p, nd, d, dnnl_f32, plain_tag(nd)) != dnnl_success) return 0;
    int eq = md_eq(m, p);
    md_free(p);
    return eq;
}

static int set_cur(dno_ctx *c, dno_tensor *t, cmd_t m) {
    md_t n = md_clone(m);
    if (n == NULL) return fail(c, DNO_ENOMEM, "copying a memory descriptor");
    md_free(t->cur);
    t->cur = n;
    t->cur_plain = md_is_plain(n);
    return 0;
}

static int new_tensor(dno_ctx *c, dno_tensor **out, int nd, const int64_t *dims, cmd_t layout) {
    *out = NULL;
    dno_tensor *t = calloc(1, sizeof *t);
    if (t == NULL) return fail(c, DNO_ENOMEM, "allocating a tensor");
    t->nd = nd;
    for (int i = 0; i < nd; i++) t->dims[i] = dims[i];
    if (layout) {
        t->cur = md_clone(layout);
        if (t->cur == NULL) {
            free(t);
            return fail(c, DNO_ENOMEM, "copying a memory descriptor");
        }
        t->cur_plain = md_is_plain(t->cur);
    } else {
        dnnl_status_t st = md_new(&t->cur, nd, t->dims, dnnl_f32, plain_tag(nd));
        if (st != dnnl_success) {
            free(t);
            return fail(c, (int)st, "describing a tensor of rank %d", nd);
        }
        t->cur_plain = 1;
    }
    t->cap = md_size(t->cur);
    t->buf = zalloc(t->cap);
    c->allocs++;
    if (t->buf == NULL) {
        md_free(t->cur);
        free(t);
        return fail(c, DNO_ENOMEM, "allocating %zu bytes for a tensor", t->cap);
    }
    written(c, t);
    *out = t;
    return 0;
}

int dno_tensor_create(dno_ctx *c, dno_tensor **out, int nd, const int64_t *dims) {
    return new_tensor(c, out, nd, dims, NULL);
}

void dno_tensor_destroy(dno_tensor *t) {
    if (t == NULL) return;
    for (int i = 0; i < 2; i++) md_free(t->shadow[i].md), free(t->shadow[i].buf);
    md_free(t->cur);
    free(t->buf);
    free(t->spare);
    free(t);
}

static size_t numel(const dno_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->nd; i++) n *= (size_t)t->dims[i];
    return n;
}

/* rcache_get returns the cached reorder from sm to dm, making it (in the
 * least recently used entry) on a miss; NULL with *st set on failure. */
static rcache_entry *rcache_get(dno_ctx *c, cmd_t sm, cmd_t dm, dnnl_status_t *st) {
    rcache_entry *e = &c->rc[0];
    c->tick++;
    for (int i = 0; i < RCACHE; i++) {
        rcache_entry *x = &c->rc[i];
        if (x->src && md_eq(x->src, sm) && md_eq(x->dst, dm)) {
            x->used = c->tick;
            return x;
        }
        if (x->used < e->used) e = x;
    }
    rcache_clear(e);
    *st = dnnl_out_of_memory;
    e->src = md_clone(sm);
    e->dst = md_clone(dm);
    if (e->src && e->dst) *st = dnnl_memory_create(&e->a, sm, c->eng, DNNL_MEMORY_NONE);
    if (*st == dnnl_success) *st = dnnl_memory_create(&e->b, dm, c->eng, DNNL_MEMORY_NONE);
    if (*st == dnnl_success) *st = dnnl_reorder_primitive_desc_create(&e->pd, sm, c->eng, dm, c->eng, NULL);
    if (*st == dnnl_success) *st = dnnl_primitive_create(&e->p, e->pd);
    if (*st != dnnl_success) {
        rcache_clear(e);
        return NULL;
    }
    e->used = c->tick;
    return e;
}

/* reorder copies the data src (layout sm) into dst (layout dm). */
static int reorder(dno_ctx *c, cmd_t sm, void *src, cmd_t dm, void *dst) {
    dnnl_status_t st = dnnl_success;
    rcache_entry *e = rcache_get(c, sm, dm, &st);
    if (e == NULL) return fail(c, (int)st, "reorder: creating the primitive");
    st = dnnl_memory_set_data_handle(e->a, src);
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(e->b, dst);
    if (st == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, e->a}, {DNNL_ARG_TO, e->b}};
        st = dnnl_primitive_execute(e->p, c->strm, 2, args);
    }
    if (st == dnnl_success) st = dnnl_stream_wait(c->strm);
    if (st != dnnl_success) return fail(c, (int)st, "reorder");
    return 0;
}

static int relayout(dno_ctx *c, dno_tensor *t, cmd_t want, int keep);

/* to_plain puts t in the dense row-major layout of its logical shape. */
static int to_plain(dno_ctx *c, dno_tensor *t, int keep) {
    if (t->cur_plain) {
        int64_t d[DNNL_MAX_NDIMS];
        int nd = md_dims(t->cur, d);
        int same = nd == t->nd;
        for (int i = 0; same && i < nd; i++) same = d[i] == t->dims[i];
        if (same) return 0;
    }
    md_t p = NULL;
    dnnl_status_t st = md_new(&p, t->nd, t->dims, dnnl_f32, plain_tag(t->nd));
    if (st != dnnl_success) return fail(c, (int)st, "describing a plain layout");
    int rc = relayout(c, t, p, keep);
    md_free(p);
    return rc;
}

/* relayout gives t the layout want. With keep, the values are preserved
 * (reordered); without, only the buffer is made ready for an output. want
 * may have other dimensions than t's layout (a grouped convolution's 5-D
 * weights, a fully connected layer's view of its input): the values are then
 * read in row-major order over want's dimensions. */
static int relayout(dno_ctx *c, dno_tensor *t, cmd_t want, int keep) {
    if (md_eq(t->cur, want)) return 0;
    c->relayouts++;
    size_t need = md_size(want);
    if (!keep) {
        written(c, t); /* the values are dropped for an output */
        if (need > t->cap) {
            void *nb = zalloc(need);
            if (nb == NULL) return fail(c, DNO_ENOMEM, "allocating %zu bytes for a tensor", need);
            c->allocs++;
            free(t->buf);
            t->buf = nb;
            t->cap = need;
        }
        return set_cur(c, t, want);
    }
    int64_t wd[DNNL_MAX_NDIMS], cd[DNNL_MAX_NDIMS];
    int wn = md_dims(want, wd), cn = md_dims(t->cur, cd);
    int same = wn == cn;
    for (int i = 0; same && i < wn; i++) same = wd[i] == cd[i];
    md_t view = NULL; /* with other dims: the plain layout of want's dims */
    if (!same) {
        if (!t->cur_plain) {
            md_t p = NULL;
            dnnl_status_t st = md_new(&p, cn, cd, dnnl_f32, plain_tag(cn));
            if (st != dnnl_success) return fail(c, (int)st, "describing a plain layout");
            int rc = relayout(c, t, p, 1);
            md_free(p);
            if (rc) return rc;
        }
        dnnl_status_t st = md_new(&view, wn, wd, dnnl_f32, plain_tag(wn));
        if (st != dnnl_success) return fail(c, (int)st, "describing a plain layout of rank %d", wn);
        if (md_eq(view, want)) { /* the same bytes */
            md_free(view);
            return set_cur(c, t, want);
        }
    }
    if (t->spare_cap < need) { /* a tensor whose layout alternates keeps both buffers */
        free(t->spare);
        t->spare = zalloc(need);
        t->spare_cap = t->spare ? need : 0;
        if (t->spare == NULL) {
            md_free(view);
            return fail(c, DNO_ENOMEM, "allocating %zu bytes for a tensor", need);
        }
        c->allocs++;
    }
    int rc = reorder(c, view ? view : t->cur, t->buf, want, t->spare);
    md_free(view);
    if (rc) return rc;
    void *ob = t->buf;
    size_t oc = t->cap;
    t->buf = t->spare, t->cap = t->spare_cap;
    t->spare = ob, t->spare_cap = oc;
    return set_cur(c, t, want);
}

int dno_upload(dno_ctx *c, dno_tensor *t, const float *src) {
    int rc = to_plain(c, t, 0);
    if (rc) return rc;
    memcpy(t->buf, src, numel(t) * sizeof(float));
    written(c, t);
    return 0;
}

int dno_download(dno_ctx *c, dno_tensor *t, float *dst) {
    enter(c);
    if (t->cur_plain) {
        memcpy(dst, t->buf, numel(t) * sizeof(float));
        return 0;
    }
    int64_t d[DNNL_MAX_NDIMS];
    int nd = md_dims(t->cur, d);
    md_t p = NULL;
    dnnl_status_t st = md_new(&p, nd, d, dnnl_f32, plain_tag(nd));
    if (st != dnnl_success) return fail(c, (int)st, "download: describing a plain layout");
    int rc = reorder(c, t->cur, t->buf, p, dst);
    md_free(p);
    return rc;
}


/* ------------------------------------------------------------------ */
/* primitives and their execution                                      */
/* ------------------------------------------------------------------ */

#define MAXARGS 8

typedef struct prim {
    pd_t pd;
    dnnl_primitive_t p;
    int nmem;
    int arg[MAXARGS];
    dnnl_memory_t mem[MAXARGS]; /* one memory object per argument, pointed at the tensor on each run */
    void *stage[MAXARGS];       /* per argument: a copy of an input kept in another plan's layout */
    size_t stage_cap[MAXARGS];
    uint64_t stage_ver[MAXARGS]; /* the version of the tensor the staging copy holds (0: none) */
    dnnl_memory_t scratch;
} prim;

static void prim_fini(prim *p) {
    for (int i = 0; i < p->nmem; i++) dnnl_memory_destroy(p->mem[i]), free(p->stage[i]);
    if (p->scratch) dnnl_memory_destroy(p->scratch);
    if (p->p) dnnl_primitive_destroy(p->p);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    memset(p, 0, sizeof *p);
}

static const char *impl_name(cpd_t pd) {
    const char *s = NULL;
    if (pd == NULL || dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) != dnnl_success || s == NULL)
        return "?";
    return s;
}

/* prim_init creates the primitive of p->pd and its scratchpad view. */
static int prim_init(dno_ctx *c, prim *p, const char *what) {
    CK(dnnl_primitive_create(&p->p, p->pd), "%s: creating the primitive (%s)", what, impl_name(p->pd));
    cmd_t sm = dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0);
    size_t n = sm ? md_size(sm) : 0;
    if (n > 0) {
        int rc = arena_reserve(c, n);
        if (rc) return rc;
        CK(dnnl_memory_create(&p->scratch, sm, c->eng, DNNL_MEMORY_NONE), "%s: scratchpad memory", what);
    }
    return 0;
}

/* make_attr: user scratchpad (from the context's arena), optional ReLU post-op. */
static int make_attr(dno_ctx *c, dnnl_primitive_attr_t *attr, int relu) {
    *attr = NULL;
    CK(dnnl_primitive_attr_create(attr), "creating primitive attributes");
    CK(dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user), "setting the scratchpad mode");
    if (relu) {
        dnnl_post_ops_t po = NULL;
        CK(dnnl_post_ops_create(&po), "creating post-ops");
        dnnl_status_t st = post_ops_relu(po);
        if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(*attr, po);
        dnnl_post_ops_destroy(po);
        CK(st, "appending the fused ReLU post-op");
    }
    return 0;
}

typedef struct targ {
    int arg;
    dno_tensor *t;
    int out; /* written by the primitive: its old values need not be kept */
} targ;

/* slot returns the index of p's memory object for arg, creating it. */
static int slot(dno_ctx *c, prim *p, int arg, cmd_t md, int *rc) {
    for (int i = 0; i < p->nmem; i++)
        if (p->arg[i] == arg) return i;
    if (p->nmem == MAXARGS) {
        *rc = fail(c, DNO_EINTERNAL, "too many primitive arguments");
        return -1;
    }
    dnnl_status_t st = dnnl_memory_create(&p->mem[p->nmem], md, c->eng, DNNL_MEMORY_NONE);
    if (st != dnnl_success) {
        *rc = fail(c, (int)st, "creating the memory object of argument %d", arg);
        return -1;
    }
    p->arg[p->nmem] = arg;
    return p->nmem++;
}

static int same_dims(cmd_t a, cmd_t b) {
    int64_t da[DNNL_MAX_NDIMS], db[DNNL_MAX_NDIMS];
    int na = md_dims(a, da), nb = md_dims(b, db);
    if (na != nb) return 0;
    for (int i = 0; i < na; i++)
        if (da[i] != db[i]) return 0;
    return 1;
}

/* shadow_of sets *buf to a copy of t's values in layout want (another data
 * type: bf16), converting only when t changed since the copy was made. */
static int shadow_of(dno_ctx *c, dno_tensor *t, cmd_t want, void **buf) {
    struct shadow *s = NULL, *lru = &t->shadow[0];
    c->tick++;
    for (int i = 0; i < 2; i++) {
        struct shadow *x = &t->shadow[i];
        if (x->md && md_eq(x->md, want)) s = x;
        if (x->used < lru->used) lru = x;
    }
    if (s == NULL) {
        s = lru;
        md_free(s->md);
        s->md = md_clone(want);
        s->ver = 0;
        if (s->md == NULL) return fail(c, DNO_ENOMEM, "copying a memory descriptor");
    }
    s->used = c->tick;
    size_t need = md_size(want);
    if (s->cap < need) {
        free(s->buf);
        s->ver = 0;
        s->buf = zalloc(need);
        s->cap = s->buf ? need : 0;
        if (s->buf == NULL) return fail(c, DNO_ENOMEM, "allocating %zu bytes for a bf16 copy", need);
        c->allocs++;
    }
    if (s->ver != t->ver) {
        s->ver = 0;
        int rc = reorder(c, t->cur, t->buf, want, s->buf);
        if (rc) return rc;
        s->ver = t->ver;
    }
    *buf = s->buf;
    return 0;
}

/* run executes p on the tensors of a. An input in another layout than the
 * primitive wants is reordered: in place when it is plain (an upload, or a
 * first use), into a staging copy of the plan's when its layout was chosen
 * by another plan (weights that the forward and backward-data primitives
 * want blocked differently; a pooled output read plain by an inner
 * product), so that tensors stop changing layout after the first step.
 * Outputs take the layout the primitive writes. */
static int run(dno_ctx *c, prim *p, const char *op, int n, const targ *a) {
    dnnl_exec_arg_t ex[MAXARGS + 1];
    void *bufs[MAXARGS];
    int rc = 0, k = 0;
    enter(c);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
            if (a[i].out != pass) continue;
            cmd_t want = dnnl_primitive_desc_query_md(p->pd, dnnl_query_exec_arg_md, a[i].arg);
            if (want == NULL) return fail(c, DNO_EINTERNAL, "%s: no layout for argument %d", op, a[i].arg);
            int j = slot(c, p, a[i].arg, want, &rc);
            if (j < 0) return rc;
            dno_tensor *t = a[i].t;
            bufs[i] = t->buf;
            if (md_eq(t->cur, want)) continue;
            if (md_dtype(want) != dnnl_f32) { /* a bf16 input: a converted copy of the plan's; tensors stay f32 */
                if (a[i].out) return fail(c, DNO_EINTERNAL, "%s: argument %d is a bf16 output", op, a[i].arg);
                if (!same_dims(t->cur, want)) { /* fc6's flattened view: make it in f32 first */
                    int64_t wd[DNNL_MAX_NDIMS];
                    int wn = md_dims(want, wd);
                    md_t v = NULL;
                    dnnl_status_t st = md_new(&v, wn, wd, dnnl_f32, plain_tag(wn));
                    if (st != dnnl_success) return fail(c, (int)st, "%s: describing a plain layout", op);
                    rc = relayout(c, t, v, 1);
                    md_free(v);
                    if (rc) return rc;
                    bufs[i] = t->buf;
                }
                if ((rc = shadow_of(c, t, want, &bufs[i])) != 0) return rc;
                continue;
            } else if (a[i].out || t->cur_plain || !same_dims(t->cur, want)) {
                if ((rc = relayout(c, t, want, !a[i].out)) != 0) return rc;
                bufs[i] = t->buf;
                continue;
            }
            bufs[i] = p->stage[j];
            if (p->stage_ver[j] == t->ver) continue; /* unchanged since the copy (weights at inference) */
            size_t need = md_size(want);
            if (p->stage_cap[j] < need) {
                p->stage_ver[j] = 0;
                free(p->stage[j]);
                p->stage[j] = zalloc(need);
                p->stage_cap[j] = p->stage[j] ? need : 0;
                if (p->stage[j] == NULL) return fail(c, DNO_ENOMEM, "%s: allocating %zu bytes of staging", op, need);
                c->allocs++;
            }
            p->stage_ver[j] = 0;
            if ((rc = reorder(c, t->cur, t->buf, want, p->stage[j])) != 0) return rc;
            p->stage_ver[j] = t->ver;
            bufs[i] = p->stage[j];
        }
    }
    for (int i = 0; i < n; i++) {
        int j = slot(c, p, a[i].arg, NULL, &rc);
        CK(dnnl_memory_set_data_handle(p->mem[j], bufs[i]), "%s: binding argument %d", op, a[i].arg);
        ex[k].arg = a[i].arg;
        ex[k++].memory = p->mem[j];
    }
    if (p->scratch) {
        CK(dnnl_memory_set_data_handle(p->scratch, c->arena), "%s: binding the scratchpad", op);
        ex[k].arg = DNNL_ARG_SCRATCHPAD;
        ex[k++].memory = p->scratch;
    }
    for (int i = 0; i < n; i++)
        if (a[i].out) written(c, a[i].t);
    CK(dnnl_primitive_execute(p->p, c->strm, k, ex), "%s: executing %s", op, impl_name(p->pd));
    CK(dnnl_stream_wait(c->strm), "%s: waiting for the stream", op);
    return 0;
}

/* slow_impl reports a reference or generic implementation: the ones a plan
 * avoids by asking for other layouts. */
static int slow_impl(cpd_t pd) {
    const char *s = impl_name(pd);
    return strstr(s, "ref") != NULL || strstr(s, "simple") != NULL;
}

static void zero_dims(dnnl_dims_t d) { memset(d, 0, sizeof(dnnl_dims_t)); }

/* ------------------------------------------------------------------ */
/* layers with weights                                                 */
/* ------------------------------------------------------------------ */

/* wlayer is a convolution or an inner product: a forward primitive made at
 * plan time with format_tag any, and backward primitives made on first use. */
typedef struct wlayer {
    int conv, bias;
    int infer; /* made for inference: forward_inference, no backward */
    int xnd, wnd, ynd;
    int64_t xdims[5], wdims[5], ydims[5];
    dnnl_dims_t s, dil, pl, pr; /* convolution geometry */
    prim fwd, bwd_data, bwd_w;
} wlayer;

struct dno_conv {
    wlayer l;
};

struct dno_linear {
    wlayer l;
};

static void wl_fini(wlayer *l) {
    prim_fini(&l->fwd);
    prim_fini(&l->bwd_data);
    prim_fini(&l->bwd_w);
}

/* mds holds the descriptors a creation needs, freed together. */
typedef struct mds {
    md_t m[6];
    int n;
} mds;

static md_t mds_new_dt(dno_ctx *c, mds *s, int nd, const int64_t *dims, dnnl_data_type_t dt, dnnl_format_tag_t tag,
                       int *rc) {
    dnnl_dims_t d;
    for (int i = 0; i < nd; i++) d[i] = dims[i];
    md_t m = NULL;
    dnnl_status_t st = md_new(&m, nd, d, dt, tag);
    if (st != dnnl_success) {
        *rc = fail(c, (int)st, "describing a tensor of rank %d", nd);
        return NULL;
    }
    s->m[s->n++] = m;
    return m;
}

static md_t mds_new(dno_ctx *c, mds *s, int nd, const int64_t *dims, dnnl_format_tag_t tag, int *rc) {
    return mds_new_dt(c, s, nd, dims, dnnl_f32, tag, rc);
}

static void mds_free(mds *s) {
    for (int i = 0; i < s->n; i++) md_free(s->m[i]);
    s->n = 0;
}

static const char *wl_name(const wlayer *l) { return l->conv ? "conv2d" : "linear"; }

/* wl_create makes the forward primitive: bias and ReLU fused as post-ops,
 * every layout left to oneDNN. */
static int wl_create(dno_ctx *c, wlayer *l, int relu) {
    int rc = 0;
    mds s = {0};
    dnnl_primitive_attr_t attr = NULL;
    int64_t oc = l->ydims[1];
    dnnl_data_type_t in = c->bf16 ? dnnl_bf16 : dnnl_f32; /* bf16: inputs and weights bf16, output f32 */
    md_t src = mds_new_dt(c, &s, l->xnd, l->xdims, in, dnnl_format_tag_any, &rc);
    md_t w = src ? mds_new_dt(c, &s, l->wnd, l->wdims, in, dnnl_format_tag_any, &rc) : NULL;
    md_t b = w && l->bias ? mds_new(c, &s, 1, &oc, dnnl_a, &rc) : NULL;
    md_t dst = w && (b || !l->bias) ? mds_new(c, &s, l->ynd, l->ydims, dnnl_format_tag_any, &rc) : NULL;
    if (dst && (rc = make_attr(c, &attr, relu)) == 0) {
        dnnl_prop_kind_t prop = l->infer ? dnnl_forward_inference : dnnl_forward_training;
        dnnl_status_t st = l->conv ? conv_fwd_pd(&l->fwd.pd, c->eng, prop, src, w, b, dst, l->s, l->dil, l->pl, l->pr,
                                                 attr)
                                   : ip_fwd_pd(&l->fwd.pd, c->eng, prop, src, w, b, dst, attr);
        if (st != dnnl_success)
            rc = fail(c, (int)st, "%s: creating the forward primitive descriptor", wl_name(l));
        else
            rc = prim_init(c, &l->fwd, l->conv ? "conv2d forward" : "linear forward");
    }
    if (attr) dnnl_primitive_attr_destroy(attr);
    mds_free(&s);
    return rc;
}

/* wl_bwd_init makes a backward primitive (data or weights), asking first for
 * the forward's layouts (so that weights, activations and their gradients
 * keep one layout through a training step) and letting oneDNN choose when
 * those have only a reference implementation. */
static int wl_bwd_init(dno_ctx *c, wlayer *l, int data) {
    prim *q = data ? &l->bwd_data : &l->bwd_w;
    if (q->p) return 0;
    if (l->infer) return fail(c, DNO_EINTERNAL, "%s: backward of a plan made for inference", wl_name(l));
    cpd_t f = l->fwd.pd;
    cmd_t src = dnnl_primitive_desc_query_md(f, dnnl_query_src_md, 0);
    cmd_t w = dnnl_primitive_desc_query_md(f, dnnl_query_weights_md, 0);
    cmd_t b = l->bias ? dnnl_primitive_desc_query_md(f, dnnl_query_weights_md, 1) : NULL;
    cmd_t dst = dnnl_primitive_desc_query_md(f, dnnl_query_dst_md, 0);
    dnnl_primitive_attr_t attr = NULL;
    int rc = make_attr(c, &attr, 0);
    if (rc) return rc;
    /* bf16: the forward's descriptors have the wrong data types for the
     * gradients; ask for bf16 inputs (x, w, dy) and f32 outputs (dx, dw). */
    dnnl_data_type_t lo = c->bf16 ? dnnl_bf16 : dnnl_f32;
    for (int attempt = c->bf16 ? 1 : 0; attempt < 2 && rc == 0; attempt++) {
        mds s = {0};
        if (attempt == 1) {
            src = mds_new_dt(c, &s, l->xnd, l->xdims, data ? dnnl_f32 : lo, dnnl_format_tag_any, &rc);
            w = src ? mds_new_dt(c, &s, l->wnd, l->wdims, data ? lo : dnnl_f32, dnnl_format_tag_any, &rc) : NULL;
            dst = w ? mds_new_dt(c, &s, l->ynd, l->ydims, lo, dnnl_format_tag_any, &rc) : NULL;
            if (dst == NULL) break;
        }
        dnnl_status_t st;
        if (l->conv)
            st = data ? conv_bwd_data_pd(&q->pd, c->eng, src, w, dst, l->s, l->dil, l->pl, l->pr, f, attr)
                      : conv_bwd_w_pd(&q->pd, c->eng, src, w, b, dst, l->s, l->dil, l->pl, l->pr, f, attr);
        else
            st = data ? ip_bwd_data_pd(&q->pd, c->eng, src, w, dst, f, attr)
                      : ip_bwd_w_pd(&q->pd, c->eng, src, w, b, dst, f, attr);
        mds_free(&s);
        if (st == dnnl_success && (attempt == 1 || !slow_impl(q->pd))) break;
        if (q->pd) dnnl_primitive_desc_destroy(q->pd);
        q->pd = NULL;
        if (attempt == 1)
            rc = fail(c, (int)st, "%s: creating the backward-%s primitive descriptor", wl_name(l),
                      data ? "data" : "weights");
    }
    dnnl_primitive_attr_destroy(attr);
    if (rc == 0) rc = prim_init(c, q, data ? "backward data" : "backward weights");
    if (rc) prim_fini(q);
    return rc;
}

static int wl_forward(dno_ctx *c, wlayer *l, dno_tensor *x, dno_tensor *w, dno_tensor *b, dno_tensor *y) {
    targ a[4] = {{DNNL_ARG_SRC, x, 0}, {DNNL_ARG_WEIGHTS, w, 0}, {DNNL_ARG_DST, y, 1}, {DNNL_ARG_BIAS, b, 0}};
    return run(c, &l->fwd, l->conv ? "conv2d forward" : "linear forward", l->bias ? 4 : 3, a);
}

static int wl_backward_data(dno_ctx *c, wlayer *l, dno_tensor *dy, dno_tensor *w, dno_tensor *dx) {
    int rc = wl_bwd_init(c, l, 1);
    if (rc) return rc;
    targ a[3] = {{DNNL_ARG_DIFF_DST, dy, 0}, {DNNL_ARG_WEIGHTS, w, 0}, {DNNL_ARG_DIFF_SRC, dx, 1}};
    return run(c, &l->bwd_data, l->conv ? "conv2d backward data" : "linear backward data", 3, a);
}

static int wl_backward_filter(dno_ctx *c, wlayer *l, dno_tensor *x, dno_tensor *dy, dno_tensor *dw, dno_tensor *db) {
    int rc = wl_bwd_init(c, l, 0);
    if (rc) return rc;
    targ a[4] = {{DNNL_ARG_SRC, x, 0}, {DNNL_ARG_DIFF_DST, dy, 0}, {DNNL_ARG_DIFF_WEIGHTS, dw, 1},
                 {DNNL_ARG_DIFF_BIAS, db, 1}};
    return run(c, &l->bwd_w, l->conv ? "conv2d backward weights" : "linear backward weights", l->bias ? 4 : 3, a);
}

/* ------------------------------------------------------------------ */
/* convolution                                                         */
/* ------------------------------------------------------------------ */

void dno_conv_destroy(dno_conv *p) {
    if (p == NULL) return;
    wl_fini(&p->l);
    free(p);
}

int dno_conv_create(dno_ctx *c, dno_conv **out, const int64_t *x, int64_t oc, int64_t kh, int64_t kw, int64_t sh,
                    int64_t sw, int64_t ph, int64_t pw, int64_t groups, int bias, int relu, int infer) {
    *out = NULL;
    dno_conv *p = calloc(1, sizeof *p);
    if (p == NULL) return fail(c, DNO_ENOMEM, "conv2d: allocating the plan");
    wlayer *l = &p->l;
    l->conv = 1, l->bias = bias, l->infer = infer, l->xnd = 4, l->ynd = 4;
    int64_t oh = (x[2] + 2 * ph - kh) / sh + 1, ow = (x[3] + 2 * pw - kw) / sw + 1;
    int64_t y[4] = {x[0], oc, oh, ow};
    memcpy(l->xdims, x, 4 * sizeof *x);
    memcpy(l->ydims, y, sizeof y);
    if (groups > 1) { /* goihw */
        int64_t w[5] = {groups, oc / groups, x[1] / groups, kh, kw};
        memcpy(l->wdims, w, sizeof w);
        l->wnd = 5;
    } else {
        int64_t w[4] = {oc, x[1], kh, kw};
        memcpy(l->wdims, w, sizeof w);
        l->wnd = 4;
    }
    zero_dims(l->s), zero_dims(l->dil), zero_dims(l->pl), zero_dims(l->pr);
    l->s[0] = sh, l->s[1] = sw, l->pl[0] = ph, l->pl[1] = pw;
    /* floor mode: the right padding that the last window actually reaches */
    l->pr[0] = (oh - 1) * sh + kh - x[2] - ph;
    l->pr[1] = (ow - 1) * sw + kw - x[3] - pw;
    int rc = wl_create(c, l, relu);
    if (rc) {
        dno_conv_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

int dno_conv_forward(dno_ctx *c, dno_conv *p, dno_tensor *x, dno_tensor *w, dno_tensor *b, dno_tensor *y) {
    return wl_forward(c, &p->l, x, w, b, y);
}

int dno_conv_backward_data(dno_ctx *c, dno_conv *p, dno_tensor *dy, dno_tensor *w, dno_tensor *dx) {
    return wl_backward_data(c, &p->l, dy, w, dx);
}

int dno_conv_backward_filter(dno_ctx *c, dno_conv *p, dno_tensor *x, dno_tensor *dy, dno_tensor *dw, dno_tensor *db) {
    return wl_backward_filter(c, &p->l, x, dy, dw, db);
}

void dno_conv_impl(const dno_conv *p, char *buf, size_t len) {
    const wlayer *l = &p->l;
    snprintf(buf, len, "fwd %s, bwd data %s, bwd weights %s", impl_name(l->fwd.pd),
             l->bwd_data.pd ? impl_name(l->bwd_data.pd) : "-", l->bwd_w.pd ? impl_name(l->bwd_w.pd) : "-");
}

/* ------------------------------------------------------------------ */
/* fully connected (inner product)                                     */
/* ------------------------------------------------------------------ */

void dno_linear_destroy(dno_linear *p) {
    if (p == NULL) return;
    wl_fini(&p->l);
    free(p);
}

int dno_linear_create(dno_ctx *c, dno_linear **out, int nd, const int64_t *x, int64_t outf, int bias, int relu,
                      int infer) {
    *out = NULL;
    dno_linear *p = calloc(1, sizeof *p);
    if (p == NULL) return fail(c, DNO_ENOMEM, "linear: allocating the plan");
    wlayer *l = &p->l;
    /* A training plan is made for the input flattened to {N, C·H·W}: on a
     * 4-D input (weights {out, C, H, W} in bcda) oneDNN 2.6 runs backward
     * data as x64:gemm:jit, several times slower than the brgemm it picks
     * for the 2-D problem (fc6 on AVX-512); a 4-D input in a blocked layout
     * is then reordered to plain once per pass (run: a view with other
     * dimensions). The forward alone is faster flattened too (brgemm), except
     * for a single image, where x64:gemm:jit on the 4-D problem wins: fc6 on
     * the 2-vCPU Xeon with AVX-512, inference, medians of 15 alternations,
     * 4-D/2-D: batch 1 5.1/6.8 ms, 2 7.7/7.0, 4 9.3/7.4, 8 12.5/8.5, 16
     * 15.6/10.9, 64 25.9/22.7. So an inference plan for one image keeps the
     * input's rank, read in its own layout. */
    int64_t in = 1;
    for (int i = 1; i < nd; i++) in *= x[i];
    int flat = !(infer && x[0] == 1);
    l->bias = bias, l->infer = infer, l->ynd = 2;
    l->xnd = l->wnd = flat ? 2 : nd;
    if (flat) {
        l->xdims[0] = x[0], l->xdims[1] = in;
        l->wdims[0] = outf, l->wdims[1] = in;
    } else {
        for (int i = 0; i < nd; i++) l->xdims[i] = x[i], l->wdims[i] = x[i];
        l->wdims[0] = outf;
    }
    l->ydims[0] = x[0], l->ydims[1] = outf;
    int rc = wl_create(c, l, relu);
    if (rc) {
        dno_linear_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

int dno_linear_forward(dno_ctx *c, dno_linear *p, dno_tensor *x, dno_tensor *w, dno_tensor *b, dno_tensor *y) {
    return wl_forward(c, &p->l, x, w, b, y);
}

int dno_linear_backward_data(dno_ctx *c, dno_linear *p, dno_tensor *dy, dno_tensor *w, dno_tensor *dx) {
    return wl_backward_data(c, &p->l, dy, w, dx);
}

int dno_linear_backward_filter(dno_ctx *c, dno_linear *p, dno_tensor *x, dno_tensor *dy, dno_tensor *dw,
                               dno_tensor *db) {
    return wl_backward_filter(c, &p->l, x, dy, dw, db);
}

/* ------------------------------------------------------------------ */
/* LRN and max pooling: primitives made for the layout of their input  */
/* ------------------------------------------------------------------ */

/* logical gives t a layout over its logical dimensions (not a view with
 * other dimensions, which a fully connected layer may have left). */
static int logical(dno_ctx *c, dno_tensor *t) {
    int64_t d[DNNL_MAX_NDIMS];
    int nd = md_dims(t->cur, d);
    int same = nd == t->nd;
    for (int i = 0; same && i < nd; i++) same = d[i] == t->dims[i];
    return same ? 0 : to_plain(c, t, 1);
}

static int workspace(dno_ctx *c, prim *p, dno_tensor **ws) {
    cmd_t m = dnnl_primitive_desc_query_md(p->pd, dnnl_query_workspace_md, 0);
    if (m == NULL || md_size(m) == 0) return 0;
    int64_t d[DNNL_MAX_NDIMS];
    int nd = md_dims(m, d);
    return new_tensor(c, ws, nd, d, m);
}

/* LRN and pooling: a forward and a backward primitive made for the layout
 * of the input, with the forward's workspace kept for the backward.
 *
 * The layout of the input picks the implementation, and on plain NCHW
 * oneDNN 2.x has only slow ones (simple_nchw, ref: 5–50× the blocked
 * kernels' time). So when an input arrives plain, the plan asks for each
 * blocked layout in turn whether it has optimised forward and backward
 * kernels, and reorders the input into the first that does; a later plain
 * input (a new upload) is reordered into the same layout without making
 * the primitives again. */
typedef struct keyed_ops {
    const char *name; /* "lrn", "maxpool2d": for messages */
    /* fwd_pd makes the forward primitive descriptor of kind prop for input layout src. */
    dnnl_status_t (*fwd_pd)(void *plan, dno_ctx *c, dnnl_prop_kind_t prop, cmd_t src, cattr_t attr, pd_t *pd);
    /* bwd_pd makes the backward one, in the layouts of the forward fwd. */
    dnnl_status_t (*bwd_pd)(void *plan, dno_ctx *c, cpd_t fwd, cattr_t attr, pd_t *pd);
} keyed_ops;

typedef struct keyed {
    const keyed_ops *ops;
    void *plan;
    int infer; /* made for inference: forward_inference (no workspace), no backward */
    md_t key;  /* the input layout the primitives were made for */
    md_t from; /* the plain layout key was chosen for, if any */
    prim fwd, bwd;
    dno_tensor *ws;
} keyed;

static void keyed_reset(keyed *k) {
    prim_fini(&k->fwd);
    prim_fini(&k->bwd);
    dno_tensor_destroy(k->ws);
    md_free(k->key);
    k->ws = NULL;
    k->key = NULL;
}

static void keyed_fini(keyed *k) {
    keyed_reset(k);
    md_free(k->from);
    k->from = NULL;
}

static dnnl_prop_kind_t keyed_prop(const keyed *k) {
    return k->infer ? dnnl_forward_inference : dnnl_forward_training;
}

/* fast_for reports whether the forward kernel for input layout src, and the
 * backward one unless the plan is for inference, are optimised ones. */
static int fast_for(dno_ctx *c, keyed *k, cmd_t src) {
    pd_t f = NULL, b = NULL;
    int ok = k->ops->fwd_pd(k->plan, c, keyed_prop(k), src, NULL, &f) == dnnl_success && !slow_impl(f) &&
             (k->infer || (k->ops->bwd_pd(k->plan, c, f, NULL, &b) == dnnl_success && !slow_impl(b)));
    if (b) dnnl_primitive_desc_destroy(b);
    if (f) dnnl_primitive_desc_destroy(f);
    return ok;
}

/* faster_layout returns an owned layout to reorder the plain input x into,
 * or NULL to keep x's own. */
static md_t faster_layout(dno_ctx *c, keyed *k, dno_tensor *x) {
    if (!x->cur_plain || x->nd != 4 || fast_for(c, k, x->cur)) return NULL;
    const dnnl_format_tag_t tags[3] = {dnnl_aBcd16b, dnnl_aBcd8b, dnnl_acdb};
    for (int i = 0; i < 3; i++) {
        md_t m = NULL;
        if (md_new(&m, 4, x->dims, dnnl_f32, tags[i]) != dnnl_success) continue;
        if (fast_for(c, k, m)) return m;
        md_free(m);
    }
    return NULL;
}

/* keyed_layout gives x the layout the primitives were made for when x
 * arrives in the plain layout they were chosen for; on any other layout
 * they have not seen, it picks a faster one for a plain x and reports that
 * the primitives must be made again. */
static int keyed_layout(dno_ctx *c, keyed *k, dno_tensor *x, int *remake) {
    *remake = 0;
    if (k->key && md_eq(k->key, x->cur)) return 0;
    if (k->key && k->from && md_eq(k->from, x->cur)) return relayout(c, x, k->key, 1);
    *remake = 1;
    md_free(k->from);
    k->from = NULL;
    md_t better = faster_layout(c, k, x);
    if (better == NULL) return 0;
    k->from = md_clone(x->cur);
    int rc = k->from ? relayout(c, x, better, 1) : fail(c, DNO_ENOMEM, "copying a memory descriptor");
    md_free(better);
    return rc;
}

static int keyed_forward(dno_ctx *c, keyed *k, dno_tensor *x, dno_tensor *y) {
    int rc = logical(c, x), remake = 0;
    if (rc == 0) rc = keyed_layout(c, k, x, &remake);
    if (rc) return rc;
    if (remake) {
        keyed_reset(k);
        dnnl_primitive_attr_t attr = NULL;
        if ((rc = make_attr(c, &attr, 0)) != 0) return rc;
        dnnl_status_t st = k->ops->fwd_pd(k->plan, c, keyed_prop(k), x->cur, attr, &k->fwd.pd);
        dnnl_primitive_attr_destroy(attr);
        if (st != dnnl_success)
            rc = fail(c, (int)st, "%s: creating the forward primitive descriptor", k->ops->name);
        else if ((rc = prim_init(c, &k->fwd, k->ops->name)) == 0 && (rc = workspace(c, &k->fwd, &k->ws)) == 0) {
            k->key = md_clone(x->cur);
            if (k->key == NULL) rc = fail(c, DNO_ENOMEM, "%s: copying a memory descriptor", k->ops->name);
        }
        if (rc) {
            keyed_reset(k);
            return rc;
        }
    }
    targ a[3] = {{DNNL_ARG_SRC, x, 0}, {DNNL_ARG_DST, y, 1}, {DNNL_ARG_WORKSPACE, k->ws, 1}};
    return run(c, &k->fwd, k->ops->name, k->ws ? 3 : 2, a);
}

/* keyed_backward runs the backward primitive; x is the forward's input for
 * the ops whose backward reads it (LRN), NULL for the others (pooling). */
static int keyed_backward(dno_ctx *c, keyed *k, dno_tensor *x, dno_tensor *dy, dno_tensor *dx) {
    if (k->infer) return fail(c, DNO_EINTERNAL, "%s: backward of a plan made for inference", k->ops->name);
    if (k->key == NULL) return fail(c, DNO_EINTERNAL, "%s backward before forward", k->ops->name);
    int rc;
    if (k->bwd.p == NULL) {
        dnnl_primitive_attr_t attr = NULL;
        if ((rc = make_attr(c, &attr, 0)) != 0) return rc;
        dnnl_status_t st = k->ops->bwd_pd(k->plan, c, k->fwd.pd, attr, &k->bwd.pd);
        dnnl_primitive_attr_destroy(attr);
        if (st != dnnl_success) return fail(c, (int)st, "%s: creating the backward primitive descriptor", k->ops->name);
        if ((rc = prim_init(c, &k->bwd, k->ops->name)) != 0) {
            prim_fini(&k->bwd);
            return rc;
        }
    }
    targ a[4] = {{DNNL_ARG_DIFF_DST, dy, 0}, {DNNL_ARG_DIFF_SRC, dx, 1}};
    int n = 2;
    if (k->ws) a[n++] = (targ){DNNL_ARG_WORKSPACE, k->ws, 0};
    if (x) a[n++] = (targ){DNNL_ARG_SRC, x, 0};
    return run(c, &k->bwd, k->ops->name, n, a);
}

struct dno_lrn {
    int64_t n;
    float alpha, beta, k;
    keyed kd;
};

static dnnl_status_t lrn_fwd(void *plan, dno_ctx *c, dnnl_prop_kind_t prop, cmd_t src, cattr_t attr, pd_t *pd) {
    dno_lrn *p = plan;
    return lrn_fwd_pd(pd, c->eng, prop, src, src, p->n, p->alpha, p->beta, p->k, attr);
}

static dnnl_status_t lrn_bwd(void *plan, dno_ctx *c, cpd_t fwd, cattr_t attr, pd_t *pd) {
    dno_lrn *p = plan;
    cmd_t src = dnnl_primitive_desc_query_md(fwd, dnnl_query_src_md, 0);
    return lrn_bwd_pd(pd, c->eng, src, src, src, p->n, p->alpha, p->beta, p->k, fwd, attr);
}

static const keyed_ops lrn_ops = {"lrn", lrn_fwd, lrn_bwd};

void dno_lrn_destroy(dno_lrn *p) {
    if (p == NULL) return;
    keyed_fini(&p->kd);
    free(p);
}

int dno_lrn_create(dno_ctx *c, dno_lrn **out, int64_t size, float alpha, float beta, float k, int infer) {
    dno_lrn *p = *out = calloc(1, sizeof **out);
    if (p == NULL) return fail(c, DNO_ENOMEM, "lrn: allocating the plan");
    p->n = size, p->alpha = alpha, p->beta = beta, p->k = k;
    p->kd.ops = &lrn_ops, p->kd.plan = p, p->kd.infer = infer;
    return 0;
}

int dno_lrn_forward(dno_ctx *c, dno_lrn *p, dno_tensor *x, dno_tensor *y) { return keyed_forward(c, &p->kd, x, y); }

int dno_lrn_backward(dno_ctx *c, dno_lrn *p, dno_tensor *x, dno_tensor *dy, dno_tensor *dx) {
    return keyed_backward(c, &p->kd, x, dy, dx);
}

struct dno_pool {
    dnnl_dims_t y, s, k, dil, pl, pr;
    keyed kd;
};

static dnnl_status_t pool_fwd(void *plan, dno_ctx *c, dnnl_prop_kind_t prop, cmd_t src, cattr_t attr, pd_t *pd) {
    dno_pool *p = plan;
    md_t dst = NULL; /* any: the output takes the input's blocking */
    dnnl_status_t st = md_new(&dst, 4, p->y, dnnl_f32, dnnl_format_tag_any);
    if (st == dnnl_success) st = pool_fwd_pd(pd, c->eng, prop, src, dst, p->s, p->k, p->dil, p->pl, p->pr, attr);
    md_free(dst);
    return st;
}

static dnnl_status_t pool_bwd(void *plan, dno_ctx *c, cpd_t fwd, cattr_t attr, pd_t *pd) {
    dno_pool *p = plan;
    cmd_t src = dnnl_primitive_desc_query_md(fwd, dnnl_query_src_md, 0);
    cmd_t dst = dnnl_primitive_desc_query_md(fwd, dnnl_query_dst_md, 0);
    return pool_bwd_pd(pd, c->eng, src, dst, p->s, p->k, p->dil, p->pl, p->pr, fwd, attr);
}

static const keyed_ops pool_ops = {"maxpool2d", pool_fwd, pool_bwd};

void dno_pool_destroy(dno_pool *p) {
    if (p == NULL) return;
    keyed_fini(&p->kd);
    free(p);
}

int dno_pool_create(dno_ctx *c, dno_pool **out, const int64_t *x, const int64_t *y, int64_t kh, int64_t kw,
                    int64_t sh, int64_t sw, int64_t ph, int64_t pw, int infer) {
    dno_pool *p = *out = calloc(1, sizeof **out);
    if (p == NULL) return fail(c, DNO_ENOMEM, "maxpool2d: allocating the plan");
    zero_dims(p->y), zero_dims(p->s), zero_dims(p->k), zero_dims(p->dil), zero_dims(p->pl), zero_dims(p->pr);
    for (int i = 0; i < 4; i++) p->y[i] = y[i];
    p->s[0] = sh, p->s[1] = sw, p->k[0] = kh, p->k[1] = kw, p->pl[0] = ph, p->pl[1] = pw;
    /* floor mode: the right padding the last window reaches (may be negative: unread columns) */
    p->pr[0] = (y[2] - 1) * sh + kh - x[2] - ph;
    p->pr[1] = (y[3] - 1) * sw + kw - x[3] - pw;
    p->kd.ops = &pool_ops, p->kd.plan = p, p->kd.infer = infer;
    return 0;
}

int dno_pool_forward(dno_ctx *c, dno_pool *p, dno_tensor *x, dno_tensor *y) { return keyed_forward(c, &p->kd, x, y); }

int dno_pool_backward(dno_ctx *c, dno_pool *p, dno_tensor *dy, dno_tensor *dx) {
    return keyed_backward(c, &p->kd, NULL, dy, dx);
}

/* ------------------------------------------------------------------ */
/* element-wise steps                                                  */
/* ------------------------------------------------------------------ */

#define PAR_MIN 32768 /* below this many elements one thread is faster */

/* keep_if is v where cond holds and +0 elsewhere, without a branch (the
 * masks of ReLU and dropout are random: a branch would mispredict half the
 * time) and without multiplying (0·∞ would be NaN). */
static inline float keep_if(float v, int cond) {
    union {
        float f;
        uint32_t u;
    } a = {v};
    a.u &= -(uint32_t)(cond != 0);
    return a.f;
}

static size_t nfloats(const dno_tensor *t) { return md_size(t->cur) / sizeof(float); }

/* ReLU works on any layout: y takes x's layout (padding stays zero). */
int dno_relu_forward(dno_ctx *c, dno_tensor *x, dno_tensor *y) {
    enter(c);
    int rc = relayout(c, y, x->cur, y == x);
    if (rc) return rc;
    const float *xp = x->buf;
    float *yp = y->buf;
    long n = (long)nfloats(x);
    written(c, y);
#pragma omp parallel for simd if (n > PAR_MIN) schedule(static)
    for (long i = 0; i < n; i++) yp[i] = xp[i] > 0.f ? xp[i] : 0.f;
    return 0;
}

int dno_relu_backward(dno_ctx *c, dno_tensor *y, dno_tensor *dy, dno_tensor *dx) {
    enter(c);
    int rc = relayout(c, dy, y->cur, 1);
    if (rc == 0) rc = relayout(c, dx, y->cur, dx == dy);
    if (rc) return rc;
    const float *yp = y->buf, *g = dy->buf;
    float *d = dx->buf;
    long n = (long)nfloats(y);
    written(c, dx);
#pragma omp parallel for simd if (n > PAR_MIN) schedule(static)
    for (long i = 0; i < n; i++) d[i] = keep_if(g[i], yp[i] > 0.f);
    return 0;
}

/* Bias add and its gradient index channels: plain layout. */
int dno_bias_forward(dno_ctx *c, dno_tensor *x, dno_tensor *b, dno_tensor *y) {
    enter(c);
    int rc = to_plain(c, x, 1);
    if (rc == 0) rc = to_plain(c, b, 1);
    if (rc == 0 && y != x) rc = to_plain(c, y, 0);
    if (rc) return rc;
    long n = x->dims[0], ch = x->dims[1], inner = (long)(numel(x) / (size_t)(n * ch));
    const float *xp = x->buf, *bp = b->buf;
    float *yp = y->buf;
    written(c, y);
#pragma omp parallel for collapse(2) if (n * ch * inner > PAR_MIN) schedule(static)
    for (long i = 0; i < n; i++)
        for (long j = 0; j < ch; j++) {
            const float *s = xp + (i * ch + j) * inner;
            float *d = yp + (i * ch + j) * inner, v = bp[j];
            for (long k = 0; k < inner; k++) d[k] = s[k] + v;
        }
    return 0;
}

int dno_bias_backward(dno_ctx *c, dno_tensor *dy, dno_tensor *db) {
    enter(c);
    int rc = to_plain(c, dy, 1);
    if (rc == 0) rc = to_plain(c, db, 0);
    if (rc) return rc;
    long n = dy->dims[0], ch = dy->dims[1], inner = (long)(numel(dy) / (size_t)(n * ch));
    const float *g = dy->buf;
    float *d = db->buf;
    written(c, db);
#pragma omp parallel for if (n * ch * inner > PAR_MIN) schedule(static)
    for (long j = 0; j < ch; j++) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            const float *r = g + (i * ch + j) * inner;
            for (long k = 0; k < inner; k++) s += r[k];
        }
        d[j] = (float)s;
    }
    return 0;
}

/* dropout_bits is backend.DropoutBits: SplitMix64's finaliser, top 24 bits. */
static inline uint32_t dropout_bits(uint64_t seed, uint64_t i) {
    uint64_t x = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return (uint32_t)(x >> 40);
}

/* Dropout draws its mask by logical index: plain layout. */
int dno_dropout_forward(dno_ctx *c, dno_tensor *x, dno_tensor *y, uint8_t *mask, uint64_t seed, uint32_t threshold,
                       float scale) {
    enter(c);
    int rc = to_plain(c, x, 1);
    if (rc == 0 && y != x) rc = to_plain(c, y, 0);
    if (rc) return rc;
    const float *xp = x->buf;
    float *yp = y->buf;
    long n = (long)numel(x);
    written(c, y);
#pragma omp parallel for if (n > PAR_MIN) schedule(static)
    for (long i = 0; i < n; i++) {
        uint8_t keep = dropout_bits(seed, (uint64_t)i) >= threshold;
        mask[i] = keep;
        yp[i] = keep_if(xp[i] * scale, keep);
    }
    return 0;
}

int dno_dropout_backward(dno_ctx *c, dno_tensor *dy, dno_tensor *dx, const uint8_t *mask, float scale) {
    enter(c);
    int rc = to_plain(c, dy, 1);
    if (rc == 0 && dx != dy) rc = to_plain(c, dx, 0);
    if (rc) return rc;
    const float *g = dy->buf;
    float *d = dx->buf;
    long n = (long)numel(dy);
    written(c, dx);
#pragma omp parallel for simd if (n > PAR_MIN) schedule(static)
    for (long i = 0; i < n; i++) d[i] = keep_if(g[i] * scale, mask[i]);
    return 0;
}

static void row_max_sum(const float *row, long k, double *m, double *sum) {
    double mx = -INFINITY, s = 0;
    for (long i = 0; i < k; i++) mx = row[i] > mx ? row[i] : mx;
    for (long i = 0; i < k; i++) s += exp((double)row[i] - mx);
    *m = mx, *sum = s;
}

int dno_softmax_xent(dno_ctx *c, dno_tensor *logits, const int32_t *labels, dno_tensor *loss, dno_tensor *dlogits) {
    enter(c);
    int rc = to_plain(c, logits, 1);
    if (rc == 0) rc = to_plain(c, loss, 0);
    if (rc == 0 && dlogits) rc = to_plain(c, dlogits, 0);
    if (rc) return rc;
    long n = logits->dims[0], k = logits->dims[1];
    const float *x = logits->buf;
    float *g = dlogits ? dlogits->buf : NULL;
    double total = 0;
    written(c, loss);
    if (dlogits) written(c, dlogits);
    for (long r = 0; r < n; r++) {
        const float *row = x + r * k;
        double m, sum;
        row_max_sum(row, k, &m, &sum);
        total += log(sum) + m - (double)row[labels[r]];
        if (g == NULL) continue;
        float *gr = g + r * k;
        double inv = 1 / (sum * (double)n);
        for (long i = 0; i < k; i++) gr[i] = (float)(exp((double)row[i] - m) * inv);
        gr[labels[r]] -= (float)(1 / (double)n);
    }
    ((float *)loss->buf)[0] = (float)(total / (double)n);
    return 0;
}

int dno_softmax(dno_ctx *c, dno_tensor *logits, dno_tensor *probs) {
    enter(c);
    int rc = to_plain(c, logits, 1);
    if (rc == 0) rc = to_plain(c, probs, 0);
    if (rc) return rc;
    long n = logits->dims[0], k = logits->dims[1];
    const float *x = logits->buf;
    float *p = probs->buf;
    written(c, probs);
    for (long r = 0; r < n; r++) {
        double m, sum;
        row_max_sum(x + r * k, k, &m, &sum);
        for (long i = 0; i < k; i++) p[r * k + i] = (float)(exp((double)x[r * k + i] - m) / sum);
    }
    return 0;
}

/* CLONES compiles a memory-bound kernel for AVX-512, AVX2 and the
 * baseline, chosen at load time by the CPU (GCC's function multiversioning):
 * the build stays portable and the wider code issues fewer instructions per
 * byte moved (SGD over Seed's 62.4 M parameters: 2 threads, Xeon with
 * AVX-512, ~13 % less time than the SSE2 baseline in a stand-alone test). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

/* sgd_chunk updates n elements in one pass: param, grad and velocity read
 * once, param and velocity written once (20 bytes per parameter). */
CLONES static void sgd_chunk(float *restrict w, const float *restrict g, float *restrict v, long n, float lr,
                             float mu, float wd, int rule) {
    if (rule == 0) {
        for (long i = 0; i < n; i++) {
            float d = g[i] + wd * w[i];
            float nv = mu * v[i] + d;
            v[i] = nv;
            w[i] -= lr * nv;
        }
    } else {
        for (long i = 0; i < n; i++) {
            float nv = mu * v[i] - wd * lr * w[i] - lr * g[i];
            v[i] = nv;
            w[i] += nv;
        }
    }
}

/* SGD is element-wise over param's layout: grad and velocity follow it.
 * Each thread updates one contiguous, 64-byte aligned share. */
int dno_sgd(dno_ctx *c, dno_tensor *param, dno_tensor *grad, dno_tensor *velocity, float lr, float mu, float wd,
           int rule) {
    enter(c);
    int rc = relayout(c, grad, param->cur, 1);
    if (rc == 0) rc = relayout(c, velocity, param->cur, 1);
    if (rc) return rc;
    float *w = param->buf, *v = velocity->buf;
    const float *g = grad->buf;
    long n = (long)nfloats(param);
    written(c, param);
    written(c, velocity);
    if (n <= PAR_MIN) {
        sgd_chunk(w, g, v, n, lr, mu, wd, rule);
        return 0;
    }
#pragma omp parallel
    {
        long nt = omp_get_num_threads(), t = omp_get_thread_num();
        long per = ((n + nt - 1) / nt + 15) & ~15L; /* whole cache lines */
        long lo = t * per, hi = lo + per < n ? lo + per : n;
        if (lo < hi) sgd_chunk(w + lo, g + lo, v + lo, hi - lo, lr, mu, wd, rule);
    }
    return 0;
}

/* dno_sgemm is oneDNN's row-major SGEMM, C = A·B (no transposes), for the
 * benchmarks: the ceiling the convolutions and the pure-Go GEMM are
 * compared with. */
int dno_sgemm(dno_ctx *c, int64_t m, int64_t n, int64_t k, const float *a, const float *b, float *out) {
    enter(c);
    CK(dnnl_sgemm('N', 'N', m, n, k, 1.f, a, k, b, n, 0.f, out, n), "sgemm %lldx%lldx%lld", (long long)m,
       (long long)n, (long long)k);
    return 0;
}
