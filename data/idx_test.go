package data

import (
	"bytes"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadIDX(t *testing.T) {
	valid := idxBytes([]int{2, 3, 4}, bytes.Repeat([]byte{7}, 24))
	tests := []struct {
		name   string
		in     []byte
		errSub string
	}{
		{"valid three-dimensional file", valid, ""},
		{"valid labels", idxBytes([]int{5}, []byte{0, 1, 2, 3, 9}), ""},
		{"empty file", nil, "IDX header: file is truncated"},
		{"short header", []byte{0, 0, 8}, "IDX header: file is truncated"},
		{"bad magic", append([]byte{1, 0}, valid[2:]...), "not an IDX file"},
		{"float element type", append([]byte{0, 0, 0x0D}, valid[3:]...), "element type 0x0d (float32), want 0x08"},
		{"unknown element type", append([]byte{0, 0, 0x42}, valid[3:]...), "0x42 (unknown)"},
		{"no dimensions", []byte{0, 0, 8, 0}, "0 dimensions, want 1 to 4"},
		{"five dimensions", []byte{0, 0, 8, 5}, "5 dimensions, want 1 to 4"},
		{"truncated dimensions", valid[:9], "IDX dimension 2 of 3: file is truncated"},
		{"zero dimension", idxBytes([]int{2, 0, 4}, nil), "IDX dimension 2 is 0"},
		{"truncated data", valid[:len(valid)-1], "need 24 bytes, file has 23: file is truncated"},
		{"header only", valid[:16], "need 24 bytes, file has 0"},
		{"trailing data", append(append([]byte{}, valid...), 0), "the file has more"},
		{"dimensions beyond the limit", idxBytes([]int{1 << 20, 1 << 20, 1 << 20}, nil), "hold more than"},
		{"huge claim, little data", idxBytes([]int{60000, 200, 300}, make([]byte, 100)), "need 3600000000 bytes, file has 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, err := ReadIDX(bytes.NewReader(tt.in), "test.idx")
			if tt.errSub != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.errSub)
				assert.Contains(t, err.Error(), "test.idx", "errors name the file")
				return
			}
			require.NoError(t, err)
			n := 1
			for _, d := range idx.Dims {
				n *= d
			}
			assert.Len(t, idx.Data, n)
			assert.Equal(t, tt.in[4+4*len(idx.Dims):], idx.Data)
		})
	}
	t.Run("read errors other than EOF are passed on", func(t *testing.T) {
		_, err := ReadIDX(io.MultiReader(bytes.NewReader(valid[:10]), errReader{}), "x")
		assert.ErrorIs(t, err, errBoom)
	})
}

var errBoom = errors.New("boom")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBoom }

