//go:build onednn

package onednn_test

import (
	"fmt"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/onednn"
)

// Open the backend, plan a convolution with a fused bias and ReLU, and run
// it: oneDNN picks a blocked layout for x and w on first use, and Download
// reorders y back to NCHW.
func Example() {
	b, err := onednn.Open(backend.Options{Threads: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	d := backend.ConvDesc{Input: backend.Shape{1, 1, 3, 3}, Out: 1, KernelH: 2, KernelW: 2, StrideH: 1, StrideW: 1,
		Groups: 1, Bias: true, ReLU: true}
	conv, err := b.Conv(d)
	if err != nil {
		fmt.Println(err)
		return
	}
	x, _ := b.NewTensor(d.Input...)
	w, _ := b.NewTensor(d.WeightShape()...)
	bias, _ := b.NewTensor(d.Out)
	y, _ := b.NewTensor(d.OutputShape()...)
	_ = b.Upload(x, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	_ = b.Upload(w, []float32{1, 0, 0, -1}) // x[i][j] - x[i+1][j+1]
	_ = b.Upload(bias, []float32{5})
	if err := conv.Forward(x, w, bias, y); err != nil {
		fmt.Println(err)
		return
	}
	out := make([]float32, d.OutputShape().Numel())
	if err := b.Download(out, y); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.OutputShape(), out)
	// Output: [1 1 2 2] [1 1 1 1]
}
