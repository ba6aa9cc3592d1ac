//go:build cudnn

// Convolution: the plan (descriptors per direction, algorithms found on
// first use), forward with the fused or separate bias and ReLU epilogue,
// and both backwards.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"os"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// EnvNoFuse, when set, turns off cudnnConvolutionBiasActivationForward:
// convolutions with bias and ReLU then run as three cuDNN calls (a switch
// for isolating a fault on a GPU).
const EnvNoFuse = "DNNGO_CUDNN_NOFUSE"

// Directions of a convolution, as the shim numbers them.
const (
	dirForward = iota
	dirBackwardData
	dirBackwardFilter
)

// Conv plans a convolution: cuDNN descriptors for the shapes (groups
// through cudnnSetConvolutionGroupCount), one convolution descriptor per
// direction (each may end up with its own math type), and the algorithm of
// each direction chosen on its first execution with
// cudnnFind...AlgorithmEx on that call's own buffers.
func (b *engine) Conv(d backend.ConvDesc) (driver.WeightPlan[*tensor], error) {
	const op = "conv2d"
	p := &convPlan{d: d}
	p.ds.c = b.c
	p.weightBase = weightBase{plan: b.newPlan(p.ds.free), half: b.hasHalf}
	p.fuse = d.Bias && d.ReLU && os.Getenv(EnvNoFuse) == ""
	if err := p.init(b, op); err != nil {
		p.ds.free()
		return nil, initErr(err)
	}
	p.register()
	return p, nil
}

type convPlan struct {
	weightBase
	d           backend.ConvDesc
	ds          descs
	xd, yd, bd  C.dn_cudnnTensorDescriptor_t
	yd32, bd32  C.dn_cudnnTensorDescriptor_t // float32 epilogue (16-bit modes)
	wd          C.dn_cudnnFilterDescriptor_t
	cd          [3]C.dn_cudnnConvolutionDescriptor_t
	algo        [3]C.int
	found       [3]bool
	fuse        bool // try cudnnConvolutionBiasActivationForward
	epilogueF32 bool // run bias and ReLU in float32 (16-bit epilogue unsupported)
}

func (p *convPlan) init(b *engine, op string) error {
	d := p.d
	out := d.OutputShape()
	dt := C.int(C.DN_CUDNN_DATA_FLOAT)
	if p.half {
		dt = b.halfDNN
	}
	var err error
	if p.xd, err = b.tensorDesc(op, &p.ds, dt, dims4(d.Input)); err != nil {
		return err
	}
	if p.yd, err = b.tensorDesc(op, &p.ds, dt, dims4(out)); err != nil {
		return err
	}
	if p.bd, err = b.tensorDesc(op, &p.ds, dt, [4]C.int{1, C.int(d.Out), 1, 1}); err != nil {
		return err
	}
	p.yd32, p.bd32 = p.yd, p.bd
	if p.half {
		if p.yd32, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, dims4(out)); err != nil {
			return err
		}
		if p.bd32, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, [4]C.int{1, C.int(d.Out), 1, 1}); err != nil {
			return err
		}
	}
	ws := d.WeightShape()
	if err := b.statusErr(C.dn_filter_desc(b.c, &p.wd, dt, C.int(ws[0]), C.int(ws[1]), C.int(ws[2]), C.int(ws[3])), op); err != nil {
		return err
	}
	p.ds.filters = append(p.ds.filters, p.wd)
	for i := range p.cd {
		if err := b.statusErr(C.dn_conv_desc(b.c, &p.cd[i], C.int(d.PadH), C.int(d.PadW), C.int(d.StrideH), C.int(d.StrideW),
			C.int(d.Groups), b.convMath, C.DN_CUDNN_DATA_FLOAT), op); err != nil {
			return err
		}
		p.ds.convs = append(p.ds.convs, p.cd[i])
	}
	var got [4]C.int
	if err := b.statusErr(C.dn_conv_out_dim(b.c, p.cd[0], p.xd, p.wd, &got[0]), op); err != nil {
		return err
	}
	if got != dims4(out) {
		return driver.Errorf(op, backend.ErrUnsupported, "%s: cuDNN computes output %v, the contract %v", d, got, out)
	}
	return nil
}

// findAlgo chooses the algorithm of direction dir once, on the buffers of
// the current call (Find overwrites the output, which the call then
// computes anyway), growing the workspace arena to what the candidates ask
// for within the budget.
func (p *convPlan) findAlgo(op string, dir int, x, w, y C.dn_dptr) error {
	if p.found[dir] {
		return nil
	}
	b := p.b
	strict := C.int(0)
	if b.strict {
		strict = 1
	}
	var need C.size_t
	if err := b.statusErr(C.dn_conv_ws_max(b.c, C.int(dir), p.xd, p.wd, p.cd[dir], p.yd, strict, C.size_t(b.budget), &need), op); err != nil {
		return err
	}
	ws, wsSize, err := b.workspace(uint64(need))
	if err != nil {
		return err
	}
	flags := strict * C.DN_FIND_STRICT
	if b.deterministic {
		flags |= C.DN_FIND_DETERMINISTIC
	}
	var algo, math C.int
	var mem C.size_t
	var ms C.float
	if err := b.statusErr(C.dn_conv_find(b.c, C.int(dir), p.xd, x, p.wd, w, p.cd[dir], p.yd, y, ws, C.size_t(wsSize), flags,
		&algo, &mem, &math, &ms), op); err != nil {
		return err
	}
	if math != b.convMath {
		if err := b.statusErr(C.dn_conv_set_math(b.c, p.cd[dir], math), op); err != nil {
			return err
		}
	}
	p.algo[dir], p.found[dir] = algo, true
	return nil
}

