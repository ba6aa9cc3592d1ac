package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// idxBytes encodes an unsigned-byte IDX file.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gzipBytes(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// writeFashion writes a small Fashion-MNIST-shaped split (n 28×28 images,
// image i filled with byte i, label i%10) into dir.
func writeFashion(t testing.TB, dir string, s Split, n int, gz bool) {
	t.Helper()
	pix := make([]byte, n*28*28)
	labels := make([]byte, n)
	for i := range n {
		for k := range 28 * 28 {
			pix[i*28*28+k] = byte(i)
		}
		labels[i] = byte(i % 10)
	}
	imgName, lblName := FashionMNISTFiles(s)
	for _, f := range []struct {
		name string
		raw  []byte
	}{{imgName, idxBytes([]int{n, 28, 28}, pix)}, {lblName, idxBytes([]int{n}, labels)}} {
		name, raw := f.name, f.raw
		if gz {
			name += ".gz"
			raw = gzipBytes(t, raw)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), raw, 0o644))
	}
}

// memDataset is an in-memory dataset of 4×4 grey images; image i has value
// i%256 at (0,0), i/256 at (1,0) and, elsewhere, a pattern of x and y so
// that crops and flips show.
type memDataset struct {
	n       int
	classes []string
	bad     map[int]bool // items that fail with ErrBadImage
	fatal   map[int]bool // items that fail with another error
	delay   time.Duration

	mu    sync.Mutex
	calls map[int]int
}

func newMem(n int) *memDataset {
	return &memDataset{n: n, classes: []string{"a", "b", "c"}, calls: map[int]int{}}
}

func (d *memDataset) Len() int          { return d.n }
func (d *memDataset) Classes() []string { return d.classes }

func (d *memDataset) Item(i int) (image.Image, int, error) {
	d.mu.Lock()
	d.calls[i]++
	d.mu.Unlock()
	if d.delay > 0 {
		time.Sleep(d.delay)
	}
	if d.bad[i] {
		return nil, 0, &ImageError{Index: i, Path: fmt.Sprintf("mem/%d", i), Err: fmt.Errorf("bad pixels")}
	}
	if d.fatal[i] {
		return nil, 0, fmt.Errorf("disk on fire at item %d", i)
	}
	g := image.NewGray(image.Rect(0, 0, 4, 4))
	for y := range 4 {
		for x := range 4 {
			g.Pix[y*4+x] = byte(100 + 10*y + x)
		}
	}
	g.Pix[0] = byte(i % 256)
	g.Pix[4] = byte(i / 256)
	return g, i % 3, nil
}

// memIndex recovers the item index from an unaugmented 4×4 view.
func memIndex(view []float32) int {
	return int(view[0]*255+0.5) + 256*int(view[4]*255+0.5)
}
