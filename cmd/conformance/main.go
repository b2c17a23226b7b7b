// Command conformance is the Konform conformance kit: it plays every actor around a
// Fachverfahren — the online-service sender, the FIT-Connect delivery service, the HKR system —
// runs the conformance suites against it and writes the reports.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/konform/konform/mocks/actors"
	"github.com/konform/konform/report"
)

// Exit codes.
const (
	exitPassed      = 0
	exitFailed      = 1
	exitUsage       = 2
	exitEnvironment = 3
	exitIncomplete  = 4
)

// helpOrUsage is the exit code of a flag-parsing error: 0 for -h, 2 otherwise.
func helpOrUsage(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitPassed
	}
	return exitUsage
}

// exitFor maps a run's verdict to the exit code.
func exitFor(verdict string) int {
	switch verdict {
	case report.Passed:
		return exitPassed
	case report.Failed:
		return exitFailed
	case report.Incomplete:
		return exitIncomplete
	}
	return exitEnvironment
}

// version is set at build time (-ldflags "-X main.version=..."), else it is the module version
// `go install …@version` recorded, else a development build's.
var version string

func init() {
	if version == "" {
		version = installedVersion()
	}
}

func installedVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.1.0-dev"
}

const usage = `conformance — Konform interface-conformance kit for Fachverfahren

usage:
  conformance run [--sut-image IMAGE | --sut-url URL] [--runtime auto|docker|process]
                  [--profile P[,P…]] [--label-filter EXPR] [--out DIR] [--schemas DIR] [--fixtures DIR]
  conformance mocks up [--runtime auto|docker|process] [--sut-url URL] [--env-file FILE]
  conformance selftest [--profile P[,P…]] [--out DIR] [--schemas DIR] [--parallel N]
  conformance load [--submissions N] [--concurrency C | --rate R] [--hkr-outage] [--sut-restart]
                   [--sut-image IMAGE | --sut-url URL] [--runtime auto|docker|process] [--out DIR]
  conformance bench [--submissions N] [--runs] [--selftest] [--out DIR]
  conformance fixtures list [--dir DIR]
  conformance fixtures validate [--schemas DIR] [--dir DIR]
  conformance schemas fetch [--dir DIR] [--manifest FILE]
  conformance images build [--schemas DIR] [--reference-tag TAG]
  conformance images save --output FILE | images load --input FILE
  conformance report markdown [DIR]
  conformance keys generate --out DIR [--alg ed25519|ecdsa-p256]
  conformance verify --key PUB DIR
  conformance list [--json]
  conformance version

Without --sut-image or --sut-url, run tests the built-in reference Fachverfahren.
schemas fetch downloads the official schemas (pinned by SHA-256) into the folder --schemas
defaults to ($XDG_DATA_HOME/konform/schemas or ~/.local/share/konform/schemas).

A run's verdict rests on its MUST checks (SHOULD checks are reported beside it):
  passed      every selected MUST check ran and passed            exit 0
  failed      at least one MUST check failed                      exit 1
  incomplete  none failed, but at least one was skipped or not run exit 4
  error       the kit itself faulted (no verdict on the SUT)      exit 3
Exit 2 is a usage or configuration error, 3 an environment error. A skipped or unrun check is
never a pass; an interrupted run lists its unrun checks as "not run" and is never passed.
`

func main() {
	// A console that goes away (`conformance run | head`) must not kill a run before it has
	// removed its containers and processes and written its reports: with SIGPIPE notified, a
	// write to the closed stdout fails instead. (Notify, not Ignore: an ignored signal stays
	// ignored in the processes a run starts.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	os.Exit(mainWithArgs(os.Args[1:], os.Stdout, os.Stderr))
}

func mainWithArgs(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "mocks":
		if len(args) < 2 || args[1] != "up" {
			fmt.Fprintln(stderr, "conformance mocks: the only verb is `mocks up`")
			return exitUsage
		}
		return cmdMocksUp(args[2:], stdout, stderr)
	case "selftest":
		return cmdSelftest(args[1:], stdout, stderr)
	case "load":
		return cmdLoad(args[1:], stdout, stderr)
	case "bench":
		return cmdBench(args[1:], stdout, stderr)
	case "fixtures":
		return runFixtures(args[1:], stdout, stderr)
	case "list":
		return cmdList(args[1:], stdout, stderr)
	case "schemas":
		return cmdSchemas(args[1:], stdout, stderr)
	case "reference":
		return cmdReference(args[1:], stderr)
	case "mock":
		// The mock image's entrypoint when it is built from a static kit binary.
		return actors.Serve(args[1:], stderr)
	case "images":
		return cmdImages(args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "keys":
		return cmdKeys(args[1:], stdout, stderr)
	case "verify":
		return cmdVerify(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "conformance %s (SUT contract v%s)\n", version, contractVersion())
		return exitPassed
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitPassed
	default:
		fmt.Fprintf(stderr, "conformance: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}
