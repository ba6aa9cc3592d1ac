/*
 * dnngo_cuda.h — dnngo's own minimal declarations of the CUDA driver,
 * cuDNN 9 and cuBLAS functions, handle types and enum values that
 * backend/cudnn calls. Written from NVIDIA's documented C API (the cuDNN 9
 * API reference, the cuBLAS and CUDA Driver API documentation); no NVIDIA
 * header is needed to build. Nothing here links against CUDA: the backend dlopen()s libcuda.so.1,
 * libcudnn.so.9 and libcublas.so.{13,12} at run time and fills a table of
 * function pointers whose types are declared below.
 *
 * Every name carries a dn_ / DN_ prefix so that this header and NVIDIA's can
 * be included together: include/check/headercheck.c does exactly that on a
 * machine with the real headers and _Static_asserts every enum value, every
 * struct size and offset, and every function-pointer type (with
 * DN_NVIDIA_TYPES defined, the dn_ enum and struct types below become
 * NVIDIA's own, so a function signature that differs in any parameter fails
 * to compile there).
 *
 * Every enum type is passed as a 4-byte int (x86-64 and aarch64 SysV: a C
 * enum whose values fit in int is int-sized); the check asserts that too.
 */
#ifndef DNNGO_CUDA_H
#define DNNGO_CUDA_H

#include <stddef.h>

/* ---- handle types: pointers to NVIDIA's own (incomplete) struct tags ---- */
typedef struct CUctx_st *dn_CUcontext;
typedef struct CUstream_st *dn_CUstream; /* the same type as cudaStream_t */
typedef struct CUevent_st *dn_CUevent;
typedef unsigned long long dn_CUdeviceptr; /* CUdeviceptr_v2 on 64-bit hosts */
typedef int dn_CUdevice;                   /* CUdevice_v1 */

typedef struct cudnnContext *dn_cudnnHandle_t;
typedef struct cudnnTensorStruct *dn_cudnnTensorDescriptor_t;
typedef struct cudnnFilterStruct *dn_cudnnFilterDescriptor_t;
typedef struct cudnnConvolutionStruct *dn_cudnnConvolutionDescriptor_t;
typedef struct cudnnActivationStruct *dn_cudnnActivationDescriptor_t;
typedef struct cudnnLRNStruct *dn_cudnnLRNDescriptor_t;
typedef struct cudnnPoolingStruct *dn_cudnnPoolingDescriptor_t;
typedef struct cublasContext *dn_cublasHandle_t;

/* The performance record of cudnnFind...AlgorithmEx (identical layout for
 * forward, backward data and backward filter: 48 bytes on 64-bit hosts). */
struct dn_cudnnAlgoPerf {
    int algo;          /* the matching cudnnConvolution*Algo_t */
    int status;        /* cudnnStatus_t */
    float time;        /* milliseconds */
    size_t memory;     /* workspace bytes */
    int determinism;   /* cudnnDeterminism_t */
    int mathType;      /* cudnnMathType_t */
    int reserved[3];
};

#ifdef DN_NVIDIA_TYPES
/* Only in include/check/headercheck.c, after NVIDIA's headers: the enum and
 * struct types become NVIDIA's, so the function-pointer types below must be
 * compatible with NVIDIA's prototypes parameter by parameter. */
