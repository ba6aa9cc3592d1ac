//go:build !unix

package machine

import (
	"errors"
	"time"
)

func ownCPUTime() (time.Duration, error) {
	return 0, errors.New("machine: the process's CPU time is not known on this system")
}
