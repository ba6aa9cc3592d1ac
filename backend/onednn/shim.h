/*
 * shim.h — what the C files of backend/onednn's shim share. It is not the
 * interface to Go: that is include/dnngo_onednn.h, which this includes.
 *
 * The shim drives oneDNN 2.x or 3.x (chosen by the header it is compiled
 * against) and is split by concern; cgo compiles every .c file of the
 * package (with -tags onednn, each file's build constraint):
 *
 *   compat.c       every oneDNN 2.x / 3.x difference: memory descriptors,
 *                  primitive descriptor creation, the ReLU post-op
 *   context.c      the context: engine, stream, OpenMP team size, error
 *                  messages, the scratchpad arena
 *   layout.c       tensors and their physical layouts; the layout state
 *                  machine is documented at the top of that file
 *   primitives.c   oneDNN primitives: convolution, inner product, LRN, max
 *                  pooling (and SGEMM), and how one is made and run
 *   elementwise.c  the shim's own OpenMP loops: ReLU, bias, dropout,
 *                  softmax with cross-entropy, the SGD update
 *
 * Functions shared between the files are linked under a dnoi_ prefix (the
 * defines below): a Go binary links the C of every package into one
 * namespace, and names such as fail or run must not collide there.
 */
#ifndef DNNGO_ONEDNN_SHIM_H
#define DNNGO_ONEDNN_SHIM_H

#if defined(__has_include)
#if !__has_include(<oneapi/dnnl/dnnl.h>)
#error "oneDNN headers not found (oneapi/dnnl/dnnl.h): install them (Debian/Ubuntu: apt-get install -y libdnnl-dev; Fedora: dnf install onednn-devel) or build without -tags onednn"
#endif
#endif
#include <oneapi/dnnl/dnnl.h>

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnngo_onednn.h"

#if DNNL_VERSION_MAJOR < 2
#error "oneDNN 2.0 or newer is required"
#endif

#define md_new dnoi_md_new
#define md_clone dnoi_md_clone
#define md_free dnoi_md_free
#define md_dims dnoi_md_dims
#define md_eq dnoi_md_eq
#define md_dtype dnoi_md_dtype
#define md_size dnoi_md_size
#define plain_tag dnoi_plain_tag
#define conv_fwd_pd dnoi_conv_fwd_pd
#define conv_bwd_data_pd dnoi_conv_bwd_data_pd
#define conv_bwd_w_pd dnoi_conv_bwd_w_pd
#define ip_fwd_pd dnoi_ip_fwd_pd
#define ip_bwd_data_pd dnoi_ip_bwd_data_pd
#define ip_bwd_w_pd dnoi_ip_bwd_w_pd
#define lrn_fwd_pd dnoi_lrn_fwd_pd
#define lrn_bwd_pd dnoi_lrn_bwd_pd
#define pool_fwd_pd dnoi_pool_fwd_pd
#define pool_bwd_pd dnoi_pool_bwd_pd
#define post_ops_relu dnoi_post_ops_relu
#define fail dnoi_fail
#define zalloc dnoi_zalloc
#define enter dnoi_enter
#define arena_reserve dnoi_arena_reserve
#define rcache_clear dnoi_rcache_clear
#define written dnoi_written
#define new_tensor dnoi_new_tensor
#define numel dnoi_numel
#define to_plain dnoi_to_plain
#define relayout dnoi_relayout
#define logical dnoi_logical
#define place_args dnoi_place_args
#define slot dnoi_slot

/* ---- compat.c: memory and primitive descriptors of either major ---- */

#if DNNL_VERSION_MAJOR >= 3
typedef dnnl_memory_desc_t md_t;        /* an owned handle */
typedef const_dnnl_memory_desc_t cmd_t; /* a borrowed handle */
#else
typedef dnnl_memory_desc_t *md_t;        /* a malloc'd struct */
typedef const dnnl_memory_desc_t *cmd_t; /* a borrowed struct */
#endif
typedef dnnl_primitive_desc_t pd_t;
typedef const_dnnl_primitive_desc_t cpd_t;
typedef const_dnnl_primitive_attr_t cattr_t;

