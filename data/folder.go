package data

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	_ "image/jpeg" // decoders for Folder
	_ "image/png"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// FolderOptions tunes [OpenFolder]. The zero value (or nil) gives the
// defaults.
type FolderOptions struct {
	// Extensions are the file name endings read as images, compared without
	// regard to case. Default: .jpg, .jpeg, .png. Other files are ignored.
	Extensions []string
	// Verify decodes every image completely when the folder is opened, so
	// that corrupt files are found (and skipped) before training instead of
	// when first loaded. Without it, opening reads only each file's header.
	Verify bool
	// MaxPixels rejects (skips) images with more pixels than this, which
	// guards against decompression bombs. Default [DefaultMaxPixels].
	MaxPixels int
	// MaxImageBytes rejects (skips) images whose decoded form would take
	// more bytes than this: width × height × the bytes per pixel of the
	// decoder's result (1 for grey or paletted, 3 for JPEG colour, 4 for
	// 8-bit RGBA, 8 for 16-bit RGBA PNG). Both limits are checked from
	// the file's header (image.DecodeConfig) before anything is decoded.
	// Default [DefaultMaxImageBytes].
	MaxImageBytes int64
	// Workers is the number of goroutines checking files when opening.
	// Default runtime.GOMAXPROCS(0).
	Workers int
}

// The default limits on one image of a [Folder] (and of [DecodeImage]):
// DefaultMaxPixels is 2^25 pixels (about 33.5 megapixels, 8192×4096),
// DefaultMaxImageBytes 128 MiB decoded. A 24-megapixel camera JPEG
// (72 MB decoded) passes; a 16-bit 8191×8191 PNG (537 MB decoded from a
// 510 KB file) does not.
const (
	DefaultMaxPixels     = 1 << 25
	DefaultMaxImageBytes = 128 << 20
)

// limits are the checks on one image's header.
type limits struct {
	pixels int
	bytes  int64
}

// Skip records an image file that was left out and why.
type Skip struct {
	Path string
	Err  error
}

// Folder is a dataset of image files in ImageNet's layout: one folder per
// class under a root, root/<class>/<image>.jpg or .png. Classes are the
// folder names in lexical order and labels index them. Images are decoded
// with the standard library (JPEG and PNG) when an item is loaded.
//
// Files that cannot be read or decoded are skipped and counted, never
// fatal: those found when the folder is opened are left out of the
// dataset; one that fails later (when opened without
// [FolderOptions].Verify, only headers are checked) makes Item return an
// [ImageError], which the [Loader] handles by substituting another image.
// [Folder.Skipped] lists both kinds.
type Folder struct {
	root    string
	paths   []string
	labels  []int
	classes []string
	limits  limits
	id      string

	mu      sync.Mutex
	skipped []Skip
	seen    map[string]bool // paths in skipped
}

// OpenFolder scans root for class folders and their images and checks each
// image's header (or, with Verify, decodes it). It fails if root has no
// class folders, if a class folder has no images (or only unusable ones),
// or on file system errors other than unreadable images.
func OpenFolder(root string, opts *FolderOptions) (*Folder, error) {
	var o FolderOptions
	if opts != nil {
		o = *opts
	}
	if len(o.Extensions) == 0 {
		o.Extensions = []string{".jpg", ".jpeg", ".png"}
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxImageBytes <= 0 {
		o.MaxImageBytes = DefaultMaxImageBytes
	}
	lim := limits{o.MaxPixels, o.MaxImageBytes}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	f := &Folder{root: root, limits: lim, seen: map[string]bool{}}
	var classFiles [][]string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !isDir(root, e) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("data: class folder: %w", err)
		}
		var paths []string
		for _, fe := range files {
			if strings.HasPrefix(fe.Name(), ".") || isDir(dir, fe) || !hasExt(fe.Name(), o.Extensions) {
				continue
			}
			paths = append(paths, filepath.Join(dir, fe.Name()))
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("data: class folder %s has no images (%s)", dir, strings.Join(o.Extensions, ", "))
		}
		f.classes = append(f.classes, e.Name())
		classFiles = append(classFiles, paths)
	}
	if len(f.classes) == 0 {
		return nil, fmt.Errorf("data: %s has no class folders: want the layout root/<class>/<image> with %s images", root, strings.Join(o.Extensions, ", "))
	}

	var all []string
	var labels []int
	for c, paths := range classFiles {
		all = append(all, paths...)
		for range paths {
			labels = append(labels, c)
		}
	}
	errs := make([]error, len(all))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(o.Workers, len(all)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(all) {
					return
				}
				errs[i] = checkImageFile(all[i], lim, o.Verify)
			}
		})
	}
	wg.Wait()

	kept := make([]int, len(f.classes))
	for i, p := range all {
		if errs[i] != nil {
			f.skip(p, errs[i])
			continue
		}
		f.paths = append(f.paths, p)
		f.labels = append(f.labels, labels[i])
		kept[labels[i]]++
	}
	for c, n := range kept {
		if n == 0 {
			dir := filepath.Join(root, f.classes[c])
			return nil, fmt.Errorf("data: class folder %s has no usable images: all %d are corrupt or unreadable (first: %v)",
				dir, len(classFiles[c]), f.firstSkip(dir))
		}
	}
	h := fnv.New64a()
	for _, p := range f.paths {
		fmt.Fprintf(h, "%s\n", p)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = root
	}
	f.id = fmt.Sprintf("folder:%s:%d:%x", abs, len(f.paths), h.Sum64())
	return f, nil
}

