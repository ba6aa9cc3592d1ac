// Package onednn is dnngo's x86 CPU backend on Intel's oneDNN (formerly
// MKL-DNN, DNNL): every op of the backend contract, forward and backward,
// through a thin C shim (the package's .c files, interface in
// include/dnngo_onednn.h) that makes one cgo call per step. It is compiled
// in with -tags onednn and links libdnnl (Debian/Ubuntu: apt-get install -y
// libdnnl-dev); without the tag this package is empty and
// backend.Open("onednn") says which tag adds it.
//
// # Layout of the package
//
// The package is a driver (package backend/driver): its engine receives
// only calls the rulebook has checked, so it checks nothing but what oneDNN
// itself cannot do (nothing, with the oneDNN versions it supports: it has
// no Supports method). Open returns a *Backend, the rulebook in front of
// the engine plus what only this backend has (Relayouts, Allocations,
// Sgemm, and Impl for its convolution plans); backend.Open("onednn")
// returns the rulebook alone. The Go files: onednn.go (engine, Open,
// memory budget), tensor.go, and one file per op: conv.go, linear.go,
// bias.go, relu.go, lrn.go, pool.go, dropout.go, loss.go, sgd.go. The C
// files, which shim.h describes: compat.c (every oneDNN 2.x/3.x
// difference), context.c, layout.c (tensors, and the layout state machine
// that the Layouts section below summarises), primitives.c (convolution,
// inner product, LRN, pooling) and elementwise.c (ReLU, bias, dropout,
// loss, SGD).
//
// # oneDNN versions
//
// The shim compiles against oneDNN 2.x (Debian 12: 2.6.3, which CI runs)
// and 3.x (Ubuntu 24.04: 3.1, Debian 13: 3.7) behind #if
// DNNL_VERSION_MAJOR; the Go side never sees the difference. The 3.x branch
// is type-checked by the C compiler against the 3.x declarations in
// testdata/dnnl3 (TestShimCompiles, which needs no tag and no library); it
// has not been run against a real 3.x library.
//
// # Layouts
//
// Convolutions and fully connected layers are created with format_tag_any,
// so oneDNN picks blocked layouts (nChw8c activations, OIhw8i8o weights on
// AVX2). A tensor keeps whatever layout the last plan that wrote it or read
// it wanted; LRN and max-pooling primitives are made for the layout of
// their input on first use (a plain NCHW input is first reordered into a
// blocked layout, where oneDNN 2.x has its fast kernels); the backward
// primitives ask for the forward's layouts. So a network runs end to end
// in the blocked layouts. Where two primitives want one tensor in different
// layouts (the backward-data convolution's weights; an inner product
// reading a pooled output), the plan that needs the other layout keeps a
// staging copy, reordered when the tensor has changed since the copy was
// made (every write to a tensor gives it a new version). After the first
// step nothing is allocated (see Backend.Allocations; Backend.Relayouts
// counts the layout changes). Reorder primitives are cached.
//
// # Inference and training primitives
//
// Plans made with the descriptions' Inference flag create forward_inference
// primitives: on AVX-512, brgconv convolutions on NHWC, LRN and pooling
// without workspaces.
//
// FP32 3x3 stride-1 convolutions with at least 64 input and output
// channels and an 8x8 output (AlexNet's conv3-5) ask for oneDNN's Winograd
// algorithm first, inference and training plans alike (all three passes):
// on AVX-512 oneDNN 2.6 has F(2,3) and F(4,3) kernels, 1.2-1.6x its direct
// ones on those layers, within 1e-5 relative error of them (on small maps
// with few channels they were slower than direct, hence the bounds).
// Where it has none (AVX2; a backward pass it cannot run) the direct
// algorithm is used. A Winograd inference plan keeps its own copy of the
// weights in Winograd's layout; the tensor itself never moves there. Training plans create forward_training primitives
// and keep the workspaces. An inner product is planned on its input
// flattened to 2-D (brgemm in all three passes; on fc6's 4-D input oneDNN
// 2.6 runs backward data as the much slower x64:gemm:jit), except an
// inference plan for a single image, whose forward is faster as
// x64:gemm:jit on the 4-D input.
//
// # BF16
//
// With Options.Precision BF16 (CPUs with AVX512_BF16 or AMX-BF16; Open
// returns ErrUnavailable elsewhere), convolutions and inner products run on
// bf16 copies of their inputs and weights, accumulate in f32 and write f32
// (AMX kernels where the CPU has AMX). Tensors, LRN, pooling, the
// element-wise ops and the SGD update stay f32, so the master weights are
// f32. The results match FP32 within 1e-2 relative norm error per layer
// (TestBF16LayersMatchFP32). BF16 is also unavailable where
// ONEDNN_MAX_CPU_ISA caps oneDNN below avx512_core_bf16 (see ISA).
//
// # Instruction sets
//
// oneDNN picks its kernels by the CPU's features at run time; ISA names the
// widest set it may use and Info().Library says it. The environment
// variable ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA), read once per process,
// caps it: ONEDNN_MAX_CPU_ISA=AVX2 on an AVX-512 machine runs what an AVX2
// machine such as a Zen 3 runs (direct convolutions instead of Winograd,
// the AVX2 blocked layouts). TestCappedISA reruns the golden conformance
// suite that way.
//
// Bias and ReLU are fused into the convolution and inner-product
// primitives as post-ops when the description asks for them. LRN and
// pooling keep their oneDNN workspaces for the backward pass. Every
// primitive uses the user scratchpad mode, from one arena per backend
// grown to the largest plan.
//
// ReLU, bias add, dropout, softmax with cross-entropy and the SGD update
// are written in the shim (OpenMP loops): ReLU and SGD run on any layout,
// the others on the plain one. The SGD update is one pass over param, grad
// and velocity per thread share, compiled for AVX-512, AVX2 and the
// baseline and picked at load time (GCC target_clones).
//
// # Threads
//
// oneDNN (Debian's build) runs on GNU OpenMP. Options.Threads sets the
// OpenMP team size (default GOMAXPROCS). Every primitive and every OpenMP
// loop of the shim runs on one executor thread per backend (a pthread the
// shim starts in Open and joins in Close); the calling thread waits for
// it. libgomp keeps a pool of worker threads per thread that starts a
// parallel region, and once it manages more threads than there are CPUs it
// makes workers stop spinning almost at once, so each region then starts
// with a wake-up. Go moves a goroutine between OS threads, and calling
// oneDNN directly from them left one pool per thread: on a 2-vCPU Xeon a
// second pool cost each batch-1 AlexNet forward ~1.2 ms (9 %); the
// hand-off to the executor costs ~12 µs per call. Options.Threads is at
// most backend.MaxThreads() (4 per logical CPU): asking libgomp for far
// more makes it fail to create threads at the first parallel region.
//
// # Memory
//
// Tensors (at their dense size), dropout masks and the shim's scratchpad
// arena count against Options.MemoryBudget. The arena grows inside the
// shim when a primitive is first made (some on their first execution); the
// shim checks the room the budget leaves before allocating and fails with
// DNO_EBUDGET, which becomes backend.ErrMemory with the byte count. The
// extra buffers of blocked layouts that reorders allocate are not counted.
package onednn
