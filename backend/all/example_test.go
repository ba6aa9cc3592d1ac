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
