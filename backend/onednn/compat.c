//go:build onednn

/*
 * compat.c — every difference between oneDNN 2.x and 3.x the shim sees, so
 * that the other files are common to both (chosen by the header the shim is
 * compiled against; the API facts both branches rely on are oneDNN's own
 * documentation: the C API reference of 2.x and 3.x and the "Transition to
 * oneDNN v3.0" guide):
 *   - memory descriptors: a struct in 2.x (md_t is a malloc'd copy), a
 *     handle in 3.x (md_t is an owned handle); the typedefs are in shim.h;
 *   - primitive descriptor creation: an op descriptor and
 *     dnnl_primitive_desc_create in 2.x, one *_primitive_desc_create call
 *     per op in 3.x (the functions below take 3.x's parameter lists);
 *   - the eltwise post-op's parameters.
 * The status names (context.c) differ in one enumerator too.
 */
#include "shim.h"

/* ------------------------------------------------------------------ */
/* memory descriptors                                                  */
/* ------------------------------------------------------------------ */

#if DNNL_VERSION_MAJOR >= 3
dnnl_status_t md_new(md_t *out, int nd, const dnnl_dims_t dims, dnnl_data_type_t dt, dnnl_format_tag_t tag) {
    *out = NULL;
    return dnnl_memory_desc_create_with_tag(out, nd, dims, dt, tag);
}

md_t md_clone(cmd_t m) {
    md_t r = NULL;
    if (dnnl_memory_desc_clone(&r, m) != dnnl_success) return NULL;
    return r;
}

void md_free(md_t m) {
    if (m) dnnl_memory_desc_destroy(m);
}

int md_dims(cmd_t m, int64_t *dims) {
    int nd = 0;
    const dnnl_dims_t *d = NULL;
    if (dnnl_memory_desc_query(m, dnnl_query_ndims_s32, &nd) != dnnl_success) return 0;
    if (dnnl_memory_desc_query(m, dnnl_query_dims, &d) != dnnl_success || d == NULL) return 0;
    for (int i = 0; i < nd; i++) dims[i] = (*d)[i];
    return nd;
}
#else
dnnl_status_t md_new(md_t *out, int nd, const dnnl_dims_t dims, dnnl_data_type_t dt, dnnl_format_tag_t tag) {
    *out = calloc(1, sizeof **out);
    if (*out == NULL) return dnnl_out_of_memory;
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(*out, nd, dims, dt, tag);
    if (st != dnnl_success) {
        free(*out);
        *out = NULL;
    }
    return st;
}

md_t md_clone(cmd_t m) {
    md_t r = malloc(sizeof *r);
    if (r) *r = *m;
    return r;
}

void md_free(md_t m) { free(m); }

int md_dims(cmd_t m, int64_t *dims) {
    for (int i = 0; i < m->ndims; i++) dims[i] = m->dims[i];
    return m->ndims;
}
#endif

int md_eq(cmd_t a, cmd_t b) { return dnnl_memory_desc_equal(a, b); }

dnnl_data_type_t md_dtype(cmd_t m) {
#if DNNL_VERSION_MAJOR >= 3
    dnnl_data_type_t dt = dnnl_data_type_undef;
    if (dnnl_memory_desc_query(m, dnnl_query_data_type, &dt) != dnnl_success) return dnnl_data_type_undef;
    return dt;
#else
    return m->data_type;
#endif
}
size_t md_size(cmd_t m) { return dnnl_memory_desc_get_size(m); }

