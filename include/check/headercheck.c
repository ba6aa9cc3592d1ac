/*
 * headercheck.c — checks include/dnngo_cuda.h against NVIDIA's own headers.
 *
 * Build it where CUDA's, cuDNN's and cuBLAS's headers exist (bench/gpu/run.sh
 * does, on the GPU machine; no GPU is needed):
 *
 *   cc -std=c11 -I<dirs with cuda.h, cudnn.h, cublas_v2.h> -Iinclude \
 *      include/check/headercheck.c -o headercheck && ./headercheck
 *
 * It fails to COMPILE when any enum value, handle type, struct size or
 * field offset, or function signature we declare differs from NVIDIA's:
 * with DN_NVIDIA_TYPES defined, dnngo_cuda.h's dn_ enum and struct types
 * are NVIDIA's, so each dn_pfn_<symbol> must be compatible with the type of
 * &<symbol> as NVIDIA declares it, parameter by parameter (pointee const
 * included). Every enum type must also be int-sized, since the normal
 * build passes them as int. Running it prints the versions of the headers
 * and checks the two floating-point limits that C cannot static-assert.
 */
#include <stddef.h>
#include <stdio.h>

#include <cuda.h>
#include <cudnn.h>
#include <cublas_v2.h>
#include <library_types.h>

#define DN_NVIDIA_TYPES
#include "dnngo_cuda.h"

#define SAME(ours, theirs) _Static_assert((long long)(ours) == (long long)(theirs), #ours " differs from " #theirs);

