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
	assert.Equal(t, backend.Available()[0], b.Info().Name, "Best returns the fastest that opens; here the first opens")
}
