// Package driver is dnngo's implementer API: what a backend implements to
// run behind [github.com/dnngo/dnngo/backend.Open], on the shape of
// database/sql/driver. Users of dnngo never import it.
//
// A driver is the arithmetic of one library and nothing else. It
// implements [Backend] for its own tensor type T (the pure-Go backend's is
// *tensor, a slice of float32; cuDNN's a device pointer) and the plan
// interfaces ([WeightPlan], [BiasPlan], ...) whose methods take T. It
// registers from its package's init:
//
//	func init() {
//		driver.Register("mylib", func(o backend.Options) (driver.Backend[*tensor], error) {
//			return open(o)
//		})
//	}
//
// and backend.Open("mylib") then returns the driver wrapped in the
// rulebook ([Wrap]).
//
// # The rulebook
//
// The rulebook (rulebook.go and the aliasing table in alias.go) is the one
// checking layer of the project: it holds the backend package's contract,
// written once, and is the only place that checks a caller's arguments.
// Before a driver method runs it has checked, in this order:
//
//   - that the backend, and the plan, are open (the driver is never called
//     after its Close; a tensor's or plan's Close is called at most once,
//     and never after the driver's);
//   - at plan time, the description's Validate, then the driver's own
//     limits ([Supporter]);
//   - scalar arguments: SGD's hyper-parameters (a Step with the same
//     values as the plan's previous valid Step is not validated again);
//   - every tensor argument: not nil, made by this backend value, open,
//     of the shape the description implies (the optional bias, its
//     gradient and dlogits are the zero T exactly when absent); Upload's
//     and Download's lengths;
//   - aliasing: no output is another argument of the call, except the
//     in-place pairs the contract allows;
//   - the loss's labels: one per row, each a class;
//   - the out-of-order rules: LRN and pooling backwards take exactly the
//     x and y of the plan's latest successful Forward, dropout's backward
//     needs a Forward, a plan made for inference has no backward.
//
// Errors are *backend.OpError values with the op, the arguments' names and
// shapes, and a sentinel kind. The checks allocate nothing when they pass:
// executing a plan stays allocation-free if the driver's code is.
//
// # What a driver still checks
//
// Only its library: a description valid under the contract that the
// library cannot run is refused by Supports with [backend.ErrUnsupported]
// (see [Supporter]); a library failure becomes an [Errorf] error of kind
// [backend.ErrLibrary] carrying the vendor's message; memory beyond
// Options.MemoryBudget is [backend.ErrMemory] ([Memory] counts
// it). The backends in this module are the worked examples: backend/cpu
// (pure Go), backend/onednn and backend/cudnn (cgo).
package driver
