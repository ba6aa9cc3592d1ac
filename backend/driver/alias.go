package driver

import "github.com/dnngo/dnngo/backend"

// call names one method of a plan interface, for the aliasing rule of the
// backend package documentation: which arguments a call writes, and which
// of them may be the same tensor as an input.
type call int

// The calls of the plan interfaces, each with its tensor arguments in the
// order of the method's parameters (labels and seeds are not tensors).
const (
	weightForward        call = iota // WeightPlan.Forward(x, w, b, y)
	weightBackwardData               // WeightPlan.BackwardData(dy, w, dx)
	weightBackwardFilter             // WeightPlan.BackwardFilter(x, dy, dw, db)
	biasForward                      // BiasPlan.Forward(x, b, y): y may be x
	biasBackward                     // BiasPlan.Backward(dy, db)
	reluForward                      // ReLUPlan.Forward(x, y): y may be x
	reluBackward                     // ReLUPlan.Backward(y, dy, dx): dx may be dy
	lrnForward                       // LRNPlan.Forward(x, y)
	lrnBackward                      // LRNPlan.Backward(x, y, dy, dx)
	poolForward                      // PoolPlan.Forward(x, y)
	poolBackward                     // PoolPlan.Backward(x, y, dy, dx)
	dropoutForward                   // DropoutPlan.Forward(x, y, seed): y may be x
	dropoutBackward                  // DropoutPlan.Backward(dy, dx): dx may be dy
	lossForward                      // LossPlan.Forward(logits, labels, loss, dlogits) as (logits, loss, dlogits)
	lossSoftmax                      // LossPlan.Softmax(logits, probs)
	sgdStep                          // SGDPlan.Step(param, grad, velocity, p): param and velocity are updated
	numCalls
)

// callRule is one row of the aliasing table.
type callRule struct {
	args    []string // tensor arguments, in call order
	written uint8    // bit i: the call writes args[i]
	inPlace [2]int8  // (output, input) indices that may be one tensor; {-1, -1}: none
}

// rules is the aliasing contract, written once: an argument the call
// writes must not be the same tensor as any other argument of the call,
// except the in-place pair a method documents.
var rules = [numCalls]callRule{
	weightForward:        {args: []string{"x", "w", "b", "y"}, written: 1 << 3, inPlace: none},
	weightBackwardData:   {args: []string{"dy", "w", "dx"}, written: 1 << 2, inPlace: none},
	weightBackwardFilter: {args: []string{"x", "dy", "dw", "db"}, written: 1<<2 | 1<<3, inPlace: none},
	biasForward:          {args: []string{"x", "b", "y"}, written: 1 << 2, inPlace: [2]int8{2, 0}},
	biasBackward:         {args: []string{"dy", "db"}, written: 1 << 1, inPlace: none},
	reluForward:          {args: []string{"x", "y"}, written: 1 << 1, inPlace: [2]int8{1, 0}},
	reluBackward:         {args: []string{"y", "dy", "dx"}, written: 1 << 2, inPlace: [2]int8{2, 1}},
	lrnForward:           {args: []string{"x", "y"}, written: 1 << 1, inPlace: none},
	lrnBackward:          {args: []string{"x", "y", "dy", "dx"}, written: 1 << 3, inPlace: none},
	poolForward:          {args: []string{"x", "y"}, written: 1 << 1, inPlace: none},
	poolBackward:         {args: []string{"x", "y", "dy", "dx"}, written: 1 << 3, inPlace: none},
	dropoutForward:       {args: []string{"x", "y"}, written: 1 << 1, inPlace: [2]int8{1, 0}},
	dropoutBackward:      {args: []string{"dy", "dx"}, written: 1 << 1, inPlace: [2]int8{1, 0}},
	lossForward:          {args: []string{"logits", "loss", "dlogits"}, written: 1<<1 | 1<<2, inPlace: none},
	lossSoftmax:          {args: []string{"logits", "probs"}, written: 1 << 1, inPlace: none},
	sgdStep:              {args: []string{"param", "grad", "velocity"}, written: 1<<0 | 1<<2, inPlace: none},
}

var none = [2]int8{-1, -1}

// checkAliases applies the aliasing rule to one call: every handle the
// call writes must differ from every other argument, except the in-place
// pair the method allows. args are in the order of rules[c].args; nil
// handles (an absent bias or dlogits) are skipped. It allocates nothing on
// success.
func checkAliases[T Tensor](op string, c call, args ...*handle[T]) error {
	r := &rules[c]
	for i, a := range args {
		if a == nil || r.written&(1<<i) == 0 {
			continue
		}
		for j, b := range args {
			if j == i || b != a {
				continue
			}
			if r.inPlace != none && ((int(r.inPlace[0]) == i && int(r.inPlace[1]) == j) || (int(r.inPlace[0]) == j && int(r.inPlace[1]) == i)) {
				continue
			}
			return aliasError(op, r, i, j)
		}
	}
	return nil
}

func aliasError(op string, r *callRule, i, j int) error {
	msg := "%s and %s are the same tensor: an output must not alias another argument of the call"
	if r.inPlace != none {
		msg += " (only " + r.args[r.inPlace[0]] + " may be " + r.args[r.inPlace[1]] + ")"
	}
	return Errorf(op, backend.ErrInvalid, msg, r.args[i], r.args[j])
}
