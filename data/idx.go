package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// IDX is a file in the IDX format of MNIST and Fashion-MNIST: the magic
// number 0x00 0x00, an element type byte, the number of dimensions, each
// dimension as a big-endian uint32, then the elements in row-major order.
// Only unsigned bytes (type 0x08), the type of image and label files, are
// read.
type IDX struct {
	Dims []int  // e.g. [60000 28 28] for images, [60000] for labels
	Data []byte // the product of Dims elements
}

// MaxIDXBytes bounds the data of an IDX file, so that a corrupt header
// cannot make the reader allocate without limit. Fashion-MNIST's largest
// file holds 47 MB.
const MaxIDXBytes = 1 << 32

// idxTypes names the IDX element types for error messages.
var idxTypes = map[byte]string{
	0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16",
	0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
}

// ReadIDX reads an IDX file of unsigned bytes from r, which must hold
// exactly the header and the data. name is used in error messages. It
// checks the magic number, the element type, the number of dimensions
// (1 to 4, each positive) and that the data is neither short nor followed
// by anything. It never allocates much more than what r actually holds.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	return readIDX(r, name, nil)
}

// gzipMaxRatio bounds how many bytes DEFLATE can expand one compressed
// byte to (1032:1, the format's limit): a gzip file of n bytes holds at
// most gzipMaxRatio·n bytes.
const gzipMaxRatio = 1032

// readIDX is ReadIDX. When limit is not nil it gives, from the header's
// size, the most data bytes the source can hold and how that is known:
// dimensions that claim more are an error at once, and the data is
// allocated once at its declared size instead of grown as it arrives.
func readIDX(r io.Reader, name string, limit func(header int64) (maxData int64, why string)) (*IDX, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("data: %s: IDX header: %w", name, truncated(err))
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("data: %s: not an IDX file: magic number %#02x %#02x %#02x %#02x does not start with 0x00 0x00",
			name, head[0], head[1], head[2], head[3])
	}
	if head[2] != 0x08 {
		t, ok := idxTypes[head[2]]
		if !ok {
			t = "unknown"
		}
		return nil, fmt.Errorf("data: %s: IDX element type %#02x (%s), want 0x08 (unsigned byte)", name, head[2], t)
	}
	nd := int(head[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("data: %s: IDX file has %d dimensions, want 1 to 4", name, nd)
	}
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("data: %s: IDX dimension %d of %d: %w", name, i+1, nd, truncated(err))
		}
		d := int(binary.BigEndian.Uint32(b[:]))
		if d == 0 {
			return nil, fmt.Errorf("data: %s: IDX dimension %d is 0", name, i+1)
		}
		if total > MaxIDXBytes/d {
			return nil, fmt.Errorf("data: %s: IDX dimensions %v hold more than %d bytes", name, dimsSoFar(dims, i, d), MaxIDXBytes)
		}
		dims[i] = d
		total *= d
	}
	var data []byte
	if limit != nil {
		maxData, why := limit(int64(4 + 4*nd))
		if int64(total) > maxData {
			return nil, fmt.Errorf("data: %s: IDX dimensions %v need %d bytes, %s", name, dims, total, why)
		}
		data = make([]byte, 0, total)
	} else {
		// Grow the buffer as data arrives, so a header that claims more
		// than the reader holds fails without a large allocation.
		data = make([]byte, 0, min(total, 1<<20))
	}
	for len(data) < total {
		if len(data) == cap(data) {
			data = slices.Grow(data, min(len(data), total-len(data)))
		}
		n, err := io.ReadFull(r, data[len(data):min(cap(data), total)])
		data = data[:len(data)+n]
		if err != nil {
			return nil, fmt.Errorf("data: %s: IDX data: dimensions %v need %d bytes, file has %d: %w", name, dims, total, len(data), truncated(err))
		}
	}
	var extra [1]byte
	switch n, err := io.ReadFull(r, extra[:]); {
	case n > 0:
		return nil, fmt.Errorf("data: %s: IDX data: dimensions %v need %d bytes, the file has more", name, dims, total)
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("data: %s: after the IDX data: %w", name, err)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

func dimsSoFar(dims []int, i, d int) []int {
	out := append([]int(nil), dims[:i]...)
	return append(out, d)
}

func truncated(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("file is truncated (%w)", io.ErrUnexpectedEOF)
	}
	return err
}

