package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"image/color"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadIDXFileRefusesNonRegularFilesAndImpossibleSizes: /dev/zero and
// directories are refused at once; dimensions that claim more data than
// the file can hold (exactly, uncompressed; 1032:1, gzip) fail before any
// allocation of that size.
func TestReadIDXFileRefusesNonRegularFilesAndImpossibleSizes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	// 60000×200×300 = 3.6 GB claimed, compressed into a few hundred bytes.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(idxBytes([]int{60000, 200, 300}, make([]byte, 1000)))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	cases := []struct{ name, path, want string }{
		{"/dev/zero", "/dev/zero", "not a regular file"},
		{"a directory", dir, "not a regular file"},
		{"gzip claiming 3.6 GB", write("claim.gz", gz.Bytes()), "need 3600000000 bytes, more than a"},
		{"plain file claiming 3.6 GB", write("claim", idxBytes([]int{60000, 200, 300}, make([]byte, 100))), "the 116-byte file holds 100 after the 16-byte header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := os.Stat(c.path); err != nil {
				t.Skip(err)
			}
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, err := ReadIDXFile(c.path)
			runtime.ReadMemStats(&m1)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(4<<20), "no allocation of the claimed size")
		})
	}
}

// TestReadIDXFileAllocatesTheDataOnce: a well-formed gzip IDX file of
// 48 MB of data is read into one buffer of its declared size (growing
// the buffer as data arrived cost about twice the data, the issue's
// 6.5 MB file of 1.5 GB peaked at 3.8 GB).
func TestReadIDXFileAllocatesTheDataOnce(t *testing.T) {
	const n = 48 << 20
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	require.NoError(t, err)
	var head [16]byte
	copy(head[:], []byte{0, 0, 8, 3})
	binary.BigEndian.PutUint32(head[4:], n/(64*64))
	binary.BigEndian.PutUint32(head[8:], 64)
	binary.BigEndian.PutUint32(head[12:], 64)
	_, err = zw.Write(head[:])
	require.NoError(t, err)
	_, err = zw.Write(make([]byte, n))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	path := filepath.Join(t.TempDir(), "big.gz")
	require.NoError(t, os.WriteFile(path, gz.Bytes(), 0o644))

	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	idx, err := ReadIDXFile(path)
	runtime.ReadMemStats(&m1)
	require.NoError(t, err)
	require.Len(t, idx.Data, n)
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("%d-byte gzip file, %d bytes of data: %d bytes allocated (%.2f×)", gz.Len(), n, alloc, float64(alloc)/n)
	assert.Less(t, alloc, uint64(n+n/8))
}

// pngHeader is the start of a PNG file — signature and IHDR chunk — of a
// w×h image with the given bit depth and colour type: all that
// image.DecodeConfig reads.
func pngHeader(w, h uint32, depth, colorType byte) []byte {
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = depth, colorType
	out := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

// TestFolderCapsDecodedImageSize: the 16-bit 8191×8191 PNG (a
// 510 KB file, 537 MB decoded) is skipped by default from its header,
// before decoding; the limits are configurable, and DecodeImage applies
// the defaults.
func TestFolderCapsDecodedImageSize(t *testing.T) {
	red := pngBytes(t, solid(4, 4, color.RGBA{255, 0, 0, 255}))
	files := map[string][]byte{
		"a/bomb.png":  pngHeader(8191, 8191, 16, 6), // 16-bit RGBA: 8 bytes per pixel
		"a/ok.png":    red,
		"a/grey.png":  pngHeader(8000, 4000, 8, 0), // 32 MB grey: within the defaults
		"a/wide.png":  pngHeader(1<<16, 1<<10, 8, 0),
		"a/deep.png":  pngHeader(5000, 5000, 16, 6), // 25 megapixels, 200 MB decoded
		"b/small.png": red,
	}
	root := tree(t, files)
	f, err := OpenFolder(root, nil)
	require.NoError(t, err)
	skipped := map[string]string{}
	for _, s := range f.Skipped() {
		skipped[filepath.Base(s.Path)] = s.Err.Error()
	}
	assert.Contains(t, skipped["bomb.png"], "8191×8191, more than 33554432 pixels")
	assert.Contains(t, skipped["deep.png"], "5000×5000 at 8 bytes per pixel: 200000000 bytes decoded, more than the limit of 134217728")
	assert.Contains(t, skipped["wide.png"], "more than 33554432 pixels")
	assert.NotContains(t, skipped, "grey.png")
	assert.Equal(t, 3, f.Len())

	f, err = OpenFolder(root, &FolderOptions{MaxPixels: 1 << 27, MaxImageBytes: 1 << 30})
	require.NoError(t, err)
	assert.Equal(t, 6, f.Len(), "raised limits admit them (their headers; decoding is another matter)")

	_, err = DecodeImage(filepath.Join(root, "a", "deep.png"))
	require.ErrorContains(t, err, "more than the limit")
}