typedef CUresult dn_CUresult;
typedef CUdevice_attribute dn_CUdevice_attribute;
typedef cudnnStatus_t dn_cudnnStatus_t;
typedef cudnnDataType_t dn_cudnnDataType_t;
typedef cudnnTensorFormat_t dn_cudnnTensorFormat_t;
typedef cudnnConvolutionMode_t dn_cudnnConvolutionMode_t;
typedef cudnnMathType_t dn_cudnnMathType_t;
typedef cudnnNanPropagation_t dn_cudnnNanPropagation_t;
typedef cudnnConvolutionFwdAlgo_t dn_cudnnConvolutionFwdAlgo_t;
typedef cudnnConvolutionBwdDataAlgo_t dn_cudnnConvolutionBwdDataAlgo_t;
typedef cudnnConvolutionBwdFilterAlgo_t dn_cudnnConvolutionBwdFilterAlgo_t;
typedef cudnnActivationMode_t dn_cudnnActivationMode_t;
typedef cudnnPoolingMode_t dn_cudnnPoolingMode_t;
typedef cudnnLRNMode_t dn_cudnnLRNMode_t;
typedef cudnnSoftmaxAlgorithm_t dn_cudnnSoftmaxAlgorithm_t;
typedef cudnnSoftmaxMode_t dn_cudnnSoftmaxMode_t;
typedef cudnnSeverity_t dn_cudnnSeverity_t;
typedef cudnnDebug_t dn_cudnnDebug_t;
typedef cudnnConvolutionFwdAlgoPerf_t dn_cudnnConvolutionFwdAlgoPerf_t;
typedef cudnnConvolutionBwdDataAlgoPerf_t dn_cudnnConvolutionBwdDataAlgoPerf_t;
typedef cudnnConvolutionBwdFilterAlgoPerf_t dn_cudnnConvolutionBwdFilterAlgoPerf_t;
typedef cublasStatus_t dn_cublasStatus_t;
typedef cublasOperation_t dn_cublasOperation_t;
typedef cublasSideMode_t dn_cublasSideMode_t;
typedef cublasMath_t dn_cublasMath_t;
typedef cublasPointerMode_t dn_cublasPointerMode_t;
typedef cublasComputeType_t dn_cublasComputeType_t;
typedef cublasGemmAlgo_t dn_cublasGemmAlgo_t;
typedef cudaDataType dn_cudaDataType;
typedef libraryPropertyType dn_libraryPropertyType;
#else
typedef int dn_CUresult;
typedef int dn_CUdevice_attribute;
typedef int dn_cudnnStatus_t;
typedef int dn_cudnnDataType_t;
typedef int dn_cudnnTensorFormat_t;
typedef int dn_cudnnConvolutionMode_t;
typedef int dn_cudnnMathType_t;
typedef int dn_cudnnNanPropagation_t;
typedef int dn_cudnnConvolutionFwdAlgo_t;
typedef int dn_cudnnConvolutionBwdDataAlgo_t;
typedef int dn_cudnnConvolutionBwdFilterAlgo_t;
typedef int dn_cudnnActivationMode_t;
typedef int dn_cudnnPoolingMode_t;
typedef int dn_cudnnLRNMode_t;
typedef int dn_cudnnSoftmaxAlgorithm_t;
typedef int dn_cudnnSoftmaxMode_t;
typedef int dn_cudnnSeverity_t;
typedef struct cudnnDebugStruct dn_cudnnDebug_t; /* only passed by pointer */
typedef struct dn_cudnnAlgoPerf dn_cudnnConvolutionFwdAlgoPerf_t;
typedef struct dn_cudnnAlgoPerf dn_cudnnConvolutionBwdDataAlgoPerf_t;
typedef struct dn_cudnnAlgoPerf dn_cudnnConvolutionBwdFilterAlgoPerf_t;
typedef int dn_cublasStatus_t;
typedef int dn_cublasOperation_t;
typedef int dn_cublasSideMode_t;
typedef int dn_cublasMath_t;
typedef int dn_cublasPointerMode_t;
typedef int dn_cublasComputeType_t;
typedef int dn_cublasGemmAlgo_t;
typedef int dn_cudaDataType;
typedef int dn_libraryPropertyType;
#endif

/* cudnnCallback_t: the log callback of cudnnSetCallback. */
typedef void (*dn_cudnnCallback_t)(dn_cudnnSeverity_t sev, void *udata, const dn_cudnnDebug_t *dbg, const char *msg);

/* ---- enum values (each checked against NVIDIA's by headercheck.c) ---- */
enum {
    /* CUresult, CUdevice_attribute, flags (cuda.h) */
    DN_CUDA_SUCCESS = 0,
    DN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    DN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
    DN_CU_STREAM_NON_BLOCKING = 1,
    DN_CU_EVENT_DISABLE_TIMING = 2,

