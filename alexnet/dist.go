package alexnet

import (
	"fmt"
	"time"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/collective"
)

// DefaultBucketBytes is the size gradients are grouped into for one
// all-reduce call (PyTorch DDP's default, 25 MiB): a few large calls per
// step instead of one per parameter. A parameter larger than a bucket is a
// bucket of its own (AlexNet's fc6 weight, 151 MB).
const DefaultBucketBytes = 25 << 20

// distState is what a data-parallel replica keeps: where its rows sit in
// the global batch, and the host buffers gradients are staged in.
type distState struct {
	row         int // global index of the replica's first row
	bucketBytes int
	buckets     []gradBucket
	stats       DistStats
}

// gradBucket is a group of parameters reduced by one all-reduce, staged in
// host memory.
type gradBucket struct {
	params []*param
	host   []float32
}

// DistStats counts the gradient exchange of a replica since the network
// was made.
type DistStats struct {
	Steps   int           // AverageGrads calls that exchanged data
	Calls   int           // all-reduce calls (buckets)
	Bytes   int64         // bytes all-reduced (this rank's buffer sizes)
	Reduce  time.Duration // time in all-reduce calls
	Staging time.Duration // time in Download and Upload of the gradients
}

// DistStats returns the gradient exchange counters (see AverageGrads).
func (n *Network) DistStats() DistStats { return n.dist.stats }

// SetRowOffset makes the network a replica of a data-parallel job whose
// training batches are rows [row, row+B) of a larger global batch: Forward
// in Train mode then draws each dropout mask element as the element of the
// same global row and column in one network running the whole global
// batch (backend.DropoutSeedAt), so N replicas of batch B compute exactly
// the masks of one network of batch N·B. 0 (the default) is a network on
// its own.
func (n *Network) SetRowOffset(row int) error {
	if row < 0 {
		return fmt.Errorf("alexnet: set row offset: %d, want ≥ 0", row)
	}
	n.dist.row = row
	return nil
}

// replicaSeed shifts the dropout seed of a layer whose output is act (bn
// rows) to the replica's first global row.
func (n *Network) replicaSeed(bt *batch, act backend.Tensor, seed uint64) uint64 {
	if n.dist.row == 0 {
		return seed
	}
	perRow := act.Shape().Numel() / bt.n
	return backend.DropoutSeedAt(seed, n.dist.row*perRow)
}

// SetBucketBytes sets the size of the gradient buckets of AverageGrads
// (DefaultBucketBytes when never set). It takes effect at the next call.
func (n *Network) SetBucketBytes(b int) error {
	if b < 4 {
		return fmt.Errorf("alexnet: bucket size %d bytes, want ≥ 4", b)
	}
	n.dist.bucketBytes, n.dist.buckets = b, nil
	return nil
}

// makeBuckets groups the parameters, last layer first (the order backward
// produces their gradients), into buckets of about bucketBytes.
func (n *Network) makeBuckets() {
	limit := n.dist.bucketBytes
	if limit == 0 {
		limit = DefaultBucketBytes
	}
	var bs []gradBucket
	var cur gradBucket
	size := 0
	for i := len(n.params) - 1; i >= 0; i-- {
		p := n.params[i]
		b := 4 * p.shape.Numel()
		if size > 0 && size+b > limit {
			cur.host = make([]float32, size/4)
			bs = append(bs, cur)
			cur, size = gradBucket{}, 0
		}
		cur.params = append(cur.params, p)
		size += b
	}
	if size > 0 {
		cur.host = make([]float32, size/4)
		bs = append(bs, cur)
	}
	n.dist.buckets = bs
}

// Buckets is the number of all-reduce calls AverageGrads makes per step.
func (n *Network) Buckets() int {
	if n.dist.buckets == nil {
		n.makeBuckets()
	}
	return len(n.dist.buckets)
}

