package train_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all"
	"github.com/dnngo/dnngo/train"
)

// A network trained with package alexnet becomes usable by "alexnet eval"
// and "alexnet classify" once its checkpoint carries the preprocessing
// and the class names: call Describe before Save.
func ExampleDescribe() {
	b, err := backend.Open("cpu")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	cfg := alexnet.Mini()
	cfg.Classes = 3
	net, err := alexnet.New(b, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer net.Close()
	// … train net on images resized to 112, centre-cropped to 99×99, in
	// [0, 1] minus this per-channel mean …
	pre := train.DefaultPreprocess(cfg, [3]float32{0.485, 0.456, 0.406})
	if err := train.Describe(net, pre, []string{"cat", "dog", "fox"}); err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "describe")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mini.safetensors")
	if err := net.Save(path); err != nil {
		fmt.Println(err)
		return
	}

	loaded, err := alexnet.Load(b, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer loaded.Close()
	fmt.Println(loaded.Note(train.NotePreprocess))
	fmt.Println(loaded.Note(train.NoteLabels))
	got, labels, err := train.Described(loaded)
	fmt.Println(got == pre, labels, err)
	// Output:
	// {"resize":112,"crop":99,"mean":[0.485,0.456,0.406]}
	// ["cat","dog","fox"]
	// true [cat dog fox] <nil>
}
