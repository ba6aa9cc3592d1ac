package driver_test

import (
	"math"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryBudget(t *testing.T) {
	m := driver.NewMemory(1000)
	require.NoError(t, m.Reserve("new tensor", "a tensor [100]", 400))
	require.NoError(t, m.Reserve("new tensor", "a tensor [100]", 400))
	err := m.Reserve("new tensor", "a tensor [100]", 400)
	require.ErrorIs(t, err, backend.ErrMemory)
	assert.Contains(t, err.Error(), "needs 400 bytes")
	assert.Contains(t, err.Error(), "only 200 of the backend's memory budget of 1000 bytes")
	assert.Equal(t, int64(800), m.Used())
	m.Release(400)
	require.NoError(t, m.Reserve("new tensor", "a tensor [100]", 400))
	assert.True(t, driver.NewMemory(0).Fits(math.MaxInt64), "no budget: everything fits")
	assert.False(t, m.Fits(-1))

	_, err = driver.Float32Bytes("x", math.MaxInt64/2)
	require.ErrorIs(t, err, backend.ErrInvalid)
	b, err := driver.Float32Bytes("x", 1<<31-1)
	require.NoError(t, err)
	assert.Equal(t, int64(4*(1<<31-1)), b)
}

func TestFloat32BytesRefusesNegative(t *testing.T) {
	_, err := driver.Float32Bytes("x", -1)
	require.ErrorIs(t, err, backend.ErrInvalid)
}
