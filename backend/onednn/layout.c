//go:build onednn

/*
 * layout.c — tensors and their layouts: THE LAYOUT STATE MACHINE (the one
 * place it is written down; the other files call these functions).
 *
 * A dno_tensor has one logical shape (nd, dims) and one physical layout at
 * a time, cur (a memory descriptor), whose values are in buf:
 *
 *   PLAIN    dense row-major over the logical dims (cur_plain): the bytes
 *            are the logical order. Every tensor starts here.
 *   CHOSEN   a layout a oneDNN primitive asked for over the logical dims
 *            (nChw16c activations, OIhw8i8o weights, NHWC at inference...).
 *   VIEW     a layout over other dims than the logical ones: an inner
 *            product's 2-D {N, C·H·W} view of a 4-D activation or weight,
 *            a grouped convolution's 5-D {G, O/G, I/G, KH, KW} weights.
 *            Its plain form shares the bytes of PLAIN.
 *
 * Transitions (relayout moves a tensor to a layout, keeping the values or,
 * for an output, dropping them; to_plain moves it to PLAIN):
 *
 *   create, upload         -> PLAIN (upload drops the old values first).
 *   download               no transition: a non-plain tensor is reordered
 *                          into the caller's buffer.
 *   primitive output       -> the layout the primitive writes (values
 *                          dropped; the buffer grows if it must).
 *   primitive input that is not in the wanted layout W (place_args):
 *     W is bf16            the tensor stays f32 where it is; the primitive
 *                          reads a bf16 shadow copy in W (two per tensor,
 *                          least recently used replaced), converted again
 *                          only when the tensor has changed. If W has other
 *                          dims, the tensor first moves to the plain VIEW
 *                          of W's dims.
 *     PLAIN, or W has      the tensor itself moves to W: reordered (through
 *     other dims           PLAIN when the dims differ), or just relabelled
 *                          when W is the plain VIEW (the same bytes).
 *     W is Winograd's      the tensor stays (it could not be downloaded or
 *     weights layout       reordered into another plan's layout from there);
 *                          a staging copy as below, reordered through PLAIN
 *                          when the tensor is in another plan's layout.
 *     CHOSEN by another    the tensor stays; the plan keeps a staging copy
 *     primitive            of it in W (one per plan argument), reordered
 *                          only when the tensor has changed since. So two
 *                          plans that want one tensor in different layouts
 *                          (the forward's and the backward-data's weights;
 *                          a pooled output an inner product reads flat) do
 *                          not move it back and forth every step.
 *   LRN, pooling forward   the input goes back to its logical dims
 *                          (logical). Their primitives are made for the
 *                          layout of the input they get; for a PLAIN input
 *                          without fast kernels (oneDNN 2.x) the plan picks
 *                          a blocked layout that has them and moves the
 *                          input there, now and whenever it comes back
 *                          PLAIN (primitives.c, layout_keyed_input). Their
 *                          workspace tensors are made in the primitive's
 *                          layout.
 *   ReLU                   y takes x's layout; backward: dy and dx take
 *                          y's. Any layout: the loop is element-wise.
 *   SGD                    grad and velocity take param's layout.
 *   bias, dropout, loss    every argument -> PLAIN (they index channels,
 *                          logical positions or rows).
 *
 * Versions: every write to a tensor's values goes through written(), which
 * gives it a new version (the context's write count); staging copies and
 * bf16 shadows remember the version they copied, so a stale copy is never
 * read. Buffers: a reorder writes into the tensor's spare buffer and swaps
 * the two, so a tensor that alternates between two layouts keeps both and
 * allocates nothing after the first step. Reorder primitives are cached in
 * the context (16 entries, least recently used replaced). The context
 * counts the transitions (dno_ctx_relayouts) and the buffers allocated
 * (dno_ctx_allocs).
 */
#include "shim.h"

/* written marks t's values as new (see dno_tensor.ver): every write to a
 * tensor's values goes through here, so that a staging copy made from an
 * older version is never reused. */
void written(dno_ctx *c, dno_tensor *t) { t->ver = ++c->writes; }

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

int new_tensor(dno_ctx *c, dno_tensor **out, int nd, const int64_t *dims, cmd_t layout) {
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

size_t numel(const dno_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->nd; i++) n *= (size_t)t->dims[i];
    return n;
}

