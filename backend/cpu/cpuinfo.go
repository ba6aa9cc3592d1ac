package cpu

import (
	"bufio"
	"os"
	"strings"
)

// readCPUModel returns the "model name" line of /proc/cpuinfo, or "" where
// there is none.
func readCPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return v
		}
	}
	return ""
}
