package backend

import (
	"strconv"
	"strings"
)

// MaxRank is the largest number of dimensions a tensor may have.
const MaxRank = 4

// Shape is a tensor's logical shape, outermost dimension first.
type Shape []int

// Numel is the number of elements, the product of the dimensions (1 for an
// empty shape).
func (s Shape) Numel() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and o have the same dimensions.
func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

// Clone returns a copy of s that shares no memory with it.
func (s Shape) Clone() Shape {
	return append(Shape(nil), s...)
}

// String formats s as [2 96 55 55].
func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// Validate checks that s is a usable tensor shape: 1 to MaxRank
// dimensions, each at least 1, and an element count that fits in an int32
// index (what every vendor library accepts).
func (s Shape) Validate() error {
	if len(s) == 0 || len(s) > MaxRank {
		return errorf("tensor", ErrShape, "shape %v has %d dimensions, want 1 to %d", s, len(s), MaxRank)
	}
	n := int64(1)
	for _, d := range s {
		if d < 1 {
			return errorf("tensor", ErrShape, "shape %v has a dimension < 1", s)
		}
		n *= int64(d)
		if n > 1<<31-1 {
			return errorf("tensor", ErrShape, "shape %v has more than 2^31-1 elements", s)
		}
	}
	return nil
}

// validateRank checks that s is a valid shape of the given rank for op.
func validateRank(op, arg string, s Shape, rank int) error {
	if len(s) != rank {
		return errorf(op, ErrShape, "%s shape %v has rank %d, want %d", arg, s, len(s), rank)
	}
	if err := s.Validate(); err != nil {
		return errorf(op, ErrShape, "%s shape %v: every dimension must be ≥ 1", arg, s)
	}
	return nil
}
