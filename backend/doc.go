// Package backend defines the contract between dnngo's networks and the
// libraries that do the arithmetic: one small interface, several
// implementations (pure Go, oneDNN, cuDNN), chosen by name at run time
// among those compiled in.
//
// This page is everything a backend author needs. The conformance suite in
// [github.com/dnngo/dnngo/backend/backendtest] checks every rule stated here.
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
//     the same optional fused ReLU.
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
// Unless a method says otherwise, an output tensor must not alias an input;
// ReLU, bias add and dropout forwards may run in place (y == x), and their
// backwards may write dx over dy.
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
// plan call then returns ErrInvalid naming the limit.
//
// Every call validates what it is given and returns an error, never panics:
// errors are *[OpError] values that name the op, say what was given and what
// was expected, and wrap one of the sentinel errors ([ErrShape],
// [ErrInvalid], [ErrClosed], [ErrForeign], [ErrState], [ErrLibrary], ...)
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
// A backend package registers itself from init with [Register]; the package
// [github.com/dnngo/dnngo/backend/all] imports every backend that the build
// tags compiled in. [Open] opens one by name; a known backend that was not
// compiled in gives an error naming the build tag that adds it
// ([ErrNotCompiled]); one that is compiled in but cannot run here (no GPU,
// no library) gives [ErrUnavailable] with the reason. [Best] opens the
// fastest that works: cudnn, then onednn, then cpu.
package backend