/* ---- enum values ---- */
SAME(DN_CUDA_SUCCESS, CUDA_SUCCESS)
SAME(DN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
SAME(DN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
SAME(DN_CU_STREAM_NON_BLOCKING, CU_STREAM_NON_BLOCKING)
SAME(DN_CU_EVENT_DISABLE_TIMING, CU_EVENT_DISABLE_TIMING)

SAME(DN_CUDNN_STATUS_SUCCESS, CUDNN_STATUS_SUCCESS)
SAME(DN_CUDNN_STATUS_BAD_PARAM, CUDNN_STATUS_BAD_PARAM)
SAME(DN_CUDNN_STATUS_NOT_SUPPORTED, CUDNN_STATUS_NOT_SUPPORTED)
SAME(DN_CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT)
SAME(DN_CUDNN_DATA_HALF, CUDNN_DATA_HALF)
SAME(DN_CUDNN_DATA_BFLOAT16, CUDNN_DATA_BFLOAT16)
SAME(DN_CUDNN_TENSOR_NCHW, CUDNN_TENSOR_NCHW)
SAME(DN_CUDNN_CROSS_CORRELATION, CUDNN_CROSS_CORRELATION)
SAME(DN_CUDNN_DEFAULT_MATH, CUDNN_DEFAULT_MATH)
SAME(DN_CUDNN_TENSOR_OP_MATH, CUDNN_TENSOR_OP_MATH)
SAME(DN_CUDNN_FMA_MATH, CUDNN_FMA_MATH)
SAME(DN_CUDNN_NOT_PROPAGATE_NAN, CUDNN_NOT_PROPAGATE_NAN)
SAME(DN_CUDNN_DETERMINISTIC, CUDNN_DETERMINISTIC)
SAME(DN_CUDNN_CONVOLUTION_FWD_ALGO_FFT, CUDNN_CONVOLUTION_FWD_ALGO_FFT)
SAME(DN_CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING, CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING)
SAME(DN_CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD)
SAME(DN_CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED)
SAME(DN_CUDNN_CONVOLUTION_FWD_ALGO_COUNT, CUDNN_CONVOLUTION_FWD_ALGO_COUNT)
SAME(DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT, CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT)
SAME(DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING, CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING)
SAME(DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD, CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD)
SAME(DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED, CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED)
SAME(DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT)
SAME(DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT)
SAME(DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD)
SAME(DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED)
SAME(DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING)
SAME(DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT)
SAME(DN_CUDNN_ACTIVATION_RELU, CUDNN_ACTIVATION_RELU)
SAME(DN_CUDNN_POOLING_MAX_DETERMINISTIC, CUDNN_POOLING_MAX_DETERMINISTIC)
SAME(DN_CUDNN_LRN_CROSS_CHANNEL_DIM1, CUDNN_LRN_CROSS_CHANNEL_DIM1)
SAME(DN_CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_ACCURATE)
SAME(DN_CUDNN_SOFTMAX_LOG, CUDNN_SOFTMAX_LOG)
SAME(DN_CUDNN_SOFTMAX_MODE_INSTANCE, CUDNN_SOFTMAX_MODE_INSTANCE)
SAME(DN_CUDNN_SEV_FATAL, CUDNN_SEV_FATAL)
SAME(DN_CUDNN_SEV_ERROR, CUDNN_SEV_ERROR)
SAME(DN_CUDNN_SEV_WARNING, CUDNN_SEV_WARNING)
SAME(DN_CUDNN_SEV_INFO, CUDNN_SEV_INFO)
SAME(DN_CUDNN_LRN_MIN_N, CUDNN_LRN_MIN_N)
SAME(DN_CUDNN_LRN_MAX_N, CUDNN_LRN_MAX_N)

SAME(DN_CUBLAS_STATUS_SUCCESS, CUBLAS_STATUS_SUCCESS)
SAME(DN_CUBLAS_OP_N, CUBLAS_OP_N)
SAME(DN_CUBLAS_OP_T, CUBLAS_OP_T)
SAME(DN_CUBLAS_SIDE_LEFT, CUBLAS_SIDE_LEFT)
SAME(DN_CUBLAS_DEFAULT_MATH, CUBLAS_DEFAULT_MATH)
SAME(DN_CUBLAS_PEDANTIC_MATH, CUBLAS_PEDANTIC_MATH)
SAME(DN_CUBLAS_TF32_TENSOR_OP_MATH, CUBLAS_TF32_TENSOR_OP_MATH)
SAME(DN_CUBLAS_POINTER_MODE_HOST, CUBLAS_POINTER_MODE_HOST)
SAME(DN_CUBLAS_POINTER_MODE_DEVICE, CUBLAS_POINTER_MODE_DEVICE)
SAME(DN_CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F)
SAME(DN_CUBLAS_GEMM_DEFAULT, CUBLAS_GEMM_DEFAULT)
SAME(DN_CUDA_R_32F, CUDA_R_32F)
SAME(DN_CUDA_R_16F, CUDA_R_16F)
SAME(DN_CUDA_R_16BF, CUDA_R_16BF)
SAME(DN_MAJOR_VERSION, MAJOR_VERSION)
SAME(DN_MINOR_VERSION, MINOR_VERSION)
SAME(DN_PATCH_LEVEL, PATCH_LEVEL)

/* ---- every enum type we pass as int is int-sized ---- */
#define INTSIZED(T) _Static_assert(sizeof(T) == sizeof(int), #T " is not int-sized");
INTSIZED(CUresult)
INTSIZED(CUdevice_attribute)
INTSIZED(CUdevice)
INTSIZED(cudnnStatus_t)
INTSIZED(cudnnDataType_t)
INTSIZED(cudnnTensorFormat_t)
INTSIZED(cudnnConvolutionMode_t)
INTSIZED(cudnnMathType_t)
INTSIZED(cudnnNanPropagation_t)
INTSIZED(cudnnConvolutionFwdAlgo_t)
INTSIZED(cudnnConvolutionBwdDataAlgo_t)
INTSIZED(cudnnConvolutionBwdFilterAlgo_t)
INTSIZED(cudnnActivationMode_t)
INTSIZED(cudnnPoolingMode_t)
INTSIZED(cudnnLRNMode_t)
INTSIZED(cudnnSoftmaxAlgorithm_t)
INTSIZED(cudnnSoftmaxMode_t)
INTSIZED(cudnnSeverity_t)
INTSIZED(cudnnDeterminism_t)
INTSIZED(cublasStatus_t)
INTSIZED(cublasOperation_t)
INTSIZED(cublasSideMode_t)
INTSIZED(cublasMath_t)
INTSIZED(cublasPointerMode_t)
INTSIZED(cublasComputeType_t)
INTSIZED(cublasGemmAlgo_t)
INTSIZED(cudaDataType)
INTSIZED(libraryPropertyType)

/* ---- handle and scalar types: the very same types ---- */
#define SAMETYPE(ours, theirs) _Static_assert(_Generic((theirs)0, ours: 1, default: 0), #ours " is not " #theirs);
SAMETYPE(dn_CUcontext, CUcontext)
SAMETYPE(dn_CUstream, CUstream)
SAMETYPE(dn_CUstream, cudaStream_t)
SAMETYPE(dn_CUevent, CUevent)
SAMETYPE(dn_CUdeviceptr, CUdeviceptr)
SAMETYPE(dn_CUdevice, CUdevice)
SAMETYPE(dn_cudnnHandle_t, cudnnHandle_t)
SAMETYPE(dn_cudnnTensorDescriptor_t, cudnnTensorDescriptor_t)
SAMETYPE(dn_cudnnFilterDescriptor_t, cudnnFilterDescriptor_t)
SAMETYPE(dn_cudnnConvolutionDescriptor_t, cudnnConvolutionDescriptor_t)
SAMETYPE(dn_cudnnActivationDescriptor_t, cudnnActivationDescriptor_t)
SAMETYPE(dn_cudnnLRNDescriptor_t, cudnnLRNDescriptor_t)
SAMETYPE(dn_cudnnPoolingDescriptor_t, cudnnPoolingDescriptor_t)
SAMETYPE(dn_cublasHandle_t, cublasHandle_t)
SAMETYPE(dn_cudnnCallback_t, cudnnCallback_t)
SAMETYPE(struct cudnnDebugStruct *, cudnnDebug_t *) /* the tag the normal build names */

/* ---- the perf record: size and every field offset, for all three ---- */
#define PERF(T)                                                                                       \
    _Static_assert(sizeof(T) == sizeof(struct dn_cudnnAlgoPerf), "size of " #T);                      \
    _Static_assert(offsetof(T, algo) == offsetof(struct dn_cudnnAlgoPerf, algo), #T ".algo");         \
    _Static_assert(offsetof(T, status) == offsetof(struct dn_cudnnAlgoPerf, status), #T ".status");   \
    _Static_assert(offsetof(T, time) == offsetof(struct dn_cudnnAlgoPerf, time), #T ".time");         \
    _Static_assert(offsetof(T, memory) == offsetof(struct dn_cudnnAlgoPerf, memory), #T ".memory");   \
    _Static_assert(offsetof(T, determinism) == offsetof(struct dn_cudnnAlgoPerf, determinism), #T ".determinism"); \
    _Static_assert(offsetof(T, mathType) == offsetof(struct dn_cudnnAlgoPerf, mathType), #T ".mathType"); \
    _Static_assert(offsetof(T, reserved) == offsetof(struct dn_cudnnAlgoPerf, reserved), #T ".reserved"); \
    _Static_assert(sizeof(((T *)0)->reserved) == sizeof(((struct dn_cudnnAlgoPerf *)0)->reserved), #T ".reserved size");
PERF(cudnnConvolutionFwdAlgoPerf_t)
PERF(cudnnConvolutionBwdDataAlgoPerf_t)
PERF(cudnnConvolutionBwdFilterAlgoPerf_t)

/* ---- every function: our pointer type is the type of NVIDIA's &symbol ---- */
#define SIG(ret, name, params) \
    _Static_assert(_Generic(&name, dn_pfn_##name: 1, default: 0), "signature of " #name " differs from NVIDIA's");
DN_CUDA_FUNCS(SIG)
DN_CUDNN_FUNCS(SIG)
DN_CUBLAS_FUNCS(SIG)

#define COUNT(ret, name, params) +1
enum { n_functions = 0 DN_CUDA_FUNCS(COUNT) DN_CUDNN_FUNCS(COUNT) DN_CUBLAS_FUNCS(COUNT) };

int main(void) {
    int bad = 0;
    if (DN_CUDNN_LRN_MIN_K != CUDNN_LRN_MIN_K) {
        printf("FAIL: DN_CUDNN_LRN_MIN_K %g, cuDNN says %g\n", DN_CUDNN_LRN_MIN_K, (double)CUDNN_LRN_MIN_K);
        bad = 1;
    }
    if (DN_CUDNN_LRN_MIN_BETA != CUDNN_LRN_MIN_BETA) {
        printf("FAIL: DN_CUDNN_LRN_MIN_BETA %g, cuDNN says %g\n", DN_CUDNN_LRN_MIN_BETA, (double)CUDNN_LRN_MIN_BETA);
        bad = 1;
    }
    printf("headercheck: %s: %d function signatures, every enum value, handle type and the 3 perf structs of "
           "include/dnngo_cuda.h match NVIDIA's headers (CUDA %d, cuDNN %d.%d.%d, cuBLAS %d.%d.%d)\n",
           bad ? "FAIL" : "PASS", n_functions, CUDA_VERSION, CUDNN_MAJOR, CUDNN_MINOR, CUDNN_PATCHLEVEL,
           CUBLAS_VER_MAJOR, CUBLAS_VER_MINOR, CUBLAS_VER_PATCH);
    return bad;
}
