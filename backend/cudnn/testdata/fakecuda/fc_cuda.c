/*
 * fc_cuda.c — TEST DOUBLE of libcuda.so.1 (the CUDA driver API), plus the
 * core that the cuDNN and cuBLAS doubles share. NOT A GPU: every "device"
 * operation runs on the host CPU. Written from NVIDIA's documented driver
 * API (function semantics, error codes); contains no NVIDIA code. Never on
 * a user's library path; never a source of performance numbers.
 *
 * What it models strictly (see README.md in this folder):
 *  - device memory lives in a separate mmap'd region, one guard page after
 *    every allocation, addresses never reused; every pointer argument is
 *    checked against the live allocations (host, freed, short → error);
 *  - contexts: driver calls need cuInit and a current context in the
 *    calling thread (cuCtxSetCurrent), as the driver API requires;
 *  - streams: DNNGO_FAKECUDA_MODE=deferred queues all stream work and runs
 *    it only at synchronisation points (cuStreamSynchronize, cuEventSynchronize
 *    up to the recorded point, a DtoH copy into pageable memory, cuMemFree,
 *    cuMemFreeHost, cuStreamDestroy, cudnnDestroy, cublasDestroy, a cuBLAS
 *    result returned to host memory); immediate mode runs it at once;
 *  - fault injection (DNNGO_FAKECUDA_FAIL) and leak counts
 *    (dnngo_fakecuda_live).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fc_core.h"

#define PROTO(ret, name, params) ret name params;
DN_CUDA_FUNCS(PROTO)
#undef PROTO

/* ------------------------------------------------------------------ */
/* identification and leak accounting (exported for tests)             */
/* ------------------------------------------------------------------ */

/* The marker symbol: a test can dlsym it to know it loaded the double. */
const char dnngo_fakecuda_test_double[] =
    "dnngo CUDA/cuDNN/cuBLAS test double: host CPU code written from NVIDIA's documented API; not a GPU, "
    "not for users, no performance meaning";

static pthread_mutex_t g_mu = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
void fc_lock(void) { pthread_mutex_lock(&g_mu); }
void fc_unlock(void) { pthread_mutex_unlock(&g_mu); }

static long long g_live[FC_OBJ_KINDS];
static const void **g_reg; /* open addressing set of object pointers (below) */
static size_t g_reg_cap, g_reg_n;
static int g_verbose = -1;
static long long g_live_allocs, g_live_alloc_bytes, g_live_pinned;
void fc_count(int kind, int delta) { g_live[kind] += delta; }

/* dnngo_fakecuda_live fills counts (up to n entries) in this order:
 * device allocations, pinned host buffers, retained contexts, streams,
 * events, cuDNN handles, cuDNN descriptors (all kinds), cuBLAS handles,
 * device bytes allocated; returns how many exist (9). */
int dnngo_fakecuda_live(long long *counts, int n) {
    fc_lock();
    long long v[9] = {
        g_live_allocs,
        g_live_pinned,
        g_live[FC_OBJ_CONTEXT],
        g_live[FC_OBJ_STREAM],
        g_live[FC_OBJ_EVENT],
        g_live[FC_OBJ_CUDNN],
        g_live[FC_OBJ_TENSOR] + g_live[FC_OBJ_FILTER] + g_live[FC_OBJ_CONV] + g_live[FC_OBJ_ACT] +
            g_live[FC_OBJ_LRN] + g_live[FC_OBJ_POOL],
        g_live[FC_OBJ_CUBLAS],
        g_live_alloc_bytes,
    };
    for (int i = 0; i < n && i < 9; i++) counts[i] = v[i];
    if (g_verbose > 0)
        for (size_t i = 0; i < g_reg_cap; i++) {
            const fc_obj *o = g_reg[i];
            if (o && o->live) fprintf(stderr, "fakecuda: live %s %p\n", fc_kind_name(o->kind), (const void *)o);
        }
    fc_unlock();
    return 9;
}

/* dnngo_fakecuda_live_names names the entries of dnngo_fakecuda_live. */
const char *dnngo_fakecuda_live_names(void) {
    return "allocations,pinned,contexts,streams,events,cudnn_handles,cudnn_descriptors,cublas_handles,device_bytes";
}

/* ------------------------------------------------------------------ */
/* error messages                                                       */
/* ------------------------------------------------------------------ */

static __thread char t_msg[3][1024];
static __thread int t_msg_code[3];
static __thread char t_any[1024];

int fc_error(int lib, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_msg[lib], sizeof t_msg[lib], fmt, ap);
    va_end(ap);
    t_msg_code[lib] = code;
    snprintf(t_any, sizeof t_any, "%s", t_msg[lib]);
    if (g_verbose < 0) g_verbose = getenv("DNNGO_FAKECUDA_VERBOSE") != NULL;
    if (g_verbose) fprintf(stderr, "fakecuda: status %d: %s\n", code, t_msg[lib]);
    return code;
}

const char *fc_last_message(int lib, int code) {
    if (code >= 0 && t_msg_code[lib] != code) return "";
    return t_msg[lib];
}

void fc_clear_message(int lib) {
    t_msg[lib][0] = 0;
    t_msg_code[lib] = 0;
}

/* dnngo_fakecuda_last_error returns this thread's last message from any of
 * the three libraries ("" if none). */
const char *dnngo_fakecuda_last_error(void) { return t_any; }

/* ------------------------------------------------------------------ */
/* configuration: mode, faults, unsupported features                    */
/* ------------------------------------------------------------------ */

#define MAX_RULES 64
struct fault_rule {
    char name[80];
    long nth; /* 0: every call */
    int status;
    int has_status;
};
struct counter {
    char name[80];
    long calls;
};
static struct fault_rule g_faults[MAX_RULES];
static int g_nfaults;
static struct counter g_counters[256];
static int g_ncounters;
static struct {
    char name[80];
    char tag[8];
} g_unsup[MAX_RULES];
static int g_nunsup;
static int g_mode_deferred;
static int g_configured;
static int g_explicit; /* set by dnngo_fakecuda_configure: cuInit keeps the rules */

