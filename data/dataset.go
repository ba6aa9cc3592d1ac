package data

import (
	"errors"
	"fmt"
	"hash/fnv"
	"image"
)

// Dataset is a labelled collection of images, indexed from 0 to Len()-1.
// Implementations must be safe for concurrent use: the [Loader] calls Item
// from several goroutines at once.
type Dataset interface {
	// Len is the number of items.
	Len() int
	// Item returns image i and its label, an index into Classes(). The
	// image may share memory with the dataset and must not be modified. A
	// corrupt or unreadable image gives an error that wraps [ErrBadImage]
	// (the loader skips such items); any other error is fatal.
	Item(i int) (image.Image, int, error)
	// Classes names the labels: Classes()[label].
	Classes() []string
}

// Identifier is implemented by datasets that can name their contents
// (where they come from and how many items they have). The name keys the
// cached colour statistics ([CachedStats]), so it must change when the
// contents do.
type Identifier interface {
	ID() string
}

// ErrBadImage is wrapped by errors for items whose image cannot be decoded.
var ErrBadImage = errors.New("corrupt or unreadable image")

// ImageError is the error for an image that cannot be read or decoded. It
// matches [ErrBadImage] and its cause with errors.Is.
type ImageError struct {
	Index int    // the item, or -1 for a file outside a dataset
	Path  string // the file
	Err   error  // the cause
}

// Error names the item, the file and the cause.
func (e *ImageError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("data: %s: %v: %v", e.Path, ErrBadImage, e.Err)
	}
	return fmt.Sprintf("data: item %d (%s): %v: %v", e.Index, e.Path, ErrBadImage, e.Err)
}

// Unwrap returns [ErrBadImage] and the cause.
func (e *ImageError) Unwrap() []error { return []error{ErrBadImage, e.Err} }

// checkIndex returns an error when i is outside [0, n).
func checkIndex(name string, i, n int) error {
	if i < 0 || i >= n {
		return fmt.Errorf("data: %s: item %d out of range [0, %d)", name, i, n)
	}
	return nil
}

// datasetID is the dataset's ID when it has one, otherwise a description
// from its size and classes.
func datasetID(ds Dataset) string {
	if id, ok := ds.(Identifier); ok {
		return id.ID()
	}
	h := fnv.New64a()
	for _, c := range ds.Classes() {
		fmt.Fprintf(h, "%q,", c)
	}
	return fmt.Sprintf("%T:len=%d:classes=%x", ds, ds.Len(), h.Sum64())
}

// Head returns the first n items of ds (all of them when n ≤ 0 or n ≥
// ds.Len()): the "use only the first N images" of a quick run.
func Head(ds Dataset, n int) Dataset {
	if n <= 0 || n >= ds.Len() {
		return ds
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return &subset{parent: ds, idx: idx, id: fmt.Sprintf("%s:head=%d", datasetID(ds), n)}
}

// Subset returns the items of ds at the given indices, in that order. It
// fails if an index is out of range.
func Subset(ds Dataset, indices []int) (Dataset, error) {
	h := fnv.New64a()
	for _, i := range indices {
		if err := checkIndex("subset", i, ds.Len()); err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%d,", i)
	}
	return &subset{
		parent: ds,
		idx:    append([]int(nil), indices...),
		id:     fmt.Sprintf("%s:subset=%d/%x", datasetID(ds), len(indices), h.Sum64()),
	}, nil
}

type subset struct {
	parent Dataset
	idx    []int
	id     string
}

func (s *subset) Len() int          { return len(s.idx) }
func (s *subset) Classes() []string { return s.parent.Classes() }
func (s *subset) ID() string        { return s.id }

func (s *subset) Item(i int) (image.Image, int, error) {
	if err := checkIndex("subset", i, len(s.idx)); err != nil {
		return nil, 0, err
	}
	return s.parent.Item(s.idx[i])
}
