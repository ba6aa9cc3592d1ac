package backend

import "fmt"

func inferenceSuffix(inference bool) string {
	if inference {
		return ", inference"
	}
	return ""
}

// CheckTrainable is the check every backend makes first in the backward
// calls of a convolution, fully connected, LRN or max-pooling plan (right
// after the plan being open): a plan whose description set Inference has
// no backward, and calling one is ErrInvalid naming the description. It is
// generic so that the success path boxes nothing (executing a plan must not
// allocate).
func CheckTrainable[D fmt.Stringer](op string, inference bool, desc D) error {
	if !inference {
		return nil
	}
	return Errorf(op, ErrInvalid, "%s: the plan was made for inference (Inference set) and has no backward; "+
		"plan the layer without Inference to train it", desc)
}