static void parse_faults(const char *spec) {
    g_nfaults = 0;
    if (!spec) return;
    const char *p = spec;
    while (*p && g_nfaults < MAX_RULES) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[160];
        if (len >= sizeof item) len = sizeof item - 1;
        memcpy(item, p, len);
        item[len] = 0;
        struct fault_rule r = {0};
        char *c1 = strchr(item, ':');
        if (c1) {
            *c1 = 0;
            char *c2 = strchr(c1 + 1, ':');
            if (c2) {
                *c2 = 0;
                r.status = atoi(c2 + 1);
                r.has_status = 1;
            }
            r.nth = strcmp(c1 + 1, "*") == 0 ? 0 : atol(c1 + 1);
        } else {
            r.nth = 1;
        }
        snprintf(r.name, sizeof r.name, "%s", item);
        if (r.name[0]) g_faults[g_nfaults++] = r;
        if (!end) break;
        p = end + 1;
    }
}

static void parse_unsupported(const char *spec) {
    g_nunsup = 0;
    if (!spec) return;
    const char *p = spec;
    while (*p && g_nunsup < MAX_RULES) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[160];
        if (len >= sizeof item) len = sizeof item - 1;
        memcpy(item, p, len);
        item[len] = 0;
        char *c = strchr(item, ':');
        g_unsup[g_nunsup].tag[0] = 0;
        if (c) {
            *c = 0;
            snprintf(g_unsup[g_nunsup].tag, sizeof g_unsup[g_nunsup].tag, "%s", c + 1);
        }
        snprintf(g_unsup[g_nunsup].name, sizeof g_unsup[g_nunsup].name, "%s", item);
        if (item[0]) g_nunsup++;
        if (!end) break;
        p = end + 1;
    }
}

/* configure (under the lock): NULL arguments are read from the
 * environment. Resets every call counter. Pending work is run first. */
static void configure(const char *mode, const char *fail, const char *unsup) {
    fc_flush_all();
    if (!mode) mode = getenv("DNNGO_FAKECUDA_MODE");
    if (!fail) fail = getenv("DNNGO_FAKECUDA_FAIL");
    if (!unsup) unsup = getenv("DNNGO_FAKECUDA_UNSUPPORTED");
    g_mode_deferred = mode && strcmp(mode, "deferred") == 0;
    parse_faults(fail);
    parse_unsupported(unsup);
    g_ncounters = 0;
    g_configured = 1;
}

/* dnngo_fakecuda_configure sets the execution mode ("immediate" or
 * "deferred"), the fault rules and the unsupported list (each NULL: read
 * DNNGO_FAKECUDA_MODE / _FAIL / _UNSUPPORTED) and resets the call counters.
 * After a call with any non-NULL argument cuInit only resets the counters;
 * a call with three NULLs returns to reading the environment at cuInit.
 * Returns 0. */
int dnngo_fakecuda_configure(const char *mode, const char *fail, const char *unsupported) {
    fc_lock();
    configure(mode, fail, unsupported);
    g_explicit = mode || fail || unsupported;
    fc_unlock();
    return 0;
}

/* dnngo_fakecuda_calls writes "name=count,..." of every function called
 * since the last configuration into buf (NUL-terminated, truncated to
 * len); returns the length needed. */
int dnngo_fakecuda_calls(char *buf, int len) {
    fc_lock();
    int need = 0;
    for (int i = 0; i < g_ncounters; i++) {
        char item[128];
        int k = snprintf(item, sizeof item, "%s%s=%ld", i ? "," : "", g_counters[i].name, g_counters[i].calls);
        if (buf && need + k < len) memcpy(buf + need, item, (size_t)k + 1);
        need += k;
    }
    if (buf && len > 0 && need >= len) buf[len - 1] = 0;
    if (buf && len > 0 && g_ncounters == 0) buf[0] = 0;
    fc_unlock();
    return need;
}

static const char *lib_name(int lib) { return lib == FC_LIB_CUDA ? "CUDA" : lib == FC_LIB_CUDNN ? "cuDNN" : "cuBLAS"; }

int fc_fault(const char *name, int lib) {
    if (!g_configured) configure(NULL, NULL, NULL);
    int i;
    for (i = 0; i < g_ncounters; i++)
        if (strcmp(g_counters[i].name, name) == 0) break;
    if (i == g_ncounters) {
        if (g_ncounters == (int)(sizeof g_counters / sizeof g_counters[0])) return 0;
        snprintf(g_counters[i].name, sizeof g_counters[i].name, "%s", name);
        g_counters[i].calls = 0;
        g_ncounters++;
    }
    long n = ++g_counters[i].calls;
    for (int j = 0; j < g_nfaults; j++) {
        struct fault_rule *r = &g_faults[j];
        if (strcmp(r->name, name) != 0) continue;
        if (r->nth != 0 && r->nth != n) continue;
        int st = r->status;
        if (!r->has_status) {
            if (strcmp(name, "cuMemAlloc_v2") == 0 || strcmp(name, "cuMemAllocHost_v2") == 0)
                st = FC_CUDA_ERROR_OUT_OF_MEMORY;
            else
                st = lib == FC_LIB_CUDA ? FC_CUDA_ERROR_INVALID_VALUE
                     : lib == FC_LIB_CUDNN ? FC_CUDNN_STATUS_INTERNAL_ERROR
                                           : FC_CUBLAS_STATUS_INTERNAL_ERROR;
        }
        fc_error(lib, st, "%s: injected fault (DNNGO_FAKECUDA_FAIL) on call %ld, %s status %d", name, n,
                 lib_name(lib), st);
        return st;
    }
    return 0;
}

int fc_unsupported(const char *name, const char *tag) {
    for (int i = 0; i < g_nunsup; i++) {
        if (strcmp(g_unsup[i].name, name) != 0) continue;
        if (g_unsup[i].tag[0] == 0 || (tag && strcmp(g_unsup[i].tag, tag) == 0)) return 1;
    }
    return 0;
}

