package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dnngo/dnngo/alexnet"
)

// runNote is the checkpoint note "run": the data settings a resumed run
// must share with the run that wrote the checkpoint, or its steps would
// map to other epochs and other images.
type runNote struct {
	Data    string `json:"data"`
	Limit   int    `json:"limit"`
	Batch   int    `json:"batch"`
	Seed    uint64 `json:"seed"`
	Augment string `json:"augment"`
}

// resumeFlags are the train flags that a checkpoint also records.
type resumeFlags struct {
	variant, init, data, augment *string
	lr, momentum, weightDecay    *float64
	limit, batch                 *int
	seed                         *uint64
}

// reconcileResume settles the flags of train --resume against the
// checkpoint, before any expensive work. given holds the flags set on the
// command line. A flag given with the checkpoint's value is fine. The
// learning rate, given with another value, is applied (and said): it may
// change at every step. Any other flag given with another value is a usage
// error naming both values: the variant, momentum, weight decay and
// initialisation are fixed in the network, and the data settings (data,
// limit, batch, seed, augment) fix the data order the step count refers
// to. The data settings not given take the checkpoint's values.
func reconcileResume(net *alexnet.Network, ckpt string, given map[string]bool, f resumeFlags, stdout io.Writer) error {
	cfg := net.Config()
	conflict := func(flag, value, what string) error {
		return usageError{fmt.Sprintf("--%s %s conflicts with %s, %s: drop --%s to resume it, or train a new checkpoint", flag, value, ckpt, what, flag)}
	}
	g32 := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 32) }
	if given["variant"] && *f.variant != cfg.Name {
		return conflict("variant", *f.variant, fmt.Sprintf("which holds a %s network", cfg.Name))
	}
	if given["init"] && *f.init != cfg.Init.String() {
		return conflict("init", *f.init, fmt.Sprintf("whose network was initialised the %s way", cfg.Init))
	}
	if given["momentum"] && float32(*f.momentum) != cfg.SGD.Momentum {
		return conflict("momentum", g32(*f.momentum), fmt.Sprintf("trained with momentum %s (fixed for a network)", g32(float64(cfg.SGD.Momentum))))
	}
	if given["weight-decay"] && float32(*f.weightDecay) != cfg.SGD.WeightDecay {
		return conflict("weight-decay", g32(*f.weightDecay), fmt.Sprintf("trained with weight decay %s (fixed for a network)", g32(float64(cfg.SGD.WeightDecay))))
	}

	raw := net.Note(noteRun)
	var prev runNote
	if err := json.Unmarshal([]byte(raw), &prev); err != nil {
		return usageError{fmt.Sprintf("--resume: %s has no readable %q note (%q): it was not written by alexnet train, which records the data settings a resumed run must repeat", ckpt, noteRun, raw)}
	}
	st := &settler{given: given}
	settle(st, "data", f.data, prev.Data)
	settle(st, "limit", f.limit, prev.Limit)
	settle(st, "batch", f.batch, prev.Batch)
	settle(st, "seed", f.seed, prev.Seed)
	settle(st, "augment", f.augment, prev.Augment)
	conflicts, took := st.conflicts, st.took
	if len(conflicts) > 0 {
		return usageError{fmt.Sprintf("--resume: %s conflict with %s: a resumed run must see the same data order; drop them to use the checkpoint's values",
			strings.Join(conflicts, ", "), ckpt)}
	}
	if len(took) > 0 {
		fmt.Fprintf(stdout, "resuming with the checkpoint's settings: %s\n", strings.Join(took, " "))
	}
	if given["lr"] && float32(*f.lr) != net.Optimizer().LR() {
		old := net.Optimizer().LR()
		if err := net.Optimizer().SetLR(float32(*f.lr)); err != nil {
			return usageError{fmt.Sprintf("--lr: %v", err)}
		}
		fmt.Fprintf(stdout, "resuming with learning rate %s from --lr (the checkpoint's was %s)\n", g32(*f.lr), g32(float64(old)))
	}
	return nil
}

// settler collects what settle found.
type settler struct {
	given           map[string]bool
	conflicts, took []string
}

// settle compares the flag's value *dst with the checkpoint's want: a
// given flag that differs is a conflict; one not given takes want.
func settle[T comparable](s *settler, flag string, dst *T, want T) {
	switch {
	case *dst == want:
	case s.given[flag]:
		s.conflicts = append(s.conflicts, fmt.Sprintf("--%s %v (the checkpoint's run used %v)", flag, *dst, want))
	default:
		*dst = want
		s.took = append(s.took, fmt.Sprintf("--%s %v", flag, want))
	}
}
