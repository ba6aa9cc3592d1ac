/*
 * onednn_alexnet.c: the Seed AlexNet (dnngo's SeedConfig()) forward pass
 * driven directly through oneDNN's C API, as an expert would write it for
 * inference, to put beside dnngo's `onednn` backend on the same machine.
 *
 *   cc -O2 -fopenmp -o /tmp/onednn_alexnet bench/compare/onednn_alexnet.c -ldnnl
 *   /tmp/onednn_alexnet [--threads 2] [--iters 10] [--warmup 2]
 *       [--batches 1,16,64] [--bf16] [--fc6 4d|2d] [--wino] [--jsonl FILE]
 *       [--check DIR] [--lrn-alpha 5e-4] [--verbose]
 *
 * Network: conv1 96 11x11/4 -> ReLU -> LRN -> maxpool 3/2 -> conv2 256 5x5
 * pad 2 -> ReLU -> LRN -> maxpool 3/2 -> conv3 384 3x3 pad 1 -> ReLU -> conv4
 * 384 -> ReLU -> conv5 256 -> ReLU -> maxpool 3/2 -> fc6 4096 -> ReLU -> fc7
 * 4096 -> ReLU -> fc8 1000 (dropout is the identity at inference). LRN across
 * channels, n 5, alpha 5e-4 (oneDNN's and PyTorch's convention: alpha/n
 * inside the sum), beta 0.75, k 2.
 *
 * How oneDNN is used: forward_inference primitives; every activation and
 * weight descriptor format_tag_any, so each primitive picks its layout;
 * bias + ReLU as post-ops of the convolutions and fc6/fc7; the layouts chosen
 * are chained from one primitive to the next (a reorder only where two
 * disagree); weights reordered once into the layouts chosen, outside the
 * timer; the NCHW f32 input reordered into conv1's layout once per batch
 * inside the timer (dnngo is handed NCHW too), and the logits reordered to
 * plain f32 [N,1000] inside the timer if they are not already; one
 * user-mode scratchpad shared by all primitives; `--threads` OpenMP threads.
 * --fc6 4d (default) plans fc6 on pool5's 4-D output; --fc6 2d reorders
 * pool5's output to NCHW and plans fc6 on the flat [N, 9216] view. --bf16
 * makes every activation and weight bf16 (f32 biases, f32 logits). --wino
 * asks for oneDNN's Winograd algorithm for the 3x3 stride-1 convolutions
 * (conv3-5) in fp32, as dnngo's inference plans do, falling back to direct
 * where oneDNN has no Winograd implementation (AVX2 machines).
 *
 * Method (that of torch_alexnet.py and ort_alexnet.mjs): per batch size,
 * primitives, weights and input are made outside the timer; WARMUP untimed
 * batches, then ITERS timed batches of one forward each; images/s per batch;
 * the median, min and max. One line per case:
 *
 *   RESULT {"framework": "onednn-c", "variant": "fp32 forward_inference fc6-4d", ...}
 *
 * (also appended to --jsonl FILE), the form table.py reads.
 *
 * --check DIR: instead of timing, loads weights and a batch-2 input and its
 * logits written by `torch_alexnet.py --lrn-alpha 5e-4 --dump-raw DIR`
 * (raw little-endian f32, PyTorch's OIHW / [out,in] layouts), runs the net
 * and prints the relative L2 error of the logits; exit status 1 if it is
 * above 1e-4 (fp32) or 3e-2 (bf16). The LRN term is small at alpha 5e-4:
 * dumping and checking with --lrn-alpha 1 on both sides tests the LRN
 * convention too. --verbose prints each primitive's implementation and
 * layouts.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <oneapi/dnnl/dnnl_version.h>

#define CHECK(f)                                                             \
    do {                                                                     \
        dnnl_status_t s_ = (f);                                              \
        if (s_ != dnnl_success) {                                            \
            fprintf(stderr, "onednn_alexnet: %s failed at line %d: %s\n",    \
                    #f, __LINE__, dnnl_status2str(s_));                      \
            exit(2);                                                         \
        }                                                                    \
    } while (0)

static const double FWD_FLOP = 2.0 * 1135256096.0; /* per image, as table.py */

static dnnl_engine_t eng;
static dnnl_stream_t strm;

