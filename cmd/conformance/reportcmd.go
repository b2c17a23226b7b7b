package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/konform/konform/report"
	"github.com/konform/konform/report/htmlreport"
)

const reportUsage = `usage:
  conformance report DIR
  conformance report markdown [DIR]

DIR (no verb) renders report.html in DIR anew from the run's summary.json and ginkgo-report.json:
one self-contained page in German for a procurement office and a municipality (the verdict,
what it is bound to, profiles and standards at the top; every check with its clause, failure,
go-cmp diff and the exchanges it rests on below). It loads nothing from the network and opens
from a USB stick. run writes it itself; this renders it again, e.g. with a newer kit.

markdown prints the verdict of the run whose reports are in DIR (default conformance-report) as
GitHub-flavoured Markdown, read from DIR/summary.json: the verdict, the kit, contract and SUT,
the MUST and SHOULD counts and a table of every check, the ones that failed or did not run
first. Write it to a CI job's summary, e.g.
  conformance report markdown conformance-report >> "$GITHUB_STEP_SUMMARY"
It exits 0 whatever the verdict; the verdict's exit code is run's.

exit codes: 0 printed or written, 2 usage error (flags, no summary.json in DIR, or not a summary),
3 DIR/summary.json or DIR/ginkgo-report.json unreadable, or report.html not writable
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
	if strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "conformance report: unknown flag %q\n\n%s", args[0], reportUsage)
		return exitUsage
	}
	return reportHTML(args, stdout, stderr)
}

// reportHTML renders DIR/report.html anew from the run's JSON.
func reportHTML(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintf(stderr, "conformance report: unexpected argument %q (formats: markdown; else the first argument is DIR)\n\n%s", args[1], reportUsage)
		return exitUsage
	}
	dir := args[0]
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "conformance report: %q is neither a format (markdown) nor a folder: DIR is the --out folder of a run\n", dir)
		return exitUsage
	}
	if code := readSummary("conformance report", dir, stderr); code != exitPassed {
		return code
	}
	path, err := htmlreport.WriteFromDir(dir)
	if err != nil {
		fmt.Fprintf(stderr, "conformance report: %v\n", err)
		return exitEnvironment
	}
	fmt.Fprintf(stdout, "report: %s\n", path)
	return exitPassed
}

// readSummary checks that dir holds a readable Konform summary, saying what is wrong if not.
func readSummary(cmd, dir string, stderr io.Writer) int {
	_, code := loadSummary(cmd, dir, stderr)
	return code
}

// loadSummary reads dir's summary.json, saying what is wrong if it is missing or no summary.
func loadSummary(cmd, dir string, stderr io.Writer) (report.Summary, int) {
	file := filepath.Join(dir, report.SummaryFile)
	s, err := report.ReadSummary(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stderr, "%s: %s does not exist: DIR is the --out folder of a run (default conformance-report), and a run that stopped on a usage error writes no report\n", cmd, file)
		return s, exitUsage
	case errors.As(err, new(*fs.PathError)):
		fmt.Fprintf(stderr, "%s: reading %v\n", cmd, err)
		return s, exitEnvironment
	case err != nil:
		fmt.Fprintf(stderr, "%s: %s is not a Konform summary: %v\n", cmd, file, err)
		return s, exitUsage
	case s.Verdict == "":
		fmt.Fprintf(stderr, "%s: %s is not a Konform summary: it holds no verdict\n", cmd, file)
		return s, exitUsage
	}
	return s, exitPassed
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
	s, code := loadSummary("conformance report markdown", dir, stderr)
	if code != exitPassed {
		return code
	}
	if err := report.Markdown(stdout, s); err != nil {
		fmt.Fprintf(stderr, "conformance report markdown: writing: %v\n", err)
		return exitEnvironment
	}
	return exitPassed
}