dnnl_status_t md_new(md_t *out, int nd, const dnnl_dims_t dims, dnnl_data_type_t dt, dnnl_format_tag_t tag);
md_t md_clone(cmd_t m); /* NULL when out of memory */
void md_free(md_t m);
int md_dims(cmd_t m, int64_t *dims); /* returns the rank */
int md_eq(cmd_t a, cmd_t b);
dnnl_data_type_t md_dtype(cmd_t m);
size_t md_size(cmd_t m);
dnnl_format_tag_t plain_tag(int nd); /* dense row-major of rank nd */

/* Primitive descriptors. prop is the forward's kind: dnnl_forward_training,
 * or dnnl_forward_inference for a plan made with Inference (other
 * implementations, no workspace); alg the convolution's algorithm
 * (dnnl_convolution_direct or _winograd); hint is the forward of a backward. */
dnnl_status_t conv_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, dnnl_alg_kind_t alg, cmd_t src, cmd_t w, cmd_t b, cmd_t dst,
                          const dnnl_dims_t s, const dnnl_dims_t dil, const dnnl_dims_t pl, const dnnl_dims_t pr,
                          cattr_t attr);
dnnl_status_t conv_bwd_data_pd(pd_t *pd, dnnl_engine_t e, dnnl_alg_kind_t alg, cmd_t dsrc, cmd_t w, cmd_t ddst, const dnnl_dims_t s,
                               const dnnl_dims_t dil, const dnnl_dims_t pl, const dnnl_dims_t pr, cpd_t hint,
                               cattr_t attr);
dnnl_status_t conv_bwd_w_pd(pd_t *pd, dnnl_engine_t e, dnnl_alg_kind_t alg, cmd_t src, cmd_t dw, cmd_t db, cmd_t ddst, const dnnl_dims_t s,
                            const dnnl_dims_t dil, const dnnl_dims_t pl, const dnnl_dims_t pr, cpd_t hint,
                            cattr_t attr);
dnnl_status_t ip_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t w, cmd_t b, cmd_t dst,
                        cattr_t attr);
dnnl_status_t ip_bwd_data_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t w, cmd_t ddst, cpd_t hint, cattr_t attr);
dnnl_status_t ip_bwd_w_pd(pd_t *pd, dnnl_engine_t e, cmd_t src, cmd_t dw, cmd_t db, cmd_t ddst, cpd_t hint,
                          cattr_t attr);
dnnl_status_t lrn_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t dst, int64_t n,
                         float alpha, float beta, float k, cattr_t attr);
dnnl_status_t lrn_bwd_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t ddst, cmd_t src, int64_t n, float alpha,
                         float beta, float k, cpd_t hint, cattr_t attr);
dnnl_status_t pool_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t dst, const dnnl_dims_t s,
                          const dnnl_dims_t k, const dnnl_dims_t dil, const dnnl_dims_t pl, const dnnl_dims_t pr,
                          cattr_t attr);
dnnl_status_t pool_bwd_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t ddst, const dnnl_dims_t s, const dnnl_dims_t k,
                          const dnnl_dims_t dil, const dnnl_dims_t pl, const dnnl_dims_t pr, cpd_t hint,
                          cattr_t attr);
dnnl_status_t post_ops_relu(dnnl_post_ops_t po);

/* ---- context.c ---- */

typedef struct rcache_entry {
    md_t src, dst; /* NULL: an empty entry */
    pd_t pd;
    dnnl_primitive_t p;
    dnnl_memory_t a, b; /* pointed at the buffers on each run */
    uint64_t used;      /* the context's tick at the last use (LRU) */
} rcache_entry;

#define RCACHE 16

