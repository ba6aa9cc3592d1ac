package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// ErrLocked is wrapped by the error of LockCheckpoint (and so of Run) when
// another process is training on the same checkpoint.
var ErrLocked = errors.New("checkpoint is locked by another training run")

// locks counts this process's holds on each checkpoint lock, by absolute
// path, so that LockCheckpoint calls in one process nest (the CLI locks
// before its preparations, Run again for the run).
var locks = struct {
	sync.Mutex
	held map[string]*heldLock
}{held: map[string]*heldLock{}}

type heldLock struct {
	f *os.File
	n int
}

// LockCheckpoint takes an exclusive lock on the checkpoint path for this
// process: an advisory lock (flock) on the file path+".lock", made if
// needed. A second process asking for it gets an error wrapping ErrLocked
// at once; the system releases the lock when the process ends, however it
// ends. Calls within one process nest; each must be paired with a call of
// the returned unlock, and the last one removes the lock file. On systems
// without flock the lock only nests within the process.
func LockCheckpoint(path string) (unlock func() error, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("train: lock %s: %w", path, err)
	}
	locks.Lock()
	defer locks.Unlock()
	if h, ok := locks.held[abs]; ok {
		h.n++
		return func() error { return release(abs) }, nil
	}
	lockPath := abs + ".lock"
	for {
		f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("train: lock %s: %w", path, err)
		}
		if err := flock(f); err != nil {
			f.Close()
			if errors.Is(err, ErrLocked) {
				return nil, fmt.Errorf("train: %s: %w (lock file %s): wait for it to end, or use another --checkpoint", path, ErrLocked, lockPath)
			}
			return nil, fmt.Errorf("train: lock %s: %w", lockPath, err)
		}
		// The holder before us may have removed the file between our open
		// and our lock: then we hold a lock on a file nobody else sees.
		if same, err := sameFile(f, lockPath); err != nil || !same {
			f.Close()
			continue
		}
		locks.held[abs] = &heldLock{f: f, n: 1}
		return func() error { return release(abs) }, nil
	}
}

func release(abs string) error {
	locks.Lock()
	defer locks.Unlock()
	h, ok := locks.held[abs]
	if !ok {
		return nil // released already
	}
	if h.n--; h.n > 0 {
		return nil
	}
	delete(locks.held, abs)
	// Remove while still holding the lock, then close (which unlocks).
	return errors.Join(os.Remove(abs+".lock"), h.f.Close())
}

func sameFile(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}