    /* cudnnStatus_t (cuDNN 9 numbering) */
    DN_CUDNN_STATUS_SUCCESS = 0,
    DN_CUDNN_STATUS_BAD_PARAM = 2000,
    DN_CUDNN_STATUS_NOT_SUPPORTED = 3000,
    /* cudnnDataType_t */
    DN_CUDNN_DATA_FLOAT = 0,
    DN_CUDNN_DATA_HALF = 2,
    DN_CUDNN_DATA_BFLOAT16 = 9,
    /* cudnnTensorFormat_t */
    DN_CUDNN_TENSOR_NCHW = 0,
    /* cudnnConvolutionMode_t */
    DN_CUDNN_CROSS_CORRELATION = 1,
    /* cudnnMathType_t */
    DN_CUDNN_DEFAULT_MATH = 0,
    DN_CUDNN_TENSOR_OP_MATH = 1,
    DN_CUDNN_FMA_MATH = 3,
    /* cudnnNanPropagation_t */
    DN_CUDNN_NOT_PROPAGATE_NAN = 0,
    /* cudnnDeterminism_t */
    DN_CUDNN_DETERMINISTIC = 1,
    /* cudnnConvolutionFwdAlgo_t */
    DN_CUDNN_CONVOLUTION_FWD_ALGO_FFT = 4,
    DN_CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING = 5,
    DN_CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD = 6,
    DN_CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED = 7,
    DN_CUDNN_CONVOLUTION_FWD_ALGO_COUNT = 8,
    /* cudnnConvolutionBwdDataAlgo_t */
    DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT = 2,
    DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING = 3,
    DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD = 4,
    DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED = 5,
    DN_CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT = 6,
    /* cudnnConvolutionBwdFilterAlgo_t */
    DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT = 2,
    DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD = 4,
    DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED = 5,
    DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING = 6,
    DN_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT = 7,
    /* cudnnActivationMode_t */
    DN_CUDNN_ACTIVATION_RELU = 1,
    /* cudnnPoolingMode_t */
    DN_CUDNN_POOLING_MAX_DETERMINISTIC = 3,
    /* cudnnLRNMode_t */
    DN_CUDNN_LRN_CROSS_CHANNEL_DIM1 = 0,
    /* cudnnSoftmaxAlgorithm_t, cudnnSoftmaxMode_t */
    DN_CUDNN_SOFTMAX_ACCURATE = 1,
    DN_CUDNN_SOFTMAX_LOG = 2,
    DN_CUDNN_SOFTMAX_MODE_INSTANCE = 0,
    /* cudnnSeverity_t */
    DN_CUDNN_SEV_FATAL = 0,
    DN_CUDNN_SEV_ERROR = 1,
    DN_CUDNN_SEV_WARNING = 2,
    DN_CUDNN_SEV_INFO = 3,
    /* LRN limits (macros in cudnn_ops.h) */
    DN_CUDNN_LRN_MIN_N = 1,
    DN_CUDNN_LRN_MAX_N = 16,

    /* cublasStatus_t */
    DN_CUBLAS_STATUS_SUCCESS = 0,
    /* cublasOperation_t */
    DN_CUBLAS_OP_N = 0,
    DN_CUBLAS_OP_T = 1,
    /* cublasSideMode_t */
    DN_CUBLAS_SIDE_LEFT = 0,
    /* cublasMath_t */
    DN_CUBLAS_DEFAULT_MATH = 0,
    DN_CUBLAS_PEDANTIC_MATH = 2,
    DN_CUBLAS_TF32_TENSOR_OP_MATH = 3,
    /* cublasPointerMode_t */
    DN_CUBLAS_POINTER_MODE_HOST = 0,
    DN_CUBLAS_POINTER_MODE_DEVICE = 1,
    /* cublasComputeType_t */
    DN_CUBLAS_COMPUTE_32F = 68,
    /* cublasGemmAlgo_t */
    DN_CUBLAS_GEMM_DEFAULT = -1,
    /* cudaDataType (library_types.h) */
    DN_CUDA_R_32F = 0,
    DN_CUDA_R_16F = 2,
    DN_CUDA_R_16BF = 14,
    /* libraryPropertyType */
    DN_MAJOR_VERSION = 0,
    DN_MINOR_VERSION = 1,
    DN_PATCH_LEVEL = 2
};

/* cuDNN's LRN limits that are not integers (cudnn_ops.h macros). */
#define DN_CUDNN_LRN_MIN_K 1e-5
#define DN_CUDNN_LRN_MIN_BETA 0.01

/*
 * ---- the functions, as X-macro lists ----
 * X(return type, exported symbol, (parameters)). The symbol is the name
 * dlsym() must ask for: the versioned ABI name where NVIDIA's headers
 * #define the public name to one (cuMemAlloc -> cuMemAlloc_v2,
 * cublasCreate -> cublasCreate_v2, ...).
 */
