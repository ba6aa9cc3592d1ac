package machine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// LoadSample is a reading of the CPU time the whole machine and this
// process have used, to tell how much of a measurement's time other
// processes took (OthersSince).
type LoadSample struct {
	At   time.Time
	Busy time.Duration // every CPU's non-idle time since boot (/proc/stat)
	Own  time.Duration // this process's user + system time (getrusage)
	CPUs int           // CPUs counted in Busy
}

// userHZ is the unit of /proc/stat: USER_HZ, 100 on every Linux
// architecture Go supports.
const userHZ = 100

// SampleLoad reads the machine's and this process's CPU time; an error
// where the system does not say (not Linux).
func SampleLoad() (LoadSample, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return LoadSample{}, err
	}
	defer f.Close()
	busy, cpus, err := parseProcStat(f)
	if err != nil {
		return LoadSample{}, err
	}
	own, err := ownCPUTime()
	if err != nil {
		return LoadSample{}, err
	}
	return LoadSample{At: time.Now(), Busy: busy, Own: own, CPUs: cpus}, nil
}

// OthersSince returns the part of the machine's CPU capacity (0–1, every
// CPU for the whole interval) that processes other than this one used
// between s0 and s: their busy time over wall time × CPUs.
func (s LoadSample) OthersSince(s0 LoadSample) float64 {
	wall := s.At.Sub(s0.At)
	if wall <= 0 || s.CPUs == 0 {
		return 0
	}
	others := (s.Busy - s0.Busy) - (s.Own - s0.Own)
	// /proc/stat counts in ticks of 1/USER_HZ and the two readings are not
	// taken at the instants of At: the ratio can stray past [0, 1] by a tick.
	return min(1, max(0, others.Seconds()/(wall.Seconds()*float64(s.CPUs))))
}

// parseProcStat returns the non-idle time of the "cpu" line of /proc/stat
// (user, nice, system, irq, softirq, steal; idle and iowait are not busy;
// guest time is already in user) and the number of "cpuN" lines.
func parseProcStat(r io.Reader) (time.Duration, int, error) {
	sc := bufio.NewScanner(r)
	var busy time.Duration
	found, cpus := false, 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			cpus++
			continue
		}
		if len(f) < 9 {
			return 0, 0, fmt.Errorf("machine: /proc/stat: cpu line %q: want at least 8 fields", sc.Text())
		}
		var ticks int64
		for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system [idle iowait] irq softirq steal
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("machine: /proc/stat: cpu line %q: %v", sc.Text(), err)
			}
			ticks += v
		}
		busy, found = time.Duration(ticks)*time.Second/userHZ, true
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if !found {
		return 0, 0, errors.New("machine: /proc/stat has no cpu line")
	}
	if cpus == 0 {
		cpus = runtime.NumCPU()
	}
	return busy, cpus, nil
}
