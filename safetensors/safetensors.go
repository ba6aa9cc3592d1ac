// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length N, N bytes of JSON naming each tensor's dtype,
// shape and byte range, then the raw little-endian tensor data.
//
// The reader is strict, because it reads files that come from elsewhere:
// the header length and every byte range are checked against the file size,
// every tensor's byte count against its dtype and shape, ranges may neither
// overlap nor leave holes, keys may not repeat, and unknown fields are
// rejected. A malformed file gives an error that says what is wrong, never a
// panic. dnngo uses the format for its golden test data and for network
// checkpoints.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// MaxHeaderSize bounds the JSON header, as the reference implementation
// does, so a corrupt length cannot make the reader allocate without limit.
const MaxHeaderSize = 100 << 20

// Limits on what a header may hold, so that parsing one costs memory
// within a small multiple of its size: at most MaxTensors tensors and
// MaxMetadata metadata entries, shapes of at most MaxDims dimensions.
const (
	MaxTensors  = 1 << 16
	MaxMetadata = 1 << 16
	MaxDims     = 16
)

// DType is a tensor element type as spelled in the header.
type DType string

// The element types this package knows.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// Size is the element size in bytes, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case I8, U8, Bool:
		return 1
	}
	return 0
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int
	Begin int64 // first byte, relative to the start of the data area
	End   int64 // one past the last byte
}

// Numel is the number of elements.
func (t TensorInfo) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors file. Its tensors' data is read from the
// byte slice given to Parse, which must not change while the File is used.
type File struct {
	// Metadata is the header's __metadata__ object (nil if absent).
	Metadata map[string]string
	tensors  []TensorInfo // sorted by Begin
	byName   map[string]int
	data     []byte
}

// ReadFile reads and parses the file at path. It reads only regular files
// (not /dev/zero, a pipe or a directory), works from the file's size, and
// parses and checks the header before reading the data: a header that
// does not account for exactly the file's size is an error before the data
// is allocated.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fh.Close()
	f, err := read(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// read reads an open file: see ReadFile.
func read(fh *os.File) (*File, error) {
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("safetensors: %s, not a regular file", kind(st.Mode()))
	}
	size := st.Size()
	var hl [8]byte
	if size < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, shorter than the 8-byte header length", size)
	}
	if _, err := io.ReadFull(fh, hl[:]); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	n, err := headerLen(hl[:], size-8)
	if err != nil {
		return nil, err
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(fh, header); err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	f := &File{byName: map[string]int{}}
	if err := f.parseHeader(header); err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	dataLen := size - 8 - int64(n)
	if err := f.checkLayout(dataLen); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f.data = make([]byte, dataLen)
	if _, err := io.ReadFull(fh, f.data); err != nil {
		return nil, fmt.Errorf("safetensors: data: %w (the file changed while it was read?)", err)
	}
	return f, nil
}

// kind says what kind of file a mode describes, for errors that refuse
// what is not a regular file: "is a directory", "is a device" (such as
// /dev/zero), "is a named pipe", "is a socket", or the mode's type
// letters.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "is a directory"
	case m&fs.ModeDevice != 0:
		return "is a device"
	case m&fs.ModeNamedPipe != 0:
		return "is a named pipe"
	case m&fs.ModeSocket != 0:
		return "is a socket"
	}
	return fmt.Sprintf("has type %v", m.Type())
}

// headerLen checks the header length field against MaxHeaderSize and the
// rest bytes that follow it.
func headerLen(b []byte, rest int64) (uint64, error) {
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return 0, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(rest) {
		return 0, fmt.Errorf("safetensors: header length %d exceeds the %d bytes after the length field", n, rest)
	}
	return n, nil
}

// Parse parses a whole safetensors file held in b.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, shorter than the 8-byte header length", len(b))
	}
	n, err := headerLen(b, int64(len(b)-8))
	if err != nil {
		return nil, err
	}
	header := b[8 : 8+n]
	f := &File{data: b[8+n:], byName: map[string]int{}}
	if err := f.parseHeader(header); err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	if err := f.checkLayout(int64(len(f.data))); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return f, nil
}

