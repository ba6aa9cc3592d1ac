//go:build onednn

/*
 * context.c — the shim's context (engine, stream, OpenMP team size,
 * scratchpad arena, counters) and its error messages.
 */
#include "shim.h"

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
int fail(dno_ctx *c, int code, const char *fmt, ...) {
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->msg, sizeof c->msg, "%s: %s (status %d)", what, status_name((dnnl_status_t)code), code);
    return code;
}

void *zalloc(size_t n) {
    void *p = NULL;
    if (n < 64) n = 64;
    n = (n + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, n) != 0) return NULL;
    memset(p, 0, n);
    return p;
}

/* enter makes this OS thread's OpenMP team the backend's size: the value is
 * thread-local in libgomp and Go may run each call on another thread. */
void enter(dno_ctx *c) {
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

int arena_reserve(dno_ctx *c, size_t n) {
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
