//go:build cudnn

// The GPU described through NVML (go-nvml), where NVML is present.

package cudnn

import (
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// gpuFacts is what NVML says about a GPU.
type gpuFacts struct {
	name             string
	memory           uint64
	ccMajor, ccMinor int
	driver           string
}

// nvmlFacts asks NVML (through go-nvml, which dlopens libnvidia-ml.so.1)
// about the GPU at PCI address pci. ok is false where NVML is absent or
// does not know the device; the driver API's facts are used then.
func nvmlFacts(pci string) (f gpuFacts, ok bool) {
	if pci == "" {
		return f, false
	}
	defer func() {
		if recover() != nil { // a broken NVML must not take the backend down
			ok = false
		}
	}()
	if nvml.Init() != nvml.SUCCESS {
		return f, false
	}
	defer nvml.Shutdown()
	dev, r := nvml.DeviceGetHandleByPciBusId(pci)
	if r != nvml.SUCCESS {
		// NVML writes the domain with 8 digits, the driver API with 4.
		if dev, r = nvml.DeviceGetHandleByPciBusId("0000" + pci); r != nvml.SUCCESS {
			return f, false
		}
	}
	if f.name, r = dev.GetName(); r != nvml.SUCCESS {
		return f, false
	}
	mem, r := dev.GetMemoryInfo()
	if r != nvml.SUCCESS {
		return f, false
	}
	f.memory = mem.Total
	if f.ccMajor, f.ccMinor, r = dev.GetCudaComputeCapability(); r != nvml.SUCCESS {
		return f, false
	}
	if f.driver, r = nvml.SystemGetDriverVersion(); r != nvml.SUCCESS {
		f.driver = "?"
	}
	f.driver = strings.TrimSpace(f.driver)
	return f, true
}
