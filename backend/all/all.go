// Package all registers every backend compiled into this binary: the
// pure-Go cpu backend always, onednn with -tags onednn and cudnn with
// -tags cudnn. Import it for its side effect:
//
//	import _ "github.com/dnngo/dnngo/backend/all"
//
//	b, err := backend.Best() // cudnn, then onednn, then cpu
package all

import (
	_ "github.com/dnngo/dnngo/backend/cpu" // always built
)