#define DN_CUDA_FUNCS(X)                                                                        \
    X(dn_CUresult, cuInit, (unsigned int flags))                                                \
    X(dn_CUresult, cuDriverGetVersion, (int *driverVersion))                                    \
    X(dn_CUresult, cuGetErrorString, (dn_CUresult error, const char **pStr))                    \
    X(dn_CUresult, cuGetErrorName, (dn_CUresult error, const char **pStr))                      \
    X(dn_CUresult, cuDeviceGetCount, (int *count))                                              \
    X(dn_CUresult, cuDeviceGet, (dn_CUdevice * device, int ordinal))                            \
    X(dn_CUresult, cuDeviceGetName, (char *name, int len, dn_CUdevice dev))                     \
    X(dn_CUresult, cuDeviceTotalMem_v2, (size_t * bytes, dn_CUdevice dev))                      \
    X(dn_CUresult, cuDeviceGetAttribute, (int *pi, dn_CUdevice_attribute attrib, dn_CUdevice dev)) \
    X(dn_CUresult, cuDeviceGetPCIBusId, (char *pciBusId, int len, dn_CUdevice dev))             \
    X(dn_CUresult, cuDevicePrimaryCtxRetain, (dn_CUcontext * pctx, dn_CUdevice dev))            \
    X(dn_CUresult, cuDevicePrimaryCtxRelease_v2, (dn_CUdevice dev))                             \
    X(dn_CUresult, cuCtxSetCurrent, (dn_CUcontext ctx))                                         \
    X(dn_CUresult, cuMemGetInfo_v2, (size_t * free, size_t *total))                             \
    X(dn_CUresult, cuMemAlloc_v2, (dn_CUdeviceptr * dptr, size_t bytesize))                     \
    X(dn_CUresult, cuMemFree_v2, (dn_CUdeviceptr dptr))                                         \
    X(dn_CUresult, cuMemAllocHost_v2, (void **pp, size_t bytesize))                             \
    X(dn_CUresult, cuMemFreeHost, (void *p))                                                    \
    X(dn_CUresult, cuMemcpyHtoDAsync_v2,                                                        \
      (dn_CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, dn_CUstream hStream))   \
    X(dn_CUresult, cuMemcpyDtoHAsync_v2,                                                        \
      (void *dstHost, dn_CUdeviceptr srcDevice, size_t ByteCount, dn_CUstream hStream))         \
    X(dn_CUresult, cuMemcpyDtoDAsync_v2,                                                        \
      (dn_CUdeviceptr dstDevice, dn_CUdeviceptr srcDevice, size_t ByteCount, dn_CUstream hStream)) \
    X(dn_CUresult, cuMemsetD32Async, (dn_CUdeviceptr dstDevice, unsigned int ui, size_t N, dn_CUstream hStream)) \
    X(dn_CUresult, cuStreamCreate, (dn_CUstream * phStream, unsigned int Flags))                \
    X(dn_CUresult, cuStreamDestroy_v2, (dn_CUstream hStream))                                   \
    X(dn_CUresult, cuStreamSynchronize, (dn_CUstream hStream))                                  \
    X(dn_CUresult, cuEventCreate, (dn_CUevent * phEvent, unsigned int Flags))                   \
    X(dn_CUresult, cuEventRecord, (dn_CUevent hEvent, dn_CUstream hStream))                     \
    X(dn_CUresult, cuEventSynchronize, (dn_CUevent hEvent))                                     \
    X(dn_CUresult, cuEventDestroy_v2, (dn_CUevent hEvent))

