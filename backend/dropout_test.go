package backend

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDropoutSeedAt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		seed   uint64
		offset int
	}{
		{"zero offset is the same seed", 7, 0},
		{"second replica of 16 rows of 4096", 0xdeadbeef, 16 * 4096},
		{"seed near wrap-around", ^uint64(0) - 3, 1001},
		{"large offset", 1, 1 << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DropoutSeedAt(tc.seed, tc.offset)
			for i := range 2000 {
				if DropoutBits(s, i) != DropoutBits(tc.seed, i+tc.offset) {
					t.Fatalf("element %d: bits %d under the shifted seed, %d at offset %d", i, DropoutBits(s, i), DropoutBits(tc.seed, i+tc.offset), tc.offset)
				}
			}
			if tc.offset != 0 {
				assert.NotEqual(t, tc.seed, s)
			}
		})
	}
}
