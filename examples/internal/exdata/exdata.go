// Package exdata gives the example programs images without a download:
// Fashion-MNIST where the Debian package dataset-fashion-mnist has put it,
// otherwise synthetic images, and says which.
package exdata

import (
	"fmt"
	"image"
	"math/rand/v2"

	"github.com/dnngo/dnngo/data"
)

// Open returns up to n training and up to m test images (0: all) and a
// line saying where they come from: Fashion-MNIST in dir, or, when dir
// does not hold it, synthetic bars.
func Open(dir string, n, m int) (trainSet, testSet data.Dataset, source string) {
	tr, err := data.OpenFashionMNIST(dir, data.Train)
	if err == nil {
		var te *data.IDXDataset
		if te, err = data.OpenFashionMNIST(dir, data.Test); err == nil {
			trainSet, testSet = tr, te
			source = fmt.Sprintf("Fashion-MNIST from %s", dir)
		}
	}
	if trainSet == nil {
		trainSet, testSet = Bars{N: 60000, Seed: 1}, Bars{N: 10000, Seed: 2}
		source = fmt.Sprintf("synthetic images (ten classes of bars): Fashion-MNIST is not in %s "+
			"(Debian: apt-get install dataset-fashion-mnist)", dir)
	}
	if n > 0 {
		trainSet = data.Head(trainSet, n)
	}
	if m > 0 {
		testSet = data.Head(testSet, m)
	}
	return trainSet, testSet, source
}

// Bars is a synthetic ten-class dataset of 28×28 grey images: class k is
// a bright horizontal bar in the k-th tenth of the image, on noise. Item i
// is a function of (Seed, i).
type Bars struct {
	N    int
	Seed uint64
}

// Len implements data.Dataset.
func (b Bars) Len() int { return b.N }

// Classes implements data.Dataset.
func (b Bars) Classes() []string {
	return []string{"bar 0", "bar 1", "bar 2", "bar 3", "bar 4", "bar 5", "bar 6", "bar 7", "bar 8", "bar 9"}
}

// Item implements data.Dataset.
func (b Bars) Item(i int) (image.Image, int, error) {
	if i < 0 || i >= b.N {
		return nil, 0, fmt.Errorf("exdata: item %d of %d", i, b.N)
	}
	r := rand.New(rand.NewPCG(b.Seed, uint64(i)))
	label := r.IntN(10)
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := range 28 {
		bar := y*10/28 == label
		for x := range 28 {
			v := 20 + r.IntN(60)
			if bar {
				v += 150
			}
			img.Pix[y*img.Stride+x] = uint8(v)
		}
	}
	return img, label, nil
}
