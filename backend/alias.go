package backend

// Call names one method of a plan interface, for the argument rules that
// every backend applies identically: which arguments a call writes, and
// which of them may be the same tensor as an input (CheckAliases).
type Call int

// The calls of the plan interfaces, each with its tensor arguments in the
// order of the method's parameters (labels and seeds are not tensors).
const (
	WeightForward        Call = iota // WeightPlan.Forward(x, w, b, y)
	WeightBackwardData               // WeightPlan.BackwardData(dy, w, dx)
	WeightBackwardFilter             // WeightPlan.BackwardFilter(x, dy, dw, db)
	BiasForward                      // BiasPlan.Forward(x, b, y): y may be x
	BiasBackward                     // BiasPlan.Backward(dy, db)
	ReLUForward                      // ReLUPlan.Forward(x, y): y may be x
	ReLUBackward                     // ReLUPlan.Backward(y, dy, dx): dx may be dy
	LRNForward                       // LRNPlan.Forward(x, y)
	LRNBackward                      // LRNPlan.Backward(x, y, dy, dx)
	PoolForward                      // PoolPlan.Forward(x, y)
	PoolBackward                     // PoolPlan.Backward(x, y, dy, dx)
	DropoutForward                   // DropoutPlan.Forward(x, y, seed): y may be x
	DropoutBackward                  // DropoutPlan.Backward(dy, dx): dx may be dy
	LossForward                      // LossPlan.Forward(logits, labels, loss, dlogits) as (logits, loss, dlogits)
	LossSoftmax                      // LossPlan.Softmax(logits, probs)
	SGDStep                          // SGDPlan.Step(param, grad, velocity, p): param and velocity are updated
	numCalls
)

// callRule is one row of the aliasing table.
type callRule struct {
	args    []string // tensor arguments, in call order
	written uint8    // bit i: the call writes args[i]
	inPlace [2]int8  // (output, input) indices that may be one tensor; {-1, -1}: none
}

// rules is the aliasing contract, written once for every backend: an
// argument the call writes must not be the same tensor as any other
// argument of the call, except the in-place pair a method documents.
var rules = [numCalls]callRule{
	WeightForward:        {args: []string{"x", "w", "b", "y"}, written: 1 << 3, inPlace: none},
	WeightBackwardData:   {args: []string{"dy", "w", "dx"}, written: 1 << 2, inPlace: none},
	WeightBackwardFilter: {args: []string{"x", "dy", "dw", "db"}, written: 1<<2 | 1<<3, inPlace: none},
	BiasForward:          {args: []string{"x", "b", "y"}, written: 1 << 2, inPlace: [2]int8{2, 0}},
	BiasBackward:         {args: []string{"dy", "db"}, written: 1 << 1, inPlace: none},
	ReLUForward:          {args: []string{"x", "y"}, written: 1 << 1, inPlace: [2]int8{1, 0}},
	ReLUBackward:         {args: []string{"y", "dy", "dx"}, written: 1 << 2, inPlace: [2]int8{2, 1}},
	LRNForward:           {args: []string{"x", "y"}, written: 1 << 1, inPlace: none},
	LRNBackward:          {args: []string{"x", "y", "dy", "dx"}, written: 1 << 3, inPlace: none},
	PoolForward:          {args: []string{"x", "y"}, written: 1 << 1, inPlace: none},
	PoolBackward:         {args: []string{"x", "y", "dy", "dx"}, written: 1 << 3, inPlace: none},
	DropoutForward:       {args: []string{"x", "y"}, written: 1 << 1, inPlace: [2]int8{1, 0}},
	DropoutBackward:      {args: []string{"dy", "dx"}, written: 1 << 1, inPlace: [2]int8{1, 0}},
	LossForward:          {args: []string{"logits", "loss", "dlogits"}, written: 1<<1 | 1<<2, inPlace: none},
	LossSoftmax:          {args: []string{"logits", "probs"}, written: 1 << 1, inPlace: none},
	SGDStep:              {args: []string{"param", "grad", "velocity"}, written: 1<<0 | 1<<2, inPlace: none},
}

var none = [2]int8{-1, -1}

// Args returns the names of c's tensor arguments in call order.
func (c Call) Args() []string {
	if c < 0 || c >= numCalls {
		return nil
	}
	return rules[c].args
}

// Writes reports whether c writes its i-th tensor argument.
func (c Call) Writes(i int) bool {
	return c >= 0 && c < numCalls && i >= 0 && i < 8 && rules[c].written&(1<<i) != 0
}

// InPlace returns the (output, input) argument indices that c allows to be
// one tensor, and false when c allows no aliasing at all.
func (c Call) InPlace() (out, in int, ok bool) {
	if c < 0 || c >= numCalls || rules[c].inPlace == none {
		return -1, -1, false
	}
	return int(rules[c].inPlace[0]), int(rules[c].inPlace[1]), true
}

// CheckAliases applies the aliasing rule of the package doc to one call:
// every tensor the call writes must be a different tensor from every other
// argument, except the in-place pair the method allows (ReLU, bias add and
// dropout forwards may have y == x; ReLU and dropout backwards dx == dy).
// args are the call's tensor arguments in the order of c.Args(); nil
// entries (an absent bias or dlogits) are skipped. It returns nil or an
// ErrInvalid *OpError for op that names the two arguments.
//
// Tensors are compared by identity, so every backend calls it with its
// resolved tensors (after checking that each is its own, open and of the
// right shape): values of comparable, pointer-like types. It allocates
// nothing on success and is a handful of comparisons, cheap enough for
// every call of every plan.
func CheckAliases(op string, c Call, args ...Tensor) error {
	if c < 0 || c >= numCalls || len(args) != len(rules[c].args) {
		return Errorf(op, ErrInvalid, "internal: CheckAliases(%d) with %d arguments", int(c), len(args))
	}
	r := &rules[c]
	for i, a := range args {
		if a == nil || r.written&(1<<i) == 0 {
			continue
		}
		for j, b := range args {
			if j == i || b == nil || a != b {
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
	return Errorf(op, ErrInvalid, msg, r.args[i], r.args[j])
}

// LastForward is what a plan whose backward depends on its forward (LRN,
// max pooling) remembers of its latest successful Forward: the tensors x
// and y, compared by identity. Backward then calls Check, so that a
// backward before any forward, or with an x or y other than the latest
// forward's (whose saved state — argmax positions, LRN scales — belongs to
// other data), is ErrState on every backend, never a result computed from
// stale state. The zero value has seen no forward.
type LastForward struct {
	x, y Tensor
}

// Record notes a successful Forward(x, y).
func (l *LastForward) Record(x, y Tensor) { l.x, l.y = x, y }

// Forget drops the record: call it when a Forward fails part way, or when
// the plan is closed.
func (l *LastForward) Forget() { l.x, l.y = nil, nil }

// Check returns nil when x and y are the tensors of the latest recorded
// Forward, and an ErrState *OpError for op otherwise.
func (l *LastForward) Check(op string, x, y Tensor) error {
	switch {
	case l.x == nil:
		return Errorf(op, ErrState, "backward before any forward of this plan")
	case l.x != x:
		return Errorf(op, ErrState, "x is not the input of this plan's latest forward (its saved state belongs to that input)")
	case l.y != y:
		return Errorf(op, ErrState, "y is not the output of this plan's latest forward")
	}
	return nil
}
