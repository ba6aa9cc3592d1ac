//go:build onednn

/*
 * context.c — the shim's context (engine, stream, OpenMP team size,
 * scratchpad arena, counters), its error messages, and the executor thread
 * that runs every parallel region (see shim.h).
 */
#include "shim.h"

#include <sys/syscall.h>
#include <unistd.h>

static int ex_start(executor *e, int threads);
static void ex_stop(executor *e);

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
    int err = ex_start(&c->ex, c->threads);
    if (err != 0) {
        snprintf(msg, msglen, "starting the executor thread that runs oneDNN: %s", strerror(err));
        dno_ctx_destroy(c);
        return DNO_ENOMEM;
    }
    *out = c;
    return 0;
}

void dno_ctx_destroy(dno_ctx *c) {
    if (c == NULL) return;
    ex_stop(&c->ex);
    for (int i = 0; i < RCACHE; i++) rcache_clear(&c->rc[i]);
    free(c->plain);
    if (c->strm) dnnl_stream_destroy(c->strm);
    if (c->eng) dnnl_engine_destroy(c->eng);
    free(c->arena);
    free(c);
}

const char *dno_ctx_message(const dno_ctx *c) { return c->msg; }
int64_t dno_ctx_relayouts(const dno_ctx *c) { return c->relayouts; }
int64_t dno_ctx_allocs(const dno_ctx *c) { return c->allocs; }
int64_t dno_ctx_ran_on(const dno_ctx *c) { return c->ex.ran_on; }
int64_t dno_ctx_arena_bytes(const dno_ctx *c) { return (int64_t)c->arena_cap; }
void dno_ctx_set_arena_max(dno_ctx *c, int64_t bytes) { c->arena_max = bytes; }

int dno_isa(void) {
    /* dnnl_cpu_isa_t values are cumulative bit sets (2.x and 3.x): an ISA
     * includes another when it has all of the other's bits. */
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    static const struct { unsigned isa; int bit; } has[] = {
        {(unsigned)dnnl_cpu_isa_avx2, DNO_ISA_AVX2},
        {(unsigned)dnnl_cpu_isa_avx512_core, DNO_ISA_AVX512},
        {(unsigned)dnnl_cpu_isa_avx512_core_bf16, DNO_ISA_BF16},
        {(unsigned)dnnl_cpu_isa_avx512_core_amx, DNO_ISA_AMX},
    };
    int r = 0;
    for (size_t i = 0; i < sizeof has / sizeof has[0]; i++)
        if (has[i].isa != 0 && (isa & has[i].isa) == has[i].isa) r |= has[i].bit;
    return r;
}

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

/* ---- the executor thread (see shim.h) ---- */

static void *ex_main(void *p) {
    executor *e = p;
    omp_set_num_threads(e->threads);
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (!e->has_job && !e->quit) pthread_cond_wait(&e->job_cv, &e->mu);
        if (!e->has_job) break;
        void (*fn)(void *) = e->fn;
        void *arg = e->arg;
        e->has_job = 0;
        e->ran_on = (int64_t)syscall(SYS_gettid);
        pthread_mutex_unlock(&e->mu);
        fn(arg);
        pthread_mutex_lock(&e->mu);
        e->done = 1;
        pthread_cond_signal(&e->done_cv);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* ex_start returns 0 or the pthread error number (errno values). */
static int ex_start(executor *e, int threads) {
    e->threads = threads;
    int rc = pthread_mutex_init(&e->call, NULL);
    if (rc == 0) rc = pthread_mutex_init(&e->mu, NULL);
    if (rc == 0) rc = pthread_cond_init(&e->job_cv, NULL);
    if (rc == 0) rc = pthread_cond_init(&e->done_cv, NULL);
    if (rc == 0) rc = pthread_create(&e->th, NULL, ex_main, e);
    if (rc == 0) e->started = 1;
    return rc;
}

static void ex_stop(executor *e) {
    if (!e->started) return;
    pthread_mutex_lock(&e->mu);
    e->quit = 1;
    pthread_cond_signal(&e->job_cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->th, NULL);
    e->started = 0;
}

/* ex_run runs fn(arg) on the executor's thread and returns when it is done;
 * called on that thread (a reorder inside a job), it runs fn at once. */
static void ex_run(executor *e, void (*fn)(void *), void *arg) {
    if (!e->started || pthread_equal(pthread_self(), e->th)) {
        e->ran_on = (int64_t)syscall(SYS_gettid);
        fn(arg);
        return;
    }
    pthread_mutex_lock(&e->call);
    pthread_mutex_lock(&e->mu);
    e->fn = fn, e->arg = arg, e->has_job = 1, e->done = 0;
    pthread_cond_signal(&e->job_cv);
    while (!e->done) pthread_cond_wait(&e->done_cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
    pthread_mutex_unlock(&e->call);
}

/* exec_job is one primitive execution and the wait for it. */
typedef struct exec_job {
    dnnl_primitive_t p;
    dnnl_stream_t strm;
    int n;
    const dnnl_exec_arg_t *args;
    dnnl_status_t st;
} exec_job;

static void exec_job_run(void *a) {
    exec_job *j = a;
    j->st = dnnl_primitive_execute(j->p, j->strm, j->n, j->args);
    if (j->st == dnnl_success) j->st = dnnl_stream_wait(j->strm);
}

dnnl_status_t execute(dno_ctx *c, dnnl_primitive_t p, int n, const dnnl_exec_arg_t *args) {
    exec_job j = {p, c->strm, n, args, dnnl_success};
    ex_run(&c->ex, exec_job_run, &j);
    return j.st;
}

/* call_job is one shim entry point's body and its result. */
typedef struct call_job {
    int (*fn)(void *);
    void *args;
    int rc;
} call_job;

static void call_job_run(void *a) {
    call_job *j = a;
    j->rc = j->fn(j->args);
}

int on_executor(dno_ctx *c, int (*fn)(void *), void *args) {
    call_job j = {fn, args, 0};
    ex_run(&c->ex, call_job_run, &j);
    return j.rc;
}
