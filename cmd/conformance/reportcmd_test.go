package main

import (
	"bytes"
	"encoding/json"
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
		{[]string{"html"}, exitUsage, `"html" is neither a format (markdown) nor a folder`},
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

func TestReportHTML(t *testing.T) {
	dir := t.TempDir()
	s := report.Summary{
		Meta:     report.Meta{KitVersion: "0.1.0", ContractVersion: "1", Runtime: "process", SUT: "built-in reference", Profiles: []string{"smoke"}, Product: "Referenz <Fachverfahren>", ProductVersion: "0.1.0"},
		Verdict:  report.Passed,
		Must:     report.Counts{Passed: 1},
		Verdicts: []report.Verdict{{ID: "SM-PRB-010", Level: "MUST", Title: "probe", Profiles: []string{"smoke"}, Clause: "Konform SUT contract v1 — §3", Verdict: report.Passed, Seconds: 1}},
	}
	if err := report.WriteSummary(filepath.Join(dir, report.SummaryFile), s); err != nil {
		t.Fatal(err)
	}
	evidence, _ := json.Marshal(map[string]any{"exchanges": []map[string]any{{"seq": 1, "actor": "fitconnect", "method": "GET", "url": "/v1/destinations/x", "status": 200}}})
	ginkgo, _ := json.Marshal([]map[string]any{{"SpecReports": []map[string]any{{
		"LeafNodeType": "It", "LeafNodeLabels": []string{"SM-PRB-010", "MUST", "smoke"}, "NumAttempts": 1, "State": "passed",
		"ReportEntries": []map[string]any{{"Name": "evidence", "Value": map[string]any{"AsJSON": string(evidence)}}},
	}}}})
	if err := os.WriteFile(filepath.Join(dir, report.JSONFile), ginkgo, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runReport(dir)
	want := filepath.Join(dir, "report.html")
	if code != exitPassed || stderr != "" || out != "report: "+want+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	page, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`data-verdict="passed"`, "Referenz &lt;Fachverfahren&gt;", `id="check-SM-PRB-010"`, "/v1/destinations/x"} {
		if !strings.Contains(string(page), w) {
			t.Errorf("report.html lacks %q", w)
		}
	}
	// Rendering again replaces the page and leaves nothing else behind.
	if code, _, stderr := runReport(dir); code != exitPassed {
		t.Fatalf("again: exit %d, %q", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("the folder holds %d entries, want summary.json, ginkgo-report.json and report.html", len(entries))
	}

	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{empty}, exitUsage, filepath.Join(empty, report.SummaryFile) + " does not exist"},
		{[]string{dir, "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"--bogus"}, exitUsage, `unknown flag "--bogus"`},
		{[]string{filepath.Join(empty, "missing")}, exitUsage, "neither a format (markdown) nor a folder"},
	} {
		code, out, stderr := runReport(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.says) || out != "" {
			t.Errorf("%q: want exit %d saying %q, got %d %q (stdout %q)", tc.args, tc.code, tc.says, code, stderr, out)
		}
	}

	code, help, _ := runReport("-h")
	if code != exitPassed || !strings.Contains(help, "conformance report DIR") || !strings.Contains(help, "conformance report markdown [DIR]") {
		t.Errorf("report -h: exit %d, does not list both forms:\n%s", code, help)
	}
}
