package train

import (
	"fmt"
	"math"
)

// LinearScaling returns the learning rate of the linear scaling rule
// (Goyal et al. 2017, "Accurate, Large Minibatch SGD"): lr, meant for
// batches of base images, times batch/base.
func LinearScaling(lr float64, batch, base int) (float64, error) {
	if base < 1 || batch < 1 {
		return 0, fmt.Errorf("train: linear scaling from batch %d to %d: want both ≥ 1", base, batch)
	}
	return lr * float64(batch) / float64(base), nil
}

// WarmupLR is the learning rate of step (counted from 0) of a linear
// warm-up over steps steps from `from` to `to`: step s trains with
// from + (to − from)·(s+1)/steps, so the last warm-up step uses `to`;
// from then on, `to`.
func WarmupLR(from, to float32, step uint64, steps int) float32 {
	if steps <= 0 || step >= uint64(steps) {
		return to
	}
	f := float64(step+1) / float64(steps)
	return float32(float64(from) + (float64(to)-float64(from))*f)
}

// warmup sets the learning rate of the coming step while it is within
// the warm-up (a function of the step alone, so a resumed run continues
// the ramp where it stopped). Afterwards it leaves the rate to the
// schedule.
func (o Options) warmup() error {
	if o.WarmupSteps <= 0 || o.Net.Steps() >= uint64(o.WarmupSteps) {
		return nil
	}
	from := o.WarmupFrom
	if math.IsNaN(float64(from)) || from < 0 {
		return fmt.Errorf("train: warm-up from learning rate %g: want ≥ 0", from)
	}
	return o.Net.Optimizer().SetLR(WarmupLR(from, o.Net.Config().SGD.LR, o.Net.Steps(), o.WarmupSteps))
}
