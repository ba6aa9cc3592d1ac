package alexnet

import "fmt"

// Memory is an estimate, in bytes of float32 values, of what a network
// of a config holds: the parameters, and per image of a batch size the
// activations (and, for training, their gradients). A network keeps the
// buffers of every batch size it has run (Forward plans each size once),
// so sizes add up.
//
// The factors are calibrated on the cpu backend (maximum resident set of
// "alexnet bench --backends cpu" on SeedConfig(), 2 vCPU Xeon, batches 16 and
// 32: 6.7 MB per image forward, 8.8 MB per image training; 506 MB and
// 851 MB at batch 0) and round up: 2 copies of the parameters for
// inference (the weights and a backend's packed copy), 4 for training
// (with the gradients and the momentum), 1 activation tensor per value of
// the summary's accounting plus the input per image for a forward pass,
// 1.5 for a training step.
type Memory struct {
	Params          int64 // weights and biases, bytes
	Inference       int64 // what the parameters take in a network that only predicts
	Training        int64 // ... in one that trains: gradients and momentum too
	PerImage        int64 // per image of a forward-only batch size
	PerImageTrained int64 // per image of a batch size that trains
}

// Memory estimates what a network of the summary's config holds.
func (s Summary) Memory() Memory {
	p := 4 * (s.Weights + s.Biases)
	img := 4 * (s.Activations + int64(s.Input.Numel()))
	return Memory{Params: p, Inference: 2 * p, Training: 4 * p, PerImage: img, PerImageTrained: img * 3 / 2}
}

// Need is the estimate for a network that runs forward passes at the
// sizes in forward and training steps at the sizes in train (a size in
// both counts once, as a training size).
func (m Memory) Need(forward, train []int) int64 {
	need := m.Inference
	if len(train) > 0 {
		need = m.Training
	}
	seen := map[int]bool{}
	for _, n := range train {
		if !seen[n] {
			seen[n] = true
			need += int64(n) * m.PerImageTrained
		}
	}
	for _, n := range forward {
		if !seen[n] {
			seen[n] = true
			need += int64(n) * m.PerImage
		}
	}
	return need
}

// GB formats a byte count in gigabytes (10⁹) with 2 significant decimals
// below 10 GB.
func GB(bytes int64) string {
	g := float64(bytes) / 1e9
	if g < 10 {
		return fmt.Sprintf("%.2f GB", g)
	}
	return fmt.Sprintf("%.0f GB", g)
}