// ReadIDXFile reads an IDX file, gzip-compressed or not (recognised by the
// gzip magic number, not the name). A compressed file must also be a valid
// gzip stream to its end (checksum included).
//
// It reads only regular files (not /dev/zero or a pipe) and checks the
// dimensions against the file's size before allocating: an uncompressed
// file must hold exactly the data its dimensions declare, a compressed one
// cannot hold more than 1032 times its size (DEFLATE's limit). The data
// is then allocated once, at its declared size.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("data: %s: not a regular file (mode %v)", path, st.Mode())
	}
	size := st.Size()
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("data: %s: gzip: %w", path, err)
		}
		idx, err := readIDX(zr, path, func(int64) (int64, string) {
			return gzipMaxRatio * size, fmt.Sprintf("more than a %d-byte gzip file can hold (%d:1 at most)", size, gzipMaxRatio)
		})
		if err != nil {
			return nil, err
		}
		return idx, zr.Close()
	}
	return readIDX(br, path, func(header int64) (int64, string) {
		return size - header, fmt.Sprintf("the %d-byte file holds %d after the %d-byte header: file is truncated", size, max(size-header, 0), header)
	})
}

// IDXDataset is a dataset of grey images from an IDX image file (dimensions
// [N, H, W]) with labels from an IDX label file (dimensions [N]), such as
// MNIST or Fashion-MNIST. Items are *image.Gray values that share the
// dataset's memory.
type IDXDataset struct {
	n, h, w int
	pix     []byte
	labels  []byte
	classes []string
	id      string
}

// NewIDXDataset pairs images and labels. It checks that images has three
// dimensions, labels one, that both count the same items and that every
// label indexes classes. id names the contents for [Identifier].
func NewIDXDataset(images, labels *IDX, classes []string, id string) (*IDXDataset, error) {
	if len(images.Dims) != 3 {
		return nil, fmt.Errorf("data: %s: IDX images have dimensions %v, want 3 ([N, height, width])", id, images.Dims)
	}
	if len(labels.Dims) != 1 {
		return nil, fmt.Errorf("data: %s: IDX labels have dimensions %v, want 1 ([N])", id, labels.Dims)
	}
	n, h, w := images.Dims[0], images.Dims[1], images.Dims[2]
	if labels.Dims[0] != n {
		return nil, fmt.Errorf("data: %s: %d images but %d labels", id, n, labels.Dims[0])
	}
	if len(images.Data) != n*h*w || len(labels.Data) != n {
		return nil, fmt.Errorf("data: %s: IDX data sizes %d and %d do not match dimensions %v and %v",
			id, len(images.Data), len(labels.Data), images.Dims, labels.Dims)
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("data: %s: no class names", id)
	}
	for i, l := range labels.Data {
		if int(l) >= len(classes) {
			return nil, fmt.Errorf("data: %s: label %d of item %d is not below the number of classes %d", id, l, i, len(classes))
		}
	}
	return &IDXDataset{n: n, h: h, w: w, pix: images.Data, labels: labels.Data, classes: classes, id: id}, nil
}

// OpenIDX reads an image file and a label file (each gzip-compressed or
// not) as an [IDXDataset].
func OpenIDX(imagesPath, labelsPath string, classes []string) (*IDXDataset, error) {
	images, err := ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	id := "idx:" + fileID(imagesPath) + "+" + fileID(labelsPath)
	return NewIDXDataset(images, labels, classes, id)
}

// fileID names a file by absolute path, size and modification time.
func fileID(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if fi, err := os.Stat(path); err == nil {
		return fmt.Sprintf("%s@%d:%d", abs, fi.Size(), fi.ModTime().UnixNano())
	}
	return abs
}