// isDir reports whether the entry is a directory, following symbolic links.
func isDir(dir string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink != 0 {
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		return err == nil && fi.IsDir()
	}
	return e.IsDir()
}

func hasExt(name string, exts []string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return slices.ContainsFunc(exts, func(e string) bool { return strings.ToLower(e) == ext })
}

// checkImageFile reads the header (or, with full, decodes the whole file).
func checkImageFile(path string, lim limits, full bool) error {
	if full {
		_, err := decodeFile(path, lim)
		return err
	}
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	cfg, _, err := image.DecodeConfig(fh)
	if err != nil {
		return err
	}
	return checkConfig(cfg, lim)
}

func checkConfig(cfg image.Config, lim limits) error {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("image is %d×%d", cfg.Width, cfg.Height)
	}
	if cfg.Width > lim.pixels/cfg.Height {
		return fmt.Errorf("image is %d×%d, more than %d pixels", cfg.Width, cfg.Height, lim.pixels)
	}
	if need := int64(cfg.Width) * int64(cfg.Height) * int64(bytesPerPixel(cfg.ColorModel)); need > lim.bytes {
		return fmt.Errorf("image is %d×%d at %d bytes per pixel: %d bytes decoded, more than the limit of %d",
			cfg.Width, cfg.Height, bytesPerPixel(cfg.ColorModel), need, lim.bytes)
	}
	return nil
}

// bytesPerPixel is what the standard decoders allocate per pixel for an
// image of colour model m (8, the most, for models they do not make).
func bytesPerPixel(m color.Model) int {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // 4:4:4 at most
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// decodeFile decodes a JPEG or PNG file, checking its size from the header
// before decoding.
func decodeFile(path string, lim limits) (image.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if err := checkConfig(cfg, lim); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	return img, err
}

// DecodeImage decodes a JPEG or PNG file (the formats [Folder] reads), with
// the same checks and the default limits ([DefaultMaxPixels],
// [DefaultMaxImageBytes]): for classifying single images.
func DecodeImage(path string) (image.Image, error) {
	img, err := decodeFile(path, limits{DefaultMaxPixels, DefaultMaxImageBytes})
	if err != nil {
		return nil, &ImageError{Index: -1, Path: path, Err: err}
	}
	return img, nil
}

func (f *Folder) skip(path string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.seen[path] {
		f.seen[path] = true
		f.skipped = append(f.skipped, Skip{Path: path, Err: err})
	}
}

func (f *Folder) firstSkip(dir string) error {
	for _, s := range f.skipped {
		if filepath.Dir(s.Path) == dir {
			return s.Err
		}
	}
	return nil
}

// Len returns the number of usable images.
func (f *Folder) Len() int { return len(f.paths) }

// Classes returns the class folder names in label order.
func (f *Folder) Classes() []string { return f.classes }

// ID names the folder and its files (by name, not contents).
func (f *Folder) ID() string { return f.id }

// Path returns the file of item i.
func (f *Folder) Path(i int) string { return f.paths[i] }

// Label returns the label of item i.
func (f *Folder) Label(i int) int { return f.labels[i] }

// Skipped returns the image files left out, those found when opening first,
// then those that failed to load since, each once.
func (f *Folder) Skipped() []Skip {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.skipped)
}

// Item decodes image i. An unreadable or corrupt file gives an
// [ImageError] (which matches [ErrBadImage]) and is added to Skipped.
func (f *Folder) Item(i int) (image.Image, int, error) {
	if err := checkIndex(f.root, i, len(f.paths)); err != nil {
		return nil, 0, err
	}
	img, err := decodeFile(f.paths[i], f.limits)
	if err != nil {
		f.skip(f.paths[i], err)
		return nil, 0, &ImageError{Index: i, Path: f.paths[i], Err: err}
	}
	return img, f.labels[i], nil
}