/* ---- layers --------------------------------------------------------------- */

enum kind { CONV, LRN, POOL, FC };

struct layer {
    const char *name;
    enum kind kind;
    int oc, kh, stride, pad; /* conv / fc: oc; pool: kh=3 stride=2 */
    int relu;
    /* made per batch */
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst, wei, bias; /* src: what the primitive reads */
    dnnl_primitive_t src_reorder;      /* previous dst -> this src, or NULL */
    dnnl_memory_t src_from;            /* the previous layer's dst */
    dnnl_memory_t reorder_to;          /* where src_reorder writes: src, or its 4-D NCHW view (fc6 2d) */
    /* user weights, PyTorch layout, f32 */
    float *w_user, *b_user;
    dnnl_dims_t w_dims;
    int w_nd;
};

static struct layer net[] = {
    {"conv1", CONV, 96, 11, 4, 0, 1}, {"lrn1", LRN},
    {"pool1", POOL, 0, 3, 2, 0, 0},   {"conv2", CONV, 256, 5, 1, 2, 1},
    {"lrn2", LRN},                    {"pool2", POOL, 0, 3, 2, 0, 0},
    {"conv3", CONV, 384, 3, 1, 1, 1}, {"conv4", CONV, 384, 3, 1, 1, 1},
    {"conv5", CONV, 256, 3, 1, 1, 1}, {"pool5", POOL, 0, 3, 2, 0, 0},
    {"fc6", FC, 4096, 0, 0, 0, 1},    {"fc7", FC, 4096, 0, 0, 0, 1},
    {"fc8", FC, 1000, 0, 0, 0, 0},
};
#define NLAYERS ((int)(sizeof net / sizeof net[0]))

static int opt_bf16 = 0, opt_fc6_2d = 0, opt_wino = 0;
static float lrn_alpha = 5e-4f;

/* the whole net for one batch size */
struct plan {
    int batch;
    dnnl_memory_t in_user, in; /* NCHW f32 user input; conv1's src */
    dnnl_primitive_t in_reorder;
    dnnl_memory_t out, out_user; /* fc8 dst; [N,1000] nc f32 */
    dnnl_primitive_t out_reorder; /* NULL if out is already plain f32 nc */
    dnnl_memory_t scratch;
    void *scratch_buf;
    float *x, *y;
};

