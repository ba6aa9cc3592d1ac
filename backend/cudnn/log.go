//go:build cudnn

// Routing cuDNN's own log (cudnnSetCallback) to a file or standard error.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// EnvLog names the environment variable that routes cuDNN's own log
// messages to standard error: "error", "warning" or "info" (each includes
// the ones before). cuDNN's callback is process-wide, so it is installed
// once, by the first Open that sees the variable.
const EnvLog = "DNNGO_CUDNN_LOG"

// logSink is the Go value cuDNN hands back to the callback as its user
// data, carried through C as a github.com/mattn/go-pointer token (C must
// not hold Go pointers).
type logSink struct {
	mu     sync.Mutex
	prefix string
}

var logOnce sync.Once

// installLog installs the cuDNN log callback when $DNNGO_CUDNN_LOG asks
// for it. A failure only costs the log, so it is reported there.
func installLog(c *C.dn_ctx) {
	level := strings.ToLower(os.Getenv(EnvLog))
	if level == "" {
		return
	}
	logOnce.Do(func() {
		mask := C.unsigned(1<<C.DN_CUDNN_SEV_FATAL | 1<<C.DN_CUDNN_SEV_ERROR)
		switch level {
		case "warning":
			mask |= 1 << C.DN_CUDNN_SEV_WARNING
		case "info":
			mask |= 1<<C.DN_CUDNN_SEV_WARNING | 1<<C.DN_CUDNN_SEV_INFO
		}
		udata := pointer.Save(&logSink{prefix: "cudnn"})
		if C.dn_set_log(c, mask, udata) != 0 {
			fmt.Fprintf(os.Stderr, "dnngo: cudnn: cannot install the log callback: %s\n", C.GoString(&c.err.msg[0]))
			pointer.Unref(udata)
		}
	})
}

//export dnngoCudnnLog
func dnngoCudnnLog(sev C.int, udata unsafe.Pointer, msg *C.char) {
	s, ok := pointer.Restore(udata).(*logSink)
	if !ok {
		return
	}
	name := [...]string{"fatal", "error", "warning", "info"}
	level := "?"
	if int(sev) >= 0 && int(sev) < len(name) {
		level = name[sev]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(os.Stderr, "%s %s: %s\n", s.prefix, level, strings.TrimSpace(C.GoString(msg)))
}
