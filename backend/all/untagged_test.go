//go:build !onednn

package all_test

import (
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/require"
)

// Without -tags onednn the backend is known but absent, and the error says
// how to add it.
func TestOneDNNNotCompiledNamesTheTag(t *testing.T) {
	_, err := backend.Open("onednn")
	require.ErrorIs(t, err, backend.ErrNotCompiled)
	require.Contains(t, err.Error(), "-tags onednn")
	require.NotContains(t, backend.Available(), "onednn")
}