int fc_deferred(void) {
    if (!g_configured) configure(NULL, NULL, NULL);
    return g_mode_deferred;
}

static int env_int(const char *name, int def) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}
/* DNNGO_FAKECUDA_CC=89 sets the reported compute capability (default 9.0). */
int fc_cc_major(void) { return env_int("DNNGO_FAKECUDA_CC", 90) / 10; }
int fc_cc_minor(void) { return env_int("DNNGO_FAKECUDA_CC", 90) % 10; }

/* ------------------------------------------------------------------ */
/* object registry                                                      */
/* ------------------------------------------------------------------ */


static size_t hash_ptr(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}
static int reg_has(const void *p) {
    if (!g_reg_cap || !p) return 0;
    for (size_t i = hash_ptr(p) & (g_reg_cap - 1);; i = (i + 1) & (g_reg_cap - 1)) {
        if (g_reg[i] == p) return 1;
        if (!g_reg[i]) return 0;
    }
}
static void reg_add(const void *p) {
    if ((g_reg_n + 1) * 2 > g_reg_cap) {
        size_t ncap = g_reg_cap ? g_reg_cap * 2 : 1024;
        const void **n = calloc(ncap, sizeof *n);
        if (!n) abort();
        for (size_t i = 0; i < g_reg_cap; i++) {
            if (!g_reg[i]) continue;
            size_t j = hash_ptr(g_reg[i]) & (ncap - 1);
            while (n[j]) j = (j + 1) & (ncap - 1);
            n[j] = g_reg[i];
        }
        free(g_reg);
        g_reg = n;
        g_reg_cap = ncap;
    }
    size_t j = hash_ptr(p) & (g_reg_cap - 1);
    while (g_reg[j]) j = (j + 1) & (g_reg_cap - 1);
    g_reg[j] = p;
    g_reg_n++;
}

static const char *kind_names[FC_OBJ_KINDS] = {
    "?", "context", "stream", "event", "cuDNN handle", "tensor descriptor", "filter descriptor",
    "convolution descriptor", "activation descriptor", "LRN descriptor", "pooling descriptor", "cuBLAS handle"};
const char *fc_kind_name(int kind) { return kind > 0 && kind < FC_OBJ_KINDS ? kind_names[kind] : "?"; }

void *fc_new(int kind, size_t size) {
    fc_obj *o = calloc(1, size);
    if (!o) return NULL;
    o->magic = FC_MAGIC;
    o->kind = kind;
    o->live = 1;
    reg_add(o);
    g_live[kind]++;
    return o;
}

void fc_destroy(void *p) {
    fc_obj *o = p;
    if (o->live) g_live[o->kind]--;
    o->live = 0;
}

