package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/report"
)

// TestCertifiedRunVerifies is the certifier's path: a key pair, a certification run of the
// built-in reference in containers, and `verify` — which holds for the report as written and
// names the file after any single flipped byte in any file of it. The certificate's text
// (pdftotext) states the run it certifies.
func TestCertifiedRunVerifies(t *testing.T) {
	if testing.Short() {
		t.Skip("a certification run in containers; skipped with -short")
	}
	specs := specsDir(t)
	needDocker(t)
	pdftotext := needTool(t, "pdftotext", "poppler-utils")
	keys := t.TempDir()
	if out, code := runCLI(t, time.Minute, "keys", "generate", "--out", keys); code != exitPassed {
		t.Fatalf("keys generate: exit %d\n%s", code, out)
	}
	out := filepath.Join(t.TempDir(), "R")
	log, code := runCLI(t, 20*time.Minute, "run", "--runtime=docker", "--schemas", specs, "--out", out,
		"--profile", "smoke,hkr-payment", "--sut-poll-interval", "1s",
		"--certify", "--sign-key", filepath.Join(keys, "konform.key"))
	if code != exitPassed {
		t.Fatalf("run --certify: exit %d\n%s", code, log)
	}
	for _, f := range []string{"report.html", "certificate.pdf", "attestation.intoto.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("run --certify wrote no %s: %v", f, err)
		}
	}
	sum, err := report.ReadSummary(filepath.Join(out, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Meta.SUTBinding != "image" || !strings.HasPrefix(sum.Meta.SUTDigest, "sha256:") || sum.Meta.Product == "" || sum.Meta.NotCertifiable != "" {
		t.Fatalf("summary meta: %+v", sum.Meta)
	}
	text, err := exec.Command(pdftotext, "-layout", filepath.Join(out, "certificate.pdf"), "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, want := range []string{sum.Meta.Product, sum.Meta.ProductVersion, sum.Meta.SUTDigest, sum.Meta.RunID, "smoke", "hkr-payment", "XFinanz", "conformance verify"} {
		if !strings.Contains(strings.Join(strings.Fields(string(text)), ""), strings.Join(strings.Fields(want), "")) {
			t.Errorf("the certificate's text lacks %q:\n%s", want, text)
		}
	}

	pub := filepath.Join(keys, "konform.pub")
	if v, code := runCLI(t, time.Minute, "verify", "--key", pub, out); code != exitPassed {
		t.Fatalf("verify of the report as written: exit %d\n%s", code, v)
	}
	// The run renders report.html from what it holds in memory; `conformance report` renders it
	// from summary.json and ginkgo-report.json. Both pages are the same, byte for byte.
	page := filepath.Join(out, "report.html")
	written, _ := os.ReadFile(page)
	if log, code := runCLI(t, time.Minute, "report", out); code != exitPassed {
		t.Fatalf("report %s: exit %d\n%s", out, code, log)
	}
	if again, _ := os.ReadFile(page); !bytes.Equal(written, again) {
		t.Fatalf("report.html rendered from the report's files (%d bytes) differs from the run's own (%d bytes)", len(again), len(written))
	}
	var files []string
	_ = filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	for _, p := range files {
		rel, _ := filepath.Rel(out, p)
		orig, err := os.ReadFile(p)
		if err != nil || len(orig) == 0 {
			t.Fatalf("%s: %v (%d bytes)", rel, err, len(orig))
		}
		flipped := append([]byte(nil), orig...)
		flipped[len(flipped)/2] ^= 0x01
		if err := os.WriteFile(p, flipped, 0o644); err != nil {
			t.Fatal(err)
		}
		v, code := runCLI(t, time.Minute, "verify", "--key", pub, out)
		if code != exitFailed || !strings.Contains(v, filepath.ToSlash(rel)) {
			t.Errorf("verify after one flipped byte in %s: exit %d, want 1 naming the file\n%s", rel, code, v)
		}
		if err := os.WriteFile(p, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCertifyRefusesWhatItCannotCertify: a label filter or reference defects never yield a
// certificate, and a run whose checks did not all run says why it is not certifiable.
func TestCertifyRefusesWhatItCannotCertify(t *testing.T) {
	keys := t.TempDir()
	if out, code := runCLI(t, time.Minute, "keys", "generate", "--out", keys); code != exitPassed {
		t.Fatalf("keys generate: exit %d\n%s", code, out)
	}
	key := filepath.Join(keys, "konform.key")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--certify", "--sign-key", key, "--label-filter", "MUST"}, "--label-filter would leave checks out"},
		{[]string{"run", "--certify", "--sign-key", key, "--reference-defects", "probe-only"}, "--reference-defects"},
		{[]string{"run", "--certify"}, "--certify needs --sign-key"},
		{[]string{"run", "--sign-key", filepath.Join(keys, "missing.key")}, "--sign-key"},
	} {
		out, code := runCLI(t, time.Minute, append(c.args, "--out", filepath.Join(t.TempDir(), "R"))...)
		if code != exitUsage || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s", c.args, code, c.want, out)
		}
	}
	base := report.Summary{Verdict: report.Passed, Verdicts: []report.Verdict{
		{ID: "SM-PRB-010", Level: "MUST", Verdict: report.Passed},
		{ID: "FC-RCV-043", Level: "SHOULD", Verdict: report.Failed},
	}}
	if why := notCertifiable(base); why != "" {
		t.Errorf("a failed SHOULD check is reported beside the verdict, not a bar: %q", why)
	}
	for _, state := range []string{report.Skipped, report.NotRun, report.KitError} {
		s := base
		s.Verdicts = append([]report.Verdict{{ID: "FC-RCV-070", Level: "MUST", Verdict: state}}, base.Verdicts...)
		if why := notCertifiable(s); !strings.Contains(why, "FC-RCV-070 is "+state) {
			t.Errorf("a MUST check %s: %q, want it named", state, why)
		}
		s.Verdicts = append([]report.Verdict{{ID: "FC-RCV-043", Level: "SHOULD", Verdict: state}}, base.Verdicts[:1]...)
		if why := notCertifiable(s); !strings.Contains(why, "FC-RCV-043 is "+state) {
			t.Errorf("a SHOULD check %s: %q, want it named (every check must run)", state, why)
		}
	}
}

// needTool returns the path of a command the test needs: under CI=true its absence fails the
// test, elsewhere it skips.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not installed (Debian package %s)", name, pkg)
		}
		t.Skipf("%s not installed (Debian package %s)", name, pkg)
	}
	return p
}
