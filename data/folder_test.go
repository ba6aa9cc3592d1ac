package data

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func solid(w, h int, c color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

func noiseImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(i*7919%251) | 3
	}
	return m
}

func pngBytes(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, m))
	return b.Bytes()
}

func jpegBytes(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}))
	return b.Bytes()
}

// tree writes files (path relative to root → contents) and returns root.
func tree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	for p, b := range files {
		full := filepath.Join(root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		if b != nil {
			require.NoError(t, os.WriteFile(full, b, 0o644))
		}
	}
	return root
}

func TestOpenFolder(t *testing.T) {
	red := pngBytes(t, solid(8, 6, color.RGBA{255, 0, 0, 255}))
	blue := jpegBytes(t, solid(16, 16, color.RGBA{0, 0, 255, 255}))
	noisy := jpegBytes(t, noiseImage(64, 64))
	cutJPEG := noisy[:len(noisy)*3/4] // header intact, scan data cut
	cutPNG := red[:40]                // IHDR intact, data cut

	t.Run("classes in name order, labels index them", func(t *testing.T) {
		root := tree(t, map[string][]byte{
			"zebra/a.PNG":       red,
			"apple/1.jpg":       blue,
			"apple/2.jpeg":      blue,
			"apple/notes.txt":   []byte("ignored"),
			"apple/.hidden.jpg": []byte("ignored"),
			".cache/x.png":      red, // hidden folder: not a class
			"README.md":         []byte("ignored"),
		})
		f, err := OpenFolder(root, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"apple", "zebra"}, f.Classes())
		require.Equal(t, 3, f.Len())
		assert.Empty(t, f.Skipped())
		for i, want := range []struct {
			file  string
			label int
		}{{"apple/1.jpg", 0}, {"apple/2.jpeg", 0}, {"zebra/a.PNG", 1}} {
			assert.Equal(t, filepath.Join(root, want.file), f.Path(i))
			img, label, err := f.Item(i)
			require.NoError(t, err)
			assert.Equal(t, want.label, label)
			assert.Equal(t, want.label, f.Label(i))
			if want.label == 1 {
				assert.Equal(t, image.Rect(0, 0, 8, 6), img.Bounds())
				r, g, b, _ := img.At(3, 3).RGBA()
				assert.Equal(t, [3]uint32{0xffff, 0, 0}, [3]uint32{r, g, b})
			}
		}
	})
	t.Run("corrupt images are skipped and counted", func(t *testing.T) {
		root := tree(t, map[string][]byte{
			"cat/good.png":     red,
			"cat/garbage.jpg":  []byte("this is not a JPEG"),
			"cat/empty.png":    {},
			"cat/wrongext.png": blue, // a JPEG named .png decodes: kept
			"dog/good.jpg":     blue,
			"dog/cut.jpg":      cutJPEG,
		})
		f, err := OpenFolder(root, nil)
		require.NoError(t, err)
		assert.Equal(t, 4, f.Len(), "good.png, wrongext.png, good.jpg and cut.jpg (its header is fine)")
		skipped := f.Skipped()
		require.Len(t, skipped, 2)
		assert.Equal(t, filepath.Join(root, "cat/empty.png"), skipped[0].Path)
		assert.Equal(t, filepath.Join(root, "cat/garbage.jpg"), skipped[1].Path)

		// The truncated JPEG fails when loaded: an ImageError, counted once.
		var cut int
		for i := range f.Len() {
			if filepath.Base(f.Path(i)) == "cut.jpg" {
				cut = i
			}
		}
		for range 2 {
			_, _, err = f.Item(cut)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBadImage)
			var ie *ImageError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, f.Path(cut), ie.Path)
			assert.Contains(t, err.Error(), "cut.jpg")
		}
		require.Len(t, f.Skipped(), 3)
		assert.Equal(t, f.Path(cut), f.Skipped()[2].Path)
	})
	t.Run("verify finds truncated images when opening", func(t *testing.T) {
		root := tree(t, map[string][]byte{
			"a/good.png": red, "a/cut.jpg": cutJPEG, "a/cut.png": cutPNG,
			"b/good.jpg": blue,
		})
		f, err := OpenFolder(root, &FolderOptions{Verify: true, Workers: 3})
		require.NoError(t, err)
		assert.Equal(t, 2, f.Len())
		assert.Len(t, f.Skipped(), 2)
		for i := range f.Len() {
			_, _, err := f.Item(i)
			assert.NoError(t, err)
		}
	})
	t.Run("images over the pixel limit are skipped", func(t *testing.T) {
		root := tree(t, map[string][]byte{"a/big.jpg": blue, "a/small.png": red})
		f, err := OpenFolder(root, &FolderOptions{MaxPixels: 100})
		require.NoError(t, err)
		require.Equal(t, 1, f.Len())
		require.Len(t, f.Skipped(), 1)
		assert.Contains(t, f.Skipped()[0].Err.Error(), "more than 100 pixels")
	})
	t.Run("other extensions", func(t *testing.T) {
		root := tree(t, map[string][]byte{"a/x.img": red, "a/y.png": red})
		f, err := OpenFolder(root, &FolderOptions{Extensions: []string{".IMG"}})
		require.NoError(t, err)
		assert.Equal(t, 1, f.Len())
	})
	t.Run("symlinked class folders are followed", func(t *testing.T) {
		root := tree(t, map[string][]byte{"real/a.png": red})
		other := tree(t, map[string][]byte{"x.png": red, "y.png": red})
		require.NoError(t, os.Symlink(other, filepath.Join(root, "linked")))
		f, err := OpenFolder(root, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"linked", "real"}, f.Classes())
		assert.Equal(t, 3, f.Len())
	})

	errTests := []struct {
		name   string
		files  map[string][]byte
		errSub string
	}{
		{"empty class folder", map[string][]byte{"a/x.png": red, "b/.keep": {}}, "class folder"},
		{"class folder with only other files", map[string][]byte{"a/x.png": red, "b/x.txt": {}}, "has no images (.jpg, .jpeg, .png)"},
		{"class with only corrupt images", map[string][]byte{"a/x.png": red, "b/x.png": []byte("junk"), "b/y.jpg": {}}, "has no usable images: all 2 are corrupt or unreadable"},
		{"no class folders", map[string][]byte{"x.png": red}, "has no class folders"},
		{"empty root", map[string][]byte{}, "has no class folders"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenFolder(tree(t, tt.files), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.errSub)
		})
	}
	t.Run("missing root", func(t *testing.T) {
		_, err := OpenFolder(filepath.Join(t.TempDir(), "none"), nil)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}

func TestDecodeImage(t *testing.T) {
	root := tree(t, map[string][]byte{
		"ok.png":  pngBytes(t, solid(3, 2, color.RGBA{1, 2, 3, 255})),
		"bad.jpg": []byte("nope"),
	})
	img, err := DecodeImage(filepath.Join(root, "ok.png"))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 3, 2), img.Bounds())
	_, err = DecodeImage(filepath.Join(root, "bad.jpg"))
	assert.ErrorIs(t, err, ErrBadImage)
	assert.ErrorContains(t, err, "bad.jpg")
	assert.NotContains(t, err.Error(), "item -1")
	_, err = DecodeImage(filepath.Join(root, "missing.png"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
