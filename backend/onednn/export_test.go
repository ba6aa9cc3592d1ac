//go:build onednn

package onednn

// SetHasBF16 replaces the CPU feature check of BF16 for a test; the
// returned function restores it.
func SetHasBF16(v bool) (restore func()) {
	old := hasBF16
	hasBF16 = func() bool { return v }
	return func() { hasBF16 = old }
}

// HasBF16 is the real check.
func HasBF16() bool { return hasBF16() }

// RanOn is the OS thread id that ran b's last primitive or parallel loop.
func RanOn(b *Backend) int64 { return b.ranOn() }