// parseHeader reads the JSON object token by token so that repeated keys
// and unknown fields are caught (encoding/json would silently keep the last
// repeated key), with a scanner whose memory stays within a small multiple
// of the header's size.
func (f *File) parseHeader(header []byte) error {
	dec := &scanner{b: header}
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	var haveMeta bool
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return err
		}
		if _, dup := f.byName[key]; dup || (key == "__metadata__" && haveMeta) {
			return fmt.Errorf("key %q appears twice", key)
		}
		if key == "__metadata__" {
			haveMeta = true
			if f.Metadata, err = parseMetadata(dec); err != nil {
				return fmt.Errorf("__metadata__: %w", err)
			}
			continue
		}
		if len(f.tensors) == MaxTensors {
			return fmt.Errorf("more than %d tensors", MaxTensors)
		}
		t, err := parseTensor(dec)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", key, err)
		}
		t.Name = key
		f.byName[key] = len(f.tensors)
		f.tensors = append(f.tensors, t)
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	// Only the space padding the format allows may follow the object.
	if len(bytes.Trim(header[dec.i:], " ")) != 0 {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func parseMetadata(dec *scanner) (map[string]string, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for dec.More() {
		k, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("key %q appears twice", k)
		}
		if len(m) == MaxMetadata {
			return nil, fmt.Errorf("more than %d entries", MaxMetadata)
		}
		if m[k], err = stringToken(dec); err != nil {
			return nil, fmt.Errorf("value of %q: %w", k, err)
		}
	}
	return m, expectDelim(dec, '}')
}

func parseTensor(dec *scanner) (TensorInfo, error) {
	var t TensorInfo
	if err := expectDelim(dec, '{'); err != nil {
		return t, err
	}
	var haveDType, haveShape, haveOffsets bool
	for dec.More() {
		k, err := stringToken(dec)
		if err != nil {
			return t, err
		}
		switch k {
		case "dtype":
			if haveDType {
				return t, errors.New("dtype appears twice")
			}
			haveDType = true
			s, err := stringToken(dec)
			if err != nil {
				return t, fmt.Errorf("dtype: %w", err)
			}
			t.DType = DType(s)
			if t.DType.Size() == 0 {
				return t, fmt.Errorf("unknown dtype %q", s)
			}
		case "shape":
			if haveShape {
				return t, errors.New("shape appears twice")
			}
			haveShape = true
			if t.Shape, err = intArray(dec, math.MaxInt32, MaxDims); err != nil {
				return t, fmt.Errorf("shape: %w", err)
			}
			if t.Shape == nil {
				t.Shape = []int{}
			}
		case "data_offsets":
			if haveOffsets {
				return t, errors.New("data_offsets appears twice")
			}
			haveOffsets = true
			off, err := intArray(dec, math.MaxInt64, 2)
			if err != nil {
				return t, fmt.Errorf("data_offsets: %w", err)
			}
			if len(off) != 2 {
				return t, fmt.Errorf("data_offsets has %d values, want 2", len(off))
			}
			t.Begin, t.End = int64(off[0]), int64(off[1])
		default:
			return t, fmt.Errorf("unknown field %q", k)
		}
	}
	if !haveDType || !haveShape || !haveOffsets {
		return t, errors.New("needs dtype, shape and data_offsets")
	}
	return t, expectDelim(dec, '}')
}

// checkLayout checks every tensor's byte count against its dtype and shape
// and that the byte ranges tile the data area, of dataLen bytes, exactly.
func (f *File) checkLayout(dataLen int64) error {
	for _, t := range f.tensors {
		if t.Begin > t.End {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] are reversed", t.Name, t.Begin, t.End)
		}
		want := int64(t.DType.Size())
		for _, d := range t.Shape {
			if d != 0 && want > math.MaxInt64/int64(d) {
				return fmt.Errorf("tensor %q: shape %v overflows", t.Name, t.Shape)
			}
			want *= int64(d)
		}
		if got := t.End - t.Begin; got != want {
			return fmt.Errorf("tensor %q: %s %v needs %d bytes, data_offsets [%d, %d] give %d", t.Name, t.DType, t.Shape, want, t.Begin, t.End, got)
		}
	}
	sort.SliceStable(f.tensors, func(i, j int) bool { return f.tensors[i].Begin < f.tensors[j].Begin })
	var pos int64
	for i, t := range f.tensors {
		f.byName[t.Name] = i
		switch {
		case t.Begin < pos:
			return fmt.Errorf("tensor %q: bytes [%d, %d] overlap the previous tensor, which ends at %d", t.Name, t.Begin, t.End, pos)
		case t.Begin > pos:
			return fmt.Errorf("tensor %q: bytes [%d, %d] leave a hole after byte %d", t.Name, t.Begin, t.End, pos)
		}
		pos = t.End
	}
	if pos != dataLen {
		return fmt.Errorf("tensors cover %d bytes but the data area has %d", pos, dataLen)
	}
	return nil
}

// Tensors lists the file's tensors in data order.
func (f *File) Tensors() []TensorInfo { return slices.Clone(f.tensors) }

// Info returns the description of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.tensors[i], true
}

