package safetensors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckWritableFailsBeforeAnyWrite: what would make WriteFile fail
// after hours of training fails here, and a success leaves nothing behind.
func TestCheckWritableFailsBeforeAnyWrite(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, CheckWritable(filepath.Join(dir, "ok.safetensors")))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "the probe file is removed")

	readOnly := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(readOnly, 0o555))
	cases := []struct {
		name, path, want string
		skip             bool
	}{
		{"250-character name", filepath.Join(dir, strings.Repeat("n", 240)+".safetensors"), "file name too long", false},
		{"missing directory", filepath.Join(dir, "nope", "x.safetensors"), "no such file or directory", false},
		{"a directory", dir, "is a directory", false},
		{"read-only directory", filepath.Join(readOnly, "x.safetensors"), "permission denied", os.Geteuid() == 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip {
				t.Skip("root writes into read-only directories")
			}
			err := CheckWritable(c.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// TestRemoveStaleTempsRemovesOnlyThisFilesTemps: the temporary files a
// killed WriteFile left for a path go; every other file stays.
func TestRemoveStaleTempsRemovesOnlyThisFilesTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	stale := []string{".ck.safetensors.tmp123", ".ck.safetensors.tmp4567890"}
	kept := []string{"ck.safetensors", ".ck.safetensors.tmp", ".ck.safetensors.tmpabc", ".other.safetensors.tmp1", "ck.safetensors.tmp1"}
	for _, n := range append(append([]string{}, stale...), kept...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644))
	}
	removed, err := RemoveStaleTemps(path)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{filepath.Join(dir, stale[0]), filepath.Join(dir, stale[1])}, removed)
	for _, n := range kept {
		assert.FileExists(t, filepath.Join(dir, n))
	}
	// A temporary file WriteFile makes matches what is removed.
	tmp, err := os.CreateTemp(dir, tempPattern(path))
	require.NoError(t, err)
	require.NoError(t, tmp.Close())
	removed, err = RemoveStaleTemps(path)
	require.NoError(t, err)
	assert.Equal(t, []string{tmp.Name()}, removed)
}

// TestParseMemoryIsBoundedByTheHeaderSize: whatever an 8 MB header holds
// — one long string, escapes, a shape or offsets array of millions of
// values, tens of thousands of tensors or metadata entries, padding —
// parsing it allocates at most twice its size plus a constant (the
// tensor and metadata counts are bounded), never the tens of times
// json.Decoder's tokens cost.
func TestParseMemoryIsBoundedByTheHeaderSize(t *testing.T) {
	const n = 8 << 20
	repeat := func(open, close string, item func(i int) string) string {
		var b strings.Builder
		b.WriteString(open)
		for i := 0; b.Len() < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(item(i))
		}
		return b.String() + close
	}
	cases := []struct{ name, header, err string }{
		{"one long string", `{"__metadata__":{"a":"` + strings.Repeat("x", n) + `"}}`, ""},
		{"escapes", `{"__metadata__":{"a":"` + strings.Repeat(`\u00e9`, n/6) + `"}}`, ""},
		{"padding", `{` + strings.Repeat(" ", n) + `}`, ""},
		{"long shape", `{"t":{"dtype":"F32","shape":[` + strings.Repeat("1,", n/2) + `1],"data_offsets":[0,4]}}`, "more than 16 values"},
		{"long offsets", `{"t":{"dtype":"F32","shape":[1],"data_offsets":[` + strings.Repeat("1,", n/2) + `1]}}`, "more than 2 values"},
		{"many metadata entries", repeat(`{"__metadata__":{`, `}}`, func(i int) string { return fmt.Sprintf(`"%x":""`, i) }), "more than 65536 entries"},
		{"many tensors", repeat(`{`, `}`, func(i int) string { return fmt.Sprintf(`"%x":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`, i) }), "more than 65536 tensors"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := file(c.header, nil)
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, err := Parse(b)
			runtime.ReadMemStats(&m1)
			if c.err == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, c.err)
			}
			alloc := m1.TotalAlloc - m0.TotalAlloc
			t.Logf("%d-byte header: %d bytes allocated (%.2f×)", len(c.header), alloc, float64(alloc)/float64(len(c.header)))
			assert.LessOrEqual(t, alloc, uint64(2*len(c.header)+48<<20))
		})
	}
}

// FuzzScannerReadsStringsLikeEncodingJSON: the header scanner decodes a
// JSON string exactly as encoding/json does, and rejects what it rejects
// (and, stricter, invalid UTF-8, which encoding/json replaces).
func FuzzScannerReadsStringsLikeEncodingJSON(f *testing.F) {
	for _, s := range []string{`abc`, `a\"b`, `\u00e9\n\t`, `\ud83d\ude00`, `\ud83d`, `\ud83d\u0041`, `\x`, "a\x01", `\u12`, "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		in := `"` + body + `"`
		var want string
		jsonErr := json.Unmarshal([]byte(in), &want)
		s := &scanner{b: []byte(in)}
		got, err := s.str()
		if jsonErr != nil || !utf8.ValidString(body) {
			if err == nil && s.i == len(in) {
				t.Fatalf("%q: scanner accepted %q, encoding/json: %v", in, got, jsonErr)
			}
			return
		}
		require.NoError(t, err, "%q", in)
		require.Equal(t, want, got, "%q", in)
		require.Equal(t, len(in), s.i)
	})
}

// TestReadFileWorksFromTheFileSize: ReadFile reads regular files only
// (/dev/zero would be read forever), and a header that does not account
// for the file's size fails before the data is read — also for a 64 GB
// sparse file, which must not be allocated.
func TestReadFileWorksFromTheFileSize(t *testing.T) {
	dir := t.TempDir()
	var good bytes.Buffer
	require.NoError(t, Encode(&good, map[string]string{"k": "v"}, []Tensor{Float32Tensor("a", []int{2}, []float32{1, 2})}))
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	f, err := ReadFile(write("good.safetensors", good.Bytes()))
	require.NoError(t, err)
	a, _, err := f.Float32("a")
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2}, a)

	sparse := write("sparse.safetensors", good.Bytes())
	require.NoError(t, os.Truncate(sparse, 64<<30))
	cases := []struct{ name, path, want string }{
		{"/dev/zero", "/dev/zero", "is a device, not a regular file"},
		{"a directory", dir, "is a directory"},
		{"longer than the header says", write("long.safetensors", append(bytes.Clone(good.Bytes()), 0, 0, 0, 0)), "the data area has 12"},
		{"64 GB sparse file", sparse, "tensors cover 8 bytes but the data area has"},
		{"truncated", write("short.safetensors", good.Bytes()[:good.Len()-1]), "the data area has 7"},
		{"header length beyond the file", write("hl.safetensors", good.Bytes()[:20]), "exceeds the 12 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := os.Stat(c.path); err != nil {
				t.Skip(err)
			}
			_, err := ReadFile(c.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), c.path)
		})
	}
}