func TestReadIDXFile(t *testing.T) {
	dir := t.TempDir()
	raw := idxBytes([]int{3, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	gz := gzipBytes(t, raw)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	t.Run("plain and gzip give the same data", func(t *testing.T) {
		a, err := ReadIDXFile(write("plain", raw))
		require.NoError(t, err)
		b, err := ReadIDXFile(write("compressed.gz", gz))
		require.NoError(t, err)
		assert.Equal(t, a, b)
		assert.Equal(t, []int{3, 2, 2}, a.Dims)
	})
	t.Run("gzip is recognised by content, not name", func(t *testing.T) {
		_, err := ReadIDXFile(write("named-plain", gz))
		require.NoError(t, err)
	})
	t.Run("truncated gzip stream", func(t *testing.T) {
		_, err := ReadIDXFile(write("cut.gz", gz[:len(gz)-12]))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "cut.gz")
	})
	t.Run("gzip checksum mismatch", func(t *testing.T) {
		bad := append([]byte{}, gz...)
		bad[len(bad)-6] ^= 0xff // CRC-32 in the trailer
		_, err := ReadIDXFile(write("crc.gz", bad))
		require.Error(t, err)
	})
	t.Run("gzip of a truncated IDX file", func(t *testing.T) {
		_, err := ReadIDXFile(write("short.gz", gzipBytes(t, raw[:len(raw)-3])))
		assert.ErrorContains(t, err, "file is truncated")
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := ReadIDXFile(filepath.Join(dir, "nope"))
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}

func TestNewIDXDataset(t *testing.T) {
	imgs := &IDX{Dims: []int{2, 2, 3}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	lbls := &IDX{Dims: []int{2}, Data: []byte{1, 0}}
	classes := []string{"zero", "one"}
	t.Run("items are grey images with their labels", func(t *testing.T) {
		d, err := NewIDXDataset(imgs, lbls, classes, "t")
		require.NoError(t, err)
		assert.Equal(t, 2, d.Len())
		h, w := d.Size()
		assert.Equal(t, [2]int{2, 3}, [2]int{h, w})
		img, label, err := d.Item(1)
		require.NoError(t, err)
		assert.Equal(t, 0, label)
		g := img.(*image.Gray)
		assert.Equal(t, image.Rect(0, 0, 3, 2), g.Bounds())
		assert.Equal(t, uint8(7), g.GrayAt(0, 0).Y)
		assert.Equal(t, uint8(12), g.GrayAt(2, 1).Y)
		_, _, err = d.Item(2)
		assert.ErrorContains(t, err, "item 2 out of range [0, 2)")
		_, _, err = d.Item(-1)
		assert.Error(t, err)
	})
	tests := []struct {
		name       string
		imgs, lbls *IDX
		classes    []string
		errSub     string
	}{
		{"images not three-dimensional", &IDX{Dims: []int{12}, Data: imgs.Data}, lbls, classes, "want 3"},
		{"labels not one-dimensional", imgs, &IDX{Dims: []int{1, 2}, Data: lbls.Data}, classes, "want 1"},
		{"counts differ", imgs, &IDX{Dims: []int{1}, Data: []byte{0}}, classes, "2 images but 1 labels"},
		{"label out of range", imgs, &IDX{Dims: []int{2}, Data: []byte{0, 2}}, classes, "label 2 of item 1"},
		{"no classes", imgs, lbls, nil, "no class names"},
		{"data shorter than dimensions", &IDX{Dims: []int{2, 2, 3}, Data: imgs.Data[:5]}, lbls, classes, "do not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewIDXDataset(tt.imgs, tt.lbls, tt.classes, "t")
			assert.ErrorContains(t, err, tt.errSub)
		})
	}
}

func TestOpenFashionMNIST(t *testing.T) {
	for _, gz := range []bool{true, false} {
		name := map[bool]string{true: "gzip files", false: "plain files"}[gz]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFashion(t, dir, Train, 12, gz)
			writeFashion(t, dir, Test, 5, gz)
			train, err := OpenFashionMNIST(dir, Train)
			require.NoError(t, err)
			test, err := OpenFashionMNIST(dir, Test)
			require.NoError(t, err)
			assert.Equal(t, 12, train.Len())
			assert.Equal(t, 5, test.Len())
			assert.Equal(t, FashionMNISTClasses, train.Classes())
			img, label, err := train.Item(11)
			require.NoError(t, err)
			assert.Equal(t, 1, label)
			assert.Equal(t, uint8(11), img.(*image.Gray).GrayAt(27, 27).Y)
			assert.NotEqual(t, train.ID(), test.ID())
		})
	}
	t.Run("missing directory names the package", func(t *testing.T) {
		_, err := OpenFashionMNIST(filepath.Join(t.TempDir(), "absent"), Train)
		require.Error(t, err)
		assert.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), "apt-get install dataset-fashion-mnist")
	})
	t.Run("missing files are listed", func(t *testing.T) {
		dir := t.TempDir()
		writeFashion(t, dir, Train, 3, true)
		_, err := OpenFashionMNIST(dir, Test)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] not found")
		assert.Contains(t, err.Error(), "dataset-fashion-mnist")
	})
	t.Run("a file instead of a directory", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "f")
		require.NoError(t, os.WriteFile(p, nil, 0o644))
		_, err := OpenFashionMNIST(p, Train)
		assert.ErrorContains(t, err, "is not a directory")
	})
	t.Run("wrong image size", func(t *testing.T) {
		dir := t.TempDir()
		imgName, lblName := FashionMNISTFiles(Train)
		require.NoError(t, os.WriteFile(filepath.Join(dir, imgName), idxBytes([]int{1, 2, 2}, []byte{1, 2, 3, 4}), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, lblName), idxBytes([]int{1}, []byte{3}), 0o644))
		_, err := OpenFashionMNIST(dir, Train)
		assert.ErrorContains(t, err, "images are 2×2, want 28×28")
	})
	t.Run("corrupt label file", func(t *testing.T) {
		dir := t.TempDir()
		writeFashion(t, dir, Train, 3, false)
		_, lblName := FashionMNISTFiles(Train)
		require.NoError(t, os.WriteFile(filepath.Join(dir, lblName), idxBytes([]int{3}, []byte{0, 1}), 0o644))
		_, err := OpenFashionMNIST(dir, Train)
		assert.ErrorContains(t, err, "file is truncated")
		assert.ErrorContains(t, err, lblName)
	})
}

