package backendtest

import (
	"errors"
	"testing"

	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RunSupports checks Backend.Supports: every AlexNet layer (and the ReLU,
// dropout, loss and SGD descriptions a network plans) is supported,
// Supports agrees with what planning does, and an invalid description is
// the error Validate gives, not ErrUnsupported. A backend with a library
// limit checks that limit in its own tests.
func RunSupports(t *testing.T, open Opener) {
	b, err := open()
	require.NoError(t, err)
	defer b.Close()
	for _, l := range AlexNetLayers(2) {
		t.Run(l.Name, func(t *testing.T) {
			var d backend.Desc
			var plan func() (backend.Plan, error)
			switch {
			case l.Conv != nil:
				d, plan = *l.Conv, func() (backend.Plan, error) { return b.Conv(*l.Conv) }
			case l.Lin != nil:
				d, plan = *l.Lin, func() (backend.Plan, error) { return b.Linear(*l.Lin) }
			case l.LRN != nil:
				d, plan = *l.LRN, func() (backend.Plan, error) { return b.LRN(*l.LRN) }
			case l.Pool != nil:
				d, plan = *l.Pool, func() (backend.Plan, error) { return b.MaxPool(*l.Pool) }
			default:
				d, plan = l.ReLU, func() (backend.Plan, error) { return b.ReLU(l.ReLU) }
			}
			require.NoError(t, b.Supports(d))
			p, err := plan()
			require.NoError(t, err, "Supports said yes, so planning must succeed")
			require.NoError(t, p.Close())
		})
	}
	for _, tc := range []struct {
		name string
		d    backend.Desc
		kind error // nil: supported
	}{
		{"dropout", backend.DropoutDesc{Shape: backend.Shape{2, 4096}, P: 0.5}, nil},
		{"loss", backend.SoftmaxDesc{Logits: backend.Shape{2, 1000}}, nil},
		{"bias", backend.BiasDesc{Shape: backend.Shape{2, 96, 55, 55}}, nil},
		{"sgd or relu shape", backend.Shape{4096, 9216}, nil},
		{"nil description", nil, backend.ErrInvalid},
		{"conv with stride 0", backend.ConvDesc{Input: backend.Shape{1, 3, 8, 8}, Out: 4, KernelH: 3, KernelW: 3, Groups: 1}, backend.ErrInvalid},
		{"lrn with an even window", backend.LRNDesc{Input: backend.Shape{1, 8, 4, 4}, Size: 4, Alpha: 1e-4, Beta: 0.75, K: 2}, backend.ErrInvalid},
		{"empty shape", backend.Shape{}, backend.ErrShape},
		{"dropout p = 1", backend.DropoutDesc{Shape: backend.Shape{4}, P: 1}, backend.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Supports(tc.d)
			if tc.kind == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.kind)
			assert.False(t, errors.Is(err, backend.ErrUnsupported), "an invalid description is invalid everywhere, not unsupported: %v", err)
			var oe *backend.OpError
			require.ErrorAs(t, err, &oe)
		})
	}
	require.NoError(t, b.Close())
	require.ErrorIs(t, b.Supports(backend.Shape{1}), backend.ErrClosed)
}
