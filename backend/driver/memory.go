package driver

import (
	"fmt"
	"math"

	"github.com/dnngo/dnngo/backend"
)

// Memory accounts for the bytes a driver holds (tensors, scratch arenas,
// per-plan buffers) against its memory budget, so that a request the
// machine cannot satisfy is an error with the byte count instead of a
// fatal "out of memory" from the Go runtime or a crash inside C. A driver
// calls Reserve before it allocates and Release when it frees. The zero
// value has no budget (everything fits). Like the backend that owns it, it
// is not safe for concurrent use.
type Memory struct {
	budget   int64 // 0: unlimited
	used     int64
	external int64 // held outside the account, e.g. a C library's arena
}

// NewMemory returns an account with the given budget in bytes (≤ 0: no
// limit).
func NewMemory(budget int64) *Memory { return &Memory{budget: max(budget, 0)} }

// Budget is the limit in bytes (0: none).
func (m *Memory) Budget() int64 { return m.budget }

// Used is the number of bytes currently reserved.
func (m *Memory) Used() int64 { return m.used }

// SetExternal records bytes the backend holds outside the account (memory
// a C library allocated, such as a scratchpad arena), which count against
// the budget too.
func (m *Memory) SetExternal(bytes int64) { m.external = max(bytes, 0) }

// Room is the number of bytes still free under the budget (MaxInt64 when
// there is none).
func (m *Memory) Room() int64 {
	if m.budget == 0 {
		return math.MaxInt64
	}
	return max(m.budget-m.used-m.external, 0)
}

// Fits reports whether bytes more would stay within the budget.
func (m *Memory) Fits(bytes int64) bool { return bytes >= 0 && bytes <= m.Room() }

// Reserve accounts for bytes more, or returns an ErrMemory error for op
// naming what needed them, the byte count and the budget.
func (m *Memory) Reserve(op, what string, bytes int64) error {
	if !m.Fits(bytes) {
		return Errorf(op, backend.ErrMemory, "%s needs %d bytes (%s), but only %d of the backend's memory budget of %d bytes are left (Options.MemoryBudget)",
			what, bytes, human(bytes), m.Room(), m.budget)
	}
	m.used += bytes
	return nil
}

// Release gives back bytes reserved earlier.
func (m *Memory) Release(bytes int64) { m.used = max(m.used-bytes, 0) }

// Float32Bytes is the size in bytes of n float32 values, or an ErrInvalid
// error for op if that overflows int64.
func Float32Bytes(op string, n int64) (int64, error) {
	if n < 0 || n > math.MaxInt64/4 {
		return 0, Errorf(op, backend.ErrInvalid, "%d float32 values do not fit in an int64 byte count", n)
	}
	return 4 * n, nil
}

func human(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
}