static void *xmalloc(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) {
        fprintf(stderr, "onednn_alexnet: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

static dnnl_memory_t mem_alloc(const dnnl_memory_desc_t *md) {
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
    return m;
}

static const dnnl_memory_desc_t *mdof(dnnl_memory_t m) {
    const dnnl_memory_desc_t *md;
    CHECK(dnnl_memory_get_memory_desc(m, &md));
    return md;
}

static void *handle(dnnl_memory_t m) {
    void *p;
    CHECK(dnnl_memory_get_data_handle(m, &p));
    return p;
}

/* reorder primitive from a to b, or NULL if a's layout already is b's */
static dnnl_primitive_t make_reorder(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b) {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t p;
    CHECK(dnnl_reorder_primitive_desc_create(&pd, a, eng, b, eng, NULL));
    CHECK(dnnl_primitive_create(&p, pd));
    CHECK(dnnl_primitive_desc_destroy(pd));
    return p;
}

static void run_reorder(dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    CHECK(dnnl_primitive_execute(r, strm, 2, args));
}

/* one-off reorder (weights), outside the timer */
static void reorder_once(dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_primitive_t r = make_reorder(mdof(from), mdof(to));
    run_reorder(r, from, to);
    CHECK(dnnl_stream_wait(strm));
    CHECK(dnnl_primitive_destroy(r));
}

static uint64_t rng_state = 88172645463325252ull;
static float frand(void) { /* uniform [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / 8388608.0) - 1.0);
}

static float *read_f32(const char *dir, const char *name, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "onednn_alexnet: cannot open %s\n", path);
        exit(2);
    }
    float *p = xmalloc(n * sizeof(float));
    if (fread(p, sizeof(float), n, f) != n || fgetc(f) != EOF) {
        fprintf(stderr, "onednn_alexnet: %s does not hold exactly %zu float32 values\n", path, n);
        exit(2);
    }
    fclose(f);
    return p;
}

/* User weights (PyTorch layouts): random He-scaled, or read from --check DIR. */
static void init_weights(const char *dir) {
    int c = 3, h = 227;
    for (int i = 0; i < NLAYERS; i++) {
        struct layer *L = &net[i];
        if (L->kind == CONV) {
            L->w_nd = 4;
            L->w_dims[0] = L->oc, L->w_dims[1] = c, L->w_dims[2] = L->kh, L->w_dims[3] = L->kh;
            h = (h + 2 * L->pad - L->kh) / L->stride + 1;
            c = L->oc;
        } else if (L->kind == POOL) {
            h = (h - 3) / 2 + 1;
            continue;
        } else if (L->kind == FC) {
            int fan = c * h * h;
            if (i == 10 && !opt_fc6_2d) {
                L->w_nd = 4;
                L->w_dims[0] = L->oc, L->w_dims[1] = c, L->w_dims[2] = h, L->w_dims[3] = h;
            } else {
                L->w_nd = 2;
                L->w_dims[0] = L->oc, L->w_dims[1] = fan;
            }
            c = L->oc, h = 1;
        } else {
            continue;
        }
        size_t n = 1;
        for (int d = 0; d < L->w_nd; d++) n *= (size_t)L->w_dims[d];
        if (dir) {
            char wn[64], bn[64];
            snprintf(wn, sizeof wn, "%s_w.f32", L->name);
            snprintf(bn, sizeof bn, "%s_b.f32", L->name);
            L->w_user = read_f32(dir, wn, n);
            L->b_user = read_f32(dir, bn, (size_t)L->oc);
        } else {
            float scale = sqrtf(6.0f / (float)(n / (size_t)L->oc));
            L->w_user = xmalloc(n * sizeof(float));
            L->b_user = xmalloc((size_t)L->oc * sizeof(float));
            for (size_t k = 0; k < n; k++) L->w_user[k] = scale * frand();
            for (int k = 0; k < L->oc; k++) L->b_user[k] = 0.01f * frand();
        }
    }
}

/* try_pd makes the primitive descriptor as make_pd does, or returns NULL
 * where oneDNN has no implementation of it. */
static dnnl_primitive_desc_t try_pd(const void *op_desc, int relu, size_t *scratch, int may_fail) {
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if (relu) {
        dnnl_post_ops_t po;
        CHECK(dnnl_post_ops_create(&po));
        CHECK(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
        CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
        CHECK(dnnl_post_ops_destroy(po));
    }
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, op_desc, attr, eng, NULL);
    if (st == dnnl_unimplemented && may_fail) {
        CHECK(dnnl_primitive_attr_destroy(attr));
        return NULL;
    }
    CHECK(st);
    CHECK(dnnl_primitive_attr_destroy(attr));
    size_t s = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
    if (s > *scratch) *scratch = s;
    return pd;
}

static dnnl_primitive_desc_t make_pd(const void *op_desc, int relu, size_t *scratch) {
    return try_pd(op_desc, relu, scratch, 0);
}

/* a short layout name: the dims in stride order, then the inner blocks
 * ("acdb" = NHWC, "abcd:16b" = nChw16c), and the data type */
static void md_str(char *buf, size_t n, const dnnl_memory_desc_t *md) {
    int nd = md->ndims, order[DNNL_MAX_NDIMS];
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    for (int k = 0; k < nd; k++) order[k] = k;
    for (int k = 0; k < nd; k++)
        for (int j = k + 1; j < nd; j++)
            if (b->strides[order[j]] > b->strides[order[k]]) {
                int t = order[k];
                order[k] = order[j], order[j] = t;
            }
    size_t o = 0;
    for (int k = 0; k < nd && o + 1 < n; k++) buf[o++] = (char)('a' + order[k]);
    buf[o] = 0;
    for (int k = 0; k < b->inner_nblks && o + 16 < n; k++)
        o += (size_t)snprintf(buf + o, n - o, "%s%lld%c", k ? "" : ":", (long long)b->inner_blks[k],
                              (char)('a' + b->inner_idxs[k]));
    snprintf(buf + o, n - o, " %s", dnnl_dt2str(md->data_type));
}

static const char *impl_of(dnnl_primitive_t p) {
    const_dnnl_primitive_desc_t pd;
    const char *s = "?";
    CHECK(dnnl_primitive_get_primitive_desc(p, &pd));
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s));
    return s;
}

static void build(struct plan *P, int batch, int verbose) {
    memset(P, 0, sizeof *P);
    P->batch = batch;
    dnnl_data_type_t dt = opt_bf16 ? dnnl_bf16 : dnnl_f32;
    size_t scratch = 0;
    dnnl_dims_t xd = {batch, 3, 227, 227};
    dnnl_memory_desc_t user_in;
    CHECK(dnnl_memory_desc_init_by_tag(&user_in, 4, xd, dnnl_f32, dnnl_nchw));
    P->x = xmalloc(dnnl_memory_desc_get_size(&user_in));
    CHECK(dnnl_memory_create(&P->in_user, &user_in, eng, P->x));

    dnnl_memory_t prev = NULL; /* the previous layer's dst */
    int c = 3, h = 227;
    for (int i = 0; i < NLAYERS; i++) {
        struct layer *L = &net[i];
        dnnl_primitive_desc_t pd;
        dnnl_memory_desc_t src_md, dst_md, w_md, b_md;
        int flat_fc6 = 0;
        if (L->kind == CONV) {
            int oh = (h + 2 * L->pad - L->kh) / L->stride + 1;
            dnnl_dims_t sd = {batch, c, h, h}, dd = {batch, L->oc, oh, oh};
            dnnl_dims_t bd = {L->oc};
            dnnl_dims_t st = {L->stride, L->stride}, pad = {L->pad, L->pad};
            CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dt, dnnl_format_tag_any));
            CHECK(dnnl_memory_desc_init_by_tag(&w_md, 4, L->w_dims, dt, dnnl_format_tag_any));
            CHECK(dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_x));
            CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dt, dnnl_format_tag_any));
            dnnl_convolution_desc_t d;
            pd = NULL;
            if (opt_wino && !opt_bf16 && L->kh == 3 && L->stride == 1) {
                CHECK(dnnl_convolution_forward_desc_init(&d, dnnl_forward_inference, dnnl_convolution_winograd,
                                                         &src_md, &w_md, &b_md, &dst_md, st, pad, pad));
                pd = try_pd(&d, L->relu, &scratch, 1);
            }
            if (pd == NULL) {
                CHECK(dnnl_convolution_forward_desc_init(&d, dnnl_forward_inference, dnnl_convolution_direct,
                                                         &src_md, &w_md, &b_md, &dst_md, st, pad, pad));
                pd = make_pd(&d, L->relu, &scratch);
            }
            c = L->oc, h = oh;
        } else if (L->kind == LRN) {
            dnnl_lrn_desc_t d;
            CHECK(dnnl_lrn_forward_desc_init(&d, dnnl_forward_inference, dnnl_lrn_across_channels, mdof(prev), 5,
                                             lrn_alpha, 0.75f, 2.0f));
            pd = make_pd(&d, 0, &scratch);
        } else if (L->kind == POOL) {
            int oh = (h - 3) / 2 + 1;
            dnnl_dims_t dd = {batch, c, oh, oh};
            dnnl_dims_t st = {2, 2}, k = {3, 3}, pad = {0, 0};
            CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dt, dnnl_format_tag_any));
            dnnl_pooling_desc_t d;
            CHECK(dnnl_pooling_forward_desc_init(&d, dnnl_forward_inference, dnnl_pooling_max, mdof(prev), &dst_md,
                                                 st, k, pad, pad));
            pd = make_pd(&d, 0, &scratch);
            h = oh;
        } else { /* FC */
            dnnl_dims_t bd = {L->oc}, dd = {batch, L->oc};
            if (L->w_nd == 4) {
                dnnl_dims_t sd = {batch, c, h, h};
                CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dt, dnnl_format_tag_any));
            } else if (h > 1) { /* fc6 on the flat view of an NCHW pool5 output */
                dnnl_dims_t sd = {batch, (dnnl_dim_t)c * h * h};
                CHECK(dnnl_memory_desc_init_by_tag(&src_md, 2, sd, dt, dnnl_nc));
                flat_fc6 = 1;
            } else {
                dnnl_dims_t sd = {batch, c};
                CHECK(dnnl_memory_desc_init_by_tag(&src_md, 2, sd, dt, dnnl_format_tag_any));
            }
            CHECK(dnnl_memory_desc_init_by_tag(&w_md, L->w_nd, L->w_dims, dt, dnnl_format_tag_any));
            CHECK(dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_x));
            CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 2, dd, i == NLAYERS - 1 ? dnnl_f32 : dt,
                                               dnnl_format_tag_any));
            dnnl_inner_product_desc_t d;
            CHECK(dnnl_inner_product_forward_desc_init(&d, dnnl_forward_inference, &src_md, &w_md, &b_md,
                                                       &dst_md));
            pd = make_pd(&d, L->relu, &scratch);
            if (flat_fc6) h = 6; /* restore for the view below */
        }
        CHECK(dnnl_primitive_create(&L->prim, pd));

        /* src: chain from the previous dst, reordering where layouts differ */
        const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        L->src_reorder = NULL;
        L->src_from = prev;
        if (i == 0) {
            L->src = mem_alloc(want);
            P->in = L->src;
            P->in_reorder = make_reorder(&user_in, want);
        } else if (flat_fc6) {
            /* pool5's dst -> NCHW, the same bytes as fc6's flat [N, 9216] src */
            dnnl_dims_t sd = {batch, c, h, h};
            dnnl_memory_desc_t nchw;
            CHECK(dnnl_memory_desc_init_by_tag(&nchw, 4, sd, dt, dnnl_nchw));
            L->src = mem_alloc(want);
            CHECK(dnnl_memory_create(&L->reorder_to, &nchw, eng, handle(L->src)));
            L->src_reorder = make_reorder(mdof(prev), &nchw);
        } else if (dnnl_memory_desc_equal(mdof(prev), want)) {
            L->src = prev;
        } else {
            L->src = mem_alloc(want);
            L->reorder_to = L->src;
            L->src_reorder = make_reorder(mdof(prev), want);
        }
        L->dst = mem_alloc(dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0));
        if (L->kind == CONV || L->kind == FC) {
            dnnl_memory_t wu, bu;
            dnnl_memory_desc_t wu_md, bu_md;
            dnnl_dims_t bd = {L->oc};
            CHECK(dnnl_memory_desc_init_by_tag(&wu_md, L->w_nd, L->w_dims, dnnl_f32,
                                               L->w_nd == 4 ? dnnl_oihw : dnnl_oi));
            CHECK(dnnl_memory_desc_init_by_tag(&bu_md, 1, bd, dnnl_f32, dnnl_x));
            CHECK(dnnl_memory_create(&wu, &wu_md, eng, L->w_user));
            CHECK(dnnl_memory_create(&bu, &bu_md, eng, L->b_user));
            L->wei = mem_alloc(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0));
            L->bias = mem_alloc(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1));
            reorder_once(wu, L->wei);
            reorder_once(bu, L->bias);
            CHECK(dnnl_memory_destroy(wu));
            CHECK(dnnl_memory_destroy(bu));
        }
        if (L->kind == FC) c = L->oc, h = 1;
        if (verbose) {
            char sb[256], ob[256];
            md_str(sb, sizeof sb, mdof(L->src));
            md_str(ob, sizeof ob, mdof(L->dst));
            fprintf(stderr, "  b%-3d %-5s %-24s src %s  dst %s%s\n", batch, L->name, impl_of(L->prim), sb, ob,
                    L->src_reorder ? "  (reorder before)" : "");
        }
        CHECK(dnnl_primitive_desc_destroy(pd));
        prev = L->dst;
    }
    P->out = prev;
    dnnl_dims_t od = {batch, 1000};
    dnnl_memory_desc_t user_out;
    CHECK(dnnl_memory_desc_init_by_tag(&user_out, 2, od, dnnl_f32, dnnl_nc));
    if (dnnl_memory_desc_equal(mdof(P->out), &user_out)) {
        P->out_user = P->out;
        P->y = handle(P->out);
    } else {
        P->y = xmalloc(dnnl_memory_desc_get_size(&user_out));
        CHECK(dnnl_memory_create(&P->out_user, &user_out, eng, P->y));
        P->out_reorder = make_reorder(mdof(P->out), &user_out);
    }
    P->scratch_buf = xmalloc(scratch);
    dnnl_dims_t sd = {(dnnl_dim_t)(scratch ? scratch : 1)};
    dnnl_memory_desc_t smd;
    CHECK(dnnl_memory_desc_init_by_tag(&smd, 1, sd, dnnl_u8, dnnl_x));
    CHECK(dnnl_memory_create(&P->scratch, &smd, eng, P->scratch_buf));
    if (verbose) fprintf(stderr, "  b%-3d scratchpad %zu bytes%s\n", batch, scratch,
                         P->out_reorder ? ", logits reordered to nc" : "");
}