/* An executor is the one OS thread that runs every OpenMP parallel region of
 * a context: each oneDNN primitive and reorder (execute) and the shim's own
 * parallel loops (on_executor). libgomp keeps a pool of worker threads per
 * thread that starts a region, and once it manages more threads than there
 * are CPUs it makes every worker stop spinning almost at once, so that each
 * region afterwards starts with a futex wake-up. Go moves a goroutine
 * between OS threads, so calling oneDNN directly from them left one pool per
 * thread it ran on: measured on a 2-vCPU Xeon, a second, idle pool made
 * each batch-1 AlexNet forward ~1.2 ms (9 %) slower. Handing the work to one
 * thread keeps one pool; the hand-off costs ~12-15 us per call. */
typedef struct executor {
    pthread_t th;
    pthread_mutex_t call; /* one caller at a time */
    pthread_mutex_t mu;
    pthread_cond_t job_cv, done_cv;
    void (*fn)(void *);
    void *arg;
    int has_job, done, quit, started, threads;
    int64_t ran_on; /* the OS thread id that ran the last job (for tests) */
} executor;

struct dno_ctx {
    executor ex;
    int bf16; /* convolutions and inner products read bf16 copies of their inputs (tensors stay f32) */
    rcache_entry rc[RCACHE];
    uint64_t tick;
    void *plain;      /* reorder_via_plain's buffer (layout.c), grown as needed, kept */
    size_t plain_cap;
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


/* execute runs primitive p with args on c's executor thread and waits for
 * it (stream included). */
#define execute dnoi_execute
dnnl_status_t execute(dno_ctx *c, dnnl_primitive_t p, int n, const dnnl_exec_arg_t *args);

/* on_executor returns fn(args), run on c's executor thread: every entry
 * point of the shim that runs an OpenMP loop of its own goes through it. */
#define on_executor dnoi_on_executor
int on_executor(dno_ctx *c, int (*fn)(void *), void *args);

/* fail records "what: status name (code)" in the context and returns code. */
int fail(dno_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* CK returns fail(c, ...) from the calling function when call fails. */
#define CK(call, ...)                                                                                                 \
    do {                                                                                                              \
        dnnl_status_t st_ = (call);                                                                                   \
        if (st_ != dnnl_success) return fail(c, (int)st_, __VA_ARGS__);                                               \
    } while (0)


/* zalloc returns n (at least 64) zeroed bytes aligned to 64, or NULL. */
void *zalloc(size_t n);
/* enter makes this OS thread's OpenMP team the context's size. */
void enter(dno_ctx *c);
/* arena_reserve grows the scratchpad arena to n bytes within the budget. */
int arena_reserve(dno_ctx *c, size_t n);

/* ---- layout.c: tensors and the layout state machine ---- */

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

void rcache_clear(rcache_entry *e);
/* written marks t's values as new: every write to them calls it. */
void written(dno_ctx *c, dno_tensor *t);
/* new_tensor makes a zero-filled tensor, plain or (layout != NULL) in layout. */
int new_tensor(dno_ctx *c, dno_tensor **out, int nd, const int64_t *dims, cmd_t layout);
size_t numel(const dno_tensor *t);
int to_plain(dno_ctx *c, dno_tensor *t, int keep);
int relayout(dno_ctx *c, dno_tensor *t, cmd_t want, int keep);
int logical(dno_ctx *c, dno_tensor *t);

/* ---- primitives.c: a primitive and its arguments ---- */

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
    int stage_weights;           /* the weights layout is Winograd's: always a staging copy (layout.c) */
    dnnl_memory_t scratch;
} prim;


typedef struct targ {
    int arg;
    dno_tensor *t;
    int out; /* written by the primitive: its old values need not be kept */
} targ;


/* slot returns the index of p's memory object for arg, creating it (-1
 * with *rc set on failure). */
int slot(dno_ctx *c, prim *p, int arg, cmd_t md, int *rc);
/* place_args (layout.c) gives each argument of a run of p its buffer. */
int place_args(dno_ctx *c, prim *p, const char *op, int n, const targ *a, void **bufs);

#endif
