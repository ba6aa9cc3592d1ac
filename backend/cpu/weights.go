package cpu

import "github.com/dnngo/dnngo/backend"

// weightLayer is what convolution and fully connected plans share: the
// shapes their tensors are checked against, and the argument checks of the
// three passes.
type weightLayer struct {
	plan
	xs, ys, ws, bs backend.Shape // x, y, w and bias shapes
	bias           bool
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
	if bias, err = l.optional(op, "b", b); err != nil {
		return
	}
	if yt, err = l.b.get(op, "y", y, l.ys); err != nil {
		return
	}
	if xt == yt {
		err = backend.Errorf(op, backend.ErrInvalid, "y must not be x")
	}
	return
}

// dataArgs resolves BackwardData's dy, w and dx.
func (l *weightLayer) dataArgs(op string, dy, w, dx backend.Tensor) (dyt, wt, dxt *tensor, err error) {
	if err = l.check(op); err != nil {
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
	if dxt == dyt {
		err = backend.Errorf(op, backend.ErrInvalid, "dx must not be dy")
	}
	return
}

// filterArgs resolves BackwardFilter's x, dy, dw and db.
func (l *weightLayer) filterArgs(op string, x, dy, dw, db backend.Tensor) (xt, dyt, dwt *tensor, dbias []float32, err error) {
	if err = l.check(op); err != nil {
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
	dbias, err = l.optional(op, "db", db)
	return
}

// optional resolves a bias argument that must be given exactly when the
// layer has a bias.
func (l *weightLayer) optional(op, arg string, b backend.Tensor) ([]float32, error) {
	if !l.bias {
		if b != nil {
			return nil, backend.Errorf(op, backend.ErrInvalid, "%s given but the plan has no bias", arg)
		}
		return nil, nil
	}
	t, err := l.b.get(op, arg, b, l.bs)
	if err != nil {
		return nil, err
	}
	return t.data, nil
}
