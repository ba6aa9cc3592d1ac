//go:build onednn

package all

import (
	_ "github.com/dnngo/dnngo/backend/onednn" // -tags onednn: x86 CPUs through oneDNN (libdnnl)
)
