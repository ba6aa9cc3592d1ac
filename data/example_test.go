package data_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/dnngo/dnngo/data"
	"github.com/dnngo/dnngo/data/augment"
)

// tinyDataset is an in-memory IDX dataset of n 28×28 images, image i
// filled with grey level i and labelled i%10.
func tinyDataset(n int) *data.IDXDataset {
	pix := make([]byte, n*28*28)
	labels := make([]byte, n)
	for i := range n {
		for k := range 28 * 28 {
			pix[i*28*28+k] = byte(i)
		}
		labels[i] = byte(i % 10)
	}
	ds, err := data.NewIDXDataset(
		&data.IDX{Dims: []int{n, 28, 28}, Data: pix},
		&data.IDX{Dims: []int{n}, Data: labels},
		data.FashionMNISTClasses, "tiny")
	if err != nil {
		log.Fatal(err)
	}
	return ds
}

// A training epoch: batches of NCHW float32 images and int32 labels, ready
// for backend.Backend.Upload, made ahead by a pool of goroutines.
func ExampleLoader() {
	ds := tinyDataset(10)
	loader, err := data.NewLoader(data.Config{
		Dataset:   ds,
		Pipeline:  augment.PaperTrain(113, 99, nil), // no colour statistics: crops and flips only
		BatchSize: 4,
		Shuffle:   true,
		Seed:      1,
		Workers:   2,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer loader.Close()
	fmt.Println("batches per epoch:", loader.Batches(), "network input:", loader.Shape())

	epoch, err := loader.Epoch(context.Background(), 0)
	if err != nil {
		log.Fatal(err)
	}
	defer epoch.Close()
	for {
		b, err := epoch.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		// Here: backend.Upload(x, b.Images), then forward/backward with b.Labels.
		fmt.Println(b.Index, b.Shape(), b.Labels)
	}
	st := epoch.Stats()
	fmt.Println("items:", st.Items, "skipped:", st.Skipped)
	// Output:
	// batches per epoch: 3 network input: [4 3 99 99]
	// 0 [4 3 99 99] [3 4 8 9]
	// 1 [4 3 99 99] [5 7 2 0]
	// 2 [2 3 99 99] [1 6]
	// items: 10 skipped: 0
}

// Ten-crop evaluation: each item gives ten consecutive rows; a classifier
// averages its softmax over them. PadLast keeps every batch at the size
// the network was planned for.
func ExampleLoader_tenCrop() {
	loader, err := data.NewLoader(data.Config{
		Dataset:   tinyDataset(5),
		Pipeline:  augment.PaperEval(113, 99, nil, true),
		BatchSize: 2,
		PadLast:   true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer loader.Close()
	epoch, err := loader.Epoch(context.Background(), 0)
	if err != nil {
		log.Fatal(err)
	}
	defer epoch.Close()
	for {
		b, err := epoch.Next()
		if err != nil {
			break // io.EOF
		}
		fmt.Println(b.Shape(), "real items:", b.N, "indices:", b.Indices)
	}
	// Output:
	// [20 3 99 99] real items: 2 indices: [0 1]
	// [20 3 99 99] real items: 2 indices: [2 3]
	// [20 3 99 99] real items: 1 indices: [4 -1]
}

// Fashion-MNIST from the Debian package's directory, its colour statistics
// cached in the user's cache directory, and the paper's training pipeline.
func ExampleOpenFashionMNIST() {
	train, err := data.OpenFashionMNIST(data.FashionMNISTDir, data.Train)
	if err != nil {
		log.Fatal(err) // names the package to install when the files are missing
	}
	pipeline := augment.PaperTrain(256, 227, nil)
	stats, cached, err := data.CachedStats(context.Background(), train,
		data.StatsOptions{Resize: pipeline.Resize, MaxImages: 10000}, "")
	if err != nil {
		log.Fatal(err)
	}
	pipeline = augment.PaperTrain(256, 227, &stats.PCA)
	fmt.Println(train.Len(), "images; statistics cached:", cached, "; eigenvalues", stats.PCA.Eigenvalues)
	fmt.Println(pipeline)
}

// An ImageNet-style folder: one directory per class. Unreadable images are
// skipped and counted.
func ExampleOpenFolder() {
	root, err := os.MkdirTemp("", "folder-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	for _, f := range []struct {
		class, name string
		c           color.Color
	}{{"cat", "a.png", color.White}, {"cat", "b.png", color.Black}, {"dog", "c.png", color.White}} {
		os.MkdirAll(filepath.Join(root, f.class), 0o755)
		out, _ := os.Create(filepath.Join(root, f.class, f.name))
		img := image.NewGray(image.Rect(0, 0, 4, 3))
		for i := range img.Pix {
			img.Pix[i] = color.GrayModel.Convert(f.c).(color.Gray).Y
		}
		png.Encode(out, img)
		out.Close()
	}
	os.WriteFile(filepath.Join(root, "dog", "broken.jpg"), []byte("not a JPEG"), 0o644)

	ds, err := data.OpenFolder(root, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ds.Classes(), ds.Len(), "images,", len(ds.Skipped()), "skipped:", filepath.Base(ds.Skipped()[0].Path))
	_, label, _ := ds.Item(2)
	fmt.Println("item 2 is a", ds.Classes()[label])
	// Output:
	// [cat dog] 3 images, 1 skipped: broken.jpg
	// item 2 is a dog
}

// Colour statistics for the PCA noise and the mean subtraction.
func ExampleComputeStats() {
	st, err := data.ComputeStats(context.Background(), tinyDataset(10), data.StatsOptions{})
	if err != nil {
		log.Fatal(err)
	}
	p := st.PCA
	fmt.Printf("mean %.4f, first principal component (%.3f %.3f %.3f) with λ %.2e, others %.0e\n",
		p.Mean[0], p.Eigenvectors[0][0], p.Eigenvectors[0][1], p.Eigenvectors[0][2], p.Eigenvalues[0], p.Eigenvalues[1])
	// Output:
	// mean 0.0176, first principal component (0.577 0.577 0.577) with λ 3.81e-04, others 0e+00
}
