package backend

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error a backend returns wraps one of them, so a
// caller can tell kinds apart with errors.Is.
var (
	// ErrShape: a tensor's shape is not the one the plan expects, or a
	// shape is malformed (wrong rank, a dimension < 1).
	ErrShape = errors.New("shape mismatch")
	// ErrInvalid: an op description or argument is out of range (stride 0,
	// padding larger than the kernel, a label outside [0, classes), ...).
	ErrInvalid = errors.New("invalid argument")
	// ErrClosed: a backend, tensor or plan was used after Close.
	ErrClosed = errors.New("use after close")
	// ErrForeign: a tensor made by another backend value was passed in.
	ErrForeign = errors.New("tensor from another backend")
	// ErrNil: a required tensor argument is nil.
	ErrNil = errors.New("nil tensor")
	// ErrState: a call came out of order, such as a Backward before any
	// Forward of the plan.
	ErrState = errors.New("out of order")
	// ErrMemory: an allocation would exceed the backend's memory budget
	// (Options.MemoryBudget); the message gives the bytes asked for and
	// the budget.
	ErrMemory = errors.New("over the memory budget")
	// ErrUnsupported: a valid description that this backend's library
	// cannot run (cuDNN's LRN window is at most 16 channels, for
	// instance); another backend may. Backend.Supports asks before
	// planning.
	ErrUnsupported = errors.New("not supported by this backend")
	// ErrLibrary: the vendor library reported a failure; the message
	// carries the vendor's own text.
	ErrLibrary = errors.New("library error")
	// ErrNotCompiled: the backend exists but this binary was built without
	// its build tag.
	ErrNotCompiled = errors.New("backend not compiled in")
	// ErrUnavailable: the backend is compiled in but cannot run on this
	// machine (no device, missing shared library, ...).
	ErrUnavailable = errors.New("backend unavailable")
	// ErrUnknown: no backend of that name exists.
	ErrUnknown = errors.New("unknown backend")
)

// OpError is the error every backend call returns: the op that failed, the
// kind of failure (one of the sentinel errors) and a message that says what
// was given and what was expected.
type OpError struct {
	Op   string // "conv2d.forward", "upload", "lrn", ...
	Kind error  // a sentinel such as ErrShape
	Msg  string // details: the shapes given and expected
	Err  error  // an underlying cause, if any (a vendor error)
}

// Error formats the error as "dnngo: op: message".
func (e *OpError) Error() string {
	s := "dnngo: " + e.Op + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the underlying cause, for errors.Is and
// errors.As.
func (e *OpError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// errorf returns an *OpError for op of the given kind with a formatted
// message. Drivers use driver.Errorf, the same.
func errorf(op string, kind error, format string, args ...any) error {
	return &OpError{Op: op, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