void *fc_get(int lib, int code, const char *fn, const char *what, const void *p, int kind, int need_set) {
    if (!p) {
        fc_error(lib, code, "%s: %s is NULL (expected a %s)", fn, what, fc_kind_name(kind));
        return NULL;
    }
    if (!reg_has(p)) {
        fc_error(lib, code, "%s: %s %p is not a %s created by this library", fn, what, p, fc_kind_name(kind));
        return NULL;
    }
    fc_obj *o = (fc_obj *)p;
    if (o->kind != kind) {
        fc_error(lib, code, "%s: %s %p is a %s, expected a %s", fn, what, p, fc_kind_name(o->kind),
                 fc_kind_name(kind));
        return NULL;
    }
    if (!o->live) {
        fc_error(lib, code, "%s: %s %p: %s used after it was destroyed", fn, what, p, fc_kind_name(kind));
        return NULL;
    }
    if (need_set && !o->set) {
        fc_error(lib, code, "%s: %s %p: %s used before it was set", fn, what, p, fc_kind_name(kind));
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------------ */
/* device memory                                                        */
/* ------------------------------------------------------------------ */

struct alloc {
    uintptr_t base;
    size_t size;  /* requested bytes */
    size_t pages; /* mapped pages (without the guard) */
    int live;
};
static uintptr_t g_region, g_region_end, g_bump;
static size_t g_page;
static struct alloc *g_allocs;
static size_t g_nallocs, g_cap_allocs;
static size_t g_total_mem = (size_t)16 << 30; /* reported device memory */

struct pinned {
    void *p;
    size_t size, mapped;
    int live;
};
static struct pinned *g_pinned;
static size_t g_npinned, g_cap_pinned;

static int region_init(void) {
    if (g_region) return 0;
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    size_t sizes[] = {(size_t)1 << 40, (size_t)1 << 38, (size_t)1 << 36, (size_t)1 << 34};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *r = mmap(NULL, sizes[i], PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r != MAP_FAILED) {
            g_region = (uintptr_t)r;
            g_region_end = g_region + sizes[i];
            g_bump = g_region + g_page; /* a guard page first */
            const char *m = getenv("DNNGO_FAKECUDA_MEMORY_MB");
            if (m && atol(m) > 0) g_total_mem = (size_t)atol(m) << 20;
            return 0;
        }
    }
    return -1;
}

int fc_is_device(const void *p) {
    uintptr_t a = (uintptr_t)p;
    return g_region && a >= g_region && a < g_region_end;
}

/* find the allocation record whose range [base, base+pages*page) holds a */
static struct alloc *find_alloc(uintptr_t a) {
    size_t lo = 0, hi = g_nallocs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g_allocs[mid].base <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return NULL;
    struct alloc *r = &g_allocs[lo - 1];
    if (a < r->base + (r->pages + 1) * g_page) return r; /* includes its guard page */
    return NULL;
}

int fc_check_dev(int lib, int code, const char *fn, const char *what, const void *p, size_t bytes) {
    uintptr_t a = (uintptr_t)p;
    if (!p) {
        fc_error(lib, code, "%s: %s is NULL, expected device memory of %zu bytes", fn, what, bytes);
        return 1;
    }
    if (!fc_is_device(p)) {
        int pin = fc_pinned_extent(p, 1);
        fc_error(lib, code, "%s: %s %p is %s, not device memory (needs %zu bytes)", fn, what, p,
                 pin ? "pinned host memory (cuMemAllocHost)" : "a host pointer", bytes);
        return 1;
    }
    struct alloc *r = find_alloc(a);
    if (!r) {
        fc_error(lib, code, "%s: %s %p is inside the device region but in no allocation", fn, what, p);
        return 1;
    }
    if (!r->live) {
        fc_error(lib, code, "%s: %s %p points into device memory that was freed (cuMemFree_v2)", fn, what, p);
        return 1;
    }
    size_t off = a - r->base;
    if (off >= r->size || bytes > r->size - off) {
        fc_error(lib, code,
                 "%s: %s %p needs %zu bytes but its allocation (%zu bytes at %p) has only %zu from there", fn,
                 what, p, bytes, r->size, (void *)r->base, off >= r->size ? (size_t)0 : r->size - off);
        return 1;
    }
    return 0;
}

int fc_pinned_extent(const void *p, size_t bytes) {
    uintptr_t a = (uintptr_t)p;
    for (size_t i = 0; i < g_npinned; i++) {
        struct pinned *q = &g_pinned[i];
        if (!q->live) continue;
        uintptr_t b = (uintptr_t)q->p;
        if (a >= b && a < b + q->size) return bytes <= b + q->size - a ? 1 : -1;
    }
    return 0;
}

/* poison: fresh "device" and pinned memory holds 0xFF bytes (NaN as float),
 * as real fresh device memory holds arbitrary values. */
static void poison(void *p, size_t n) { memset(p, 0xff, n); }

/* ------------------------------------------------------------------ */
/* contexts, streams, events, jobs                                      */
/* ------------------------------------------------------------------ */

struct job {
    struct job *next;
    fc_job_fn fn;
    uint64_t seq;
    max_align_t payload[];
};
typedef struct stream {
    fc_obj h;
    struct job *head, *tail;
    uint64_t submitted, done;
    struct stream *next_all;
} stream;
typedef struct event {
    fc_obj h;
    stream *s;
    uint64_t seq;
    int recorded;
} event;
typedef struct context {
    fc_obj h;
    int refs;
} context;

static stream *g_streams;
static context *g_primary;
static int g_inited;
static __thread context *t_current;

int fc_stream_ok(int lib, int code, const char *fn, const void *s) {
    if (!s) {
        fc_error(lib, code,
                 "%s: no stream (NULL): the test double does not model the legacy default stream; bind a stream "
                 "created with cuStreamCreate",
                 fn);
        return 0;
    }
    return fc_get(lib, code, fn, "stream", s, FC_OBJ_STREAM, 0) != NULL;
}

static void run_until(stream *s, uint64_t seq) {
    while (s->head && s->head->seq <= seq) {
        struct job *j = s->head;
        s->head = j->next;
        if (!s->head) s->tail = NULL;
        j->fn(j->payload);
        s->done = j->seq;
        free(j);
    }
}

void fc_flush_stream(const void *sp) {
    stream *s = (stream *)sp;
    run_until(s, UINT64_MAX);
}

void fc_flush_all(void) {
    for (stream *s = g_streams; s; s = s->next_all) run_until(s, UINT64_MAX);
}

void fc_submit(const void *sp, fc_job_fn fn, const void *payload, size_t size) {
    stream *s = (stream *)sp;
    s->submitted++;
    if (!fc_deferred()) {
        /* immediate: earlier queued work (from a previous deferred phase) first */
        run_until(s, UINT64_MAX);
        fn((void *)payload);
        s->done = s->submitted;
        return;
    }
    struct job *j = malloc(sizeof *j + size);
    if (!j) abort();
    j->next = NULL;
    j->fn = fn;
    j->seq = s->submitted;
    memcpy(j->payload, payload, size);
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
}

/* ------------------------------------------------------------------ */
/* numerics                                                             */
/* ------------------------------------------------------------------ */

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float bitsf(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float fc_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0x1f) return bitsf(sign | 0x7f800000 | (m << 13));
    if (e == 0) {
        float v = (float)m * (1.0f / 16777216.0f); /* m * 2^-24, exact */
        return sign ? -v : v;
    }
    return bitsf(sign | ((e - 15 + 127) << 23) | (m << 13));
}

/* round to nearest, ties to even */
uint16_t fc_float_to_half(float f) {
    uint32_t x = fbits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffff;
    if (ax >= 0x7f800000) return sign | (ax > 0x7f800000 ? 0x7e00 : 0x7c00);
    if (ax >= 0x477ff000) return sign | 0x7c00; /* >= 65520 rounds to infinity */
    if (ax < 0x38800000) {                      /* below 2^-14: subnormal half */
        float v = bitsf(ax) * 16777216.0f;      /* exact: a power-of-two scale */
        return sign | (uint16_t)nearbyintf(v);  /* default rounding: to nearest even */
    }
    uint32_t e = (ax >> 23) - 127 + 15, mant = ax & 0x7fffff;
    uint32_t h = (e << 10) | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return sign | (uint16_t)h;
}

float fc_bf16_to_float(uint16_t h) { return bitsf((uint32_t)h << 16); }

