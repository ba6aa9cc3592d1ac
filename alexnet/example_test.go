package alexnet_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all"
	"github.com/dnngo/dnngo/internal/synth"
)

// randomBatch makes n N(0,1) images for net and labels in [0, classes).
func randomBatch(net *alexnet.Network, n int) ([]float32, []int32) {
	return synth.Batch(rand.New(rand.NewPCG(1, 2)), n, net.InputSize(), net.Config().Classes)
}

// A whole use of the network: build it on the fastest backend, train on a
// batch, predict, save a checkpoint and load it. The README quotes this.
func Example() {
	b, err := backend.Best() // cudnn > onednn > cpu: the first compiled in that opens here
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close() // net.Close releases the network's tensors, not the backend

	net, err := alexnet.New(b, alexnet.Mini()) // or alexnet.SeedConfig(), alexnet.Paper(), any edited Config
	if err != nil {
		log.Fatal(err)
	}
	defer net.Close()
	fmt.Print(net) // the layer table, computed from the config

	const batch = 4
	x := make([]float32, batch*net.InputSize()) // NCHW float32: 4 images of 3×99×99
	labels := make([]int32, batch)              // one class per image, in [0, net.Classes())
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	for i := range labels {
		labels[i] = int32(i % net.Classes())
	}

	loss, err := net.TrainStep(x, labels) // forward (with dropout), loss, backward, SGD step
	if err != nil {
		log.Fatal(err)
	}
	if err := net.Optimizer().SetLR(0.005); err != nil { // any step; or net.Optimizer().Observe(valErr): ÷10 on a plateau
		log.Fatal(err)
	}
	probs, err := net.Predict(x) // softmax probabilities, [batch, net.Classes()]
	if err != nil {
		log.Fatal(err)
	}
	k := net.Classes()
	for i := range batch {
		top := alexnet.TopK(probs[i*k:(i+1)*k], 3) // image i's three most probable classes
		fmt.Println("image", i, "top 3:", len(top), "ordered:", top[0].Prob >= top[1].Prob && top[1].Prob >= top[2].Prob)
	}

	dir, err := os.MkdirTemp("", "alexnet")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mini.safetensors")
	if err := net.Save(path); err != nil { // atomic; alexnet.Load on any backend resumes exactly
		log.Fatal(err)
	}
	again, err := alexnet.Load(b, path)
	if err != nil {
		log.Fatal(err)
	}
	defer again.Close()
	fmt.Println("loss > 0:", loss > 0, "loaded:", again.Config().Name, "after", again.Steps(), "step, lr", again.Optimizer().LR())
	// Output:
	// AlexNet "mini": input 3×99×99, 10 classes, LRN n=5 α=0.0001 β=0.75 k=2 (α/n convention), dropout 0, init kaiming, SGD pytorch
	// layer  op                                           output       size     activations  weight shape        weights   biases      MACs/image
	// input                                               3×99×99        99
	// conv1  conv 11x11/4 pad 0, 16 filters + ReLU + LRN  16×23×23       23        8,464 ×3  11×11×3×16            5,808       16       3,072,432
	// pool1  maxpool 3x3/2                                16×11×11       11        1,936 ×1
	// conv2  conv 5x5/1 pad 2, 32 filters + ReLU + LRN    32×11×11       11        3,872 ×3  5×5×16×32            12,800       32       1,548,800
	// pool2  maxpool 3x3/2                                32×5×5          5          800 ×1
	// conv3  conv 3x3/1 pad 1, 48 filters + ReLU          48×5×5          5        1,200 ×2  3×3×32×48            13,824       48         345,600
	// conv4  conv 3x3/1 pad 1, 48 filters + ReLU          48×5×5          5        1,200 ×2  3×3×48×48            20,736       48         518,400
	// conv5  conv 3x3/1 pad 1, 32 filters + ReLU          32×5×5          5          800 ×2  3×3×48×32            13,824       32         345,600
	// pool5  maxpool 3x3/2                                32×2×2          2          128 ×1
	// fc6    FC 128→64 + ReLU (no dropout)                64                          64 ×2  64×128                8,192       64           8,192
	// fc7    FC 64→64 + ReLU (no dropout)                 64                          64 ×2  64×64                 4,096       64           4,096
	// fc8    FC 64→10 (logits)                            10                          10 ×1  10×64                   640       10             640
	// total: 79,920 weights (0.08 M), 80,234 with biases; forward 5,843,760 multiply-adds per image (0.006 G MACs, 0.01 GFLOP)
	// activations: 46,538 values per image (0.05 M, 0.2 MB as float32; the 29,403-value input not counted)
	// image 0 top 3: 3 ordered: true
	// image 1 top 3: 3 ordered: true
	// image 2 top 3: 3 ordered: true
	// image 3 top 3: 3 ordered: true
	// loss > 0: true loaded: mini after 1 step, lr 0.005
}

