package all_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all" // registers every backend compiled in
)

// Pick a backend at run time. The README quotes this.
func Example() {
	b, err := backend.Best() // cudnn > onednn > cpu: the first compiled in that opens here
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	fmt.Println("opened:", b.Info().Name != "")

	c, err := backend.Open("onednn") // by name: an error saying why it cannot be used here
	switch {
	case errors.Is(err, backend.ErrNotCompiled): // built without -tags onednn
	case errors.Is(err, backend.ErrUnavailable): // compiled in, but the library does not open here
	case err != nil:
		log.Fatal(err)
	default:
		c.Close()
	}
	_, err = backend.Open("tpu")
	fmt.Println(errors.Is(err, backend.ErrUnknown))
	// Output:
	// opened: true
	// true
}

// Ask a backend whether it can run a layer before planning it: nil, an
// invalid description (ErrInvalid, ErrShape, the same on every backend), or
// ErrUnsupported for a limit of this backend's library (cuDNN's LRN window
// is at most 16 channels), where another backend may do.
func Example_supports() {
	b, err := backend.Open("cpu")
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	lrn := backend.LRNDesc{Input: backend.Shape{1, 96, 55, 55}, Size: 5, Alpha: 5e-4, Beta: 0.75, K: 2}
	fmt.Println(b.Supports(lrn))
	lrn.Size = 4 // even windows are not LRN windows anywhere
	err = b.Supports(lrn)
	fmt.Println(errors.Is(err, backend.ErrInvalid), errors.Is(err, backend.ErrUnsupported))
	// Output:
	// <nil>
	// true false
}
