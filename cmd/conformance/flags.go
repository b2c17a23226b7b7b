package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet makes the flag set of a subcommand whose usage line is "conformance <synopsis>".
// A flag's usage text names its argument in backquotes (`DIR`), as the flag package reads it.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: conformance %s\n\nflags:\n", synopsis)
		printDefaults(fs)
	}
	return fs
}

// printDefaults lists the flags as the kit's documentation spells them: --name ARG, the usage
// text on the next line, and the default when there is one.
func printDefaults(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" && arg != "value" {
			line += " " + arg
		}
		fmt.Fprintf(fs.Output(), "%s\n      %s", line, strings.ReplaceAll(usage, "\n", "\n      "))
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(fs.Output(), " (default %s)", f.DefValue)
		}
		fmt.Fprintln(fs.Output())
	})
}

// parseFlags parses args. For -h or --help it prints the usage to stdout and returns
// flag.ErrHelp (exit 0); a wrong flag it names on stderr, with where to find the right ones,
// and returns a flagError (exit 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(buf.Bytes())
	case err != nil:
		fmt.Fprintf(stderr, "conformance %s: %v\n(conformance %s -h lists the flags)\n", fs.Name(), err, fs.Name())
		return flagError{err}
	}
	return err
}

// flagError is a wrong flag, already reported to the user.
type flagError struct{ error }
