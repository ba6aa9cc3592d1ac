//go:build unix

package machine

import (
	"syscall"
	"time"
)

// ownCPUTime is this process's user + system CPU time, every thread.
func ownCPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
