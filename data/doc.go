// Package data feeds images to dnngo's networks: datasets, their colour
// statistics, and a loader that decodes and augments in goroutines ahead of
// the training loop. The augmentation itself is in
// [github.com/dnngo/dnngo/data/augment].
//
// # Datasets
//
// A [Dataset] is a length, an item i → (image, label) function and the
// class names. Two kinds come with the package:
//
//   - [OpenFashionMNIST] reads Fashion-MNIST's IDX files (gzip-compressed
//     or not) from a directory, by default [FashionMNISTDir], where the
//     Debian package dataset-fashion-mnist installs them; [OpenIDX] reads
//     any such pair of image and label files. The reader is strict: magic
//     number, element type, dimensions and sizes are checked against the
//     file, and a truncated or corrupt file is an error, never a panic.
//     Items are 28×28 grey images; the pipeline makes them 3-channel and
//     resizes them to the network's input.
//   - [OpenFolder] reads ImageNet-style folders, root/<class>/*.jpg|*.png,
//     decoding with the standard library. A corrupt or unreadable image is
//     skipped and counted ([Folder.Skipped]), never a crash; a class folder
//     without usable images, or no class folders at all, is an error.
//
// [Head] and [Subset] select items (the first N for a quick run).
//
// # The paper's recipe
//
// AlexNet (Krizhevsky et al. 2012, section 4.1) was trained on 256×256
// images (shorter side scaled to 256, centre square) seen through random
// 224×224 windows (227 here) with random horizontal flips, PCA colour
// noise and the mean subtracted; it was tested on the centre window or on
// the average over ten windows. augment.PaperTrain and augment.PaperEval
// build those pipelines. The colour noise and the mean need the training
// set's colour statistics: [ComputeStats] takes the mean and the 3×3
// covariance of RGB values over its pixels and decomposes the covariance;
// [CachedStats] does it once and keeps the result as a small JSON file,
// by default in the user's cache directory ([StatsPath]).
//
// # Loading
//
// A [Loader] runs a pipeline over a dataset in a pool of goroutines and
// hands out [Batch] values in order: dense NCHW float32 images, ready for
// backend.Backend.Upload, and []int32 labels. Batch buffers are reused
// (Prefetch+1 of them), so steady-state loading does not allocate batches.
// Each [Epoch] visits every item exactly once, in an order shuffled from
// the seed and the epoch number; each item's augmentation draws from a
// generator seeded by (seed, epoch, item), so an epoch's batches are the
// same whatever the number of workers, and [Loader.EpochFrom] resumes in
// the middle of an epoch exactly. Batch.Wait and [EpochStats] say how long
// the consumer waited for data, the number a training log shows to tell
// a data-bound run from a compute-bound one. Closing an epoch (or
// cancelling its context) stops and waits for every goroutine.
//
// A training loop:
//
//	train, _ := data.OpenFashionMNIST(data.FashionMNISTDir, data.Train)
//	stats, _, _ := data.CachedStats(ctx, train, data.StatsOptions{}, "")
//	loader, _ := data.NewLoader(data.Config{
//		Dataset:   train,
//		Pipeline:  augment.PaperTrain(256, 227, &stats.PCA),
//		BatchSize: 128, Shuffle: true, Seed: seed, DropLast: true,
//	})
//	for epoch := range epochs {
//		ep, _ := loader.Epoch(ctx, epoch)
//		for {
//			b, err := ep.Next()
//			if err == io.EOF {
//				break
//			}
//			// upload b.Images (shape b.Shape()) and b.Labels, step
//		}
//		ep.Close()
//		log.Printf("waited %v for data", ep.Stats().Wait)
//	}
package data