// TestFashionMNISTInstalled reads the real data set when the Debian package
// is installed (CI installs it).
func TestFashionMNISTInstalled(t *testing.T) {
	if _, err := os.Stat(FashionMNISTDir); err != nil {
		t.Skipf("Fashion-MNIST is not installed (%v): apt-get install %s", err, FashionMNISTPackage)
	}
	for _, tc := range []struct {
		split Split
		n     int
	}{{Train, 60000}, {Test, 10000}} {
		t.Run(tc.split.String(), func(t *testing.T) {
			d, err := OpenFashionMNIST(FashionMNISTDir, tc.split)
			require.NoError(t, err)
			require.Equal(t, tc.n, d.Len())
			perClass := make([]int, 10)
			for i := range d.Len() {
				perClass[d.Label(i)]++
			}
			for c, k := range perClass {
				assert.Equal(t, tc.n/10, k, "class %d (%s)", c, FashionMNISTClasses[c])
			}
			img, _, err := d.Item(0)
			require.NoError(t, err)
			nonzero := 0
			for _, v := range img.(*image.Gray).Pix {
				if v != 0 {
					nonzero++
				}
			}
			assert.Greater(t, nonzero, 100, "the first image is not blank")
		})
	}
}

// FuzzReadIDX checks that no input makes the reader panic or return data
// that disagrees with its dimensions:
//
//	go test -run '^$' -fuzz FuzzReadIDX -fuzztime 60s ./data
func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 3, 4}, bytes.Repeat([]byte{7}, 24)))
	f.Add(idxBytes([]int{3}, []byte{0, 1, 2}))
	f.Add(idxBytes([]int{1, 1, 1, 1}, []byte{9}))
	f.Add(idxBytes([]int{60000, 28, 28}, make([]byte, 10)))
	f.Add([]byte{0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff})
	f.Add(gzipBytes(f, idxBytes([]int{2, 2, 2}, make([]byte, 8))))
	f.Fuzz(func(t *testing.T, in []byte) {
		idx, err := ReadIDX(bytes.NewReader(in), "fuzz")
		if err != nil {
			if idx != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		n := 1
		for _, d := range idx.Dims {
			if d <= 0 {
				t.Fatalf("dimension %d accepted", d)
			}
			n *= d
		}
		if len(idx.Data) != n || 4+4*len(idx.Dims)+n != len(in) {
			t.Fatalf("dims %v, %d data bytes, input %d bytes", idx.Dims, len(idx.Data), len(in))
		}
		// What passes the reader must pass the dataset checks or fail cleanly.
		if len(idx.Dims) == 3 {
			labels := &IDX{Dims: idx.Dims[:1], Data: make([]byte, idx.Dims[0])}
			if d, err := NewIDXDataset(idx, labels, []string{"x"}, "fuzz"); err == nil {
				if _, _, err := d.Item(d.Len() - 1); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
