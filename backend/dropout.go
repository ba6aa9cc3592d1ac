package backend

// DropoutKeep reports whether element i (its row-major index in the
// tensor's logical shape) survives dropout with probability p under seed.
// Every backend draws its masks with this function (or a bit-identical
// version of it in its own language), so the same seed gives the same mask
// on every backend and a training run can be compared across backends.
//
// The draw is counter-based: the 64-bit finaliser of SplitMix64 applied to
// seed + (i+1)·0x9E3779B97F4A7C15, whose top 24 bits are compared with
// DropoutThreshold(p).
func DropoutKeep(seed uint64, i int, p float64) bool {
	return DropoutBits(seed, i) >= DropoutThreshold(p)
}

// DropoutBits is the 24-bit uniform draw for element i under seed.
func DropoutBits(seed uint64, i int) uint32 {
	x := seed + uint64(i+1)*0x9E3779B97F4A7C15
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return uint32(x >> 40)
}

// DropoutThreshold is the 24-bit threshold below which a draw is dropped:
// round(p·2^24).
func DropoutThreshold(p float64) uint32 {
	return uint32(p*(1<<24) + 0.5)
}

// DropoutSeedAt returns the seed whose mask starts where seed's mask is at
// element offset: DropoutBits(DropoutSeedAt(seed, offset), i) equals
// DropoutBits(seed, i+offset) for every i. Data-parallel training uses it
// so that a replica holding rows [r·B, (r+1)·B) of a global batch draws,
// through any backend's Dropout, exactly the mask those rows have in one
// process running the whole batch (offset = r·B·features).
func DropoutSeedAt(seed uint64, offset int) uint64 {
	return seed + uint64(offset)*0x9E3779B97F4A7C15
}
