package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// file builds raw safetensors bytes from a header string and a data area.
func file(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	meta := map[string]string{"op": "conv2d", "seed": "1"}
	in := []Tensor{
		Float32Tensor("w", []int{2, 3}, []float32{1, -2, 3.5, 4, 5, 6}),
		Int64Tensor("labels", []int{2}, []int64{7, -1}),
		Float32Tensor("loss", []int{1}, []float32{0.25}),
	}
	require.NoError(t, Encode(&buf, meta, in))
	assert.Zero(t, (buf.Len()-8)%8%4, "data area follows an 8-byte padded header")

	f, err := Parse(buf.Bytes())
	require.NoError(t, err)
	assert.Equal(t, meta, f.Metadata)
	w, shape, err := f.Float32("w")
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, shape)
	assert.Equal(t, []float32{1, -2, 3.5, 4, 5, 6}, w)
	l, _, err := f.Int64("labels")
	require.NoError(t, err)
	assert.Equal(t, []int64{7, -1}, l)
	names := []string{}
	for _, ti := range f.Tensors() {
		names = append(names, ti.Name)
	}
	assert.Equal(t, []string{"w", "labels", "loss"}, names, "tensors are listed in data order")

	_, _, err = f.Int64("w")
	assert.ErrorContains(t, err, `tensor "w" is F32, want I64`)
	_, _, err = f.Float32("nope")
	assert.ErrorContains(t, err, `no tensor "nope"`)
}

func TestWriteFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	require.NoError(t, WriteFile(path, nil, []Tensor{Float32Tensor("a", []int{1}, []float32{1})}))
	// A failing write (bad tensor) leaves the old file intact and no temp file.
	err := WriteFile(path, nil, []Tensor{{Name: "a", DType: F32, Shape: []int{2}, Data: []byte{1}}})
	require.ErrorContains(t, err, "needs 8 bytes, got 1")
	f, err := ReadFile(path)
	require.NoError(t, err)
	a, _, err := f.Float32("a")
	require.NoError(t, err)
	assert.Equal(t, []float32{1}, a)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")
}

func TestEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"duplicate name", []Tensor{Float32Tensor("a", []int{1}, []float32{1}), Float32Tensor("a", []int{1}, []float32{1})}, "given twice"},
		{"metadata name", []Tensor{Float32Tensor("__metadata__", []int{1}, []float32{1})}, "invalid tensor name"},
		{"unknown dtype", []Tensor{{Name: "a", DType: "Q4", Shape: []int{1}, Data: []byte{1}}}, "unknown dtype"},
		{"negative dim", []Tensor{{Name: "a", DType: U8, Shape: []int{-1}}}, "negative dimension"},
		{"byte count", []Tensor{{Name: "a", DType: F32, Shape: []int{3}, Data: make([]byte, 8)}}, "needs 12 bytes, got 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, Encode(&bytes.Buffer{}, nil, tc.tensors), tc.want)
		})
	}
}

func TestParseRejects(t *testing.T) {
	f4 := make([]byte, 4)
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"short file", []byte{1, 2, 3}, "shorter than the 8-byte header length"},
		{"header past end", append([]byte{100, 0, 0, 0, 0, 0, 0, 0}, '{', '}'), "exceeds the 2 bytes"},
		{"huge header", []byte{0, 0, 0, 0, 0, 0, 0, 1, '{', '}'}, "exceeds the limit"},
		{"not json", file("nope", nil), "header"},
		{"not an object", file("[1]", nil), "want {"},
		{"trailing garbage", file(`{}x`, nil), "trailing data"},
		{"duplicate tensor", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f4), `key "a" appears twice`},
		{"duplicate metadata key", file(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `key "k" appears twice`},
		{"metadata not string", file(`{"__metadata__":{"k":1}}`, nil), "want a string"},
		{"unknown dtype", file(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `unknown dtype "F8"`},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, f4), `unknown field "x"`},
		{"missing offsets", file(`{"a":{"dtype":"F32","shape":[1]}}`, f4), "needs dtype, shape and data_offsets"},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f4), "not an integer"},
		{"fractional dim", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, f4), "not an integer"},
		{"three offsets", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f4), "has more than 2 values"},
		{"reversed offsets", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, f4), "reversed"},
		{"count mismatch", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, f4), "needs 8 bytes"},
		{"offsets past end", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f4), "cover 8 bytes but the data area has 4"},
		{"shape overflow", file(`{"a":{"dtype":"F64","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, make([]byte, 8)), "overflows"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "overlap"},
		{"hole", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "hole"},
		{"uncovered tail", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8)), "cover 4 bytes but the data area has 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.raw)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseAcceptsPaddingAndEmpty(t *testing.T) {
	f, err := Parse(file(`{"__metadata__":{"a":"b"},"z":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}    `, nil))
	require.NoError(t, err)
	assert.Equal(t, "b", f.Metadata["a"])
	info, ok := f.Info("z")
	require.True(t, ok)
	assert.Equal(t, 0, info.Numel())
}

// FuzzParse feeds arbitrary bytes to the parser: it must never panic, and
// whatever it accepts must re-encode to a file that parses to the same
// tensors.
func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	_ = Encode(&buf, map[string]string{"op": "x"}, []Tensor{
		Float32Tensor("a", []int{2}, []float32{1, 2}), Int64Tensor("b", []int{1}, []int64{3}),
	})
	f.Add(buf.Bytes())
	f.Add(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(file(`{}`, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		var out []Tensor
		for _, ti := range p.Tensors() {
			raw, info, err := p.Raw(ti.Name)
			require.NoError(t, err)
			require.Len(t, raw, info.Numel()*info.DType.Size())
			out = append(out, Tensor{Name: ti.Name, DType: ti.DType, Shape: ti.Shape, Data: raw})
		}
		var re bytes.Buffer
		require.NoError(t, Encode(&re, p.Metadata, out))
		q, err := Parse(re.Bytes())
		require.NoError(t, err)
		require.Equal(t, len(p.Tensors()), len(q.Tensors()))
		for _, ti := range p.Tensors() {
			a, _, _ := p.Raw(ti.Name)
			b, _, err := q.Raw(ti.Name)
			require.NoError(t, err)
			require.Equal(t, a, b)
		}
	})
}
