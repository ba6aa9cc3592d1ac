// Package backend defines the contract between dnngo's networks and the
// libraries that do the arithmetic: one small interface, several
// implementations (pure Go, oneDNN, cuDNN), chosen by name at run time
// among those compiled in.
//
// This page states the contract: what every backend does, whatever
// library is behind it. The conformance suite in
// [github.com/dnngo/dnngo/backend/backendtest] checks every rule stated here.
//
// # Three places
//
// The user API is this package: [Open], [Best], [Backend], [Tensor], the
// plans, the descriptions and [OpError] with its sentinels. The driver API
// is [github.com/dnngo/dnngo/backend/driver]: what a backend implements
// (driver.Backend, the driver plans) and how it registers (driver.Register).
// The rulebook is that package's rulebook.go and alias.go: the one layer,
// written once, that every backend value returned by Open is wrapped in. It
// checks every call against the rules below — open, nil, foreign, closed,
// shapes derived from the description, aliasing, the out-of-order rules,
// labels, hyper-parameters — before the driver sees it, so a driver holds
// only arithmetic and the limits of its own library ([Backend.Supports]),
// and every backend refuses the same calls with the same errors.
//
// # Plan, then run
//
// Vendor libraries are fast when the expensive decisions are taken once:
// oneDNN creates a primitive for fixed shapes, cuDNN picks an algorithm and a
// workspace for fixed descriptors. So every operation is used in two steps.
// First the caller describes the op with fixed shapes (a [ConvDesc], a
// [PoolDesc], ...) and asks the [Backend] for a plan; planning validates the
// description, may be slow, and may allocate. Then the caller executes the
// plan any number of times on tensors of exactly those shapes. Executing
// must not allocate Go memory in steady state and must not block on the
// device except where stated ([Backend.Download], [Backend.Sync]).
//
// Plans of ops with a backward pass remember what their most recent Forward
// saved (max-pool argmax positions, LRN scales, the dropout mask): a Backward
// call must use the tensors of that plan's latest Forward. Use one plan per
// layer of a network, not one plan shared by two layers of the same shape.
// The rulebook enforces this for LRN and max pooling on every backend:
// a Backward before any Forward, or whose x or y is not the latest
// Forward's (compared by identity, not by value), is [ErrState]; so is a
// dropout Backward before any Forward. A backend that could recompute
// what it needs (the pure-Go one, cuDNN) still refuses, so that a program
// behaves the same on every backend.
//
// # Tensors
//
// A [Tensor] is opaque and owned by the backend that made it: host memory
// for the pure-Go backend, possibly in a blocked layout such as oneDNN's
// nChw8c, device memory for cuDNN. Its logical shape is always given in the
// dense row-major order used at the boundary:
//
//   - activations NCHW: [N, C, H, W] (or [N, F] after a fully connected layer);
//   - convolution weights OIHW: [Out, In/Groups, KernelH, KernelW];
//   - fully connected weights [Out, In], biases [Out];
//   - the loss a [1]-shaped tensor.
//
// [Backend.Upload] and [Backend.Download] convert between a tensor and a
// dense float32 slice in that order; nothing else crosses the boundary. A
// backend may keep a tensor in any physical layout and may change the
// layout of any tensor it is handed — an output a plan writes, or an input
// such as a weight that a plan prefers blocked — as long as the logical
// contents stay the same. So a network runs end to end in the layouts the
// backend prefers, with reorders only at the edges and once per tensor.
// Tensors created by [Backend.NewTensor] are zero-filled.
//
// A tensor belongs to the backend value that created it; passing it to
// another backend value is an error ([ErrForeign]). A fully connected layer
// accepts an input of any rank ≥ 2 and reads it as [N, product of the other
// dimensions], flattened row-major over (C, H, W): pool5's [N,256,6,6]
// output feeds fc6 directly.
//
// # Ops
//
// The set is what AlexNet needs, small and orthogonal; formulas follow
// PyTorch, which produced the golden data the conformance suite checks.
//
//   - Convolution ([Backend.Conv]): cross-correlation with zero padding,
//     stride and groups; out = floor((H + 2·pad − k)/stride) + 1. Backward
//     data (dx), backward filter (dw) and the bias gradient (db = Σ dy over
//     N, H, W). An optional fused ReLU epilogue (ConvDesc.ReLU) computes
//     max(conv(x)+b, 0) in one pass; its backward is the caller's: apply
//     [ReLUPlan.Backward] to dy with the fused output before BackwardData.
//   - Fully connected ([Backend.Linear]): y = x·wᵀ + b, dx = dy·w,
//     dw = dyᵀ·x, db = Σ_n dy; the same plan interface as convolution and
//     the same optional fused ReLU. Both descs are a [WeightDesc] (input,
//     output and weight shapes, FLOPs, a copy at another batch size), and
//     [PlanWeight] plans either, for code that treats them alike.
//   - Bias add ([Backend.BiasAdd]): y[n,c,...] = x[n,c,...] + b[c];
//     backward db[c] = Σ dy[n,c,...].
//   - ReLU ([Backend.ReLU]): y = max(x, 0); dx = dy·[y > 0]. The backward
//     takes the forward's output, which allows in-place forwards; since
//     y > 0 exactly where x > 0 it may be given x instead.
//   - LRN across channels ([Backend.LRN]), in the frameworks' convention
//     (PyTorch, Caffe, cuDNN, oneDNN, ONNX):
//     y[c] = x[c] / (k + α/n · Σ_{c'=c−⌊n/2⌋}^{c+⌊n/2⌋} x[c']²)^β, channels
//     outside [0, C) counting as zero and the divisor staying n. The paper
//     writes k + α·Σ with α = 1e-4; that is α = 5e-4 here.
//   - Max pooling ([Backend.MaxPool]): window, stride, padding (padded
//     positions never win), floor mode. Backward sends each window's dy to
//     its argmax; an input that is the maximum of several overlapping windows
//     receives the sum. On exact ties exactly one of the tied positions
//     receives the window's dy; which one is the backend's choice (the cpu
//     backend: the first in row-major order).
//   - Dropout ([Backend.Dropout]), inverted: in training y = x·mask/(1−p);
//     the mask is a function of the seed and the element index only (see
//     [DropoutKeep]), so the same seed gives the same mask; Backward routes
//     dy through the mask of the latest Forward. At inference simply do not
//     call it.
//   - Softmax with mean cross-entropy ([Backend.SoftmaxCrossEntropy]):
//     loss = −(1/N) Σ_n log softmax(logits[n])[label[n]] and
//     dlogits = (softmax(logits) − onehot(labels))/N in one call; and the
//     plain softmax for inference.
//   - SGD with momentum and weight decay ([Backend.SGD]), see [SGDParams]
//     for the two update rules.
//
// # Inference plans
//
// Libraries choose kernels by what a plan will be used for: oneDNN has
// forward_inference primitives that may run other implementations and
// layouts (brgconv on AVX-512) than the forward_training ones, and whose
// LRN and max pooling compute no workspace for a backward pass. So the
// descriptions of the layers with a backward pass — [ConvDesc],
// [LinearDesc], [LRNDesc], [PoolDesc] — have an Inference field. A plan
// made with Inference set runs Forward only, with the same results (within
// float32 rounding) as a training plan; its backward calls (BackwardData,
// BackwardFilter, Backward) return [ErrInvalid] on every backend (the
// rulebook checks it right after the plan being open). A backend
// without inference kernels plans it as it plans training. A network that
// both trains and infers keeps one plan of each kind per layer; the
// tensors may be shared between them (a backend reorders a weight that the
// two plans want in different layouts).
//
// # Aliasing
//
// An output tensor must not be another argument of the same call, except
// where a method says so: ReLU, bias add and dropout forwards may run in
// place (y == x), and the ReLU and dropout backwards may write dx over dy.
// Inputs may be the same tensor as each other (a BackwardFilter with
// x == dy is fine). Arguments that the call updates (SGD's param and
// velocity) count as outputs. Anything else — Linear's BackwardData with
// dx == w, BackwardFilter with dw == x or dw == dy, pooling with y == x, the
// loss with dlogits == logits — is [ErrInvalid] naming both arguments, on
// every backend. The rule is written once, in the rulebook, as a table of
// each call's arguments and which it writes, and one allocation-free
// checker; the comparisons are by identity, so they cost a few pointer
// compares per call.
//
// # Limits
//
// Sizes are bounded so that no product overflows int64 and no size
// overflows the 32-bit indices of vendor kernels (cuDNN descriptors take
// int; some oneDNN kernels index with int32). A tensor has at most
// [MaxElements] (2^31 − 1) elements; every description's Validate also
// bounds what it implies — a convolution's weights, output and the im2col
// matrix of one image ([C·KH·KW, OH·OW]), a fully connected layer's weights
// [Out, In] and output [N, Out] — by MaxElements, and each kernel, stride,
// padding, channel count and LRN window by [MaxDim]. A description beyond
// them is [ErrInvalid] naming the size, from every backend's plan call.
//
// [Options] are checked by [Options.Validate] in [OpenWith] and in every
// backend package's own Open: Threads from 0 (the default, GOMAXPROCS) to
// [MaxThreads], 4 per logical CPU; a MemoryBudget ≥ 0.
//
// Every backend value has a memory budget, Options.MemoryBudget bytes, by
// default ([DefaultMemoryBudget]) the memory available when it is opened
// (MemAvailable of /proc/meminfo, or less under a cgroup memory limit; no
// limit where neither can be read). The CPU backends count tensors, their
// scratch arena and per-plan buffers against it (driver.Memory) and return
// [ErrMemory] with the byte count before allocating — instead of the Go
// runtime's unrecoverable "fatal error: out of memory" or a crash inside C.
// Closing a tensor gives its bytes back. The budget is per backend value,
// not per process; the oneDNN backend does not count the extra buffers of
// blocked layouts that its reorders add. The cuDNN backend applies a
// positive MemoryBudget to the device memory its pool holds and otherwise
// leaves the limit to the device.
//
// # Ordering, errors and resources
//
// A backend value is one in-order stream of work: ops run in submission
// order, [Backend.Sync] waits until all of it has finished, Download waits
// for the work that writes its tensor. A backend value is not safe for
// concurrent use; open one per goroutine (several may run at once).
// Backends that drive a device make the device context current on every
// call (Go moves goroutines between OS threads).
//
// A backend may refuse a description that passes Validate but that its
// library cannot run (cuDNN's LRN window is at most 16, for instance): the
// plan call then returns [ErrUnsupported] naming the limit, and
// [Backend.Supports] says so before planning, so that a caller can choose
// another backend or another description.
//
// Every call validates what it is given and returns an error, never panics:
// the order of checks is the plan or backend being open, then scalar
// arguments (SGD's hyper-parameters), then each tensor in argument order
// (nil, foreign, closed, shape), then aliasing, then the labels, then the
// out-of-order rules (ErrState).
// errors are *[OpError] values that name the op, say what was given and what
// was expected, and wrap one of the sentinel errors ([ErrShape],
// [ErrInvalid], [ErrClosed], [ErrForeign], [ErrState], [ErrMemory],
// [ErrLibrary], ...)
// for errors.Is. A vendor status code becomes an error carrying the
// vendor's own message.
//
// Backends, tensors and plans that hold memory have Close. Closing twice
// is harmless; using a closed value returns [ErrClosed]. Closing a backend
// closes everything it made. Scratch memory (im2col buffers, cuDNN
// workspaces, oneDNN scratchpads) comes from one arena per backend, grown to
// the largest plan, never allocated per call.
//
// # Registry
//
// A backend package registers its driver from init with driver.Register
// (package [github.com/dnngo/dnngo/backend/driver]); the package
// [github.com/dnngo/dnngo/backend/all] imports every backend that the build
// tags compiled in. [Open] opens one by name; a known backend that was not
// compiled in gives an error naming the build tag that adds it
// ([ErrNotCompiled]); one that is compiled in but cannot run here (no GPU,
// no library) gives [ErrUnavailable] with the reason. [Best] opens the
// fastest that works: cudnn, then onednn, then cpu.
package backend
