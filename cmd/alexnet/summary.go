package main

import (
	"fmt"
	"io"

	"github.com/dnngo/dnngo/alexnet"
)

func variant(name string) (alexnet.Config, error) {
	switch name {
	case "seed":
		return alexnet.SeedConfig(), nil
	case "paper":
		return alexnet.Paper(), nil
	case "mini":
		return alexnet.Mini(), nil
	}
	return alexnet.Config{}, usageError{fmt.Sprintf("--variant %q: want seed, paper or mini", name)}
}

func runSummary(args []string, stdout, _ io.Writer) error {
	fs := flags("summary", "[--variant seed|paper|mini]", "Print the layer table of an AlexNet variant, computed from its config", stdout)
	v := fs.String("variant", "seed", "network: seed (single tower, the default), paper (two-GPU groups), mini (99×99 test network)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := variant(*v)
	if err != nil {
		return err
	}
	s, err := cfg.Summary()
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(stdout, s.String())
	return err
}
