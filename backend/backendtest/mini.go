package backendtest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/stretchr/testify/require"
)

// miniLayer is one conv or fc stage of the mini_alexnet case: the layer,
// then optionally ReLU, LRN and max pooling, as the topology metadata says.
type miniLayer struct {
	name, kind   string // kind: "conv" or "fc"
	out          int
	k, s, p, g   int
	relu, lrn    bool
	pool         bool
	poolK, poolS int

	plan  backend.WeightPlan
	reluP backend.ReLUPlan
	lrnP  backend.LRNPlan
	poolP backend.PoolPlan
	sgdW  backend.SGDPlan
	sgdB  backend.SGDPlan

	in                 backend.Tensor // input (owned by the previous stage)
	w, b, dw, db       backend.Tensor
	vw, vb             backend.Tensor // momentum buffers
	pre, act, lrnOut   backend.Tensor // pre-ReLU output, after ReLU, after LRN
	poolOut            backend.Tensor
	gPre, gAct, gLRN   backend.Tensor // gradients of pre, act, lrnOut
	gPool, gIn         backend.Tensor // gradient of poolOut; of the input (nil for the first layer)
	preShape, outShape backend.Shape
}

var (
	convSpec = regexp.MustCompile(`^(conv\d+)\s+(\d+)->(\d+)((?:\s+[ksgp]\d+)*)$`)
	fcSpec   = regexp.MustCompile(`^(fc\d+)\s+(\d+)->(\d+)$`)
	poolSpec = regexp.MustCompile(`^maxpool(\d+)/(\d+)$`)
)

// parseTopology reads the topology metadata ("conv1 3->16 k11 s4 p0, ReLU,
// LRN, maxpool3/2 | ... | fc8 64->10 | mean softmax cross-entropy; ...").
func parseTopology(t testing.TB, topo string) []*miniLayer {
	t.Helper()
	var layers []*miniLayer
	sawLoss := false
	for _, seg := range strings.Split(topo, "|") {
		items := strings.Split(strings.TrimSpace(seg), ",")
		head := strings.TrimSpace(items[0])
		var l *miniLayer
		switch {
		case convSpec.MatchString(head):
			m := convSpec.FindStringSubmatch(head)
			l = &miniLayer{name: m[1], kind: "conv", s: 1, g: 1}
			l.out, _ = strconv.Atoi(m[3])
			for _, f := range strings.Fields(m[4]) {
				v, _ := strconv.Atoi(f[1:])
				switch f[0] {
				case 'k':
					l.k = v
				case 's':
					l.s = v
				case 'p':
					l.p = v
				case 'g':
					l.g = v
				}
			}
			require.NotZero(t, l.k, "topology %q: no kernel size", head)
		case fcSpec.MatchString(head):
			m := fcSpec.FindStringSubmatch(head)
			l = &miniLayer{name: m[1], kind: "fc"}
			l.out, _ = strconv.Atoi(m[3])
		case strings.HasPrefix(head, "flatten"):
			continue // the fc layer reads its rank-4 input flattened
		case strings.Contains(head, "softmax cross-entropy"):
			require.True(t, strings.HasPrefix(head, "mean"), "topology %q: only the mean reduction is defined", head)
			sawLoss = true
			continue
		default:
			require.Failf(t, "unknown topology segment", "%q", seg)
		}
		for _, it := range items[1:] {
			it = strings.TrimSpace(it)
			switch {
			case it == "ReLU":
				l.relu = true
			case it == "LRN":
				l.lrn = true
			case poolSpec.MatchString(it):
				m := poolSpec.FindStringSubmatch(it)
				l.pool = true
				l.poolK, _ = strconv.Atoi(m[1])
				l.poolS, _ = strconv.Atoi(m[2])
			default:
				require.Failf(t, "unknown topology item", "%q in %q", it, seg)
			}
		}
		layers = append(layers, l)
	}
	require.True(t, sawLoss, "topology has no loss segment")
	require.NotEmpty(t, layers)
	return layers
}

// spec is the layer's description, without its tensors and plans.
func (l *miniLayer) spec() string {
	return fmt.Sprintf("%s %s out %d k%d s%d p%d g%d relu=%v lrn=%v pool=%v %d/%d", l.name, l.kind, l.out, l.k, l.s, l.p, l.g,
		l.relu, l.lrn, l.pool, l.poolK, l.poolS)
}