// Len returns the number of images.
func (d *IDXDataset) Len() int { return d.n }

// Size returns the images' height and width.
func (d *IDXDataset) Size() (h, w int) { return d.h, d.w }

// Classes returns the class names.
func (d *IDXDataset) Classes() []string { return d.classes }

// ID names the files the dataset was read from.
func (d *IDXDataset) ID() string { return d.id }

// Label returns the label of item i (which must be in range).
func (d *IDXDataset) Label(i int) int { return int(d.labels[i]) }

// Item returns image i as an *image.Gray sharing the dataset's memory, and
// its label.
func (d *IDXDataset) Item(i int) (image.Image, int, error) {
	if err := checkIndex(d.id, i, d.n); err != nil {
		return nil, 0, err
	}
	size := d.h * d.w
	return &image.Gray{
		Pix:    d.pix[i*size : (i+1)*size : (i+1)*size],
		Stride: d.w,
		Rect:   image.Rect(0, 0, d.w, d.h),
	}, int(d.labels[i]), nil
}

// Split selects the training or the test part of a dataset.
type Split int

// The splits of Fashion-MNIST.
const (
	Train Split = iota // 60,000 images
	Test               // 10,000 images
)

// String returns "train" or "test".
func (s Split) String() string {
	if s == Test {
		return "test"
	}
	return "train"
}

// FashionMNISTDir is where Debian's package [FashionMNISTPackage] installs
// the Fashion-MNIST IDX files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTPackage is the Debian package with Fashion-MNIST.
const FashionMNISTPackage = "dataset-fashion-mnist"

// FashionMNISTClasses are Fashion-MNIST's ten labels, in label order.
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// FashionMNISTFiles returns the base names of the image and label files of
// a split, without the optional ".gz": "train-images-idx3-ubyte" and
// "train-labels-idx1-ubyte", or "t10k-…" for the test split.
func FashionMNISTFiles(s Split) (images, labels string) {
	p := "train"
	if s == Test {
		p = "t10k"
	}
	return p + "-images-idx3-ubyte", p + "-labels-idx1-ubyte"
}

// OpenFashionMNIST reads a split of Fashion-MNIST from dir (normally
// [FashionMNISTDir]), where each file may be gzip-compressed (name.gz) or
// not (name). The images are 28×28 grey; a [augment.Pipeline] turns them
// into 3-channel network input of any size. A missing directory or file
// gives an error that says how to install the data.
func OpenFashionMNIST(dir string, s Split) (*IDXDataset, error) {
	hint := fmt.Sprintf("install the Debian package %s (apt-get install %s), which puts the files in %s, or give the directory that holds them",
		FashionMNISTPackage, FashionMNISTPackage, FashionMNISTDir)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("data: Fashion-MNIST directory: %w: %s", err, hint)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("data: Fashion-MNIST: %s is not a directory: %s", dir, hint)
	}
	imgName, lblName := FashionMNISTFiles(s)
	var paths []string
	var missing []string
	for _, name := range []string{imgName, lblName} {
		p, err := findIDX(dir, name)
		if err != nil {
			return nil, err
		}
		if p == "" {
			missing = append(missing, name+"[.gz]")
		}
		paths = append(paths, p)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("data: Fashion-MNIST %s split: %s not found in %s: %s", s, strings.Join(missing, " and "), dir, hint)
	}
	d, err := OpenIDX(paths[0], paths[1], FashionMNISTClasses)
	if err != nil {
		return nil, err
	}
	if d.h != 28 || d.w != 28 {
		return nil, fmt.Errorf("data: Fashion-MNIST %s split in %s: images are %d×%d, want 28×28", s, dir, d.h, d.w)
	}
	return d, nil
}

// findIDX returns dir/name.gz or dir/name, whichever exists (the
// compressed one first), or "" if neither does.
func findIDX(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		_, err := os.Stat(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("data: %w", err)
		}
	}
	return "", nil
}
