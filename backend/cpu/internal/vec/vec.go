// Package vec holds the element-wise loops of the pure-Go backend that
// bound its memory-speed layers (LRN, max pooling, ReLU): AVX2 assembly on
// amd64, plain Go elsewhere and under the purego build tag. Every function
// takes slices of equal length (the first argument's length rules) and
// computes exactly what its Go version in vec_go.go computes, up to the
// rounding of a fused multiply-add.
package vec

// Functions without an assembly version, shared by every build.

// Copy is copy(dst, src) for symmetry with the rest of the package.
func Copy(dst, src []float32) { copy(dst, src) }
