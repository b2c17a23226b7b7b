package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/report"
	"github.com/konform/konform/runtime"
	"github.com/konform/konform/suites/check"
)

func TestKitFaultEntryIsOneName(t *testing.T) {
	if check.EntryKitFault != report.EntryKitFault || check.EntryEvidence != report.EntryEvidence || check.NotRunPrefix != report.NotRunPrefix || check.GatedPrefix != report.GatedPrefix {
		t.Fatalf("suites/check and report disagree on the names of kit faults, unrun and gated checks")
	}
}

func TestExitCodesFollowTheVerdict(t *testing.T) {
	want := map[string]int{report.Passed: 0, report.Failed: 1, report.Error: 3, report.Incomplete: 4}
	for verdict, code := range want {
		if got := exitFor(verdict); got != code {
			t.Errorf("verdict %s: exit %d, want %d", verdict, got, code)
		}
	}
}

// TestInterruptedRunListsEveryCheck stops a run 20 s in, as Ctrl-C or a CI time-out would: the
// summary lists every selected check, the unrun ones as not run, and the verdict is not passed.
func TestInterruptedRunListsEveryCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a run; skipped with -short")
	}
	specs := specsDir(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli(t), "run", "--runtime=process", "--quiet", "--schemas", specs, "--out", out)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Second) // the interruption itself is what this test is about
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	sum, err := report.ReadSummary(filepath.Join(out, report.SummaryFile))
	if err != nil {
		t.Fatalf("no summary after the interruption (exit %d): %v\n%s", code, err, buf.String())
	}
	if sum.Verdict == report.Passed || code == exitPassed {
		t.Fatalf("an interrupted run reads as passed (verdict %s, exit %d)\n%s", sum.Verdict, code, buf.String())
	}
	selected := catalogue.Builtin().IDs()
	if len(sum.Verdicts) != len(selected) {
		t.Fatalf("summary lists %d checks, the run selected %d\n%s", len(sum.Verdicts), len(selected), buf.String())
	}
	if sum.All().NotRun == 0 || !sum.Meta.Interrupted {
		t.Fatalf("interrupted after 20 s, yet nothing is not run (%+v, interrupted=%v)\n%s", sum.All(), sum.Meta.Interrupted, buf.String())
	}
	for _, v := range sum.Verdicts {
		if v.Verdict == report.NotRun && !strings.Contains(v.Reason, "stopped") {
			t.Errorf("%s: not run without the reason: %q", v.ID, v.Reason)
		}
	}
}

// TestConfigurationErrorsComeFirst: a bad report folder, an incomplete schema folder and a
// missing SUT image are named before anything of the run starts (exit 2).
func TestConfigurationErrorsComeFirst(t *testing.T) {
	empty := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--out", "/proc/konform-nope"}, "--out /proc/konform-nope"},
		{[]string{"run", "--schemas", empty}, "xfinanz-3.1.0/xfinanz-nachricht-kasse-import.xsd"},
	}
	if runtimeHasDocker() {
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"run", "--sut-image", "konform-test-no-such-image:0"}, "no such image"})
	}
	for _, c := range cases {
		start := time.Now()
		out, code := runCLI(t, 30*time.Second, c.args...)
		t.Logf("%v: exit %d after %s", c.args, code, time.Since(start).Round(time.Millisecond))
		if code != exitUsage || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, want %d naming %q:\n%s", c.args, code, exitUsage, c.want, out)
		}
	}
}

func runtimeHasDocker() bool { return runtime.DockerAvailable(context.Background()) == nil }

