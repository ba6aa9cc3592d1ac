// Package layers lists the layers of the Seed AlexNet at a batch size, one
// entry per golden case (conv1, relu1, lrn1, …, fc8), derived from the one
// description of the network, alexnet.Config.Ops. Benchmarks, the
// conformance suite and examples/layer walk it.
package layers

import (
	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
)

// Layer is one layer of the Seed AlexNet at batch N.
type Layer struct {
	Name  string
	Conv  *backend.ConvDesc
	Lin   *backend.LinearDesc
	LRN   *backend.LRNDesc
	Pool  *backend.PoolDesc
	ReLU  backend.Shape // non-nil for the stand-alone ReLU layer
	Input backend.Shape
}

// Weight is the layer's weight op, *Conv or *Lin, as a WeightDesc; nil for
// a layer without weights.
func (l Layer) Weight() backend.WeightDesc {
	switch {
	case l.Conv != nil:
		return *l.Conv
	case l.Lin != nil:
		return *l.Lin
	}
	return nil
}

// AlexNet lists the layers of the single-tower AlexNet (227×227
// input, 96-256-384-384-256 convolutions, 4096-4096-1000 FC, LRN with the
// paper's constants) at batch n, with bias and ReLU fused into the
// convolutions and hidden FC layers as a network would plan them.
func AlexNet(n int) []Layer {
	ops, err := alexnet.SeedConfig().Ops(n)
	if err != nil {
		panic("layers: the Seed network's ops: " + err.Error()) // a fixed, valid config: a bug
	}
	var layers []Layer
	for _, op := range ops {
		switch d := op.Desc.(type) {
		case backend.ConvDesc:
			layers = append(layers, Layer{Name: op.Name, Conv: &d, Input: d.Input})
			if op.Name == "conv1" { // the goldens also check a stand-alone ReLU, on conv1's output
				out := d.OutputShape()
				layers = append(layers, Layer{Name: "relu1", ReLU: out, Input: out})
			}
		case backend.LinearDesc:
			layers = append(layers, Layer{Name: op.Name, Lin: &d, Input: d.Input})
		case backend.LRNDesc:
			layers = append(layers, Layer{Name: op.Name, LRN: &d, Input: d.Input})
		case backend.PoolDesc:
			layers = append(layers, Layer{Name: op.Name, Pool: &d, Input: d.Input})
		}
	}
	return layers
}
