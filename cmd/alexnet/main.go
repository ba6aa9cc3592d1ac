// Command alexnet runs AlexNet on the dnngo backends compiled into it.
//
//	alexnet summary [--variant seed|paper|mini]   the layer table: sizes, memory, weights, FLOPs
//	alexnet devices                               backends, CPU, GPUs, library versions
//	alexnet bench [flags]                         throughput of every backend, as a table and a chart
//	alexnet train [flags]                         train on Fashion-MNIST or an image folder
//	alexnet eval --checkpoint FILE                top-1/top-5 error of a checkpoint
//	alexnet classify --checkpoint FILE IMAGE…     top-5 classes of images
//
// Build it with the backends you want: go build -tags onednn,cudnn ./cmd/alexnet
// (./build.sh detects which this machine can build). Every subcommand has
// --help. No command, bad flags, unknown backends and invalid values give a one-line
// error and exit status 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand.
type command struct {
	name, args, help string
	run              func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"summary", "[--variant seed|paper|mini]", "print the layer table: output sizes, activation memory, weights, FLOPs", runSummary},
		{"devices", "[-v]", "list the backends compiled in and whether they open here, the CPU and its estimated peak, GPUs, library versions", runDevices},
		{"bench", "[--backends …] [--batch …] [--train …] [--duration …] [--json FILE] [--plot FILE] [-v]", "measure AlexNet throughput on every backend: table, JSON, chart", runBench},
		{"train", "[--data fashion-mnist|DIR] [--variant …] [--epochs N] [--batch N] [--checkpoint FILE] [--resume] …", "train with the paper's augmentation; validation, checkpoint, CSV log and chart every epoch", runTrain},
		{"eval", "--checkpoint FILE [--data …] [--crop center|ten]", "top-1 and top-5 error of a checkpoint on a dataset's test images", runEval},
		{"classify", "--checkpoint FILE IMAGE…", "the five most probable classes of each image", runClassify},
	}
}

// usageError is a mistake in how the command was called: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 { // a usage error: the command is missing
		usage(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(stderr, "alexnet %s: %v\n", c.name, err)
			return 2
		case errors.As(err, new(exitInterrupted)):
			fmt.Fprintf(stderr, "alexnet %s: %v\n", c.name, err)
			return 130
		default:
			fmt.Fprintf(stderr, "alexnet %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "alexnet: unknown command %q (commands: %s; see alexnet help)\n", args[0], names())
	return 2
}

func names() string {
	var n []string
	for _, c := range commands() {
		n = append(n, c.name)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "alexnet runs AlexNet on the dnngo backends compiled into this binary.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  alexnet %s %s\n      %s\n", c.name, c.args, c.help)
	}
	fmt.Fprintln(w, "\nRun 'alexnet <command> --help' for a command's flags.")
}

// flags returns a FlagSet for a subcommand whose errors become usageErrors
// and whose --help prints to stdout.
func flags(name, args, help string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("alexnet "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: alexnet %s %s\n\n%s.\n\nFlags:\n", name, args, help)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args, turning flag errors into usageErrors and rejecting
// positional arguments the command does not take.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err // flag has printed the usage
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
