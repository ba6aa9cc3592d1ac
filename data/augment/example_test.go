package augment_test

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"

	"github.com/dnngo/dnngo/data/augment"
)

// The paper's training pipeline at the small network's sizes, run on one
// decoded image: the output is one item's slot of an NCHW batch.
func ExamplePaperTrain() {
	src := image.NewRGBA(image.Rect(0, 0, 160, 120)) // any decoded image
	pca, _ := augment.NewPCA([3]float64{0.5, 0.5, 0.5}, [3][3]float64{{0.06, 0.05, 0.05}, {0.05, 0.06, 0.05}, {0.05, 0.05, 0.06}})

	p := augment.PaperTrain(113, 99, pca)
	views, c, h, w, err := p.Shape()
	if err != nil {
		panic(err)
	}
	fmt.Println(p)
	fmt.Println("output:", views, c, h, w)

	dst := make([]float32, views*c*h*w)
	rng := rand.New(rand.NewPCG(1, 2)) // one generator per item makes it reproducible
	var scratch augment.Scratch        // one per goroutine
	if err := p.Process(dst, src, rng, &scratch); err != nil {
		panic(err)
	}
	// Output:
	// shorter side 113, centre 113×113 → random crop 99×99 → horizontal flip p=0.5 → PCA colour noise std=0.1 → subtract mean (0.5, 0.5, 0.5)
	// output: 1 3 99 99
}

// Ten views of an image for the paper's test-time averaging.
func ExampleTenCrop() {
	img := augment.NewImage(3, 3, 5)
	for x := range 5 {
		img.Set(0, 0, x, float32(x)) // red channel of row 0: 0 1 2 3 4
	}
	views, _ := augment.TenCropImages(img, 2, 3)
	for v, m := range views {
		fmt.Print(v, ":", m.Pix[:3], " ")
	}
	fmt.Println()
	// Output:
	// 0:[0 1 2] 1:[2 3 4] 2:[0 0 0] 3:[0 0 0] 4:[1 2 3] 5:[2 1 0] 6:[4 3 2] 7:[0 0 0] 8:[0 0 0] 9:[3 2 1]
}

// Steps compose: here a crop and a flip with a fixed generator.
func ExampleStep() {
	img := augment.NewImage(3, 3, 3)
	for y := range 3 {
		for x := range 3 {
			img.Set(0, y, x, float32(10*y+x))
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, s := range []augment.Step{augment.CenterCrop{H: 2, W: 2}, augment.Flip{P: 1}} {
		if err := s.Apply(img, rng); err != nil {
			panic(err)
		}
	}
	fmt.Println(img.H, img.W, img.Pix[:4])
	// Output: 2 2 [1 0 11 10]
}

// Fashion-MNIST's 28×28 grey images are resized to the network input and
// become three equal channels.
func ExampleResize() {
	g := image.NewGray(image.Rect(0, 0, 28, 28))
	g.SetGray(0, 0, color.Gray{Y: 255})
	m, err := augment.Resize{Width: 227, Height: 227}.Apply(nil, g, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.C, m.H, m.W, m.At(0, 0, 0) == m.At(2, 0, 0))
	// Output: 3 227 227 true
}
