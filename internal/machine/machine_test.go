package machine

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDetect(t *testing.T) {
	c := Detect()
	t.Logf("%v; peak %.0f GFLOP/s (%s)", c, c.PeakGFLOPS(), c.Method())
	require.NotEmpty(t, c.Model)
	assert.Equal(t, runtime.GOMAXPROCS(0), c.Logical)
	assert.GreaterOrEqual(t, c.Cores, 1)
	assert.LessOrEqual(t, c.Cores, c.Logical)
	if haveClockLoop {
		// Any machine that runs this test clocks between 0.5 and 7 GHz.
		assert.Greater(t, c.ClockGHz, 0.5)
		assert.Less(t, c.ClockGHz, 7.0)
		assert.Greater(t, c.PeakGFLOPS(), 0.0)
	}
}

func TestPeakFormula(t *testing.T) {
	c := CPU{Cores: 2, FMALanes: 16, ClockGHz: 3.0}
	assert.InDelta(t, 192.0, c.PeakGFLOPS(), 1e-9) // 2 cores × 2 FMA pipes × 8 lanes × 2 FLOP × 3 GHz
	assert.Contains(t, c.Method(), "estimate")
}

func TestParseMemAvailable(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       int64
		err        string
	}{
		{"linux", "MemTotal:       24000000 kB\nMemFree:        1000 kB\nMemAvailable:   23000000 kB\n", 23000000 * 1024, ""},
		{"missing", "MemTotal:       24000000 kB\n", 0, "no MemAvailable line"},
		{"bad unit", "MemAvailable:   23000000 MB\n", 0, `want "<n> kB"`},
		{"bad number", "MemAvailable:   lots kB\n", 0, "MemAvailable line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMemAvailable(strings.NewReader(tc.text))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
