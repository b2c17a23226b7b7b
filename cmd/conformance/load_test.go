package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/load"
)

func TestLoadUsageErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"load", "--submissions", "0"}, "--submissions"},
		{[]string{"load", "--concurrency", "0"}, "--concurrency"},
		{[]string{"load", "--rate", "-1"}, "--rate"},
		{[]string{"load", "--hkr-outage-for", "0s"}, "--hkr-outage-for"},
		{[]string{"load", "--sut-url", "http://127.0.0.1:1", "--sut-restart"}, "--sut-restart-cmd"},
		{[]string{"load", "--sut-image", "x", "--runtime=process"}, "docker"},
		{[]string{"load", "--schemas", "/does/not/exist"}, "--schemas"},
		{[]string{"load", "extra"}, "unexpected argument"},
		{[]string{"bench", "--submissions", "3"}, "--submissions"},
	} {
		out, code := runCLI(t, 30*time.Second, tc.args...)
		if code != exitUsage || !strings.Contains(out, tc.says) || strings.Contains(out, "panic") {
			t.Errorf("conformance %q: exit %d, want %d and a message naming %s:\n%s", tc.args, code, exitUsage, tc.says, out)
		}
	}
}

// TestLoadSurvivesOutageAndRestart drives a small load through an HKR outage and a restart of
// the reference and expects the completeness proof to hold and its files to be written.
func TestLoadSurvivesOutageAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the mocks and the reference and sends 40 submissions")
	}
	out := filepath.Join(t.TempDir(), "load")
	stdout, code := runCLI(t, 5*time.Minute, "load", "--runtime=process", "--schemas", specsDir(t), "--out", out,
		"--submissions", "40", "--concurrency", "4", "--hkr-outage", "--hkr-outage-for", "3s", "--sut-restart", "--sut-poll-interval", "1s")
	if code != exitPassed {
		t.Fatalf("exit %d, want 0:\n%s", code, stdout)
	}
	for _, want := range []string{"submit → decision", "submit → HKR booking", "lost 0, duplicated 0, double-booked 0", "load: PASSED", "freed after the mocks stopped"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, load.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var r load.Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	c := r.Completeness
	if r.Verdict != load.Passed || c.Sent != 40 || c.Decided != 40 || c.Accepted != 40 || len(r.Submissions) != 40 || r.Decision.Count != 40 {
		t.Errorf("verdict %s, completeness %+v, %d outcomes, %d decision latencies", r.Verdict, c, len(r.Submissions), r.Decision.Count)
	}
	kinds := map[string]bool{}
	for _, d := range r.Disruptions {
		kinds[d.Kind] = d.Error == "" && !d.End.Before(d.Start)
	}
	if !kinds[load.KindHKROutage] || !kinds[load.KindSUTRestart] {
		t.Errorf("disruptions %+v: want an HKR outage and a SUT restart, both injected", r.Disruptions)
	}
	for _, f := range []string{load.TimelineFile, load.HistogramFile, load.HTMLFile} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || !strings.Contains(string(b), "<svg") {
			t.Errorf("%s: %v, holds an SVG: %v", f, err, strings.Contains(string(b), "<svg"))
		}
	}
}
