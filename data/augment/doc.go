// Package augment turns decoded images into network input the way the
// AlexNet paper (Krizhevsky, Sutskever and Hinton, 2012, section 4.1) did,
// as small composable steps on a float image in the NCHW layout of a batch.
//
// # The paper's recipe
//
// Training: every image is rescaled so its shorter side is 256 and the
// central 256×256 square kept ([Resize] with Shorter 256 and Square); then
// each time it is shown the network sees a random 224×224 window ([RandomCrop];
// 227×227 in dnngo, the size the layer arithmetic needs), mirrored left to
// right half the time ([Flip] with P 0.5), with its colour shifted along the
// principal components of the training set's RGB values ([PCANoise]: add
// Σ αᵢλᵢpᵢ to every pixel, αᵢ ~ N(0, 0.1²) drawn per image), and the mean
// subtracted ([SubtractMean]). Testing: the centre window ([CenterCrop]) or
// the average of the network's softmax over ten views, the four corner
// windows, the centre one and their mirror images ([TenCrop]).
// [PaperTrain] and [PaperEval] build these pipelines for any sizes (the
// small test network takes 99×99 input, for instance).
//
// # Pipeline
//
// A [Pipeline] has three stages. [Resize] scales the decoded image (any
// image.Image) with golang.org/x/image/draw in 8 bits per channel and
// converts it to a float [Image] with values in [0, 1], three channels,
// planar (grey images get three equal channels). The [Step] values then
// transform that image in place, in order. Finally one view, or the views of
// a [Viewer] such as [TenCrop], are written into the caller's slice — one
// item's slot of a batch. [Pipeline.Shape] checks the stages once and gives
// the output size, which must not depend on the input.
//
// # Randomness
//
// Random steps draw from a *rand.Rand (math/rand/v2) that the caller
// passes, in an order fixed by the pipeline, and hold no state of their
// own. So a pipeline is reproducible: the loader in
// github.com/dnngo/dnngo/data seeds one generator per item from the run's
// seed, the epoch and the item's index, and the batches of an epoch are the
// same whatever the number of goroutines.
//
// # Pixel scale
//
// Values stay in [0, 1] until a step changes them; the mean and the PCA
// statistics are in the same scale. The paper's colour noise adds αλp with
// λ a variance, so its size depends on that scale: in [0, 1] units λ₁ is
// 0.374 for Fashion-MNIST (grey: 3 × its pixel variance 0.1246, along
// (1,1,1)/√3), giving a shift with a standard deviation of 0.1·0.374/√3 ≈
// 0.022 per channel, about 5 grey levels out of 255; for photographs with
// ImageNet's per-channel spread (standard deviations about 0.23, strongly
// correlated) λ₁ is roughly 0.15, about 2 grey levels. [Scale] multiplies by
// a factor at the end of a pipeline (e.g. 255 for the 8-bit range Caffe's
// AlexNet is trained on).
package augment