// Raw returns the named tensor's bytes (a view into the file) and its
// description.
func (f *File) Raw(name string) ([]byte, TensorInfo, error) {
	t, ok := f.Info(name)
	if !ok {
		return nil, t, fmt.Errorf("safetensors: no tensor %q", name)
	}
	return f.data[t.Begin:t.End], t, nil
}

// Float32 decodes the named F32 tensor.
func (f *File) Float32(name string) ([]float32, []int, error) {
	raw, t, err := f.typed(name, F32)
	if err != nil {
		return nil, nil, err
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, t.Shape, nil
}

// Int64 decodes the named I64 tensor.
func (f *File) Int64(name string) ([]int64, []int, error) {
	raw, t, err := f.typed(name, I64)
	if err != nil {
		return nil, nil, err
	}
	out := make([]int64, len(raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out, t.Shape, nil
}

func (f *File) typed(name string, want DType) ([]byte, TensorInfo, error) {
	raw, t, err := f.Raw(name)
	if err != nil {
		return nil, t, err
	}
	if t.DType != want {
		return nil, t, fmt.Errorf("safetensors: tensor %q is %s, want %s", name, t.DType, want)
	}
	return raw, t, nil
}

func expectDelim(dec *scanner, want byte) error { return dec.delim(want) }

func stringToken(dec *scanner) (string, error) { return dec.str() }

// intArray reads a JSON array of at most maxLen integers in [0, max].
func intArray(dec *scanner, max uint64, maxLen int) ([]int, error) {
	if err := expectDelim(dec, '['); err != nil {
		return nil, err
	}
	var out []int
	for dec.More() {
		if len(out) == maxLen {
			return nil, fmt.Errorf("has more than %d values", maxLen)
		}
		v, err := dec.uint(max)
		if err != nil {
			return nil, err
		}
		out = append(out, int(v))
	}
	return out, expectDelim(dec, ']')
}

// Tensor is one tensor to write.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte // little-endian, row-major
}

// Float32Tensor makes an F32 Tensor from data.
func Float32Tensor(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: slices.Clone(shape), Data: b}
}

// Int64Tensor makes an I64 Tensor from data.
func Int64Tensor(name string, shape []int, data []int64) Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: slices.Clone(shape), Data: b}
}

type headerEntry struct {
	DType   DType    `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// Encode writes a safetensors file with the given metadata (may be nil) and
// tensors, in the order given. It checks every tensor's byte count against
// its dtype and shape and that names are unique and not "__metadata__".
func Encode(w io.Writer, meta map[string]string, tensors []Tensor) error {
	header := map[string]any{}
	if meta != nil {
		header["__metadata__"] = meta
	}
	var off int64
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("safetensors: tensor %q given twice", t.Name)
		}
		want := t.DType.Size()
		if want == 0 {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: tensor %q: negative dimension in %v", t.Name, t.Shape)
			}
			want *= d
		}
		if len(t.Data) != want {
			return fmt.Errorf("safetensors: tensor %q: %s %v needs %d bytes, got %d", t.Name, t.DType, t.Shape, want, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = headerEntry{t.DType, shape, [2]int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	js, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if pad := (8 - len(js)%8) % 8; pad > 0 {
		js = append(js, bytes.Repeat([]byte{' '}, pad)...)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(js)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// tempPattern is the os.CreateTemp pattern of WriteFile's temporary file
// for path: ".<name>.tmp" and digits, in path's directory.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".tmp*" }

// CheckWritable checks that WriteFile can write path, by creating and
// removing the temporary file it would use: a missing or read-only
// directory, or a name too long for the file system once the temporary
// suffix is added, fails here rather than after hours of training. It does
// not touch path itself.
func CheckWritable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("safetensors: %s is a directory, not a file", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return fmt.Errorf("safetensors: cannot write %s: %w", path, err)
	}
	return errors.Join(tmp.Close(), os.Remove(tmp.Name()))
}

// RemoveStaleTemps removes the temporary files WriteFile left for path
// when the process was killed during a write (".<name>.tmp" followed by
// digits, in path's directory), and returns their names. Call it only
// when no other writer of path runs (WriteFile's caller holds a lock).
func RemoveStaleTemps(path string) ([]string, error) {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+".tmp"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("safetensors: stale temporary files of %s: %w", path, err)
	}
	return removed, nil
}

// WriteFile writes a safetensors file atomically: to a temporary file in
// the same directory, synced to disk, then renamed over path. A reader never
// sees a half-written file, and a failure leaves any old file in place.
func WriteFile(path string, meta map[string]string, tensors []Tensor) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o644); err != nil { // CreateTemp makes it private; a checkpoint is an ordinary file
		return fmt.Errorf("safetensors: %w", err)
	}
	if err = Encode(tmp, meta, tensors); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		d.Sync() // make the rename durable where the OS allows it
		d.Close()
	}
	return nil
}
