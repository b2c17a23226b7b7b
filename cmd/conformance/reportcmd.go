package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/konform/konform/report"
)

const reportUsage = `usage:
  conformance report markdown [DIR]

markdown prints the verdict of the run whose reports are in DIR (default conformance-report) as
GitHub-flavoured Markdown, read from DIR/summary.json: the verdict, the kit, contract and SUT,
the MUST and SHOULD counts and a table of every check, the ones that failed or did not run
first. Write it to a CI job's summary, e.g.
  conformance report markdown conformance-report >> "$GITHUB_STEP_SUMMARY"
It exits 0 whatever the verdict; the verdict's exit code is run's.

exit codes: 0 printed, 2 usage error (flags, no summary.json in DIR, or not a summary), 3 DIR/summary.json unreadable
`

// cmdReport renders a finished run's summary.json for other readers.
func cmdReport(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, reportUsage)
		return exitUsage
	}
	switch args[0] {
	case "markdown":
		return reportMarkdown(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, reportUsage)
		return exitPassed
	}
	fmt.Fprintf(stderr, "conformance report: unknown format %q\n\n%s", args[0], reportUsage)
	return exitUsage
}

func reportMarkdown(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("report markdown", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, reportUsage) }
	if err := fset.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fset.NArg() > 1 {
		fmt.Fprintf(stderr, "conformance report markdown: unexpected argument %q\n", fset.Arg(1))
		return exitUsage
	}
	dir := "conformance-report"
	if fset.NArg() == 1 {
		dir = fset.Arg(0)
	}
	file := filepath.Join(dir, report.SummaryFile)
	s, err := report.ReadSummary(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stderr, "conformance report markdown: %s does not exist: DIR is the --out folder of a run (default conformance-report), and a run that stopped on a usage error writes no report\n", file)
		return exitUsage
	case errors.As(err, new(*fs.PathError)):
		fmt.Fprintf(stderr, "conformance report markdown: reading %v\n", err)
		return exitEnvironment
	case err != nil:
		fmt.Fprintf(stderr, "conformance report markdown: %s is not a Konform summary: %v\n", file, err)
		return exitUsage
	case s.Verdict == "":
		fmt.Fprintf(stderr, "conformance report markdown: %s is not a Konform summary: it holds no verdict\n", file)
		return exitUsage
	}
	if err := report.Markdown(stdout, s); err != nil {
		fmt.Fprintf(stderr, "conformance report markdown: writing: %v\n", err)
		return exitEnvironment
	}
	return exitPassed
}
