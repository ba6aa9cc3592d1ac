//go:build !unix

package train

import "os"

// flock does nothing where there is no flock: the lock then only nests
// within the process (see LockCheckpoint).
func flock(*os.File) error { return nil }