void rcache_clear(rcache_entry *e) {
    if (e->p) dnnl_primitive_destroy(e->p);
    if (e->pd) dnnl_primitive_desc_destroy(e->pd);
    if (e->a) dnnl_memory_destroy(e->a);
    if (e->b) dnnl_memory_destroy(e->b);
    md_free(e->src);
    md_free(e->dst);
    memset(e, 0, sizeof *e);
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

static int reorder(dno_ctx *c, cmd_t sm, void *src, cmd_t dm, void *dst);

/* reorder_via_plain copies src into dst through a dense row-major copy, for
 * the pairs oneDNN has no direct reorder for: its Winograd weights layout is
 * reachable only from plain oihw, not from the blocked layout a training plan
 * left the weights in. The copy lives in the context's buffer, allocated
 * once at its largest size (and counted), not per call. */
static int reorder_via_plain(dno_ctx *c, cmd_t sm, void *src, cmd_t dm, void *dst) {
    int64_t dims[DNNL_MAX_NDIMS];
    int nd = md_dims(sm, dims);
    md_t pm = NULL;
    dnnl_status_t st = md_new(&pm, nd, dims, md_dtype(sm), plain_tag(nd));
    if (st != dnnl_success) return fail(c, (int)st, "reorder: describing the plain copy");
    size_t need = md_size(pm);
    int rc = 0;
    if (md_eq(pm, sm) || md_eq(pm, dm)) /* one side is plain already: no way round */
        rc = fail(c, (int)dnnl_unimplemented, "reorder: creating the primitive");
    if (rc == 0 && c->plain_cap < need) {
        free(c->plain);
        c->plain = malloc(need);
        c->plain_cap = c->plain ? need : 0;
        if (c->plain == NULL) rc = fail(c, DNO_ENOMEM, "reorder: allocating %zu bytes for the plain copy", need);
        else c->allocs++;
    }
    if (rc == 0) rc = reorder(c, sm, src, pm, c->plain);
    if (rc == 0) rc = reorder(c, pm, c->plain, dm, dst);
    md_free(pm);
    return rc;
}

/* reorder copies the data src (layout sm) into dst (layout dm). */
static int reorder(dno_ctx *c, cmd_t sm, void *src, cmd_t dm, void *dst) {
    dnnl_status_t st = dnnl_success;
    rcache_entry *e = rcache_get(c, sm, dm, &st);
    if (e == NULL && st == dnnl_unimplemented) return reorder_via_plain(c, sm, src, dm, dst);
    if (e == NULL) return fail(c, (int)st, "reorder: creating the primitive");
    st = dnnl_memory_set_data_handle(e->a, src);
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(e->b, dst);
    if (st == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, e->a}, {DNNL_ARG_TO, e->b}};
        st = execute(c, e->p, 2, args);
    }
    if (st != dnnl_success) return fail(c, (int)st, "reorder");
    return 0;
}

/* to_plain puts t in the dense row-major layout of its logical shape. */
int to_plain(dno_ctx *c, dno_tensor *t, int keep) {
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
int relayout(dno_ctx *c, dno_tensor *t, cmd_t want, int keep) {
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

/* logical gives t a layout over its logical dimensions (not a view with
 * other dimensions, which a fully connected layer may have left). */
int logical(dno_ctx *c, dno_tensor *t) {
    int64_t d[DNNL_MAX_NDIMS];
    int nd = md_dims(t->cur, d);
    int same = nd == t->nd;
    for (int i = 0; same && i < nd; i++) same = d[i] == t->dims[i];
    return same ? 0 : to_plain(c, t, 1);
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

/* place_args gives each tensor argument of p (a[0..n)) the buffer the
 * primitive reads or writes, bufs[i], by the rules at the top of this file:
 * inputs first, so that an output that is also an input is placed last. */
int place_args(dno_ctx *c, prim *p, const char *op, int n, const targ *a, void **bufs) {
    int rc = 0;
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
            } else if (a[i].out || ((t->cur_plain || !same_dims(t->cur, want)) &&
                                    !(p->stage_weights && a[i].arg == DNNL_ARG_WEIGHTS))) {
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
    return 0;
}
