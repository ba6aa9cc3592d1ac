package machine

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProcStat(t *testing.T) {
	const stat = "cpu  56016 2151 15750 100056 748 0 170 35 0 0\ncpu0 27340 1035 7514 51366 96 0 25 16 0 0\ncpu1 28676 1116 8236 48689 651 0 144 18 0 0\nintr 1 2\n"
	busy, cpus, err := parseProcStat(strings.NewReader(stat))
	require.NoError(t, err)
	assert.Equal(t, 2, cpus)
	assert.Equal(t, time.Duration(56016+2151+15750+0+170+35)*10*time.Millisecond, busy, "user+nice+system+irq+softirq+steal, not idle or iowait")
	for name, bad := range map[string]string{
		"no cpu line": "intr 1 2\n",
		"short line":  "cpu 1 2 3\n",
		"not numbers": "cpu a b c d e f g h\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := parseProcStat(strings.NewReader(bad))
			assert.Error(t, err)
		})
	}
}

func TestOthersSince(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s0 := LoadSample{At: t0, Busy: 10 * time.Second, Own: 2 * time.Second, CPUs: 2}
	for _, tc := range []struct {
		name      string
		busy, own time.Duration
		wall      time.Duration
		want      float64
	}{
		{"all ours", 12 * time.Second, 4 * time.Second, time.Second, 0},
		{"one other CPU busy half the time", 13 * time.Second, 4 * time.Second, 2 * time.Second, 0.25},
		{"rounding below zero is zero", 11 * time.Second, 3100 * time.Millisecond, time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := LoadSample{At: t0.Add(tc.wall), Busy: tc.busy, Own: tc.own, CPUs: 2}
			assert.InDelta(t, tc.want, s.OthersSince(s0), 1e-12)
		})
	}
}

// TestSampleLoadSeesABusyProcess: a child process spinning for the whole
// interval shows as other processes' load of at least half a CPU.
func TestSampleLoadSeesABusyProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/stat is Linux's")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(sh, "-c", "while :; do :; done")
	require.NoError(t, cmd.Start())
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	time.Sleep(50 * time.Millisecond)
	s0, err := SampleLoad()
	require.NoError(t, err)
	time.Sleep(600 * time.Millisecond)
	s, err := SampleLoad()
	require.NoError(t, err)
	got := s.OthersSince(s0) * float64(s.CPUs)
	assert.Greater(t, got, 0.5, "CPUs' worth used by others while a child spins")
	assert.LessOrEqual(t, s.OthersSince(s0), 1.0)
}
