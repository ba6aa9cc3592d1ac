//go:build cudnn

// Package cudnn is dnngo's NVIDIA GPU backend: cuDNN 9 for the
// convolution, pooling, LRN, activation and softmax steps, cuBLAS for the
// fully connected layers, the loss reduction, dropout masking and the SGD
// update, and the CUDA driver API (libcuda.so.1) for memory, copies and
// the stream. It builds with -tags cudnn on any machine with a C compiler:
// no NVIDIA header or library is needed to build (include/dnngo_cuda.h
// carries our own declarations), and the libraries are loaded with dlopen
// when the first backend is opened.
//
// Open (or backend.Open("cudnn")) puts the contract's one checking layer,
// package backend/driver, in front of this package's driver: every
// argument is checked there, and this package checks only what cuDNN
// itself cannot run, which Supports reports as backend.ErrUnsupported
// (LRN: a window of at most 16 channels, k ≥ 1e-5, β ≥ 0.01). A valid
// description that cuDNN still refuses when the plan is made is
// ErrUnsupported too, with cuDNN's reason.
//
// # Finding the libraries
//
// Each library is looked for in this order, the first that loads and
// passes its checks winning: the folders of $DNNGO_CUDA_LIB_DIR
// (colon-separated); the dynamic loader's own search ($LD_LIBRARY_PATH, the
// executable's RUNPATH, ld.so.cache); the usual CUDA folders ($CUDA_HOME,
// /usr/local/cuda*, $CONDA_PREFIX/lib, the system library folders,
// /usr/local/nvidia/lib64); and the folders where NVIDIA's pip wheels put
// them (site-packages/nvidia/cudnn/lib, nvidia/cu13/lib, nvidia/cublas/lib)
// in the site-packages of every python3 on $PATH, $VIRTUAL_ENV and
// $CONDA_PREFIX. cuDNN must be 9.0 or newer, and cuBLAS of the CUDA major
// version cuDNN was built for is preferred. When something is missing,
// Open returns an error wrapping backend.ErrUnavailable whose *LoadError
// names the library and every place looked. Libraries are never unloaded.
//
// # Execution
//
// A backend value owns one CUDA stream (on the device's primary context)
// and one cuDNN and one cuBLAS handle bound to it; every step is queued on
// that stream, so ops run in submission order and only Download and Sync
// wait. Every call into C makes the context current on the calling OS
// thread first, since Go moves goroutines between threads. Device memory
// comes from a pool of size classes (tensors returned by Close are reused,
// never freed before the backend closes); convolution workspaces come from
// one arena grown to the largest plan; uploads are copied into pinned
// staging buffers and sent asynchronously. Convolution algorithms are
// chosen once per plan and direction, on its first execution, with
// cudnnFind...AlgorithmEx within a workspace budget ($DNNGO_CUDNN_WORKSPACE_MB,
// default 1024).
//
// # Precision
//
// backend.Options.Precision selects the arithmetic of the heavy ops
// (convolutions and fully connected layers):
//
//   - FP32 (default): strict IEEE float32: CUDNN_FMA_MATH convolutions
//     without FFT or Winograd algorithms (a Find result whose mathType is
//     not CUDNN_FMA_MATH is skipped: it may run as TF32), only
//     deterministic algorithms (so runs repeat bit for bit), cuBLAS default
//     math (no TF32). This is what the golden tests check.
//   - TF32: tensor-core TF32 for convolutions (CUDNN_DEFAULT_MATH) and
//     GEMMs (CUBLAS_TF32_TENSOR_OP_MATH); any algorithm.
//   - BF16, FP16: convolutions and GEMMs read and write bfloat16 (half)
//     copies of their tensors with float32 accumulation on tensor cores;
//     every tensor keeps its float32 value as the master copy, converted
//     on demand, so SGD updates float32 weights. No loss scaling is done
//     inside the backend (the contract has no place for the scale).
//
// Everything else (ReLU, LRN, pooling, dropout, softmax, SGD) runs in
// float32 in every mode.
//
// backend.Options.Deterministic restricts the other precisions to
// CUDNN_DETERMINISTIC algorithms too (backward data algo 0 and backward
// filter algos 0 and 3 accumulate with atomics).
//
// # Test double
//
// testdata/fakecuda is a test double of the three libraries (host C code
// written from NVIDIA's documented API, with checked device memory,
// deferred streams, TF32 emulation, fault injection and leak counts) that
// runs this package's tests without a GPU. When it is what was loaded,
// Info.TestDouble is true and nothing measured is a GPU number; the
// Double* functions reach its fault injection and leak counts.
package cudnn
