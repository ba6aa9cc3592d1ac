// Package alexnet is AlexNet (Krizhevsky, Sutskever & Hinton, 2012) on
// dnngo's backend contract: build it on any backend, print its layer table,
// train it, classify with it, save and resume it.
//
//	import (
//		"github.com/dnngo/dnngo/alexnet"
//		"github.com/dnngo/dnngo/backend"
//		_ "github.com/dnngo/dnngo/backend/all"
//	)
//
//	b, _ := backend.Best()                  // cudnn > onednn > cpu
//	net, err := alexnet.New(b, alexnet.SeedConfig())
//	defer net.Close()
//	fmt.Print(net)                          // the layer table
//	loss, err := net.TrainStep(x, labels)   // forward, loss, backward, SGD
//	probs, err := net.Predict(x)            // softmax, [N, 1000]
//	top5 := alexnet.TopK(probs[:1000], 5)
//	err = net.Save("alexnet.safetensors")
//
// The network never knows which backend it runs on: it plans every op
// through the [backend.Backend] interface, keeps every tensor on the
// backend, and crosses to the host only for inputs, the loss, outputs and
// checkpoints.
//
// # Variants
//
// A [Config] fixes every size and constant of the AlexNet topology
//
//	conv1 → ReLU → LRN → maxpool → conv2 → ReLU → LRN → maxpool → conv3 → ReLU →
//	conv4 → ReLU → conv5 → ReLU → maxpool → fc6 → ReLU → dropout → fc7 → ReLU →
//	dropout → fc8 → softmax
//
// and three are ready-made:
//
//   - [Seed], the default: the single-tower network of our spec, 227×227×3
//     input, 96-256-384-384-256 filters, FC 4096-4096-1000, 62,378,344
//     parameters, about 1.135 G multiply-adds per image forward.
//   - [Paper]: the paper's two-GPU network on one device, Seed with groups
//     = 2 in conv2, conv4 and conv5 (60,965,224 parameters), and the paper's
//     update rule.
//   - [Mini]: exactly the mini_alexnet network of the golden test data
//     (99×99 input, 16-32-48-48-32 filters, FC 64-64-10, no dropout), small
//     enough to train in tests.
//
// Sizes follow out = ⌊(in + 2·pad − kernel)/stride⌋ + 1 for convolutions
// and pooling (floor mode): 227 → 55 → 27 → 27 → 13 → 13 → 13 → 13 → 6 in
// Seed. The paper says "224", but only 227 gives its 55×55 conv1 output.
// [Config.Validate] and [New] reject a config whose layers do not fit (a
// width < 1, an output smaller than 1×1, groups that do not divide the
// channels, ...) with an error naming the layer.
//
// # Local response normalisation
//
// The backends implement LRN in the frameworks' convention (PyTorch, Caffe,
// cuDNN, oneDNN, ONNX):
//
//	y[c] = x[c] / (k + α/n · Σ_{c' = c−⌊n/2⌋ … c+⌊n/2⌋} x[c']²)^β     (channels outside [0, C) count as 0)
//
// The paper prints the denominator as k + α·Σx² with α = 1e-4, k = 2,
// n = 5, β = 0.75: without the division by n, so α = 5e-4 in the formula
// above. The presets, in this convention:
//
//	LRNPaper  n 5, α 5e-4, β 0.75, k 2   the paper as printed; Seed and Paper use it
//	LRNTorch  n 5, α 1e-4, β 0.75, k 2   torch.nn.LocalResponseNorm(5, 1e-4, 0.75, 2), the author's
//	                                     cuda-convnet2 code, the golden data; Mini uses it
//	LRNCaffe  n 5, α 1e-4, β 0.75, k 1   Caffe's bvlc_alexnet (Caffe's default k)
//
// Seed and Paper take the paper's printed constants because they are what
// the spec and the paper describe; Mini takes the golden data's, since it
// must reproduce that data.
//
// # Initialisation
//
// [InitPaper] (Seed, Paper) draws every weight from N(0, 0.01²) and sets the
// biases of conv2, conv4, conv5, fc6 and fc7 to 1 (so their ReLUs start in
// the linear region) and the others to 0. [InitKaiming] (Mini) draws
// weights from N(0, 2/fan_in), N(0, 1/fan_in) for fc8, fan_in =
// (C/groups)·k·k, and zero biases. The paper's recipe is fragile: a fixed
// standard deviation of 0.01 shrinks or grows the signal at every layer
// depending on its fan-in, so deeper or wider single-tower variants can
// start with vanishing gradients and a flat loss (Caffe's reproduction had
// to use biases of 0.1 instead of 1: "initialization to 1 gave flat loss").
// It is kept as the default of the paper's networks because it is the
// paper's; set Config.Init = InitKaiming when a variant does not learn.
// Both draw from a PCG generator seeded with Config.Seed, in parameter
// order, so a seed gives the same network on every backend.
//
// # Training
//
// [Network.TrainStep] is one step: [Network.Forward] in [Train] mode,
// [Network.Loss], [Network.Backward] and [Network.Step]; each is also
// callable alone. The loss is the batch mean of the softmax cross-entropy,
//
//	loss = −(1/N) Σ_n log softmax(logits_n)[label_n],   ∂loss/∂logits = (softmax − onehot)/N.
//
// Dropout is inverted: in Train mode a unit is kept with probability 1−p and
// scaled by 1/(1−p); in [Eval] mode dropout is the identity (equivalent in
// expectation to the paper's "multiply the outputs by 0.5 at test time").
// The mask of layer l at step s is drawn from a seed that hashes
// (Config.Seed, s, l), so the step count is the only random state of
// training.
//
// The optimiser is SGD with momentum μ and L2 weight decay wd on every
// parameter (biases included, as the golden data does), learning rate lr
// set per step with [Optimizer.SetLR], under one of two rules:
//
//	backend.PyTorchSGD:  d = g + wd·w;   v = μ·v + d;              w = w − lr·v
//	backend.PaperSGD:    v = μ·v − wd·lr·w − lr·g;                  w = w + v
//
// Both start from v = 0 and give the same iterates while lr is constant;
// after a change the paper's v still carries the old rate for a few steps.
// Defaults: μ = 0.9, wd = 5e-4, lr = 0.01; PyTorch's rule in Seed and Mini
// (what the golden data follows), the paper's in Paper. [Optimizer.Observe]
// implements the paper's schedule: feed it the validation error after each
// round and it multiplies lr by Config.Schedule.Factor (0.1) after Patience
// rounds without improvement, at most MaxDrops (3) times.
//
// Buffers are made once per batch size: the first Forward of a size plans
// every layer for it and allocates its activations, the first Loss the
// gradient buffers, the first Step the momentum buffers. From then on a
// training step allocates nothing on the host (tested with
// testing.AllocsPerRun on the cpu backend). The network keeps the plans
// and buffers of the DefaultMaxBatchSizes (4) most recently used batch
// sizes — a training size, an epoch's last smaller batch, and the same two
// for evaluation or ten-crop evaluation — and releases the least recently
// used when a Forward needs another; [Network.SetMaxBatchSizes] changes
// the bound.
//
// # Measuring
//
// [Config.Summary] computes the layer table from the config: per layer its
// output, its activation memory, its weights and its forward
// multiply-adds per image. Activation memory follows our spec's
// accounting: a layer's output counted ×3 for conv+ReLU+LRN (the conv
// output, the ReLU output, the LRN output), ×2 for conv+ReLU, ×3 for
// FC+ReLU+dropout, and ×1 for a max-pool output and for fc8's logits. For
// Seed that is 1,925,224 values per image (7.7 MB in float32; the
// 154,587-value input not counted). The spec states 2.24 million; no way
// of counting the pools (0 to 2 times), fc8 (0 to 3 times) or the input (0
// or 1 time) on top of its ×3/×2/×3 rows reaches that: with the input the
// total is 2,079,811, and even the input, every pool twice and fc8 three
// times give only 2,204,275 (a test checks every such combination). So the
// table prints our count and says that it differs rather than forcing the
// figure.
//
// # Checkpoints
//
// [Network.Save] writes a safetensors file atomically (a temporary file in
// the same directory, fsync, rename). Tensor names are conv1.weight,
// conv1.bias, …, conv5.bias, fc6.weight, …, fc8.bias — the layer names of
// the paper and of our spec. (torchvision's names, features.0.weight …
// classifier.6.weight, belong to its 64-192-384-256-256 variant whose shapes
// do not agree with any config here, so nothing would be gained by
// borrowing them.) Conv weights are OIHW, FC weights [out, in], all F32.
// The momentum buffers are stored as momentum.<name>; the metadata holds
// the format ("dnngo-alexnet/2"), the Config as JSON, the step count, the
// current learning rate, the schedule's state, the notes, a CRC-32C of every
// tensor's bytes and a CRC-32C of the header itself (every metadata entry
// and every tensor's name, dtype, shape and byte range). [Load] checks all
// of it before allocating anything — the format, the header checksum, the
// config, every tensor's presence, dtype and shape (the first mismatch
// reported by name), every tensor checksum — so a truncated, corrupt or
// edited file gives an error, never a panic, a half-loaded network or a
// network with silently changed settings. Files of the older format
// "dnngo-alexnet/1" (without the header checksum) are refused with an error
// saying so. Tensors
// cross through Upload, so a checkpoint written on one backend loads on
// every other. Training resumed from a checkpoint continues exactly as it
// would have without stopping: bit for bit on the cpu backend, whose
// results do not depend on how its workers are scheduled (for a given
// thread count).
//
// # Concurrency and resources
//
// A Network is not safe for concurrent use, like the backend it runs on:
// use one per goroutine, each on its own backend. Close releases every
// tensor and plan the network made; it does not close the backend.
package alexnet