// Forward computes y = x∗w, then adds the bias (b is nil without one) and
// applies ReLU as the description says: fused into one cuDNN call where
// cuDNN has a kernel for it, else as an epilogue.
func (p *convPlan) Forward(xt, wt, bt, yt *tensor) error {
	const op = "conv2d.forward"
	b := p.b
	xp, err := p.read(op, xt)
	if err != nil {
		return err
	}
	wp, err := p.read(op, wt)
	if err != nil {
		return err
	}
	var bp C.dn_dptr
	if bt != nil && !p.epilogueF32 {
		if bp, err = p.read(op, bt); err != nil {
			return err
		}
	}
	yp, err := p.write(op, yt)
	if err != nil {
		return err
	}
	if err := p.findAlgo(op, dirForward, xp, wp, yp); err != nil {
		return err
	}
	if p.fuse && !p.epilogueF32 {
		if C.dn_conv_fwd_bias_relu(b.c, p.xd, xp, p.wd, wp, p.cd[0], p.algo[0], b.ws, C.size_t(b.wsSize), p.bd, bp, p.yd, yp) == 0 {
			return nil
		}
		if !b.lastErr().Unsupported() {
			return b.libErr(op)
		}
		p.fuse = false // this configuration has no fused kernel: bias and ReLU separately from now on
	}
	if err := b.statusErr(C.dn_conv_fwd(b.c, p.xd, xp, p.wd, wp, p.cd[0], p.algo[0], b.ws, C.size_t(b.wsSize), p.yd, yp), op); err != nil {
		return err
	}
	return epilogue(b, op, &p.epilogueF32, p.half, yt, yp, bt, p.yd, p.bd, p.yd32, p.bd32, p.d.ReLU)
}

// epilogue adds the bias and applies ReLU in place on y, in the plan's
// type, or in float32 when cuDNN does not support the 16-bit type for
// them (then remembered in *f32 for the next calls).
func epilogue(b *engine, op string, f32 *bool, half bool, yt *tensor, yp C.dn_dptr, bt *tensor,
	yd, bd, yd32, bd32 C.dn_cudnnTensorDescriptor_t, relu bool) error {
	if bt == nil && !relu {
		return nil
	}
	biasDone := false
	if half && !*f32 {
		if bt != nil {
			bp, err := b.readHalf(op, bt)
			if err != nil {
				return err
			}
			if C.dn_add_bias(b.c, bd, bp, yd, yp) != 0 {
				if !b.lastErr().Unsupported() {
					return b.libErr(op)
				}
				*f32 = true
			} else {
				biasDone = true
			}
		}
		if !*f32 && relu && C.dn_relu_fwd(b.c, yd, yp, yp) != 0 {
			if !b.lastErr().Unsupported() {
				return b.libErr(op)
			}
			*f32 = true
		}
		if !*f32 {
			return nil
		}
	}
	var err error
	if half {
		if yp, err = b.readFloat(op, yt); err != nil {
			return err
		}
		b.writeFloat(yt)
	}
	if bt != nil && !biasDone {
		bp, err := b.readFloat(op, bt)
		if err != nil {
			return err
		}
		if err := b.statusErr(C.dn_add_bias(b.c, bd32, bp, yd32, yp), op); err != nil {
			return err
		}
	}
	if relu {
		return b.statusErr(C.dn_relu_fwd(b.c, yd32, yp, yp), op)
	}
	return nil
}

func (p *convPlan) BackwardData(dyt, wt, dxt *tensor) error {
	const op = "conv2d.backward_data"
	b := p.b
	dyp, wp, dxp, err := p.args(op, dyt, wt, dxt)
	if err != nil {
		return err
	}
	if err := p.findAlgo(op, dirBackwardData, dxp, wp, dyp); err != nil {
		return err
	}
	return b.statusErr(C.dn_conv_bwd_data(b.c, p.wd, wp, p.yd, dyp, p.cd[1], p.algo[1], b.ws, C.size_t(b.wsSize), p.xd, dxp), op)
}

// BackwardFilter computes dw and, when the plan has a bias, db (else nil).
func (p *convPlan) BackwardFilter(xt, dyt, dwt, dbt *tensor) error {
	const op = "conv2d.backward_filter"
	b := p.b
	xp, dyp, dwp, err := p.args(op, xt, dyt, dwt)
	if err != nil {
		return err
	}
	if err := p.findAlgo(op, dirBackwardFilter, xp, dwp, dyp); err != nil {
		return err
	}
	if err := b.statusErr(C.dn_conv_bwd_filter(b.c, p.xd, xp, p.yd, dyp, p.cd[2], p.algo[2], b.ws, C.size_t(b.wsSize), p.wd, dwp), op); err != nil {
		return err
	}
	if dbt == nil {
		return nil
	}
	dbp, err := p.write(op, dbt)
	if err != nil {
		return err
	}
	return b.statusErr(C.dn_bias_grad(b.c, p.yd, dyp, p.bd, dbp), op)
}