#define DN_CUDNN_FUNCS(X)                                                                       \
    X(size_t, cudnnGetVersion, (void))                                                          \
    X(size_t, cudnnGetCudartVersion, (void))                                                    \
    X(const char *, cudnnGetErrorString, (dn_cudnnStatus_t status))                             \
    X(void, cudnnGetLastErrorString, (char *message, size_t max_size))                          \
    X(dn_cudnnStatus_t, cudnnSetCallback, (unsigned mask, void *udata, dn_cudnnCallback_t fptr)) \
    X(dn_cudnnStatus_t, cudnnCreate, (dn_cudnnHandle_t * handle))                               \
    X(dn_cudnnStatus_t, cudnnDestroy, (dn_cudnnHandle_t handle))                                \
    X(dn_cudnnStatus_t, cudnnSetStream, (dn_cudnnHandle_t handle, dn_CUstream streamId))        \
    X(dn_cudnnStatus_t, cudnnCreateTensorDescriptor, (dn_cudnnTensorDescriptor_t * tensorDesc)) \
    X(dn_cudnnStatus_t, cudnnSetTensor4dDescriptor,                                             \
      (dn_cudnnTensorDescriptor_t tensorDesc, dn_cudnnTensorFormat_t format, dn_cudnnDataType_t dataType, int n, \
       int c, int h, int w))                                                                    \
    X(dn_cudnnStatus_t, cudnnDestroyTensorDescriptor, (dn_cudnnTensorDescriptor_t tensorDesc))  \
    X(dn_cudnnStatus_t, cudnnTransformTensor,                                                   \
      (dn_cudnnHandle_t handle, const void *alpha, dn_cudnnTensorDescriptor_t xDesc, const void *x, \
       const void *beta, dn_cudnnTensorDescriptor_t yDesc, void *y))                            \
    X(dn_cudnnStatus_t, cudnnAddTensor,                                                         \
      (dn_cudnnHandle_t handle, const void *alpha, dn_cudnnTensorDescriptor_t aDesc, const void *A, \
       const void *beta, dn_cudnnTensorDescriptor_t cDesc, void *C))                            \
    X(dn_cudnnStatus_t, cudnnCreateFilterDescriptor, (dn_cudnnFilterDescriptor_t * filterDesc)) \
    X(dn_cudnnStatus_t, cudnnSetFilter4dDescriptor,                                             \
      (dn_cudnnFilterDescriptor_t filterDesc, dn_cudnnDataType_t dataType, dn_cudnnTensorFormat_t format, int k, \
       int c, int h, int w))                                                                    \
    X(dn_cudnnStatus_t, cudnnDestroyFilterDescriptor, (dn_cudnnFilterDescriptor_t filterDesc))  \
    X(dn_cudnnStatus_t, cudnnCreateConvolutionDescriptor, (dn_cudnnConvolutionDescriptor_t * convDesc)) \
    X(dn_cudnnStatus_t, cudnnDestroyConvolutionDescriptor, (dn_cudnnConvolutionDescriptor_t convDesc)) \
    X(dn_cudnnStatus_t, cudnnSetConvolution2dDescriptor,                                        \
      (dn_cudnnConvolutionDescriptor_t convDesc, int pad_h, int pad_w, int u, int v, int dilation_h, \
       int dilation_w, dn_cudnnConvolutionMode_t mode, dn_cudnnDataType_t computeType))         \
    X(dn_cudnnStatus_t, cudnnSetConvolutionMathType,                                            \
      (dn_cudnnConvolutionDescriptor_t convDesc, dn_cudnnMathType_t mathType))                  \
    X(dn_cudnnStatus_t, cudnnSetConvolutionGroupCount, (dn_cudnnConvolutionDescriptor_t convDesc, int groupCount)) \
    X(dn_cudnnStatus_t, cudnnGetConvolution2dForwardOutputDim,                                  \
      (dn_cudnnConvolutionDescriptor_t convDesc, dn_cudnnTensorDescriptor_t inputTensorDesc,   \
       dn_cudnnFilterDescriptor_t filterDesc, int *n, int *c, int *h, int *w))                  \
    X(dn_cudnnStatus_t, cudnnGetConvolutionForwardWorkspaceSize,                                \
      (dn_cudnnHandle_t handle, dn_cudnnTensorDescriptor_t xDesc, dn_cudnnFilterDescriptor_t wDesc, \
       dn_cudnnConvolutionDescriptor_t convDesc, dn_cudnnTensorDescriptor_t yDesc, dn_cudnnConvolutionFwdAlgo_t algo, \
       size_t *sizeInBytes))                                                                    \
    X(dn_cudnnStatus_t, cudnnGetConvolutionBackwardDataWorkspaceSize,                           \
      (dn_cudnnHandle_t handle, dn_cudnnFilterDescriptor_t wDesc, dn_cudnnTensorDescriptor_t dyDesc, \
       dn_cudnnConvolutionDescriptor_t convDesc, dn_cudnnTensorDescriptor_t dxDesc,             \
       dn_cudnnConvolutionBwdDataAlgo_t algo, size_t *sizeInBytes))                             \
    X(dn_cudnnStatus_t, cudnnGetConvolutionBackwardFilterWorkspaceSize,                         \
      (dn_cudnnHandle_t handle, dn_cudnnTensorDescriptor_t xDesc, dn_cudnnTensorDescriptor_t dyDesc, \
       dn_cudnnConvolutionDescriptor_t convDesc, dn_cudnnFilterDescriptor_t gradDesc,           \
       dn_cudnnConvolutionBwdFilterAlgo_t algo, size_t *sizeInBytes))                           \
    X(dn_cudnnStatus_t, cudnnFindConvolutionForwardAlgorithmEx,                                 \
      (dn_cudnnHandle_t handle, dn_cudnnTensorDescriptor_t xDesc, const void *x, dn_cudnnFilterDescriptor_t wDesc, \
       const void *w, dn_cudnnConvolutionDescriptor_t convDesc, dn_cudnnTensorDescriptor_t yDesc, void *y, \
       const int requestedAlgoCount, int *returnedAlgoCount, dn_cudnnConvolutionFwdAlgoPerf_t *perfResults, \
       void *workSpace, size_t workSpaceSizeInBytes))                                           \
    X(dn_cudnnStatus_t, cudnnFindConvolutionBackwardDataAlgorithmEx,                            \
      (dn_cudnnHandle_t handle, dn_cudnnFilterDescriptor_t wDesc, const void *w, dn_cudnnTensorDescriptor_t dyDesc, \
       const void *dy, dn_cudnnConvolutionDescriptor_t convDesc, dn_cudnnTensorDescriptor_t dxDesc, void *dx, \
       const int requestedAlgoCount, int *returnedAlgoCount, dn_cudnnConvolutionBwdDataAlgoPerf_t *perfResults, \
       void *workSpace, size_t workSpaceSizeInBytes))                                           \
    X(dn_cudnnStatus_t, cudnnFindConvolutionBackwardFilterAlgorithmEx,                          \
      (dn_cudnnHandle_t handle, dn_cudnnTensorDescriptor_t xDesc, const void *x, dn_cudnnTensorDescriptor_t dyDesc, \
       const void *y, dn_cudnnConvolutionDescriptor_t convDesc, dn_cudnnFilterDescriptor_t dwDesc, void *dw, \
       const int requestedAlgoCount, int *returnedAlgoCount, dn_cudnnConvolutionBwdFilterAlgoPerf_t *perfResults, \
       void *workSpace, size_t workSpaceSizeInBytes))                                           \
    X(dn_cudnnStatus_t, cudnnConvolutionForward,                                                \
      (dn_cudnnHandle_t handle, const void *alpha, dn_cudnnTensorDescriptor_t xDesc, const void *x, \
       dn_cudnnFilterDescriptor_t wDesc, const void *w, dn_cudnnConvolutionDescriptor_t convDesc, \
       dn_cudnnConvolutionFwdAlgo_t algo, void *workSpace, size_t workSpaceSizeInBytes, const void *beta, \
       dn_cudnnTensorDescriptor_t yDesc, void *y))                                              \
    X(dn_cudnnStatus_t, cudnnConvolutionBiasActivationForward,                                  \
      (dn_cudnnHandle_t handle, const void *alpha1, dn_cudnnTensorDescriptor_t xDesc, const void *x, \
       dn_cudnnFilterDescriptor_t wDesc, const void *w, dn_cudnnConvolutionDescriptor_t convDesc, \
       dn_cudnnConvolutionFwdAlgo_t algo, void *workSpace, size_t workSpaceSizeInBytes, const void *alpha2, \
       dn_cudnnTensorDescriptor_t zDesc, const void *z, dn_cudnnTensorDescriptor_t biasDesc, const void *bias, \
       dn_cudnnActivationDescriptor_t activationDesc, dn_cudnnTensorDescriptor_t yDesc, void *y)) \
    X(dn_cudnnStatus_t, cudnnConvolutionBackwardData,                                           \
      (dn_cudnnHandle_t handle, const void *alpha, dn_cudnnFilterDescriptor_t wDesc, const void *w, \
       dn_cudnnTensorDescriptor_t dyDesc, const void *dy, dn_cudnnConvolutionDescriptor_t convDesc, \
       dn_cudnnConvolutionBwdDataAlgo_t algo, void *workSpace, size_t workSpaceSizeInBytes, const void *beta, \
       dn_cudnnTensorDescriptor_t dxDesc, void *dx))                                            \
    X(dn_cudnnStatus_t, cudnnConvolutionBackwardFilter,                                         \
      (dn_cudnnHandle_t handle, const void *alpha, dn_cudnnTensorDescriptor_t xDesc, const void *x, \
       dn_cudnnTensorDescriptor_t dyDesc, const void *dy, dn_cudnnConvolutionDescriptor_t convDesc, \
       dn_cudnnConvolutionBwdFilterAlgo_t algo, void *workSpace, size_t workSpaceSizeInBytes, const void *beta, \
       dn_cudnnFilterDescriptor_t dwDesc, void *dw))                                            \
    X(dn_cudnnStatus_t, cudnnConvolutionBackwardBias,                                           \
      (dn_cudnnHandle_t handle, const void *alpha, dn_cudnnTensorDescriptor_t dyDesc, const void *dy, \
       const void *beta, dn_cudnnTensorDescriptor_t dbDesc, void *db))                          \
    X(dn_cudnnStatus_t, cudnnCreateActivationDescriptor, (dn_cudnnActivationDescriptor_t * activationDesc)) \
    X(dn_cudnnStatus_t, cudnnSetActivationDescriptor,                                           \
      (dn_cudnnActivationDescriptor_t activationDesc, dn_cudnnActivationMode_t mode,            \
       dn_cudnnNanPropagation_t reluNanOpt, double coef))                                       \
    X(dn_cudnnStatus_t, cudnnDestroyActivationDescriptor, (dn_cudnnActivationDescriptor_t activationDesc)) \
    X(dn_cudnnStatus_t, cudnnActivationForward,                                                 \
      (dn_cudnnHandle_t handle, dn_cudnnActivationDescriptor_t activationDesc, const void *alpha, \
       dn_cudnnTensorDescriptor_t xDesc, const void *x, const void *beta, dn_cudnnTensorDescriptor_t yDesc, void *y)) \
    X(dn_cudnnStatus_t, cudnnActivationBackward,                                                \
      (dn_cudnnHandle_t handle, dn_cudnnActivationDescriptor_t activationDesc, const void *alpha, \
       dn_cudnnTensorDescriptor_t yDesc, const void *y, dn_cudnnTensorDescriptor_t dyDesc, const void *dy, \
       dn_cudnnTensorDescriptor_t xDesc, const void *x, const void *beta, dn_cudnnTensorDescriptor_t dxDesc, \
       void *dx))                                                                               \
    X(dn_cudnnStatus_t, cudnnCreateLRNDescriptor, (dn_cudnnLRNDescriptor_t * normDesc))         \
    X(dn_cudnnStatus_t, cudnnSetLRNDescriptor,                                                  \
      (dn_cudnnLRNDescriptor_t normDesc, unsigned lrnN, double lrnAlpha, double lrnBeta, double lrnK)) \
    X(dn_cudnnStatus_t, cudnnDestroyLRNDescriptor, (dn_cudnnLRNDescriptor_t lrnDesc))           \
    X(dn_cudnnStatus_t, cudnnLRNCrossChannelForward,                                            \
      (dn_cudnnHandle_t handle, dn_cudnnLRNDescriptor_t normDesc, dn_cudnnLRNMode_t lrnMode, const void *alpha, \
       dn_cudnnTensorDescriptor_t xDesc, const void *x, const void *beta, dn_cudnnTensorDescriptor_t yDesc, void *y)) \
    X(dn_cudnnStatus_t, cudnnLRNCrossChannelBackward,                                           \
      (dn_cudnnHandle_t handle, dn_cudnnLRNDescriptor_t normDesc, dn_cudnnLRNMode_t lrnMode, const void *alpha, \
       dn_cudnnTensorDescriptor_t yDesc, const void *y, dn_cudnnTensorDescriptor_t dyDesc, const void *dy, \
       dn_cudnnTensorDescriptor_t xDesc, const void *x, const void *beta, dn_cudnnTensorDescriptor_t dxDesc, \
       void *dx))                                                                               \
    X(dn_cudnnStatus_t, cudnnCreatePoolingDescriptor, (dn_cudnnPoolingDescriptor_t * poolingDesc)) \
    X(dn_cudnnStatus_t, cudnnSetPooling2dDescriptor,                                            \
      (dn_cudnnPoolingDescriptor_t poolingDesc, dn_cudnnPoolingMode_t mode, dn_cudnnNanPropagation_t maxpoolingNanOpt, \
       int windowHeight, int windowWidth, int verticalPadding, int horizontalPadding, int verticalStride, \
       int horizontalStride))                                                                   \
    X(dn_cudnnStatus_t, cudnnGetPooling2dForwardOutputDim,                                      \
      (dn_cudnnPoolingDescriptor_t poolingDesc, dn_cudnnTensorDescriptor_t inputTensorDesc, int *n, int *c, \
       int *h, int *w))                                                                         \
    X(dn_cudnnStatus_t, cudnnDestroyPoolingDescriptor, (dn_cudnnPoolingDescriptor_t poolingDesc)) \
    X(dn_cudnnStatus_t, cudnnPoolingForward,                                                    \
      (dn_cudnnHandle_t handle, dn_cudnnPoolingDescriptor_t poolingDesc, const void *alpha,     \
       dn_cudnnTensorDescriptor_t xDesc, const void *x, const void *beta, dn_cudnnTensorDescriptor_t yDesc, void *y)) \
    X(dn_cudnnStatus_t, cudnnPoolingBackward,                                                   \
      (dn_cudnnHandle_t handle, dn_cudnnPoolingDescriptor_t poolingDesc, const void *alpha,     \
       dn_cudnnTensorDescriptor_t yDesc, const void *y, dn_cudnnTensorDescriptor_t dyDesc, const void *dy, \
       dn_cudnnTensorDescriptor_t xDesc, const void *x, const void *beta, dn_cudnnTensorDescriptor_t dxDesc, \
       void *dx))                                                                               \
    X(dn_cudnnStatus_t, cudnnSoftmaxForward,                                                    \
      (dn_cudnnHandle_t handle, dn_cudnnSoftmaxAlgorithm_t algo, dn_cudnnSoftmaxMode_t mode, const void *alpha, \
       dn_cudnnTensorDescriptor_t xDesc, const void *x, const void *beta, dn_cudnnTensorDescriptor_t yDesc, void *y))