// Build a network on a backend. backend.Best would pick the fastest one
// compiled in; the examples use the pure-Go one.
func ExampleNew() {
	b, err := backend.Open("cpu")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	cfg := alexnet.Mini() // alexnet.SeedConfig() is the full network of the spec
	cfg.Init = alexnet.InitKaiming
	net, err := alexnet.New(b, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer net.Close()
	fmt.Println(net.ParamNames()[:4], net.InputSize())

	cfg.Conv[2].Out = 0 // a config that does not fit is rejected, naming the layer
	_, err = alexnet.New(b, cfg)
	fmt.Println(err)
	// Output:
	// [conv1.weight conv1.bias conv2.weight conv2.bias] 29403
	// alexnet: config mini: conv3: 0 filters, want 1 to 1048576
}

// The layer table of the spec's network, computed from its config.
func ExampleConfig_Summary() {
	s, err := alexnet.SeedConfig().Summary()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(s)
	// Output:
	// AlexNet "seed": input 3×227×227, 1000 classes, LRN n=5 α=0.0005 β=0.75 k=2 (α/n convention), dropout 0.5, init paper, SGD pytorch
	// layer  op                                           output       size     activations  weight shape        weights   biases      MACs/image
	// input                                               3×227×227     227
	// conv1  conv 11x11/4 pad 0, 96 filters + ReLU + LRN  96×55×55       55      290,400 ×3  11×11×3×96           34,848       96     105,415,200
	// pool1  maxpool 3x3/2                                96×27×27       27       69,984 ×1
	// conv2  conv 5x5/1 pad 2, 256 filters + ReLU + LRN   256×27×27      27      186,624 ×3  5×5×96×256          614,400      256     447,897,600
	// pool2  maxpool 3x3/2                                256×13×13      13       43,264 ×1
	// conv3  conv 3x3/1 pad 1, 384 filters + ReLU         384×13×13      13       64,896 ×2  3×3×256×384         884,736      384     149,520,384
	// conv4  conv 3x3/1 pad 1, 384 filters + ReLU         384×13×13      13       64,896 ×2  3×3×384×384       1,327,104      384     224,280,576
	// conv5  conv 3x3/1 pad 1, 256 filters + ReLU         256×13×13      13       43,264 ×2  3×3×384×256         884,736      256     149,520,384
	// pool5  maxpool 3x3/2                                256×6×6         6        9,216 ×1
	// fc6    FC 9216→4096 + ReLU + dropout 0.5            4096                     4,096 ×3  4096×9216        37,748,736    4,096      37,748,736
	// fc7    FC 4096→4096 + ReLU + dropout 0.5            4096                     4,096 ×3  4096×4096        16,777,216    4,096      16,777,216
	// fc8    FC 4096→1000 (logits)                        1000                     1,000 ×1  1000×4096         4,096,000    1,000       4,096,000
	// total: 62,367,776 weights (62.37 M), 62,378,344 with biases; forward 1,135,256,096 multiply-adds per image (1.135 G MACs, 2.27 GFLOP)
	// activations: 1,925,224 values per image (1.93 M, 7.7 MB as float32; the 154,587-value input not counted)
	// note: the spec states 2.24 M; its ×3 (conv+ReLU+LRN), ×2 (conv+ReLU), ×3 (FC+ReLU+dropout) accounting with the pools and fc8 counted once gives 1.93 M here, and no way of counting the pools, fc8 or the input reaches 2.24 M
}

// Training steps on one batch: forward in Train mode, loss, backward, SGD.
func ExampleNetwork_TrainStep() {
	b, _ := backend.Open("cpu")
	defer b.Close()
	net, err := alexnet.New(b, alexnet.Mini())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer net.Close()
	x, labels := randomBatch(net, 4)

	first, err := net.TrainStep(x, labels)
	if err != nil {
		fmt.Println(err)
		return
	}
	net.Optimizer().SetLR(0.005) // the learning rate may change at any step
	var last float32
	for range 10 {
		if last, err = net.TrainStep(x, labels); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("steps:", net.Steps(), "lr:", net.Optimizer().LR(), "loss fell:", last < first/2)
	// Output: steps: 11 lr: 0.005 loss fell: true
}

// Class probabilities and the most probable classes of each image.
func ExampleNetwork_Predict() {
	b, _ := backend.Open("cpu")
	defer b.Close()
	net, err := alexnet.New(b, alexnet.Mini())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer net.Close()
	x, _ := randomBatch(net, 2)

	probs, err := net.Predict(x) // [2, 10], each row sums to 1
	if err != nil {
		fmt.Println(err)
		return
	}
	classes := net.Config().Classes
	for i := range 2 {
		row := probs[i*classes : (i+1)*classes]
		var sum float32
		for _, p := range row {
			sum += p
		}
		top := alexnet.TopK(row, 3)
		fmt.Printf("image %d: %d classes, sum %.3f, top 3 ordered: %v\n", i, len(row), sum,
			top[0].Prob >= top[1].Prob && top[1].Prob >= top[2].Prob)
	}
	// Output:
	// image 0: 10 classes, sum 1.000, top 3 ordered: true
	// image 1: 10 classes, sum 1.000, top 3 ordered: true
}

func ExampleTopK() {
	probs := []float32{0.05, 0.6, 0.1, 0.25}
	for _, p := range alexnet.TopK(probs, 2) {
		fmt.Printf("class %d: %.2f\n", p.Class, p.Prob)
	}
	// Output:
	// class 1: 0.60
	// class 3: 0.25
}

// Save a checkpoint and resume from it, possibly on another backend.
func ExampleLoad() {
	b, _ := backend.Open("cpu")
	defer b.Close()
	net, _ := alexnet.New(b, alexnet.Mini())
	defer net.Close()
	x, labels := randomBatch(net, 2)
	net.TrainStep(x, labels)

	dir, _ := os.MkdirTemp("", "alexnet")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mini.safetensors")
	if err := net.Save(path); err != nil { // atomic: temp file, fsync, rename
		fmt.Println(err)
		return
	}
	resumed, err := alexnet.Load(b, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resumed.Close()
	fmt.Println(resumed.Config().Name, "after", resumed.Steps(), "step, lr", resumed.Optimizer().LR())
	// Output: mini after 1 step, lr 0.01
}