static void destroy(struct plan *P) {
    for (int i = 0; i < NLAYERS; i++) {
        struct layer *L = &net[i];
        CHECK(dnnl_primitive_destroy(L->prim));
        if (L->src_reorder) CHECK(dnnl_primitive_destroy(L->src_reorder));
        if (L->reorder_to && L->reorder_to != L->src) CHECK(dnnl_memory_destroy(L->reorder_to));
        if (i == 0 || L->src_reorder) CHECK(dnnl_memory_destroy(L->src));
        CHECK(dnnl_memory_destroy(L->dst));
        if (L->wei) {
            CHECK(dnnl_memory_destroy(L->wei));
            CHECK(dnnl_memory_destroy(L->bias));
        }
        L->prim = NULL, L->src_reorder = NULL, L->reorder_to = NULL, L->src = L->dst = L->wei = L->bias = NULL;
    }
    CHECK(dnnl_primitive_destroy(P->in_reorder));
    CHECK(dnnl_memory_destroy(P->in_user));
    if (P->out_reorder) {
        CHECK(dnnl_primitive_destroy(P->out_reorder));
        CHECK(dnnl_memory_destroy(P->out_user));
        free(P->y);
    }
    CHECK(dnnl_memory_destroy(P->scratch));
    free(P->scratch_buf);
    free(P->x);
}