#define DN_CUBLAS_FUNCS(X)                                                                      \
    X(dn_cublasStatus_t, cublasGetProperty, (dn_libraryPropertyType type, int *value))          \
    X(const char *, cublasGetStatusString, (dn_cublasStatus_t status))                          \
    X(dn_cublasStatus_t, cublasCreate_v2, (dn_cublasHandle_t * handle))                         \
    X(dn_cublasStatus_t, cublasDestroy_v2, (dn_cublasHandle_t handle))                          \
    X(dn_cublasStatus_t, cublasSetStream_v2, (dn_cublasHandle_t handle, dn_CUstream streamId))  \
    X(dn_cublasStatus_t, cublasSetMathMode, (dn_cublasHandle_t handle, dn_cublasMath_t mode))   \
    X(dn_cublasStatus_t, cublasSetPointerMode_v2, (dn_cublasHandle_t handle, dn_cublasPointerMode_t mode)) \
    X(dn_cublasStatus_t, cublasSgemm_v2,                                                        \
      (dn_cublasHandle_t handle, dn_cublasOperation_t transa, dn_cublasOperation_t transb, int m, int n, int k, \
       const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta, float *C, int ldc)) \
    X(dn_cublasStatus_t, cublasGemmEx,                                                          \
      (dn_cublasHandle_t handle, dn_cublasOperation_t transa, dn_cublasOperation_t transb, int m, int n, int k, \
       const void *alpha, const void *A, dn_cudaDataType Atype, int lda, const void *B, dn_cudaDataType Btype, \
       int ldb, const void *beta, void *C, dn_cudaDataType Ctype, int ldc, dn_cublasComputeType_t computeType, \
       dn_cublasGemmAlgo_t algo))                                                               \
    X(dn_cublasStatus_t, cublasSaxpy_v2,                                                        \
      (dn_cublasHandle_t handle, int n, const float *alpha, const float *x, int incx, float *y, int incy)) \
    X(dn_cublasStatus_t, cublasSscal_v2, (dn_cublasHandle_t handle, int n, const float *alpha, float *x, int incx)) \
    X(dn_cublasStatus_t, cublasSdot_v2,                                                         \
      (dn_cublasHandle_t handle, int n, const float *x, int incx, const float *y, int incy, float *result)) \
    X(dn_cublasStatus_t, cublasSgeam,                                                           \
      (dn_cublasHandle_t handle, dn_cublasOperation_t transa, dn_cublasOperation_t transb, int m, int n, \
       const float *alpha, const float *A, int lda, const float *beta, const float *B, int ldb, float *C, int ldc)) \
    X(dn_cublasStatus_t, cublasSdgmm,                                                           \
      (dn_cublasHandle_t handle, dn_cublasSideMode_t mode, int m, int n, const float *A, int lda, const float *x, \
       int incx, float *C, int ldc))

/* Function-pointer types: dn_pfn_<symbol>. */
#define DN_PFN_TYPEDEF(ret, name, params) typedef ret(*dn_pfn_##name) params;
DN_CUDA_FUNCS(DN_PFN_TYPEDEF)
DN_CUDNN_FUNCS(DN_PFN_TYPEDEF)
DN_CUBLAS_FUNCS(DN_PFN_TYPEDEF)
#undef DN_PFN_TYPEDEF

#endif /* DNNGO_CUDA_H */