// miniLayers lists the stages of alexnet.Mini(), the network the golden
// describes: the one spec of the layer table, which the golden's own
// topology metadata is then checked against.
func miniLayers(t testing.TB) []*miniLayer {
	t.Helper()
	ops, err := alexnet.Mini().Ops(1)
	require.NoError(t, err)
	var layers []*miniLayer
	for _, op := range ops {
		switch d := op.Desc.(type) {
		case backend.ConvDesc:
			layers = append(layers, &miniLayer{name: op.Name, kind: "conv", out: d.Out, k: d.KernelH, s: d.StrideH, p: d.PadH, g: d.Groups, relu: d.ReLU})
		case backend.LinearDesc:
			layers = append(layers, &miniLayer{name: op.Name, kind: "fc", out: d.Out, relu: d.ReLU})
		case backend.LRNDesc:
			layers[len(layers)-1].lrn = true
		case backend.PoolDesc:
			l := layers[len(layers)-1]
			l.pool, l.poolK, l.poolS = true, d.KernelH, d.StrideH
		}
	}
	return layers
}

var poolPad = regexp.MustCompile(`padding (\d+)`)

// goldenMini runs the mini_alexnet case: the forward pass at the initial
// parameters (logits, loss, the act.* activations), every gradient, and the
// SGD steps (the losses along the way, the logits and parameters at the
// end), all through the backend's plans.
func goldenMini(e *env, g *golden) {
	t := e.t
	layers := miniLayers(t)
	golden := parseTopology(t, g.meta("topology"))
	require.Equal(t, len(golden), len(layers), "alexnet.Mini() vs the golden's topology %q", g.meta("topology"))
	for i, l := range layers {
		require.Equal(t, golden[i].spec(), l.spec(), "layer %d: alexnet.Mini() vs the golden's topology", i)
	}
	lrnKV := parseKV(g.meta("lrn"))
	lrn := backend.LRNDesc{Size: int(mustKV(t, lrnKV, "size", "lrn")), Alpha: mustKV(t, lrnKV, "alpha", "lrn"),
		Beta: mustKV(t, lrnKV, "beta", "lrn"), K: mustKV(t, lrnKV, "k", "lrn")}
	poolMeta := g.meta("maxpool")
	require.Contains(t, poolMeta, "floor", "maxpool metadata")
	pad := 0
	if m := poolPad.FindStringSubmatch(poolMeta); m != nil {
		pad, _ = strconv.Atoi(m[1])
	}
	optKV := parseKV(g.meta("optimizer"))
	require.Contains(t, g.meta("optimizer"), "nesterov=False")
	require.Zero(t, mustKV(t, optKV, "dampening", "optimizer"))
	hp := backend.SGDParams{LR: float32(mustKV(t, optKV, "lr", "optimizer")), Momentum: float32(mustKV(t, optKV, "momentum", "optimizer")),
		WeightDecay: float32(mustKV(t, optKV, "weight_decay", "optimizer")), Rule: backend.PyTorchSGD}

	x, xs := g.f32("x")
	labels := g.labels("labels")
	cur := e.tensor(xs, x)
	shape := xs
	for i, l := range layers {
		var err error
		l.in = cur
		w, ws := g.f32("init." + l.name + ".w")
		b, bs := g.f32("init." + l.name + ".b")
		var d backend.WeightDesc = backend.LinearDesc{Input: shape, Out: l.out, Bias: true}
		if l.kind == "conv" {
			d = backend.ConvDesc{Input: shape, Out: l.out, KernelH: l.k, KernelW: l.k, StrideH: l.s, StrideW: l.s,
				PadH: l.p, PadW: l.p, Groups: l.g, Bias: true}
		}
		require.NoError(t, d.Validate(), l.String())
		require.Equal(t, d.WeightShape(), ws, "%s weight shape from the topology vs init tensor", l.name)
		l.plan, err = backend.PlanWeight(e.b, d)
		l.preShape = d.OutputShape()
		require.NoError(t, err, l.String())
		l.w, l.b = e.tensor(ws, w), e.tensor(bs, b)
		l.dw, l.db, l.vw, l.vb = e.tensor(ws, nil), e.tensor(bs, nil), e.tensor(ws, nil), e.tensor(bs, nil)
		l.sgdW, err = e.b.SGD(ws)
		require.NoError(t, err)
		l.sgdB, err = e.b.SGD(bs)
		require.NoError(t, err)
		l.pre, l.gPre = e.tensor(l.preShape, nil), e.tensor(l.preShape, nil)
		last := l.pre
		if l.relu {
			l.reluP, err = e.b.ReLU(l.preShape)
			require.NoError(t, err)
			l.act, l.gAct = e.tensor(l.preShape, nil), e.tensor(l.preShape, nil)
			last = l.act
		}
		if l.lrn {
			d := lrn
			d.Input = l.preShape
			l.lrnP, err = e.b.LRN(d)
			require.NoError(t, err)
			l.lrnOut, l.gLRN = e.tensor(l.preShape, nil), e.tensor(l.preShape, nil)
			last = l.lrnOut
		}
		l.outShape = l.preShape
		if l.pool {
			d := backend.PoolDesc{Input: l.preShape, KernelH: l.poolK, KernelW: l.poolK, StrideH: l.poolS, StrideW: l.poolS, PadH: pad, PadW: pad}
			l.poolP, err = e.b.MaxPool(d)
			require.NoError(t, err)
			l.outShape = d.OutputShape()
			l.poolOut, l.gPool = e.tensor(l.outShape, nil), e.tensor(l.outShape, nil)
			last = l.poolOut
		}
		if i > 0 {
			l.gIn = e.tensor(shape, nil)
		}
		cur, shape = last, l.outShape
	}
	logits := cur
	lossP, err := e.b.SoftmaxCrossEntropy(backend.SoftmaxDesc{Logits: shape})
	require.NoError(t, err)
	loss, dlogits := e.tensor(backend.Shape{1}, nil), e.tensor(shape, nil)

	forward := func() {
		for _, l := range layers {
			require.NoError(t, l.plan.Forward(l.in, l.w, l.b, l.pre), "%s forward", l.name)
			if l.relu {
				require.NoError(t, l.reluP.Forward(l.pre, l.act), "%s relu", l.name)
			}
			if l.lrn {
				require.NoError(t, l.lrnP.Forward(l.act, l.lrnOut), "%s lrn", l.name)
			}
			if l.pool {
				src := l.act
				if l.lrn {
					src = l.lrnOut
				}
				require.NoError(t, l.poolP.Forward(src, l.poolOut), "%s pool", l.name)
			}
		}
		require.NoError(t, lossP.Forward(logits, labels, loss, dlogits))
	}
	backward := func() {
		grad := dlogits
		for i := len(layers) - 1; i >= 0; i-- {
			l := layers[i]
			if l.pool {
				src := l.act
				if l.lrn {
					src = l.lrnOut
				}
				dst := l.gAct
				if l.lrn {
					dst = l.gLRN
				}
				require.NoError(t, l.poolP.Backward(src, l.poolOut, grad, dst), "%s pool backward", l.name)
				grad = dst
			}
			if l.lrn {
				require.NoError(t, l.lrnP.Backward(l.act, l.lrnOut, grad, l.gAct), "%s lrn backward", l.name)
				grad = l.gAct
			}
			if l.relu {
				require.NoError(t, l.reluP.Backward(l.act, grad, l.gPre), "%s relu backward", l.name)
				grad = l.gPre
			}
			require.NoError(t, l.plan.BackwardFilter(l.in, grad, l.dw, l.db), "%s backward filter", l.name)
			if l.gIn != nil {
				require.NoError(t, l.plan.BackwardData(grad, l.w, l.gIn), "%s backward data", l.name)
				grad = l.gIn
			}
		}
	}

	forward()
	Near(t, "logits", e.read(logits), g.want("logits"), MiniTol)
	Near(t, "loss", e.read(loss), g.want("loss"), MiniTol)
	for _, l := range layers {
		if _, ok := g.f.Info("act." + l.name); ok {
			Near(t, "act."+l.name, e.read(l.pre), g.want("act."+l.name), MiniTol)
		}
		if _, ok := g.f.Info("act.pool" + strings.TrimPrefix(l.name, "conv")); ok && l.pool {
			Near(t, "act.pool"+strings.TrimPrefix(l.name, "conv"), e.read(l.poolOut), g.want("act.pool"+strings.TrimPrefix(l.name, "conv")), MiniTol)
		}
	}
	backward()
	for _, l := range layers {
		Near(t, "grad."+l.name+".w", e.read(l.dw), g.want("grad."+l.name+".w"), MiniTol)
		Near(t, "grad."+l.name+".b", e.read(l.db), g.want("grad."+l.name+".b"), MiniTol)
	}

	losses := g.want("losses")
	require.GreaterOrEqual(t, len(losses), 2, "losses")
	for step := 1; step < len(losses); step++ {
		for _, l := range layers {
			require.NoError(t, l.sgdW.Step(l.w, l.dw, l.vw, hp))
			require.NoError(t, l.sgdB.Step(l.b, l.db, l.vb, hp))
		}
		forward()
		Near(t, fmt.Sprintf("losses[%d]", step), e.read(loss), losses[step:step+1], MiniTol)
		if step < len(losses)-1 {
			backward()
		}
	}
	Near(t, "logits_step3", e.read(logits), g.want("logits_step3"), MiniTol)
	for _, l := range layers {
		Near(t, "step3."+l.name+".w", e.read(l.w), g.want("step3."+l.name+".w"), MiniTol)
		Near(t, "step3."+l.name+".b", e.read(l.b), g.want("step3."+l.name+".b"), MiniTol)
	}
}
