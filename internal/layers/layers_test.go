package layers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAlexNetLayers(t *testing.T) {
	ls := AlexNet(4)
	require.Len(t, ls, 14)
	assert.Equal(t, "conv1", ls[0].Name)
	assert.Equal(t, []int{4, 96, 55, 55}, []int(ls[0].Conv.OutputShape()))
	assert.Equal(t, 1000, ls[13].Lin.Out)
}
