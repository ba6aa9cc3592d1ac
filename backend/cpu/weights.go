package cpu

import (
	"fmt"

	"github.com/dnngo/dnngo/backend"
)

// weightLayer is what convolution and fully connected plans share: the
// shapes their tensors are checked against, and the argument checks of the
// three passes.
type weightLayer struct {
	plan
	xs, ys, ws, bs backend.Shape // x, y, w and bias shapes
	bias           bool
	inference      bool         // the desc's Inference: no backward
	desc           fmt.Stringer // for the error of a backward on an inference plan
}

// forwardArgs resolves Forward's x, w, b and y.
func (l *weightLayer) forwardArgs(op string, x, w, b, y backend.Tensor) (xt, wt *tensor, bias []float32, yt *tensor, err error) {
	if err = l.check(op); err != nil {
		return
	}
	if xt, err = l.b.get(op, "x", x, l.xs); err != nil {
		return
	}
	if wt, err = l.b.get(op, "w", w, l.ws); err != nil {
		return
	}
	var bt *tensor
	if bt, err = l.optional(op, "b", b); err != nil {
		return
	}
	if yt, err = l.b.get(op, "y", y, l.ys); err != nil {
		return
	}
	if err = backend.CheckAliases(op, backend.WeightForward, xt, wt, arg(bt), yt); err != nil {
		return
	}
	if bt != nil {
		bias = bt.data
	}
	return
}

// dataArgs resolves BackwardData's dy, w and dx.
func (l *weightLayer) dataArgs(op string, dy, w, dx backend.Tensor) (dyt, wt, dxt *tensor, err error) {
	if err = l.check(op); err != nil {
		return
	}
	if err = backend.CheckTrainable(op, l.inference, l.desc); err != nil {
		return
	}
	if dyt, err = l.b.get(op, "dy", dy, l.ys); err != nil {
		return
	}
	if wt, err = l.b.get(op, "w", w, l.ws); err != nil {
		return
	}
	if dxt, err = l.b.get(op, "dx", dx, l.xs); err != nil {
		return
	}
	err = backend.CheckAliases(op, backend.WeightBackwardData, dyt, wt, dxt)
	return
}

// filterArgs resolves BackwardFilter's x, dy, dw and db.
func (l *weightLayer) filterArgs(op string, x, dy, dw, db backend.Tensor) (xt, dyt, dwt *tensor, dbias []float32, err error) {
	if err = l.check(op); err != nil {
		return
	}
	if err = backend.CheckTrainable(op, l.inference, l.desc); err != nil {
		return
	}
	if xt, err = l.b.get(op, "x", x, l.xs); err != nil {
		return
	}
	if dyt, err = l.b.get(op, "dy", dy, l.ys); err != nil {
		return
	}
	if dwt, err = l.b.get(op, "dw", dw, l.ws); err != nil {
		return
	}
	var dbt *tensor
	if dbt, err = l.optional(op, "db", db); err != nil {
		return
	}
	if err = backend.CheckAliases(op, backend.WeightBackwardFilter, xt, dyt, dwt, arg(dbt)); err != nil {
		return
	}
	if dbt != nil {
		dbias = dbt.data
	}
	return
}

// optional resolves a bias argument that must be given exactly when the
// layer has a bias.
func (l *weightLayer) optional(op, name string, b backend.Tensor) (*tensor, error) {
	if !l.bias {
		if b != nil {
			return nil, backend.Errorf(op, backend.ErrInvalid, "%s given but the plan has no bias", name)
		}
		return nil, nil
	}
	return l.b.get(op, name, b, l.bs)
}

// arg is t as a backend.Tensor for backend.CheckAliases: nil (not a typed
// nil pointer) when t is nil.
func arg(t *tensor) backend.Tensor {
	if t == nil {
		return nil
	}
	return t
}
