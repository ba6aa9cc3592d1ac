package train

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/collective"
	"github.com/dnngo/dnngo/data"
	"github.com/dnngo/dnngo/data/augment"
)

// Data-parallel training (Options.Comm of N > 1 ranks): every rank holds a
// replica of the network; Batch is the global batch, of which rank r
// trains on rows [r·Batch/N, (r+1)·Batch/N) (data.Config.Shards) with the
// dropout masks of those rows (alexnet.Network.SetRowOffset); after each
// Backward the gradients are averaged over the ranks
// (alexnet.Network.AverageGrads) so every replica takes the same Step.
// N ranks × Batch/N thus compute the step of one process at Batch, up to
// the order of floating-point sums. Validation is split between the ranks
// and its sums combined. Only rank 0 logs and writes the checkpoint, CSV
// and chart.
//
// The gradient exchange does not overlap the backward pass: the buckets are
// reduced after Backward returns. On the 2-core machine this was measured on
// (bench/RESULTS.md, section 8) both cores compute the backward pass and the
// shared-memory all-reduce needs the same cores, so overlap has nothing to
// gain there; between machines the NIC would do the transfer, and reducing
// the fc buckets (the first gradients ready, 94 % of the Seed network's bytes) while the
// convolutions' backward runs would hide up to their backward time.

// distSetup checks the global batch against the ranks, silences every
// rank but 0, and makes the replicas identical (rank 0's parameters). It
// returns the per-rank batch.
func (o *Options) distSetup() (int, error) {
	if o.Comm == nil {
		o.Comm = collective.Local()
	}
	n, r := o.Comm.Size(), o.Comm.Rank()
	if n == 1 {
		return o.Batch, nil
	}
	if o.Batch%n != 0 {
		return 0, fmt.Errorf("train: global batch %d does not split between %d ranks: want a multiple of %d", o.Batch, n, n)
	}
	if r != 0 {
		o.Log, o.Bar = io.Discard, false
		o.Checkpoint, o.CSV, o.Plot = "", "", ""
	}
	local := o.Batch / n
	if err := o.Net.SetRowOffset(r * local); err != nil {
		return 0, err
	}
	// Every rank must be at the same step (resumed from one checkpoint).
	steps := []float64{float64(o.Net.Steps())}
	if err := o.Comm.AllReduceFloat64(steps, collective.Sum); err != nil {
		return 0, fmt.Errorf("train: ranks' steps: %w", err)
	}
	if steps[0] != float64(n)*float64(o.Net.Steps()) {
		return 0, fmt.Errorf("train: rank %d is at step %d, the ranks' mean is %g: resume every rank from the same checkpoint", r, o.Net.Steps(), steps[0]/float64(n))
	}
	if err := o.Net.BroadcastParams(o.Comm, 0); err != nil {
		return 0, fmt.Errorf("train: %w", err)
	}
	return local, nil
}

// evaluate scores the network on the test set, each rank on its share
// (contiguous ranges of the set), the sums combined over the ranks.
func (o Options) evaluate(ctx context.Context, batch int) (Eval, error) {
	c := o.Comm
	if c == nil || c.Size() == 1 {
		return Evaluate(ctx, o.Net, o.Test, o.TestPipe, batch, o.Workers)
	}
	return EvaluateShard(ctx, c, o.Net, o.Test, o.TestPipe, batch, o.Workers, nil)
}

// EvaluateShard is Evaluate split between the ranks of c: rank r scores
// items [r·n/N, (r+1)·n/N) of ds, and the counts and loss sums are added
// over the ranks, so every rank returns the score of the whole set. batch
// is the per-rank batch; log (nil: none) gets this rank's progress lines.
func EvaluateShard(ctx context.Context, c collective.Comm, net *alexnet.Network, ds data.Dataset, pipe *augment.Pipeline, batch, workers int, log io.Writer) (Eval, error) {
	n, r, size := ds.Len(), c.Rank(), c.Size()
	lo, hi := r*n/size, (r+1)*n/size
	var mine Eval
	if hi > lo {
		idx := make([]int, hi-lo)
		for i := range idx {
			idx[i] = lo + i
		}
		part, err := data.Subset(ds, idx)
		if err != nil {
			return Eval{}, err
		}
		if mine, err = EvaluateLogged(ctx, net, part, pipe, batch, workers, log); err != nil {
			return Eval{}, err
		}
	}
	k := float64(mine.N)
	sums := []float64{k, mine.Loss * k, mine.Top1 * k, mine.Top5 * k, float64(mine.NonFinite)}
	if err := c.AllReduceFloat64(sums, collective.Sum); err != nil {
		return Eval{}, fmt.Errorf("train: evaluate: %w", err)
	}
	if sums[0] == 0 {
		return Eval{}, fmt.Errorf("train: evaluate: the dataset is empty")
	}
	return Eval{N: int(sums[0]), Loss: sums[1] / sums[0], Top1: sums[2] / sums[0], Top5: sums[3] / sums[0], NonFinite: int(sums[4])}, nil
}

// LoadShared loads a checkpoint for every rank of c: rank 0 reads the file
// and broadcasts its bytes, every rank builds the network from them on b.
// Other ranks need no access to the file (multi-node runs without a shared
// file system). An error reading it on rank 0 is an error on every rank.
func LoadShared(c collective.Comm, b backend.Backend, path string) (*alexnet.Network, error) {
	if c == nil || c.Size() == 1 {
		return alexnet.Load(b, path)
	}
	var buf []byte
	var readErr error
	hdr := make([]byte, 8)
	if c.Rank() == 0 {
		// The same rule as alexnet.Load: only a regular file is read
		// (a device such as /dev/zero would be read until memory runs out).
		if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
			readErr = fmt.Errorf("%s is not a regular file (%v)", path, st.Mode().Type())
		} else {
			buf, readErr = os.ReadFile(path)
		}
		size := int64(len(buf))
		if readErr != nil {
			size = -1
		}
		binary.LittleEndian.PutUint64(hdr, uint64(size))
	}
	if err := c.BroadcastBytes(hdr, 0); err != nil {
		return nil, fmt.Errorf("train: load %s: %w", path, err)
	}
	size := int64(binary.LittleEndian.Uint64(hdr))
	if size < 0 {
		if readErr != nil {
			return nil, fmt.Errorf("train: load: %w", readErr)
		}
		return nil, fmt.Errorf("train: load %s: rank 0 could not read it", path)
	}
	if c.Rank() != 0 {
		buf = make([]byte, size)
	}
	if err := c.BroadcastBytes(buf, 0); err != nil {
		return nil, fmt.Errorf("train: load %s: %w", path, err)
	}
	net, err := alexnet.ReadCheckpoint(b, buf)
	if err != nil {
		return nil, fmt.Errorf("train: load %s: %w", path, err)
	}
	return net, nil
}
