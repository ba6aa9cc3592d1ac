//go:build onednn

/*
 * elementwise.c — the steps the shim writes itself as OpenMP loops: ReLU
 * and the SGD update on any layout (the tensors follow x's or param's),
 * bias add, dropout and softmax with cross-entropy on the plain layout
 * (they index channels, logical positions or rows).
 */
#include "shim.h"

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
static int relu_forward_body(dno_ctx *c, dno_tensor *x, dno_tensor *y) {
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

static int relu_backward_body(dno_ctx *c, dno_tensor *y, dno_tensor *dy, dno_tensor *dx) {
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
static int bias_forward_body(dno_ctx *c, dno_tensor *x, dno_tensor *b, dno_tensor *y) {
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

static int bias_backward_body(dno_ctx *c, dno_tensor *dy, dno_tensor *db) {
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
static int dropout_forward_body(dno_ctx *c, dno_tensor *x, dno_tensor *y, uint8_t *mask, uint64_t seed, uint32_t threshold,
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

static int dropout_backward_body(dno_ctx *c, dno_tensor *dy, dno_tensor *dx, const uint8_t *mask, float scale) {
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
static int sgd_body(dno_ctx *c, dno_tensor *param, dno_tensor *grad, dno_tensor *velocity, float lr, float mu, float wd,
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

/* ---- entry points: each runs its body on the context's executor thread,
 * where every OpenMP region of the context starts (see shim.h) ---- */

struct relu_forward_args { dno_ctx *c; dno_tensor *x, *y; };
static int relu_forward_run(void *p) { struct relu_forward_args *a = p; return relu_forward_body(a->c, a->x, a->y); }
int dno_relu_forward(dno_ctx *c, dno_tensor *x, dno_tensor *y) {
    return on_executor(c, relu_forward_run, &(struct relu_forward_args){c, x, y});
}

struct relu_backward_args { dno_ctx *c; dno_tensor *y, *dy, *dx; };
static int relu_backward_run(void *p) { struct relu_backward_args *a = p; return relu_backward_body(a->c, a->y, a->dy, a->dx); }
int dno_relu_backward(dno_ctx *c, dno_tensor *y, dno_tensor *dy, dno_tensor *dx) {
    return on_executor(c, relu_backward_run, &(struct relu_backward_args){c, y, dy, dx});
}

struct bias_forward_args { dno_ctx *c; dno_tensor *x, *b, *y; };
static int bias_forward_run(void *p) { struct bias_forward_args *a = p; return bias_forward_body(a->c, a->x, a->b, a->y); }
int dno_bias_forward(dno_ctx *c, dno_tensor *x, dno_tensor *b, dno_tensor *y) {
    return on_executor(c, bias_forward_run, &(struct bias_forward_args){c, x, b, y});
}

struct bias_backward_args { dno_ctx *c; dno_tensor *dy, *db; };
static int bias_backward_run(void *p) { struct bias_backward_args *a = p; return bias_backward_body(a->c, a->dy, a->db); }
int dno_bias_backward(dno_ctx *c, dno_tensor *dy, dno_tensor *db) {
    return on_executor(c, bias_backward_run, &(struct bias_backward_args){c, dy, db});
}

struct dropout_forward_args { dno_ctx *c; dno_tensor *x, *y; uint8_t *mask; uint64_t seed; uint32_t threshold; float scale; };
static int dropout_forward_run(void *p) { struct dropout_forward_args *a = p; return dropout_forward_body(a->c, a->x, a->y, a->mask, a->seed, a->threshold, a->scale); }
int dno_dropout_forward(dno_ctx *c, dno_tensor *x, dno_tensor *y, uint8_t *mask, uint64_t seed, uint32_t threshold, float scale) {
    return on_executor(c, dropout_forward_run, &(struct dropout_forward_args){c, x, y, mask, seed, threshold, scale});
}

struct dropout_backward_args { dno_ctx *c; dno_tensor *dy, *dx; const uint8_t *mask; float scale; };
static int dropout_backward_run(void *p) { struct dropout_backward_args *a = p; return dropout_backward_body(a->c, a->dy, a->dx, a->mask, a->scale); }
int dno_dropout_backward(dno_ctx *c, dno_tensor *dy, dno_tensor *dx, const uint8_t *mask, float scale) {
    return on_executor(c, dropout_backward_run, &(struct dropout_backward_args){c, dy, dx, mask, scale});
}

struct sgd_args { dno_ctx *c; dno_tensor *param, *grad, *velocity; float lr, mu, wd; int rule; };
static int sgd_run(void *p) { struct sgd_args *a = p; return sgd_body(a->c, a->param, a->grad, a->velocity, a->lr, a->mu, a->wd, a->rule); }
int dno_sgd(dno_ctx *c, dno_tensor *param, dno_tensor *grad, dno_tensor *velocity, float lr, float mu, float wd, int rule) {
    return on_executor(c, sgd_run, &(struct sgd_args){c, param, grad, velocity, lr, mu, wd, rule});
}
