//go:build onednn

/*
 * primitives.c — the oneDNN primitives the shim drives: convolution and
 * inner product (layers with weights), LRN and max pooling (made for the
 * layout of their input), and SGEMM for the benchmarks; and how a primitive
 * is made and run (run: arguments placed by layout.c's rules, the
 * scratchpad from the context's arena).
 */
#include "shim.h"

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

/* slot returns the index of p's memory object for arg, creating it. */
int slot(dno_ctx *c, prim *p, int arg, cmd_t md, int *rc) {
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

/* run executes p on the tensors of a: each argument gets its buffer by the
 * layout rules (place_args; the state machine at the top of layout.c), so
 * that tensors stop changing layout after the first step; then the
 * arguments and the scratchpad (the context's arena) are bound and the
 * primitive runs to completion. */
static int run(dno_ctx *c, prim *p, const char *op, int n, const targ *a) {
    dnnl_exec_arg_t ex[MAXARGS + 1];
    void *bufs[MAXARGS];
    int rc = 0, k = 0;
    enter(c);
    if ((rc = place_args(c, p, op, n, a, bufs)) != 0) return rc;
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
    CK(execute(c, p->p, k, ex), "%s: executing %s", op, impl_name(p->pd));
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
    int wino;  /* the forward is Winograd's: so are the backward passes */
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

/* wino_fits says whether an FP32 plan of l should ask for oneDNN's Winograd
 * convolution first: 3x3 kernels, stride 1, no dilation, at least 64 input
 * and output channels and an 8x8 output (AlexNet's conv3-5: 13x13, 256-384
 * channels). On AVX-512 oneDNN 2.6 runs them as F(2,3) / F(4,3) transforms,
 * 1.2-1.6x the direct kernels on those layers, forward and backward; on
 * small maps with few channels (the Mini network's 5x5, 32-48 channels) it
 * measured 1.4-4.5x slower than direct, hence the bounds. Where it has no
 * Winograd implementation (AVX2, a post-op it cannot fuse) creation fails
 * and the direct algorithm is used. */
static int wino_fits(const dno_ctx *c, const wlayer *l) {
    if (!l->conv || c->bf16 || l->wnd != 4) return 0;
    if (l->xdims[1] < 64 || l->ydims[1] < 64 || l->ydims[2] < 8 || l->ydims[3] < 8) return 0;
    return l->wdims[2] == 3 && l->wdims[3] == 3 && l->s[0] == 1 && l->s[1] == 1 && l->dil[0] == 0 && l->dil[1] == 0;
}

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
        dnnl_status_t st = dnnl_unimplemented;
        if (wino_fits(c, l)) {
            st = conv_fwd_pd(&l->fwd.pd, c->eng, prop, dnnl_convolution_winograd, src, w, b, dst, l->s, l->dil,
                             l->pl, l->pr, attr);
            l->fwd.stage_weights = st == dnnl_success && l->infer;
            l->wino = st == dnnl_success;
        }
        if (st != dnnl_success)
            st = l->conv ? conv_fwd_pd(&l->fwd.pd, c->eng, prop, dnnl_convolution_direct, src, w, b, dst, l->s,
                                       l->dil, l->pl, l->pr, attr)
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
    cmd_t src = NULL, w = NULL, dst = NULL;
    cmd_t b = l->bias ? dnnl_primitive_desc_query_md(f, dnnl_query_weights_md, 1) : NULL;
    dnnl_primitive_attr_t attr = NULL;
    int rc = make_attr(c, &attr, 0);
    if (rc) return rc;
    /* bf16: the forward's descriptors have the wrong data types for the
     * gradients; ask for bf16 inputs (x, w, dy) and f32 outputs (dx, dw). */
    dnnl_data_type_t lo = c->bf16 ? dnnl_bf16 : dnnl_f32;
    /* A Winograd forward asks for Winograd backward passes; where oneDNN has
     * none, the two attempts are made again with the direct algorithm. */
    dnnl_alg_kind_t alg = l->wino ? dnnl_convolution_winograd : dnnl_convolution_direct;
    for (int attempt = c->bf16 ? 1 : 0; attempt < 2 && rc == 0; attempt++) {
        mds s = {0};
        if (attempt == 0) {
            src = dnnl_primitive_desc_query_md(f, dnnl_query_src_md, 0);
            w = dnnl_primitive_desc_query_md(f, dnnl_query_weights_md, 0);
            dst = dnnl_primitive_desc_query_md(f, dnnl_query_dst_md, 0);
        } else {
            src = mds_new_dt(c, &s, l->xnd, l->xdims, data ? dnnl_f32 : lo, dnnl_format_tag_any, &rc);
            w = src ? mds_new_dt(c, &s, l->wnd, l->wdims, data ? lo : dnnl_f32, dnnl_format_tag_any, &rc) : NULL;
            dst = w ? mds_new_dt(c, &s, l->ynd, l->ydims, lo, dnnl_format_tag_any, &rc) : NULL;
            if (dst == NULL) break;
        }
        dnnl_status_t st;
        if (l->conv)
            st = data ? conv_bwd_data_pd(&q->pd, c->eng, alg, src, w, dst, l->s, l->dil, l->pl, l->pr, f, attr)
                      : conv_bwd_w_pd(&q->pd, c->eng, alg, src, w, b, dst, l->s, l->dil, l->pl, l->pr, f, attr);
        else
            st = data ? ip_bwd_data_pd(&q->pd, c->eng, src, w, dst, f, attr)
                      : ip_bwd_w_pd(&q->pd, c->eng, src, w, b, dst, f, attr);
        mds_free(&s);
        if (st == dnnl_success && (attempt == 1 || !slow_impl(q->pd))) break;
        if (q->pd) dnnl_primitive_desc_destroy(q->pd);
        q->pd = NULL;
        if (attempt == 1 && alg == dnnl_convolution_winograd) {
            alg = dnnl_convolution_direct;
            attempt = -1;
        } else if (attempt == 1)
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
static int workspace(dno_ctx *c, prim *p, dno_tensor **ws) {
    cmd_t m = dnnl_primitive_desc_query_md(p->pd, dnnl_query_workspace_md, 0);
    if (m == NULL || md_size(m) == 0) return 0;
    int64_t d[DNNL_MAX_NDIMS];
    int nd = md_dims(m, d);
    return new_tensor(c, ws, nd, d, m);
}

/* layout_keyed is LRN or pooling: a forward and a backward primitive made
 * for (keyed by) the layout of the input, with the forward's workspace kept
 * for the backward.
 *
 * The layout of the input picks the implementation, and on plain NCHW
 * oneDNN 2.x has only slow ones (simple_nchw, ref: 5–50× the blocked
 * kernels' time). So when an input arrives plain, the plan asks for each
 * blocked layout in turn whether it has optimised forward and backward
 * kernels, and reorders the input into the first that does; a later plain
 * input (a new upload) is reordered into the same layout without making
 * the primitives again. */
typedef struct layout_keyed_ops {
    const char *name; /* "lrn", "maxpool2d": for messages */
    /* fwd_pd makes the forward primitive descriptor of kind prop for input layout src. */
    dnnl_status_t (*fwd_pd)(void *plan, dno_ctx *c, dnnl_prop_kind_t prop, cmd_t src, cattr_t attr, pd_t *pd);
    /* bwd_pd makes the backward one, in the layouts of the forward fwd. */
    dnnl_status_t (*bwd_pd)(void *plan, dno_ctx *c, cpd_t fwd, cattr_t attr, pd_t *pd);
} layout_keyed_ops;

typedef struct layout_keyed {
    const layout_keyed_ops *ops;
    void *plan;
    int infer; /* made for inference: forward_inference (no workspace), no backward */
    md_t key;  /* the input layout the primitives were made for */
    md_t from; /* the plain layout key was chosen for, if any */
    prim fwd, bwd;
    dno_tensor *ws;
} layout_keyed;

static void layout_keyed_reset(layout_keyed *k) {
    prim_fini(&k->fwd);
    prim_fini(&k->bwd);
    dno_tensor_destroy(k->ws);
    md_free(k->key);
    k->ws = NULL;
    k->key = NULL;
}

static void layout_keyed_fini(layout_keyed *k) {
    layout_keyed_reset(k);
    md_free(k->from);
    k->from = NULL;
}

static dnnl_prop_kind_t layout_keyed_prop(const layout_keyed *k) {
    return k->infer ? dnnl_forward_inference : dnnl_forward_training;
}

/* fast_for reports whether the forward kernel for input layout src, and the
 * backward one unless the plan is for inference, are optimised ones. */
static int fast_for(dno_ctx *c, layout_keyed *k, cmd_t src) {
    pd_t f = NULL, b = NULL;
    int ok = k->ops->fwd_pd(k->plan, c, layout_keyed_prop(k), src, NULL, &f) == dnnl_success && !slow_impl(f) &&
             (k->infer || (k->ops->bwd_pd(k->plan, c, f, NULL, &b) == dnnl_success && !slow_impl(b)));
    if (b) dnnl_primitive_desc_destroy(b);
    if (f) dnnl_primitive_desc_destroy(f);
    return ok;
}

/* faster_layout returns an owned layout to reorder the plain input x into,
 * or NULL to keep x's own. */
static md_t faster_layout(dno_ctx *c, layout_keyed *k, dno_tensor *x) {
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

/* layout_keyed_input gives x the layout the primitives were made for when
 * x arrives in the plain layout they were chosen for; on any other layout
 * they have not seen, it picks a faster one for a plain x and reports that
 * the primitives must be made again. */
static int layout_keyed_input(dno_ctx *c, layout_keyed *k, dno_tensor *x, int *remake) {
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

static int layout_keyed_forward(dno_ctx *c, layout_keyed *k, dno_tensor *x, dno_tensor *y) {
    int rc = logical(c, x), remake = 0;
    if (rc == 0) rc = layout_keyed_input(c, k, x, &remake);
    if (rc) return rc;
    if (remake) {
        layout_keyed_reset(k);
        dnnl_primitive_attr_t attr = NULL;
        if ((rc = make_attr(c, &attr, 0)) != 0) return rc;
        dnnl_status_t st = k->ops->fwd_pd(k->plan, c, layout_keyed_prop(k), x->cur, attr, &k->fwd.pd);
        dnnl_primitive_attr_destroy(attr);
        if (st != dnnl_success)
            rc = fail(c, (int)st, "%s: creating the forward primitive descriptor", k->ops->name);
        else if ((rc = prim_init(c, &k->fwd, k->ops->name)) == 0 && (rc = workspace(c, &k->fwd, &k->ws)) == 0) {
            k->key = md_clone(x->cur);
            if (k->key == NULL) rc = fail(c, DNO_ENOMEM, "%s: copying a memory descriptor", k->ops->name);
        }
        if (rc) {
            layout_keyed_reset(k);
            return rc;
        }
    }
    targ a[3] = {{DNNL_ARG_SRC, x, 0}, {DNNL_ARG_DST, y, 1}, {DNNL_ARG_WORKSPACE, k->ws, 1}};
    return run(c, &k->fwd, k->ops->name, k->ws ? 3 : 2, a);
}

/* layout_keyed_backward runs the backward primitive; x is the forward's
 * input for the ops whose backward reads it (LRN), NULL for the others
 * (pooling). */
static int layout_keyed_backward(dno_ctx *c, layout_keyed *k, dno_tensor *x, dno_tensor *dy, dno_tensor *dx) {
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
    layout_keyed lk;
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

static const layout_keyed_ops lrn_ops = {"lrn", lrn_fwd, lrn_bwd};

void dno_lrn_destroy(dno_lrn *p) {
    if (p == NULL) return;
    layout_keyed_fini(&p->lk);
    free(p);
}

int dno_lrn_create(dno_ctx *c, dno_lrn **out, int64_t size, float alpha, float beta, float k, int infer) {
    dno_lrn *p = *out = calloc(1, sizeof **out);
    if (p == NULL) return fail(c, DNO_ENOMEM, "lrn: allocating the plan");
    p->n = size, p->alpha = alpha, p->beta = beta, p->k = k;
    p->lk.ops = &lrn_ops, p->lk.plan = p, p->lk.infer = infer;
    return 0;
}

int dno_lrn_forward(dno_ctx *c, dno_lrn *p, dno_tensor *x, dno_tensor *y) {
    return layout_keyed_forward(c, &p->lk, x, y);
}

int dno_lrn_backward(dno_ctx *c, dno_lrn *p, dno_tensor *x, dno_tensor *dy, dno_tensor *dx) {
    return layout_keyed_backward(c, &p->lk, x, dy, dx);
}

struct dno_pool {
    dnnl_dims_t y, s, k, dil, pl, pr;
    layout_keyed lk;
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

static const layout_keyed_ops pool_ops = {"maxpool2d", pool_fwd, pool_bwd};

void dno_pool_destroy(dno_pool *p) {
    if (p == NULL) return;
    layout_keyed_fini(&p->lk);
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
    p->lk.ops = &pool_ops, p->lk.plan = p, p->lk.infer = infer;
    return 0;
}

int dno_pool_forward(dno_ctx *c, dno_pool *p, dno_tensor *x, dno_tensor *y) {
    return layout_keyed_forward(c, &p->lk, x, y);
}

int dno_pool_backward(dno_ctx *c, dno_pool *p, dno_tensor *dy, dno_tensor *dx) {
    return layout_keyed_backward(c, &p->lk, NULL, dy, dx);
}

/* dno_sgemm is oneDNN's row-major SGEMM, C = A·B (no transposes), for the
 * benchmarks: the ceiling the convolutions and the pure-Go GEMM are
 * compared with. */
static int sgemm_body(dno_ctx *c, int64_t m, int64_t n, int64_t k, const float *a, const float *b, float *out) {
    enter(c);
    CK(dnnl_sgemm('N', 'N', m, n, k, 1.f, a, k, b, n, 0.f, out, n), "sgemm %lldx%lldx%lld", (long long)m,
       (long long)n, (long long)k);
    return 0;
}

struct sgemm_args { dno_ctx *c; int64_t m, n, k; const float *a, *b; float *out; };
static int sgemm_run(void *p) { struct sgemm_args *x = p; return sgemm_body(x->c, x->m, x->n, x->k, x->a, x->b, x->out); }
/* dno_sgemm runs on the executor thread, where oneDNN's OpenMP regions start. */
int dno_sgemm(dno_ctx *c, int64_t m, int64_t n, int64_t k, const float *a, const float *b, float *out) {
    return on_executor(c, sgemm_run, &(struct sgemm_args){c, m, n, k, a, b, out});
}