uint16_t fc_float_to_bf16(float f) {
    uint32_t u = fbits(f);
    if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

/* TF32: 8-bit exponent, 10-bit mantissa; round to nearest even. */
float fc_round_tf32(float f) {
    uint32_t u = fbits(f);
    if ((u & 0x7f800000) == 0x7f800000) return f;
    u += 0xfff + ((u >> 13) & 1);
    u &= ~0x1fffu;
    return bitsf(u);
}

/* ------------------------------------------------------------------ */
/* the driver API                                                       */
/* ------------------------------------------------------------------ */

#define ENTER(name)                                    \
    fc_lock();                                         \
    int fc_inj_ = fc_fault(#name, FC_LIB_CUDA);         \
    if (fc_inj_) {                                     \
        fc_unlock();                                   \
        return fc_inj_;                                \
    }
#define RETURN(v)       \
    do {                \
        int r_ = (v);   \
        fc_unlock();    \
        return r_;      \
    } while (0)
#define ERR(code, ...) RETURN(fc_error(FC_LIB_CUDA, code, __VA_ARGS__))

static int need_ctx(const char *fn) {
    if (!g_inited) return fc_error(FC_LIB_CUDA, FC_CUDA_ERROR_NOT_INITIALIZED, "%s: cuInit has not been called", fn);
    if (!t_current || !t_current->h.live || t_current->refs <= 0)
        return fc_error(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_CONTEXT,
                        "%s: no current context in this thread (call cuCtxSetCurrent with a retained primary "
                        "context in every thread that makes driver calls)",
                        fn);
    return 0;
}
static int need_init(const char *fn) {
    if (!g_inited) return fc_error(FC_LIB_CUDA, FC_CUDA_ERROR_NOT_INITIALIZED, "%s: cuInit has not been called", fn);
    return 0;
}

dn_CUresult cuInit(unsigned int flags) {
    fc_lock();
    /* cuInit re-reads DNNGO_FAKECUDA_* (unless dnngo_fakecuda_configure set
     * the rules explicitly) and resets the call counters, so a test can set
     * them per backend Open; then counts itself. */
    if (g_explicit)
        g_ncounters = 0;
    else
        configure(NULL, NULL, NULL);
    int inj = fc_fault("cuInit", FC_LIB_CUDA);
    if (inj) RETURN(inj);
    if (flags != 0) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuInit: Flags must be 0, got %u", flags);
    if (region_init() != 0) ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuInit: cannot reserve the device address region");
    g_inited = 1;
    RETURN(0);
}

dn_CUresult cuDriverGetVersion(int *v) {
    ENTER(cuDriverGetVersion);
    if (!v) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuDriverGetVersion: driverVersion is NULL");
    *v = 13000;
    RETURN(0);
}

static const char *cu_err_text(int e, int name) {
    switch (e) {
    case 0: return name ? "CUDA_SUCCESS" : "no error";
    case FC_CUDA_ERROR_INVALID_VALUE: return name ? "CUDA_ERROR_INVALID_VALUE" : "invalid argument";
    case FC_CUDA_ERROR_OUT_OF_MEMORY: return name ? "CUDA_ERROR_OUT_OF_MEMORY" : "out of memory";
    case FC_CUDA_ERROR_NOT_INITIALIZED: return name ? "CUDA_ERROR_NOT_INITIALIZED" : "initialization error";
    case FC_CUDA_ERROR_INVALID_DEVICE: return name ? "CUDA_ERROR_INVALID_DEVICE" : "invalid device ordinal";
    case FC_CUDA_ERROR_INVALID_CONTEXT: return name ? "CUDA_ERROR_INVALID_CONTEXT" : "invalid device context";
    case FC_CUDA_ERROR_INVALID_HANDLE: return name ? "CUDA_ERROR_INVALID_HANDLE" : "invalid resource handle";
    case FC_CUDA_ERROR_ILLEGAL_ADDRESS:
        return name ? "CUDA_ERROR_ILLEGAL_ADDRESS" : "an illegal memory access was encountered";
    case FC_CUDA_ERROR_NOT_SUPPORTED: return name ? "CUDA_ERROR_NOT_SUPPORTED" : "operation not supported";
    default: return NULL;
    }
}

static __thread char t_errstr[1200];

/* cuGetErrorString: the documented text, followed (for the status this
 * thread last failed with) by the double's detailed message. */
dn_CUresult cuGetErrorString(dn_CUresult e, const char **s) {
    fc_lock();
    if (!s) RETURN(FC_CUDA_ERROR_INVALID_VALUE);
    const char *t = cu_err_text(e, 0);
    if (!t) {
        *s = NULL;
        RETURN(FC_CUDA_ERROR_INVALID_VALUE);
    }
    const char *m = fc_last_message(FC_LIB_CUDA, e);
    if (e != 0 && m[0]) {
        snprintf(t_errstr, sizeof t_errstr, "%s [test double: %s]", t, m);
        *s = t_errstr;
    } else {
        *s = t;
    }
    RETURN(0);
}

dn_CUresult cuGetErrorName(dn_CUresult e, const char **s) {
    if (!s) return FC_CUDA_ERROR_INVALID_VALUE;
    *s = cu_err_text(e, 1);
    return *s ? 0 : FC_CUDA_ERROR_INVALID_VALUE;
}

dn_CUresult cuDeviceGetCount(int *n) {
    ENTER(cuDeviceGetCount);
    int r = need_init("cuDeviceGetCount");
    if (r) RETURN(r);
    if (!n) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuDeviceGetCount: count is NULL");
    *n = 1;
    RETURN(0);
}

dn_CUresult cuDeviceGet(dn_CUdevice *d, int ordinal) {
    ENTER(cuDeviceGet);
    int r = need_init("cuDeviceGet");
    if (r) RETURN(r);
    if (!d) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuDeviceGet: device is NULL");
    if (ordinal != 0) ERR(FC_CUDA_ERROR_INVALID_DEVICE, "cuDeviceGet: ordinal %d (the double has one device)", ordinal);
    *d = 0;
    RETURN(0);
}

static int dev_ok(const char *fn, dn_CUdevice d) {
    int r = need_init(fn);
    if (r) return r;
    if (d != 0) return fc_error(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_DEVICE, "%s: device %d does not exist", fn, d);
    return 0;
}

dn_CUresult cuDeviceGetName(char *name, int len, dn_CUdevice d) {
    ENTER(cuDeviceGetName);
    int r = dev_ok("cuDeviceGetName", d);
    if (r) RETURN(r);
    if (!name || len <= 0) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuDeviceGetName: name NULL or len %d", len);
    snprintf(name, (size_t)len, "%s", FC_DEVICE_NAME);
    RETURN(0);
}

dn_CUresult cuDeviceTotalMem_v2(size_t *bytes, dn_CUdevice d) {
    ENTER(cuDeviceTotalMem_v2);
    int r = dev_ok("cuDeviceTotalMem_v2", d);
    if (r) RETURN(r);
    if (!bytes) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuDeviceTotalMem_v2: bytes is NULL");
    *bytes = g_total_mem;
    RETURN(0);
}

dn_CUresult cuDeviceGetAttribute(int *pi, dn_CUdevice_attribute a, dn_CUdevice d) {
    ENTER(cuDeviceGetAttribute);
    int r = dev_ok("cuDeviceGetAttribute", d);
    if (r) RETURN(r);
    if (!pi) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuDeviceGetAttribute: pi is NULL");
    if (a == DN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
        *pi = fc_cc_major();
    else if (a == DN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
        *pi = fc_cc_minor();
    else
        ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuDeviceGetAttribute: attribute %d is not modelled by the test double", a);
    RETURN(0);
}

dn_CUresult cuDeviceGetPCIBusId(char *id, int len, dn_CUdevice d) {
    ENTER(cuDeviceGetPCIBusId);
    int r = dev_ok("cuDeviceGetPCIBusId", d);
    if (r) RETURN(r);
    if (!id || len < 13) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuDeviceGetPCIBusId: buffer NULL or len %d < 13", len);
    /* No real bus: an id no PCI device has (NVML can never match it). */
    snprintf(id, (size_t)len, "FFFF:FF:1F.7");
    RETURN(0);
}

dn_CUresult cuDevicePrimaryCtxRetain(dn_CUcontext *pctx, dn_CUdevice d) {
    ENTER(cuDevicePrimaryCtxRetain);
    int r = dev_ok("cuDevicePrimaryCtxRetain", d);
    if (r) RETURN(r);
    if (!pctx) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuDevicePrimaryCtxRetain: pctx is NULL");
    if (!g_primary || !g_primary->h.live) {
        g_primary = fc_new(FC_OBJ_CONTEXT, sizeof *g_primary);
        if (!g_primary) ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuDevicePrimaryCtxRetain: out of host memory");
        g_primary->h.set = 1;
    }
    g_primary->refs++;
    *pctx = (dn_CUcontext)g_primary;
    RETURN(0);
}

/* Releasing the last reference resets the context; the double keeps the
 * leak counters of what was still allocated (so a test sees the leak). */
dn_CUresult cuDevicePrimaryCtxRelease_v2(dn_CUdevice d) {
    ENTER(cuDevicePrimaryCtxRelease_v2);
    int r = dev_ok("cuDevicePrimaryCtxRelease_v2", d);
    if (r) RETURN(r);
    if (!g_primary || !g_primary->h.live || g_primary->refs <= 0)
        ERR(FC_CUDA_ERROR_INVALID_CONTEXT, "cuDevicePrimaryCtxRelease_v2: the primary context is not retained");
    if (--g_primary->refs == 0) {
        fc_flush_all();
        fc_destroy(g_primary);
    }
    RETURN(0);
}

dn_CUresult cuCtxSetCurrent(dn_CUcontext ctx) {
    ENTER(cuCtxSetCurrent);
    int r = need_init("cuCtxSetCurrent");
    if (r) RETURN(r);
    if (!ctx) {
        t_current = NULL;
        RETURN(0);
    }
    context *c = fc_get(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent", "ctx", ctx, FC_OBJ_CONTEXT, 0);
    if (!c) RETURN(FC_CUDA_ERROR_INVALID_CONTEXT);
    if (c->refs <= 0) ERR(FC_CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent: the context was released");
    t_current = c;
    RETURN(0);
}

dn_CUresult cuMemGetInfo_v2(size_t *fr, size_t *total) {
    ENTER(cuMemGetInfo_v2);
    int r = need_ctx("cuMemGetInfo_v2");
    if (r) RETURN(r);
    if (!fr || !total) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuMemGetInfo_v2: NULL output");
    *total = g_total_mem;
    *fr = g_total_mem - (size_t)g_live_alloc_bytes;
    RETURN(0);
}

dn_CUresult cuMemAlloc_v2(dn_CUdeviceptr *dptr, size_t n) {
    ENTER(cuMemAlloc_v2);
    int r = need_ctx("cuMemAlloc_v2");
    if (r) RETURN(r);
    if (!dptr) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuMemAlloc_v2: dptr is NULL");
    if (n == 0) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuMemAlloc_v2: bytesize is 0");
    if ((size_t)g_live_alloc_bytes + n > g_total_mem)
        ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc_v2: %zu bytes requested, %zu of %zu in use", n,
            (size_t)g_live_alloc_bytes, g_total_mem);
    size_t pages = (n + g_page - 1) / g_page;
    if (g_bump + (pages + 1) * g_page > g_region_end)
        ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc_v2: the double's address region is exhausted");
    void *p = (void *)g_bump;
    if (mprotect(p, pages * g_page, PROT_READ | PROT_WRITE) != 0)
        ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc_v2: mprotect failed: %s", strerror(errno));
    if (g_nallocs == g_cap_allocs) {
        size_t nc = g_cap_allocs ? g_cap_allocs * 2 : 1024;
        struct alloc *na = realloc(g_allocs, nc * sizeof *na);
        if (!na) ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc_v2: out of host memory");
        g_allocs = na;
        g_cap_allocs = nc;
    }
    g_allocs[g_nallocs++] = (struct alloc){g_bump, n, pages, 1};
    g_bump += (pages + 1) * g_page; /* the page after stays PROT_NONE: a guard */
    poison(p, n);
    g_live_allocs++;
    g_live_alloc_bytes += (long long)n;
    *dptr = (dn_CUdeviceptr)(uintptr_t)p;
    RETURN(0);
}

/* cuMemFree_v2 synchronises first (pending work may still use the memory),
 * then unmaps the pages; the addresses are never handed out again. */
dn_CUresult cuMemFree_v2(dn_CUdeviceptr d) {
    ENTER(cuMemFree_v2);
    int r = need_ctx("cuMemFree_v2");
    if (r) RETURN(r);
    uintptr_t a = (uintptr_t)d;
    struct alloc *al = fc_is_device((void *)a) ? find_alloc(a) : NULL;
    if (!al || al->base != a)
        ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuMemFree_v2: %p is not the start of a device allocation", (void *)a);
    if (!al->live) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuMemFree_v2: %p was already freed (double free)", (void *)a);
    fc_flush_all();
    madvise((void *)al->base, al->pages * g_page, MADV_DONTNEED);
    mprotect((void *)al->base, al->pages * g_page, PROT_NONE);
    al->live = 0;
    g_live_allocs--;
    g_live_alloc_bytes -= (long long)al->size;
    RETURN(0);
}

dn_CUresult cuMemAllocHost_v2(void **pp, size_t n) {
    ENTER(cuMemAllocHost_v2);
    int r = need_ctx("cuMemAllocHost_v2");
    if (r) RETURN(r);
    if (!pp) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuMemAllocHost_v2: pp is NULL");
    if (n == 0) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuMemAllocHost_v2: bytesize is 0");
    size_t mapped = ((n + g_page - 1) / g_page + 1) * g_page;
    void *p = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuMemAllocHost_v2: mmap of %zu bytes failed", n);
    mprotect((char *)p + mapped - g_page, g_page, PROT_NONE);
    if (g_npinned == g_cap_pinned) {
        size_t nc = g_cap_pinned ? g_cap_pinned * 2 : 64;
        struct pinned *np = realloc(g_pinned, nc * sizeof *np);
        if (!np) {
            munmap(p, mapped);
            ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuMemAllocHost_v2: out of host memory");
        }
        g_pinned = np;
        g_cap_pinned = nc;
    }
    g_pinned[g_npinned++] = (struct pinned){p, n, mapped, 1};
    poison(p, n);
    g_live_pinned++;
    *pp = p;
    RETURN(0);
}

dn_CUresult cuMemFreeHost(void *p) {
    ENTER(cuMemFreeHost);
    int r = need_ctx("cuMemFreeHost");
    if (r) RETURN(r);
    for (size_t i = 0; i < g_npinned; i++) {
        if (g_pinned[i].p != p || !g_pinned[i].live) continue;
        fc_flush_all();
        munmap(p, g_pinned[i].mapped);
        g_pinned[i].live = 0;
        g_live_pinned--;
        RETURN(0);
    }
    ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuMemFreeHost: %p is not a live cuMemAllocHost_v2 buffer", p);
}

struct copy_job {
    void *dst;
    const void *src;
    size_t n;
    int own_src; /* src is a staged copy owned by the job */
};
static void run_copy(void *pl) {
    struct copy_job *j = pl;
    memmove(j->dst, j->src, j->n);
    if (j->own_src) free((void *)j->src);
}

/* check a host argument of a copy: it must not be device memory; a pinned
 * buffer must hold the whole range. Returns 1 if pinned, 0 if pageable,
 * -1 after an error. */
static int host_arg(const char *fn, const char *what, const void *p, size_t n) {
    if (!p) return fc_error(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_VALUE, "%s: %s is NULL", fn, what), -1;
    if (fc_is_device(p)) {
        fc_error(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_VALUE, "%s: %s %p is device memory, expected host memory", fn,
                 what, p);
        return -1;
    }
    int pin = fc_pinned_extent(p, n);
    if (pin < 0) {
        fc_error(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_VALUE, "%s: %s %p: %zu bytes overrun its pinned buffer", fn, what,
                 p, n);
        return -1;
    }
    return pin;
}

/* HtoD: from pinned memory the copy reads the host buffer when it executes
 * (so reusing a staging buffer before the copy completes is visible in
 * deferred mode); from pageable memory it is staged at the call, as the
 * driver documents for pageable transfers. */
dn_CUresult cuMemcpyHtoDAsync_v2(dn_CUdeviceptr dst, const void *src, size_t n, dn_CUstream s) {
    ENTER(cuMemcpyHtoDAsync_v2);
    int r = need_ctx("cuMemcpyHtoDAsync_v2");
    if (r) RETURN(r);
    if (!fc_stream_ok(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuMemcpyHtoDAsync_v2", s))
        RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    if (n == 0) RETURN(0);
    if (fc_check_dev(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_VALUE, "cuMemcpyHtoDAsync_v2", "dstDevice",
                     (void *)(uintptr_t)dst, n))
        RETURN(FC_CUDA_ERROR_INVALID_VALUE);
    int pin = host_arg("cuMemcpyHtoDAsync_v2", "srcHost", src, n);
    if (pin < 0) RETURN(FC_CUDA_ERROR_INVALID_VALUE);
    struct copy_job j = {(void *)(uintptr_t)dst, src, n, 0};
    if (!pin && fc_deferred()) {
        void *staged = malloc(n);
        if (!staged) ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuMemcpyHtoDAsync_v2: staging failed");
        memcpy(staged, src, n);
        j.src = staged;
        j.own_src = 1;
    }
    fc_submit(s, run_copy, &j, sizeof j);
    RETURN(0);
}

/* DtoH: into pinned memory the copy happens when the stream reaches it
 * (a host read before a synchronisation sees the old bytes); into pageable
 * memory the call is synchronous, as documented. */
dn_CUresult cuMemcpyDtoHAsync_v2(void *dst, dn_CUdeviceptr src, size_t n, dn_CUstream s) {
    ENTER(cuMemcpyDtoHAsync_v2);
    int r = need_ctx("cuMemcpyDtoHAsync_v2");
    if (r) RETURN(r);
    if (!fc_stream_ok(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuMemcpyDtoHAsync_v2", s))
        RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    if (n == 0) RETURN(0);
    if (fc_check_dev(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_VALUE, "cuMemcpyDtoHAsync_v2", "srcDevice",
                     (void *)(uintptr_t)src, n))
        RETURN(FC_CUDA_ERROR_INVALID_VALUE);
    int pin = host_arg("cuMemcpyDtoHAsync_v2", "dstHost", dst, n);
    if (pin < 0) RETURN(FC_CUDA_ERROR_INVALID_VALUE);
    struct copy_job j = {dst, (void *)(uintptr_t)src, n, 0};
    fc_submit(s, run_copy, &j, sizeof j);
    if (!pin) fc_flush_stream(s);
    RETURN(0);
}

dn_CUresult cuMemcpyDtoDAsync_v2(dn_CUdeviceptr dst, dn_CUdeviceptr src, size_t n, dn_CUstream s) {
    ENTER(cuMemcpyDtoDAsync_v2);
    int r = need_ctx("cuMemcpyDtoDAsync_v2");
    if (r) RETURN(r);
    if (!fc_stream_ok(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuMemcpyDtoDAsync_v2", s))
        RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    if (n == 0) RETURN(0);
    if (fc_check_dev(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_VALUE, "cuMemcpyDtoDAsync_v2", "dstDevice",
                     (void *)(uintptr_t)dst, n) ||
        fc_check_dev(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_VALUE, "cuMemcpyDtoDAsync_v2", "srcDevice",
                     (void *)(uintptr_t)src, n))
        RETURN(FC_CUDA_ERROR_INVALID_VALUE);
    struct copy_job j = {(void *)(uintptr_t)dst, (void *)(uintptr_t)src, n, 0};
    fc_submit(s, run_copy, &j, sizeof j);
    RETURN(0);
}

struct memset_job {
    uint32_t *dst;
    uint32_t v;
    size_t n;
};
static void run_memset32(void *pl) {
    struct memset_job *j = pl;
    for (size_t i = 0; i < j->n; i++) j->dst[i] = j->v;
}

dn_CUresult cuMemsetD32Async(dn_CUdeviceptr dst, unsigned int ui, size_t n, dn_CUstream s) {
    ENTER(cuMemsetD32Async);
    int r = need_ctx("cuMemsetD32Async");
    if (r) RETURN(r);
    if (!fc_stream_ok(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuMemsetD32Async", s))
        RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    if (n == 0) RETURN(0);
    if (dst % 4) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuMemsetD32Async: dstDevice %p is not 4-byte aligned", (void *)dst);
    if (fc_check_dev(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_VALUE, "cuMemsetD32Async", "dstDevice",
                     (void *)(uintptr_t)dst, n * 4))
        RETURN(FC_CUDA_ERROR_INVALID_VALUE);
    struct memset_job j = {(uint32_t *)(uintptr_t)dst, ui, n};
    fc_submit(s, run_memset32, &j, sizeof j);
    RETURN(0);
}

dn_CUresult cuStreamCreate(dn_CUstream *ph, unsigned int flags) {
    ENTER(cuStreamCreate);
    int r = need_ctx("cuStreamCreate");
    if (r) RETURN(r);
    if (!ph) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuStreamCreate: phStream is NULL");
    if (flags & ~1u) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuStreamCreate: unknown flags %#x", flags);
    stream *s = fc_new(FC_OBJ_STREAM, sizeof *s);
    if (!s) ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuStreamCreate: out of host memory");
    s->h.set = 1;
    s->next_all = g_streams;
    g_streams = s;
    *ph = (dn_CUstream)s;
    RETURN(0);
}

/* documented: work still queued completes before the resources go away */
dn_CUresult cuStreamDestroy_v2(dn_CUstream hs) {
    ENTER(cuStreamDestroy_v2);
    int r = need_ctx("cuStreamDestroy_v2");
    if (r) RETURN(r);
    stream *s = fc_get(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuStreamDestroy_v2", "hStream", hs, FC_OBJ_STREAM, 0);
    if (!s) RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    fc_flush_stream(s);
    fc_destroy(s);
    RETURN(0);
}

dn_CUresult cuStreamSynchronize(dn_CUstream hs) {
    ENTER(cuStreamSynchronize);
    int r = need_ctx("cuStreamSynchronize");
    if (r) RETURN(r);
    if (!fc_stream_ok(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuStreamSynchronize", hs))
        RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    fc_flush_stream(hs);
    RETURN(0);
}

dn_CUresult cuEventCreate(dn_CUevent *pe, unsigned int flags) {
    ENTER(cuEventCreate);
    int r = need_ctx("cuEventCreate");
    if (r) RETURN(r);
    if (!pe) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuEventCreate: phEvent is NULL");
    if (flags & ~0xfu) ERR(FC_CUDA_ERROR_INVALID_VALUE, "cuEventCreate: unknown flags %#x", flags);
    event *e = fc_new(FC_OBJ_EVENT, sizeof *e);
    if (!e) ERR(FC_CUDA_ERROR_OUT_OF_MEMORY, "cuEventCreate: out of host memory");
    e->h.set = 1;
    *pe = (dn_CUevent)e;
    RETURN(0);
}

dn_CUresult cuEventRecord(dn_CUevent he, dn_CUstream hs) {
    ENTER(cuEventRecord);
    int r = need_ctx("cuEventRecord");
    if (r) RETURN(r);
    event *e = fc_get(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuEventRecord", "hEvent", he, FC_OBJ_EVENT, 0);
    if (!e) RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    if (!fc_stream_ok(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuEventRecord", hs))
        RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    e->s = (stream *)hs;
    e->seq = e->s->submitted;
    e->recorded = 1;
    RETURN(0);
}

/* waits for the work submitted to the event's stream before the record */
dn_CUresult cuEventSynchronize(dn_CUevent he) {
    ENTER(cuEventSynchronize);
    int r = need_ctx("cuEventSynchronize");
    if (r) RETURN(r);
    event *e = fc_get(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuEventSynchronize", "hEvent", he, FC_OBJ_EVENT, 0);
    if (!e) RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    if (e->recorded && e->s) run_until(e->s, e->seq);
    RETURN(0);
}

dn_CUresult cuEventDestroy_v2(dn_CUevent he) {
    ENTER(cuEventDestroy_v2);
    int r = need_ctx("cuEventDestroy_v2");
    if (r) RETURN(r);
    event *e = fc_get(FC_LIB_CUDA, FC_CUDA_ERROR_INVALID_HANDLE, "cuEventDestroy_v2", "hEvent", he, FC_OBJ_EVENT, 0);
    if (!e) RETURN(FC_CUDA_ERROR_INVALID_HANDLE);
    fc_destroy(e);
    RETURN(0);
}
