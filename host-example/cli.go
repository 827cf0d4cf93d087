package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/buildinfo"
)

// Exit codes: 1 a command that failed, 2 a command line that was not understood (nothing ran).
const (
	exitFailed = 1
	exitUsage  = 2
)

// usageError is a command line that was not understood: an unknown command or flag, a
// stray argument, a missing required flag. The command did nothing.
type usageError struct {
	err error
	// shown is set when the usage was printed already (the flag package does on a bad flag).
	shown bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf is a usageError whose usage is still to print.
func usageErrorf(format string, a ...any) error { return &usageError{err: fmt.Errorf(format, a...)} }

// reportedError is a failure the command already logged (the server, once its logger runs):
// run prints nothing more.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// run is host-example with its arguments; it answers the exit code. The first argument names
// a command, or is a flag of serve (the default); anything else is refused before anything
// starts.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, name := serveCommand, "serve"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-version" || a == "--version":
			cmd, name, args = versionCommand, "version", args[1:]
		case a == "help":
			fmt.Fprint(stdout, usage)
			return 0
		case !strings.HasPrefix(a, "-"):
			c, ok := commands[a]
			if !ok {
				fmt.Fprintf(stderr, "host-example: unknown command %q\n\n%s", a, usage)
				return exitUsage
			}
			cmd, name, args = c, a, args[1:]
		}
	}
	err := cmd(args, stdin, stdout)
	var ue *usageError
	var reported *reportedError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "host-example %s: %v\n", name, ue.err)
		if !ue.shown {
			fmt.Fprintf(stderr, "\n%s(host-example %s -h lists its flags)\n", usage, name)
		}
		return exitUsage
	case errors.As(err, &reported):
		return exitFailed
	default:
		fmt.Fprintln(stderr, "host-example:", err)
		return exitFailed
	}
}

// parseFlags parses a command's flags and refuses what is left over: every command takes
// flags only, so a stray word is a typo, never something to ignore.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, shown: true}
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q (this command takes flags only)", fs.Arg(0))
	}
	return nil
}

// versionCommand prints the version, the commit and the Go release of this build.
func versionCommand(args []string, _ io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, buildinfo.Get())
	return nil
}