// AverageGrads replaces the gradients of the latest Backward by their mean
// over the ranks of c, so that the Step that follows is the same on every
// replica: gradients are downloaded into host buckets, all-reduced (one
// call per bucket, see SetBucketBytes) and uploaded back. With a Comm of
// size 1 it does nothing. Every rank must call it after each Backward.
func (n *Network) AverageGrads(c collective.Comm) error {
	if n.closed {
		return fmt.Errorf("alexnet: average grads: the network is closed: %w", ErrClosed)
	}
	if !n.backwarded {
		return fmt.Errorf("alexnet: average grads: no fresh gradients: call Backward first: %w", ErrState)
	}
	if c == nil || c.Size() == 1 {
		return nil
	}
	if n.dist.buckets == nil {
		n.makeBuckets()
	}
	st := &n.dist.stats
	for _, bk := range n.dist.buckets {
		t0 := time.Now()
		off := 0
		for _, p := range bk.params {
			k := p.shape.Numel()
			if err := n.b.Download(bk.host[off:off+k], p.g); err != nil {
				return fmt.Errorf("alexnet: average grads: download %s: %w", p.name, err)
			}
			off += k
		}
		t1 := time.Now()
		if err := c.AllReduce(bk.host, collective.Mean); err != nil {
			return fmt.Errorf("alexnet: average grads: %w", err)
		}
		t2 := time.Now()
		off = 0
		for _, p := range bk.params {
			k := p.shape.Numel()
			if err := n.b.Upload(p.g, bk.host[off:off+k]); err != nil {
				return fmt.Errorf("alexnet: average grads: upload %s: %w", p.name, err)
			}
			off += k
		}
		st.Staging += t1.Sub(t0) + time.Since(t2)
		st.Reduce += t2.Sub(t1)
		st.Calls++
		st.Bytes += int64(4 * len(bk.host))
	}
	st.Steps++
	return nil
}

// BroadcastParams copies root's parameters and momentum buffers (when root
// has made them) to every rank, so replicas start identical whatever their
// initialisation. The training counters (Steps, LR, schedule) are not
// sent: replicas resuming from one checkpoint read them from it.
func (n *Network) BroadcastParams(c collective.Comm, root int) error {
	if n.closed {
		return fmt.Errorf("alexnet: broadcast params: the network is closed: %w", ErrClosed)
	}
	if c == nil || c.Size() == 1 {
		return nil
	}
	// Whether root has momentum buffers decides for everyone.
	flag := []float32{0}
	if n.opt.v != nil {
		flag[0] = 1
	}
	if err := c.Broadcast(flag, root); err != nil {
		return fmt.Errorf("alexnet: broadcast params: %w", err)
	}
	if flag[0] == 1 {
		if err := n.opt.ensure(); err != nil {
			return err
		}
	}
	for _, p := range n.params {
		ts := []backend.Tensor{p.w}
		if flag[0] == 1 {
			ts = append(ts, n.opt.v[p.index])
		}
		host := make([]float32, p.shape.Numel())
		for _, t := range ts {
			if err := n.b.Download(host, t); err != nil {
				return fmt.Errorf("alexnet: broadcast params: %s: %w", p.name, err)
			}
			if err := c.Broadcast(host, root); err != nil {
				return fmt.Errorf("alexnet: broadcast params: %s: %w", p.name, err)
			}
			if err := n.b.Upload(t, host); err != nil {
				return fmt.Errorf("alexnet: broadcast params: %s: %w", p.name, err)
			}
		}
	}
	return nil
}

// DistTrainStep is TrainStep for a replica of a data-parallel job: Forward,
// Loss, Backward, AverageGrads over c, Step. It returns the mean loss over
// the ranks (the loss of the global batch when every replica has the same
// batch size). With a nil Comm or one of size 1 it is TrainStep.
func (n *Network) DistTrainStep(c collective.Comm, x []float32, labels []int32) (float32, error) {
	if c == nil || c.Size() == 1 {
		return n.TrainStep(x, labels)
	}
	if err := n.Forward(x, Train); err != nil {
		return 0, err
	}
	loss, err := n.Loss(labels)
	if err != nil {
		return 0, err
	}
	if err := n.Backward(); err != nil {
		return 0, err
	}
	if err := n.AverageGrads(c); err != nil {
		return 0, err
	}
	if err := n.Step(); err != nil {
		return 0, err
	}
	l := []float32{loss}
	if err := c.AllReduce(l, collective.Mean); err != nil {
		return 0, fmt.Errorf("alexnet: train step: loss: %w", err)
	}
	return l[0], nil
}
