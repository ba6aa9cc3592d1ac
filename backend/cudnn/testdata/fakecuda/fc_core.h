/*
 * fc_core.h — internal interface of dnngo's CUDA/cuDNN/cuBLAS TEST DOUBLE.
 *
 * TEST DOUBLE, NOT A GPU. These files implement the functions that
 * include/dnngo_cuda.h declares, with the semantics NVIDIA documents for
 * them (CUDA driver API, cuDNN 9 and cuBLAS API references), on the host
 * CPU with plain loops. They exist only so that backend/cudnn's Go and C
 * logic can be tested where no GPU exists. They are never on a user's
 * library path (they are built into a temporary folder by the tests and by
 * build.sh), never a source of performance numbers, and contain no NVIDIA
 * code: only documented facts (names, enum values, documented behaviour).
 *
 * Layout: libcuda.so.1 (fc_cuda.c) holds the shared core — device memory,
 * object registry, streams and their queues, fault injection, error
 * messages — and exports it under fc_* names; libcudnn.so.9 (fc_cudnn.c)
 * and libcublas.so.13 (fc_cublas.c) link against it.
 */
#ifndef FC_CORE_H
#define FC_CORE_H

#include <stddef.h>
#include <stdint.h>
#include "dnngo_cuda.h"

/* The device name: how callers (and Info()) recognise the double. */
#define FC_DEVICE_NAME "dnngo test double (not a GPU)"

/* ---- status codes the double returns (values from NVIDIA's headers) ---- */
enum {
    FC_CUDA_ERROR_INVALID_VALUE = 1,
    FC_CUDA_ERROR_OUT_OF_MEMORY = 2,
    FC_CUDA_ERROR_NOT_INITIALIZED = 3,
    FC_CUDA_ERROR_INVALID_DEVICE = 101,
    FC_CUDA_ERROR_INVALID_CONTEXT = 201,
    FC_CUDA_ERROR_INVALID_HANDLE = 400,
    FC_CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    FC_CUDA_ERROR_NOT_SUPPORTED = 801,

    FC_CUDNN_STATUS_NOT_INITIALIZED = 1001,
    FC_CUDNN_STATUS_BAD_PARAM = 2000,
    FC_CUDNN_STATUS_BAD_PARAM_NULL_POINTER = 2002,
    FC_CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH = 2008,
    FC_CUDNN_STATUS_NOT_SUPPORTED = 3000,
    FC_CUDNN_STATUS_INTERNAL_ERROR = 4000,
    FC_CUDNN_STATUS_ALLOC_FAILED = 4003,
    FC_CUDNN_STATUS_EXECUTION_FAILED = 5000,

    FC_CUBLAS_STATUS_NOT_INITIALIZED = 1,
    FC_CUBLAS_STATUS_ALLOC_FAILED = 3,
    FC_CUBLAS_STATUS_INVALID_VALUE = 7,
    FC_CUBLAS_STATUS_ARCH_MISMATCH = 8,
    FC_CUBLAS_STATUS_MAPPING_ERROR = 11,
    FC_CUBLAS_STATUS_EXECUTION_FAILED = 13,
    FC_CUBLAS_STATUS_INTERNAL_ERROR = 14,
    FC_CUBLAS_STATUS_NOT_SUPPORTED = 15
};

/* ---- the global lock: every public entry point holds it ---- */
void fc_lock(void);
void fc_unlock(void);

/* ---- errors: the last detailed message of this thread ---- */
enum { FC_LIB_CUDA = 0, FC_LIB_CUDNN = 1, FC_LIB_CUBLAS = 2 };
/* fc_error records a message for library lib and status code, and returns
 * code (so `return fc_error(...)` reads naturally). */
int fc_error(int lib, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* fc_last_message returns this thread's last message of lib, or "" ; with
 * code >= 0 only when that message was recorded for that code. */
const char *fc_last_message(int lib, int code);
void fc_clear_message(int lib);

/* ---- fault injection and documented-but-unsupported switches ---- */
/* fc_fault counts one call of name and returns the injected status, or 0.
 * Every public function calls it first (under the lock). */
int fc_fault(const char *name, int lib);
/* fc_unsupported reports whether DNNGO_FAKECUDA_UNSUPPORTED names function
 * name (optionally restricted to a data type tag "f32", "f16", "bf16"). */
int fc_unsupported(const char *name, const char *dtype_tag);

/* ---- device memory ---- */
/* fc_check_dev checks that [p, p+bytes) lies inside one live device
 * allocation. what names the argument for the message. Returns 0 when it
 * does, else 1 after recording a message (for lib, with code). */
int fc_check_dev(int lib, int code, const char *fn, const char *what, const void *p, size_t bytes);
/* fc_is_device reports whether p points into the device region at all. */
int fc_is_device(const void *p);
/* fc_pinned_extent: if [p, p+bytes) lies in one live pinned allocation
 * returns 1, if p is pinned but the range overruns returns -1, else 0. */
int fc_pinned_extent(const void *p, size_t bytes);
int fc_cc_major(void);
int fc_cc_minor(void);

/* ---- objects (handles, descriptors, streams, events, contexts) ---- */
enum {
    FC_OBJ_CONTEXT = 1,
    FC_OBJ_STREAM,
    FC_OBJ_EVENT,
    FC_OBJ_CUDNN,
    FC_OBJ_TENSOR,
    FC_OBJ_FILTER,
    FC_OBJ_CONV,
    FC_OBJ_ACT,
    FC_OBJ_LRN,
    FC_OBJ_POOL,
    FC_OBJ_CUBLAS,
    FC_OBJ_KINDS
};
typedef struct fc_obj {
    uint32_t magic; /* FC_MAGIC while registered */
    int kind;
    int live;       /* 0 after destroy (objects are never reused) */
    int set;        /* descriptor fields set */
} fc_obj;
#define FC_MAGIC 0xdd0c0dd0u
/* fc_new allocates and registers an object of size bytes (header first). */
void *fc_new(int kind, size_t size);
/* fc_destroy marks a live object destroyed (memory is kept, so a later use
 * is reported as use after destroy, never a read of freed memory). */
void fc_destroy(void *o);
/* fc_get returns o as kind if it is a registered, live object of that kind
 * (and set, when need_set); else records a message for lib/code and
 * returns NULL. */
void *fc_get(int lib, int code, const char *fn, const char *what, const void *o, int kind, int need_set);
const char *fc_kind_name(int kind);

/* ---- streams and deferred execution ---- */
/* A job: fn(payload) runs the work; the payload (size bytes) is copied. */
typedef void (*fc_job_fn)(void *payload);
/* fc_stream_ok checks that s is a live stream created by cuStreamCreate. */
int fc_stream_ok(int lib, int code, const char *fn, const void *s);
/* fc_submit runs fn now (immediate mode) or queues it on s (deferred). */
void fc_submit(const void *s, fc_job_fn fn, const void *payload, size_t size);
/* fc_flush_stream runs every job queued on s; fc_flush_all on all streams. */
void fc_flush_stream(const void *s);
void fc_flush_all(void);
int fc_deferred(void);

/* ---- numerics ---- */
float fc_half_to_float(uint16_t h);
uint16_t fc_float_to_half(float f);
float fc_bf16_to_float(uint16_t h);
uint16_t fc_float_to_bf16(float f);
float fc_round_tf32(float f);

/* ---- call counters of the double's own diagnostics ---- */
void fc_count(int kind, int delta);

#endif