// TestSUTThatNeverBecomesReadyFails: a SUT that exits at start is the vendor's failure: exit 1,
// a report whose probe check failed and whose other checks are not run, and the SUT's output.
// The console is the kit's own and shows the SUT's output once, escaped (the schema folder's
// name, which the SUT prints, holds an escape sequence); every not-run reason is one line.
func TestSUTThatNeverBecomesReadyFails(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference; skipped with -short")
	}
	specs := specsDir(t)
	broken := filepath.Join(t.TempDir(), "specs-\x1b[31m-ä")
	if out, err := exec.Command("cp", "-r", specs+"/.", broken).CombinedOutput(); err != nil {
		t.Fatalf("copying the specs: %v\n%s", err, out)
	}
	_ = exec.Command("chmod", "-R", "u+w", broken).Run()
	// The reference compiles its XSDs at start and exits when one does not compile.
	xsd := filepath.Join(broken, "xbau-2.3.1", "xsd_dev", "xbau-nachrichten-baugenehmigung.xsd")
	if err := os.WriteFile(xsd, []byte("<xs:schema broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := t.TempDir()
	out, code := runCLI(t, 2*time.Minute, "run", "--runtime=process", "--schemas", broken, "--out", outDir)
	sum, err := report.ReadSummary(filepath.Join(outDir, report.SummaryFile))
	if code != exitFailed || err != nil || sum.Verdict != report.Failed {
		t.Fatalf("exit %d, summary %v, verdict %q; want exit 1 and a failed verdict\n%s", code, err, sum.Verdict, out)
	}
	for _, v := range sum.Verdicts {
		want := report.NotRun
		if v.ID == probeCheck {
			want = report.Failed
		}
		if v.Verdict != want {
			t.Errorf("%s: %s, want %s", v.ID, v.Verdict, want)
		}
		if v.Verdict == report.NotRun && (strings.Contains(v.Reason, "\n") || !strings.HasPrefix(v.Reason, report.GatedPrefix+probeCheck+" failed: ") || !strings.Contains(v.Reason, "logs/sut.log")) {
			t.Errorf("%s: the reason is not one line naming the gate and logs/sut.log: %q", v.ID, v.Reason)
		}
	}
	b, err := os.ReadFile(filepath.Join(outDir, "logs", "sut.log"))
	if err != nil || !strings.Contains(string(b), "does not compile") || !strings.Contains(string(b), "\x1b[31m-ä") {
		t.Errorf("the SUT's raw output is not in logs/sut.log: %v\n%s", err, b)
	}
	if strings.ContainsRune(out, 0x1b) {
		t.Errorf("the console holds an ESC byte:\n%q", out)
	}
	if n := strings.Count(out, "does not compile"); n != 1 || !strings.Contains(out, `specs-\x1b[31m-ä`) {
		t.Errorf("the console shows the SUT's output %d times (want once, escaped):\n%s", n, out)
	}
	if !regexp.MustCompile(`(?m)^started:  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(out) {
		t.Errorf("the header lacks the start time in RFC 3339 UTC:\n%s", out)
	}
}

// TestUnknownDefectIsAUsageError: a misspelt defect is refused before anything starts, naming
// it and the known ones.
func TestUnknownDefectIsAUsageError(t *testing.T) {
	out, code := runCLI(t, 30*time.Second, "run", "--runtime=process", "--reference-defects", "double-booking-on-retry,no-such-defect")
	if code != exitUsage || !strings.Contains(out, `unknown defect "no-such-defect"`) || !strings.Contains(out, "double-booking-on-retry") {
		t.Fatalf("exit %d, want %d naming the unknown defect and the known ones:\n%s", code, exitUsage, out)
	}
}

// TestHelpGoesToStdout: -h and --help of every subcommand exit 0 and print the usage on stdout.
func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"run", "-h"}, {"run", "--help"}, {"selftest", "-h"}, {"mocks", "up", "--help"}, {"list", "-h"}} {
		cmd := exec.Command(cli(t), args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != exitPassed || !strings.HasPrefix(stdout.String(), "usage: conformance ") || stderr.Len() > 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
	out, _ := runCLI(t, 30*time.Second, "run", "-h")
	for _, want := range []string{"--mocks FILE\n", "--schemas DIR\n", "--verbose\n", "Ginkgo's format"} {
		if !strings.Contains(out, want) {
			t.Errorf("run -h lacks %q:\n%s", want, out)
		}
	}
}

// A run whose console goes away (`conformance run | head`) still finishes, cleans up and
// writes its reports.
func TestRunOutlivesAClosedConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a run; skipped with -short")
	}
	specs := specsDir(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // the reader is gone before the run writes its first line
	cmd := exec.CommandContext(ctx, cli(t), "run", "--runtime=process", "--profile", "smoke", "--schemas", specs, "--out", out)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	err = cmd.Run()
	w.Close()
	if code := cmd.ProcessState.ExitCode(); code != exitPassed {
		t.Fatalf("run with a closed console: %v (exit %d)\n%s", err, code, stderr.String())
	}
	sum, err := report.ReadSummary(filepath.Join(out, report.SummaryFile))
	if err != nil || sum.Verdict != report.Passed {
		t.Fatalf("summary after a run with a closed console: %v, verdict %q", err, sum.Verdict)
	}
}
