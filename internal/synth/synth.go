// Package synth makes the random inputs that tests, examples and
// benchmarks feed a network or an op: normally distributed values and
// class labels, drawn from a caller's generator so runs repeat.
package synth

import "math/rand/v2"

// Normal returns n values drawn from N(0, scale²), as float32.
func Normal(r *rand.Rand, n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64() * scale)
	}
	return out
}

// Labels returns n class labels drawn uniformly from [0, classes).
func Labels(r *rand.Rand, n, classes int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(r.IntN(classes))
	}
	return out
}

// Batch returns a batch of n N(0,1) images of size values each and their
// labels in [0, classes): Normal, then Labels, from r.
func Batch(r *rand.Rand, n, size, classes int) ([]float32, []int32) {
	x := Normal(r, n*size, 1)
	return x, Labels(r, n, classes)
}