dnnl_format_tag_t plain_tag(int nd) {
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
/* primitive descriptors (3.x parameter lists)                         */
/* ------------------------------------------------------------------ */

#if DNNL_VERSION_MAJOR < 3
/* CREATE2 makes a 2.x primitive descriptor from an op descriptor. */
#define CREATE2(desc, pd, attr, eng, hint) dnnl_primitive_desc_create(pd, &(desc), attr, eng, hint)
#endif

/* prop is the forward's kind: dnnl_forward_training, or dnnl_forward_inference
 * for a plan made with Inference (other implementations, no workspace). */
dnnl_status_t conv_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, dnnl_alg_kind_t alg, cmd_t src,
                                 cmd_t w, cmd_t b, cmd_t dst, const dnnl_dims_t s, const dnnl_dims_t dil, const dnnl_dims_t pl,
                                 const dnnl_dims_t pr, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_convolution_forward_primitive_desc_create(pd, e, prop, alg, src, w, b, dst, s,
                                                          dil, pl, pr, attr);
#else
    dnnl_convolution_desc_t d;
    dnnl_status_t st = dnnl_dilated_convolution_forward_desc_init(&d, prop, alg, src, w, b, dst, s, dil,
                                                                  pl, pr);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, NULL);
#endif
}

dnnl_status_t conv_bwd_data_pd(pd_t *pd, dnnl_engine_t e, dnnl_alg_kind_t alg, cmd_t dsrc, cmd_t w, cmd_t ddst,
                                      const dnnl_dims_t s, const dnnl_dims_t dil, const dnnl_dims_t pl,
                                      const dnnl_dims_t pr, cpd_t hint, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_convolution_backward_data_primitive_desc_create(pd, e, alg, dsrc, w, ddst, s,
                                                                dil, pl, pr, hint, attr);
#else
    dnnl_convolution_desc_t d;
    dnnl_status_t st = dnnl_dilated_convolution_backward_data_desc_init(&d, alg, dsrc, w, ddst,
                                                                        s, dil, pl, pr);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

dnnl_status_t conv_bwd_w_pd(pd_t *pd, dnnl_engine_t e, dnnl_alg_kind_t alg, cmd_t src, cmd_t dw, cmd_t db, cmd_t ddst,
                                   const dnnl_dims_t s, const dnnl_dims_t dil, const dnnl_dims_t pl,
                                   const dnnl_dims_t pr, cpd_t hint, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_convolution_backward_weights_primitive_desc_create(pd, e, alg, src, dw, db, ddst,
                                                                   s, dil, pl, pr, hint, attr);
#else
    dnnl_convolution_desc_t d;
    dnnl_status_t st = dnnl_dilated_convolution_backward_weights_desc_init(&d, alg, src, dw, db,
                                                                           ddst, s, dil, pl, pr);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

dnnl_status_t ip_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t w, cmd_t b,
                               cmd_t dst, cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_inner_product_forward_primitive_desc_create(pd, e, prop, src, w, b, dst, attr);
#else
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_forward_desc_init(&d, prop, src, w, b, dst);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, NULL);
#endif
}

dnnl_status_t ip_bwd_data_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t w, cmd_t ddst, cpd_t hint,
                                    cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_inner_product_backward_data_primitive_desc_create(pd, e, dsrc, w, ddst, hint, attr);
#else
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_backward_data_desc_init(&d, dsrc, w, ddst);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

dnnl_status_t ip_bwd_w_pd(pd_t *pd, dnnl_engine_t e, cmd_t src, cmd_t dw, cmd_t db, cmd_t ddst, cpd_t hint,
                                 cattr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_inner_product_backward_weights_primitive_desc_create(pd, e, src, dw, db, ddst, hint, attr);
#else
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_backward_weights_desc_init(&d, src, dw, db, ddst);
    return st != dnnl_success ? st : CREATE2(d, pd, attr, e, hint);
#endif
}

dnnl_status_t lrn_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t dst, int64_t n,
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

dnnl_status_t lrn_bwd_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t ddst, cmd_t src, int64_t n,
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

dnnl_status_t pool_fwd_pd(pd_t *pd, dnnl_engine_t e, dnnl_prop_kind_t prop, cmd_t src, cmd_t dst,
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

dnnl_status_t pool_bwd_pd(pd_t *pd, dnnl_engine_t e, cmd_t dsrc, cmd_t ddst, const dnnl_dims_t s,
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

dnnl_status_t post_ops_relu(dnnl_post_ops_t po) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0.f, 0.f);
#else
    return dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f);
#endif
}
