package all_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	_ "github.com/dnngo/dnngo/backend/all"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCPUIsAlwaysAvailable(t *testing.T) {
	assert.Contains(t, backend.Available(), "cpu")
	b, err := backend.Open("cpu")
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "cpu", b.Info().Name)
}

func TestBestOpensSomething(t *testing.T) {
	b, err := backend.Best()
	require.NoError(t, err)
	defer b.Close()
	// The first compiled-in backend that opens on this machine (cudnn, say,
	// is compiled in with -tags cudnn but does not open without a GPU).
	want := ""
	for _, name := range backend.Available() {
		if o, err := backend.Open(name); err == nil {
			o.Close()
			want = name
			break
		}
	}
	assert.Equal(t, want, b.Info().Name, "Best returns the fastest backend that opens")
}
