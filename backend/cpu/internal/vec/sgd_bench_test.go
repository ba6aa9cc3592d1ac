package vec

import (
	"fmt"
	"sync"
	"testing"
)

// BenchmarkSGD times one SGD step over AlexNet's 62.4 M parameters on one
// goroutine and on two, the exported function and the portable Go one, reporting the bytes moved (read w, g, v; write w,
// v) per second.
func BenchmarkSGD(b *testing.B) {
	const n = 62_400_000
	w, g, v := make([]float32, n), make([]float32, n), make([]float32, n)
	impls := []struct {
		name string
		fn   func(w, g, v []float32, lr, mu, wd float32)
	}{{"exported", SGDTorch}, {"go", sgdTorchGo}}
	for _, impl := range impls {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("impl=%s/goroutines=%d", impl.name, workers), func(b *testing.B) {
				for b.Loop() {
					var wg sync.WaitGroup
					for i := 0; i < workers; i++ {
						lo, hi := n*i/workers, n*(i+1)/workers
						wg.Add(1)
						go func() {
							defer wg.Done()
							impl.fn(w[lo:hi], g[lo:hi], v[lo:hi], 0.01, 0.9, 5e-4)
						}()
					}
					wg.Wait()
				}
				b.ReportMetric(float64(5*4*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
