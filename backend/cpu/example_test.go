package cpu_test

import (
	"fmt"

	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/cpu"
)

// Plan a convolution once, then run it: AlexNet's conv1 on one image.
func Example() {
	b, err := backend.Open("cpu")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	d := backend.ConvDesc{Input: backend.Shape{1, 3, 227, 227}, Out: 96, KernelH: 11, KernelW: 11,
		StrideH: 4, StrideW: 4, Groups: 1, Bias: true, ReLU: true}
	conv, err := b.Conv(d) // validated and planned once
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conv.Close()

	x, _ := b.NewTensor(d.Input...)
	w, _ := b.NewTensor(d.WeightShape()...)
	bias, _ := b.NewTensor(d.Out)
	y, _ := b.NewTensor(d.OutputShape()...)
	ones := make([]float32, d.Out)
	for i := range ones {
		ones[i] = 1
	}
	_ = b.Upload(bias, ones) // x and w stay zero: y = relu(0 + 1) = 1

	if err := conv.Forward(x, w, bias, y); err != nil { // executed many times, allocating nothing
		fmt.Println(err)
		return
	}
	out := make([]float32, y.Shape().Numel())
	_ = b.Download(out, y)
	fmt.Println(y.Shape(), out[0], d.FLOPs())
	// Output: [1 96 55 55] 1 210830400
}

// Errors name the op and the shapes, and wrap a sentinel for errors.Is.
func Example_errors() {
	b, _ := backend.Open("cpu")
	defer b.Close()
	_, err := b.Conv(backend.ConvDesc{Input: backend.Shape{1, 3, 8, 8}, Out: 4, KernelH: 3, KernelW: 3, StrideH: 0, StrideW: 1, Groups: 1})
	fmt.Println(err)
	relu, _ := b.ReLU(backend.Shape{2, 3})
	x, _ := b.NewTensor(2, 4)
	err = relu.Forward(x, x)
	fmt.Println(err)
	// Output:
	// dnngo: conv2d: conv2d(in [1 3 8 8], out 4, kernel 3x3, stride 0x1, pad 0x0, groups 1): stride 0x1, want ≥ 1
	// dnngo: relu.forward: x has shape [2 4], want [2 3]
}
