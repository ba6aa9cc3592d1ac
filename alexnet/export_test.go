package alexnet

import (
	"maps"
	"slices"

	"github.com/dnngo/dnngo/safetensors"
)

// HeaderChecksum exposes headerChecksum to the tests, which re-seal edited
// checkpoints to reach the checks behind it.
func HeaderChecksum(meta map[string]string, tensors []safetensors.TensorInfo) string {
	return headerChecksum(meta, tensors)
}

// BatchSizesHeld lists the batch sizes the network holds plans for, sorted.
func BatchSizesHeld(n *Network) []int {
	return slices.Sorted(maps.Keys(n.batches))
}
