//go:build cudnn

package all

import (
	_ "github.com/dnngo/dnngo/backend/cudnn" // -tags cudnn: NVIDIA GPUs through cuDNN 9 and cuBLAS, loaded at run time
)
