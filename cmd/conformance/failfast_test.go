package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/report"
)

// TestProbeOnlySUTEndsAtTheSmokeGate: a SUT whose probe answers and which does nothing else
// (never logs in, polls or books) fails SM-TOK-020, and every later check is not run: the run
// ends at the smoke gate instead of waiting out each check's time limit.
func TestProbeOnlySUTEndsAtTheSmokeGate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference; skipped with -short")
	}
	specs := specsDir(t)
	outDir := t.TempDir()
	start := time.Now()
	out, code := runCLI(t, 5*time.Minute, "run", "--runtime=process", "--schemas", specs, "--out", outDir, "--reference-defects", "probe-only")
	took := time.Since(start)
	sum, err := report.ReadSummary(filepath.Join(outDir, report.SummaryFile))
	if code != exitFailed || err != nil || sum.Verdict != report.Failed {
		t.Fatalf("exit %d, summary %v, verdict %q; want exit 1 and a failed verdict\n%s", code, err, sum.Verdict, out)
	}
	const gate = "SM-TOK-020"
	for _, v := range sum.Verdicts {
		want := report.NotRun
		switch v.ID {
		case probeCheck:
			want = report.Passed
		case gate:
			want = report.Failed
		}
		if v.Verdict != want {
			t.Errorf("%s: %s, want %s (%s)", v.ID, v.Verdict, want, v.Reason)
		}
		if want == report.NotRun && !strings.HasPrefix(v.Reason, report.GatedPrefix+gate+" failed") {
			t.Errorf("%s: reason %q, want the gate %s", v.ID, v.Reason, gate)
		}
	}
	t.Logf("a probe-only SUT: exit %d after %s (%d checks)", code, took.Round(100*time.Millisecond), len(sum.Verdicts))
}