/* one forward: input reorder, every layer, logits reorder; waits */
static void forward(struct plan *P) {
    run_reorder(P->in_reorder, P->in_user, P->in);
    for (int i = 0; i < NLAYERS; i++) {
        struct layer *L = &net[i];
        if (L->src_reorder) run_reorder(L->src_reorder, L->src_from, L->reorder_to);
        dnnl_exec_arg_t args[5];
        int n = 0;
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, L->src};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, L->dst};
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, P->scratch};
        if (L->wei) {
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, L->wei};
            args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, L->bias};
        }
        CHECK(dnnl_primitive_execute(L->prim, strm, n, args));
    }
    if (P->out_reorder) run_reorder(P->out_reorder, P->out, P->out_user);
    CHECK(dnnl_stream_wait(strm));
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(void) {
    fprintf(stderr, "usage: onednn_alexnet [--threads N] [--iters N] [--warmup N] [--batches 1,16,64] [--bf16]\n"
                    "                      [--fc6 4d|2d] [--wino] [--jsonl FILE] [--check DIR] [--lrn-alpha A] [--verbose]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int threads = 2, iters = 10, warmup = 2, verbose = 0;
    const char *batches = "1,16,64", *jsonl = NULL, *check = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--bf16")) opt_bf16 = 1;
        else if (!strcmp(a, "--wino")) opt_wino = 1;
        else if (!strcmp(a, "--verbose")) verbose = 1;
        else if (!v) usage();
        else if (!strcmp(a, "--threads")) threads = atoi(v), i++;
        else if (!strcmp(a, "--iters")) iters = atoi(v), i++;
        else if (!strcmp(a, "--warmup")) warmup = atoi(v), i++;
        else if (!strcmp(a, "--batches")) batches = v, i++;
        else if (!strcmp(a, "--jsonl")) jsonl = v, i++;
        else if (!strcmp(a, "--check")) check = v, i++;
        else if (!strcmp(a, "--lrn-alpha")) lrn_alpha = (float)atof(v), i++;
        else if (!strcmp(a, "--fc6")) {
            if (!strcmp(v, "2d")) opt_fc6_2d = 1;
            else if (strcmp(v, "4d")) usage();
            i++;
        } else usage();
    }
    if (threads < 1 || iters < 1 || warmup < 0) usage();
    omp_set_num_threads(threads);
    const dnnl_version_t *ver = dnnl_version();
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
    char variant[64];
    snprintf(variant, sizeof variant, "%s forward_inference fc6-%s%s", opt_bf16 ? "bf16" : "fp32",
             opt_fc6_2d ? "2d" : "4d", opt_wino && !opt_bf16 ? " wino" : "");
    fprintf(stderr, "onednn_alexnet: oneDNN %d.%d.%d (%s), %d OpenMP threads, %s\n", ver->major, ver->minor,
            ver->patch, ver->hash, omp_get_max_threads(), variant);

    init_weights(check);
    if (check) {
        struct plan P;
        build(&P, 2, verbose);
        float *x = read_f32(check, "net_input.f32", 2 * 3 * 227 * 227);
        float *ref = read_f32(check, "net_output.f32", 2 * 1000);
        memcpy(P.x, x, sizeof(float) * 2 * 3 * 227 * 227);
        forward(&P);
        double num = 0, den = 0, maxd = 0;
        int finite = 1;
        for (int k = 0; k < 2000; k++) {
            double d = (double)P.y[k] - (double)ref[k];
            if (!isfinite(P.y[k])) finite = 0;
            num += d * d, den += (double)ref[k] * ref[k];
            if (fabs(d) > maxd) maxd = fabs(d);
        }
        double rel = sqrt(num / den), tol = opt_bf16 ? 3e-2 : 1e-4;
        printf("check: logits vs PyTorch (batch 2, %s): relative L2 error %.3g, max |diff| %.3g, "
               "|ref| rms %.3g: %s (tolerance %g)\n",
               variant, rel, maxd, sqrt(den / 2000), finite && rel <= tol ? "ok" : "FAIL", tol);
        destroy(&P);
        return finite && rel <= tol ? 0 : 1;
    }

    FILE *jf = jsonl ? fopen(jsonl, "a") : NULL;
    if (jsonl && !jf) {
        fprintf(stderr, "onednn_alexnet: cannot open %s\n", jsonl);
        return 2;
    }
    char *list = strdup(batches);
    double *t = xmalloc(sizeof(double) * (size_t)iters);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int batch = atoi(tok);
        if (batch < 1) usage();
        struct plan P;
        build(&P, batch, verbose);
        size_t nx = (size_t)batch * 3 * 227 * 227;
        for (size_t k = 0; k < nx; k++) P.x[k] = frand() * 1.7320508f; /* unit variance */
        for (int k = 0; k < warmup; k++) forward(&P);
        for (int k = 0; k < iters; k++) {
            double t0 = now();
            forward(&P);
            t[k] = now() - t0;
        }
        double sum = 0;
        int finite = 1;
        for (int k = 0; k < batch * 1000; k++) {
            if (!isfinite(P.y[k])) finite = 0;
            sum += P.y[k];
        }
        if (!finite) {
            fprintf(stderr, "onednn_alexnet: batch %d: non-finite logits\n", batch);
            return 1;
        }
        qsort(t, (size_t)iters, sizeof(double), cmp_double);
        double med = iters % 2 ? t[iters / 2] : 0.5 * (t[iters / 2 - 1] + t[iters / 2]);
        char line[1024];
        snprintf(line, sizeof line,
                 "{\"framework\": \"onednn-c\", \"version\": \"%d.%d.%d\", \"variant\": \"%s\", "
                 "\"mode\": \"forward\", \"batch\": %d, \"threads\": %d, \"iters\": %d, \"warmup\": %d, "
                 "\"ips_median\": %.4f, \"ips_min\": %.4f, \"ips_max\": %.4f, \"ms_median\": %.4f, "
                 "\"gflops_median\": %.3f, \"logits_sum\": %.6g}",
                 ver->major, ver->minor, ver->patch, variant, batch, threads, iters, warmup, batch / med,
                 batch / t[iters - 1], batch / t[0], 1e3 * med, batch / med * FWD_FLOP / 1e9, sum);
        printf("RESULT %s\n", line);
        fflush(stdout);
        if (jf) fprintf(jf, "%s\n", line), fflush(jf);
        destroy(&P);
    }
    if (jf) fclose(jf);
    free(t);
    free(list);
    CHECK(dnnl_stream_destroy(strm));
    CHECK(dnnl_engine_destroy(eng));
    return 0;
}
