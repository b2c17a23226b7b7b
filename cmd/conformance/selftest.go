package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/provision"
	"github.com/konform/konform/report"
	"github.com/konform/konform/selftest"
)

// cmdSelftest runs the suites against the clean reference and once per defect, each run a
// child process of this binary in the process runtime, and prints the kill matrix.
func cmdSelftest(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("selftest", "selftest [--profile P[,P…]] [--out DIR] [--schemas DIR] [--parallel N] [--shards N]")
	profiles := fs.String("profile", strings.Join(catalogue.Profiles, ","), "comma-separated `PROFILES`")
	out := fs.String("out", filepath.Join("conformance-report", "selftest"), "`DIR` for each run's reports")
	schemas := fs.String("schemas", "", "`DIR` of the official schemas (default: $KONFORM_SPECS, ../shared/specs, or the folder that conformance schemas fetch fills)")
	parallel := fs.Int("parallel", 10, "`N` runs at a time (a run mostly waits on the reference's poll cadence, so runs overlap well even on 2 cores)")
	shards := fs.Int("shards", 1, "spread each run's checks over `N` instances of the reference, as `run --parallel N` does (it proves the verdicts of sharded runs exact; each run then needs N times the processes)")
	poll := fs.Duration("sut-poll-interval", time.Second, "the poll `INTERVAL` handed to the reference in every run (the runs wait on its cadence; 1 s leaves the callback checks room between rounds)")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "conformance selftest: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *shards < 1 || *parallel < 1 {
		fmt.Fprintf(stderr, "conformance selftest: --shards and --parallel must be 1 or more, not %d and %d\n", *shards, *parallel)
		return exitUsage
	}
	var plist []string
	for _, p := range strings.Split(*profiles, ",") {
		if p = strings.TrimSpace(p); p != "" {
			plist = append(plist, p)
		}
	}
	if *schemas == "" {
		*schemas = defaultSchemas()
	}
	if *schemas == "" {
		fmt.Fprintln(stderr, "conformance selftest: the reference needs the official schemas: pass --schemas DIR")
		return exitUsage
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "conformance selftest: %v\n", err)
		return exitEnvironment
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tmp, err := os.MkdirTemp("", "konform-selftest-")
	if err != nil {
		fmt.Fprintf(stderr, "conformance selftest: %v\n", err)
		return exitEnvironment
	}
	defer os.RemoveAll(tmp)
	// One key set serves every run of the self-test; generating RSA 4096 keys per run would
	// dominate its time.
	keys, err := provision.NewKeys()
	if err != nil {
		fmt.Fprintf(stderr, "conformance selftest: %v\n", err)
		return exitEnvironment
	}
	keysFile := filepath.Join(tmp, "keys.json")
	if err := keys.Save(keysFile); err != nil {
		fmt.Fprintf(stderr, "conformance selftest: %v\n", err)
		return exitEnvironment
	}

	cat := catalogue.Builtin()
	plan := selftest.NewPlan(plist)
	run := func(ctx context.Context, defect string, profiles, transports []string) (report.Summary, error) {
		name := defect
		if name == "" {
			name = "clean"
		}
		dir := filepath.Join(*out, name)
		args := []string{"run", "--runtime=process", "--parallel=" + strconv.Itoa(*shards), "--quiet", "--out", dir, "--keys-file", keysFile,
			"--schemas", *schemas, "--profile", strings.Join(profiles, ","), "--sut-poll-interval", poll.String()}
		if defect != "" {
			args = append(args, "--reference-defects", defect)
		}
		if len(transports) > 0 {
			args = append(args, "--transport", strings.Join(transports, ","))
		}
		cmd := exec.CommandContext(ctx, self, args...)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		err := cmd.Run()
		code := cmd.ProcessState.ExitCode()
		_ = os.MkdirAll(dir, 0o755)
		_ = os.WriteFile(filepath.Join(dir, "console.log"), buf.Bytes(), 0o644)
		switch code {
		case exitPassed, exitFailed, exitIncomplete, exitEnvironment:
			// a verdict, or a kit error that the summary (if written) names per check
		default:
			return report.Summary{}, fmt.Errorf("exit %d: %v\n%s", code, err, tailString(buf.String(), 3000))
		}
		sum, rerr := report.ReadSummary(filepath.Join(dir, report.SummaryFile))
		if rerr != nil {
			return report.Summary{}, fmt.Errorf("exit %d and no summary (%v)\n%s", code, rerr, tailString(buf.String(), 3000))
		}
		return sum, nil
	}
	res := selftest.Run(ctx, cat, plan, run, *parallel, stdout)
	selftest.PrintMatrix(stdout, res)
	if b, err := json.MarshalIndent(res.Matrix, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(*out, "kill-matrix.json"), b, 0o644)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "conformance selftest: interrupted")
		return exitEnvironment
	}
	if !res.OK() {
		fmt.Fprintln(stdout, "\nSELFTEST FAILED:")
		for _, p := range res.Problems {
			fmt.Fprintf(stdout, "  - %s\n", report.ConsoleBlock(p, "    "))
		}
		return exitFailed
	}
	fmt.Fprintf(stdout, "\nselftest passed: the clean reference passes all %d checks, and each of the %d defects fails exactly the checks that declare it, for the declared cause\n", len(res.Checks), len(res.Runs))
	return exitPassed
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
