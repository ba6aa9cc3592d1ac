//go:build cudnn

// Fully connected layer: cuBLAS GEMMs, with the bias and ReLU epilogue
// shared with the convolution.

package cudnn

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/driver"
)

// Linear plans a fully connected layer on cuBLAS. Row-major X [N×in],
// W [out×in] and Y [N×out] are, to column-major cuBLAS, Xᵀ, Wᵀ and Yᵀ, so
//
//	forward         Y = X·Wᵀ   gemm(T, N, out, N, in,  W, in, X,  in,  Y,  out)
//	backward data   dX = dY·W  gemm(N, N, in,  N, out, W, in, dY, out, dX, in)
//	backward filter dW = dYᵀ·X gemm(N, T, in, out, N,  X, in, dY, out, dW, in)
//
// and the bias is cudnnAddTensor over N×out×1×1 (its gradient
// cudnnConvolutionBackwardBias). In the BF16/FP16 modes the GEMMs are
// cublasGemmEx on the 16-bit copies with float32 accumulation.
func (b *engine) Linear(d backend.LinearDesc) (driver.WeightPlan[*tensor], error) {
	const op = "linear"
	p := &linearPlan{relu: d.ReLU, n: d.Input[0], k: d.In(), m: d.Out}
	p.ds.c = b.c
	p.weightBase = weightBase{plan: b.newPlan(p.ds.free), half: b.hasHalf}
	if err := p.init(b, op); err != nil {
		p.ds.free()
		return nil, initErr(err)
	}
	p.register()
	return p, nil
}

type linearPlan struct {
	weightBase
	relu               bool // ReLU after the bias
	n, k, m            int  // batch, in, out features
	ds                 descs
	yd, bd, yd32, bd32 C.dn_cudnnTensorDescriptor_t
	epilogueF32        bool // run bias and ReLU in float32 (16-bit epilogue unsupported)
}

func (p *linearPlan) init(b *engine, op string) error {
	dt := C.int(C.DN_CUDNN_DATA_FLOAT)
	if p.half {
		dt = b.halfDNN
	}
	var err error
	ys, bs := [4]C.int{C.int(p.n), C.int(p.m), 1, 1}, [4]C.int{1, C.int(p.m), 1, 1}
	if p.yd, err = b.tensorDesc(op, &p.ds, dt, ys); err != nil {
		return err
	}
	if p.bd, err = b.tensorDesc(op, &p.ds, dt, bs); err != nil {
		return err
	}
	p.yd32, p.bd32 = p.yd, p.bd
	if p.half {
		if p.yd32, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, ys); err != nil {
			return err
		}
		if p.bd32, err = b.tensorDesc(op, &p.ds, C.DN_CUDNN_DATA_FLOAT, bs); err != nil {
			return err
		}
	}
	return nil
}

// gemm runs C = op(A)·op(B) (+ beta·C) in the plan's type.
func (p *linearPlan) gemm(op string, ta, tb C.int, m, n, k int, a C.dn_dptr, lda int, bb C.dn_dptr, ldb int, c C.dn_dptr, ldc int) error {
	b := p.b
	if p.half {
		return b.statusErr(C.dn_gemm_ex(b.c, b.halfBLAS, ta, tb, C.int(m), C.int(n), C.int(k), a, C.int(lda), bb, C.int(ldb), 0, c, C.int(ldc)), op)
	}
	return b.statusErr(C.dn_gemm(b.c, ta, tb, C.int(m), C.int(n), C.int(k), a, C.int(lda), bb, C.int(ldb), 0, c, C.int(ldc)), op)
}

// Forward computes y = x·wᵀ, then adds the bias (b is nil without one)
// and applies ReLU as the description says.
func (p *linearPlan) Forward(xt, wt, bt, yt *tensor) error {
	const op = "linear.forward"
	b := p.b
	xp, wp, yp, err := p.args(op, xt, wt, yt)
	if err != nil {
		return err
	}
	if err := p.gemm(op, C.DN_CUBLAS_OP_T, C.DN_CUBLAS_OP_N, p.m, p.n, p.k, wp, p.k, xp, p.k, yp, p.m); err != nil {
		return err
	}
	return epilogue(b, op, &p.epilogueF32, p.half, yt, yp, bt, p.yd, p.bd, p.yd32, p.bd32, p.relu)
}

func (p *linearPlan) BackwardData(dyt, wt, dxt *tensor) error {
	const op = "linear.backward_data"
	dyp, wp, dxp, err := p.args(op, dyt, wt, dxt)
	if err != nil {
		return err
	}
	return p.gemm(op, C.DN_CUBLAS_OP_N, C.DN_CUBLAS_OP_N, p.k, p.n, p.m, wp, p.k, dyp, p.m, dxp, p.k)
}

// BackwardFilter computes dw and, when the plan has a bias, db (else nil).
func (p *linearPlan) BackwardFilter(xt, dyt, dwt, dbt *tensor) error {
	const op = "linear.backward_filter"
	b := p.b
	xp, dyp, dwp, err := p.args(op, xt, dyt, dwt)
	if err != nil {
		return err
	}
	if err := p.gemm(op, C.DN_CUBLAS_OP_N, C.DN_CUBLAS_OP_T, p.k, p.m, p.n, xp, p.k, dyp, p.m, dwp, p.k); err != nil {
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
