package main

import (
	"errors"
	"flag"
)

// parseInterspersed parses args with flags before, between and after the
// positional arguments (classify IMAGE --checkpoint X), which the flag
// package alone stops at; everything after a "--" is positional. It
// returns the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err // flag has printed the usage
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
