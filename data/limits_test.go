package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
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
