package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/konform/konform/report"
)

func runReport(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := mainWithArgs(append([]string{"report"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestReportMarkdown(t *testing.T) {
	dir := t.TempDir()
	s := report.Summary{
		Meta:    report.Meta{KitVersion: "0.1.0", ContractVersion: "1.0", Runtime: "docker", SUT: "image v:1", Profiles: []string{"smoke"}},
		Verdict: report.Incomplete,
		Must:    report.Counts{Passed: 1, NotRun: 1},
		Verdicts: []report.Verdict{
			{ID: "SM-PRB-010", Level: "MUST", Title: "probe", Verdict: report.Passed, Seconds: 1},
			{ID: "SM-DST-030", Level: "MUST", Title: "restart", Verdict: report.NotRun, Reason: "no restart | command"},
		},
	}
	if err := report.WriteSummary(filepath.Join(dir, report.SummaryFile), s); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runReport("markdown", dir)
	if code != exitPassed || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"## Konform conformance: ⚠️ incomplete", "| SM-DST-030 | MUST | ⏸️ not run |  | restart | no restart \\| command |"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "SM-DST-030"), strings.Index(out, "SM-PRB-010"); i < 0 || j < 0 || i > j {
		t.Errorf("the unrun check is not listed before the passed one:\n%s", out)
	}

	// The default folder is conformance-report in the working folder.
	wd, _ := os.Getwd()
	t.Cleanup(func() { _ = os.Chdir(wd) })
	parent := filepath.Dir(dir)
	if err := os.Rename(dir, filepath.Join(parent, "conformance-report")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(parent); err != nil {
		t.Fatal(err)
	}
	if code, out2, stderr := runReport("markdown"); code != exitPassed || out2 != out {
		t.Errorf("default folder: exit %d, stderr %q", code, stderr)
	}
}

func TestReportMarkdownErrors(t *testing.T) {
	empty := t.TempDir()
	garbage := t.TempDir()
	if err := os.WriteFile(filepath.Join(garbage, report.SummaryFile), []byte("<html>not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	noVerdict := t.TempDir()
	if err := os.WriteFile(filepath.Join(noVerdict, report.SummaryFile), []byte(`{"meta":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{nil, exitUsage, "usage"},
		{[]string{"html"}, exitUsage, `unknown format "html"`},
		{[]string{"markdown", "--bogus"}, exitUsage, "bogus"},
		{[]string{"markdown", empty, "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"markdown", empty}, exitUsage, filepath.Join(empty, report.SummaryFile) + " does not exist"},
		{[]string{"markdown", garbage}, exitUsage, filepath.Join(garbage, report.SummaryFile) + " is not a Konform summary"},
		{[]string{"markdown", noVerdict}, exitUsage, "holds no verdict"},
	} {
		code, out, stderr := runReport(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.says) || out != "" {
			t.Errorf("%q: want exit %d saying %q, got %d %q (stdout %q)", tc.args, tc.code, tc.says, code, stderr, out)
		}
	}
	if os.Geteuid() != 0 {
		locked := t.TempDir()
		p := filepath.Join(locked, report.SummaryFile)
		if err := os.WriteFile(p, []byte(`{"verdict":"passed"}`), 0o000); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runReport("markdown", locked); code != exitEnvironment || !strings.Contains(stderr, p) {
			t.Errorf("unreadable summary: want exit 3 naming it, got %d %q", code, stderr)
		}
	}
	for _, args := range [][]string{{"-h"}, {"markdown", "-h"}} {
		if code, _, _ := runReport(args...); code != exitPassed {
			t.Errorf("%q: exit %d, want 0", args, code)
		}
	}
}
