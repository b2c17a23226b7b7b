package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/attest"
	"github.com/konform/konform/report"
)

func runAttestCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := mainWithArgs(args, &out, &errb)
	return code, out.String(), errb.String()
}

// signedFolder writes a report folder as a run leaves it (summary, Ginkgo's JSON with a check's
// evidence, JUnit, a log) and signs it with the private key at keyPath.
func signedFolder(t *testing.T, keyPath string) string {
	t.Helper()
	dir := t.TempDir()
	at := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	sr := types.SpecReport{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: "SM-PRB-010 probe", LeafNodeLabels: []string{"SM-PRB-010"},
		State: types.SpecStatePassed, NumAttempts: 1,
		ReportEntries: types.ReportEntries{{Name: report.EntryEvidence, Value: types.WrapEntryValue(map[string]any{"status": 200})}},
	}
	js := filepath.Join(dir, report.JSONFile)
	if err := reporters.GenerateJSONReport(types.Report{SuiteDescription: "Konform conformance", SpecReports: types.SpecReports{sr}}, js); err != nil {
		t.Fatal(err)
	}
	var back []types.Report
	if b, err := os.ReadFile(js); err != nil || json.Unmarshal(b, &back) != nil {
		t.Fatalf("reading %s back: %v", js, err)
	}
	s := report.Summary{
		Meta: report.Meta{RunID: "0f0e0d0c-0b0a-4908-8706-050403020100", KitVersion: "0.1.0", ContractVersion: "1.0", Runtime: "docker",
			SUT: "image example.org/fv:2", Profiles: []string{"smoke"}, StartedAt: at, FinishedAt: at.Add(time.Minute),
			Product: "Beispielverfahren", ProductVersion: "2.0", Vendor: "Beispiel GmbH",
			SUTBinding: attest.BindingImage, SUTImage: "example.org/fv:2", SUTDigest: "sha256:" + strings.Repeat("ab", 32)},
		Verdict:  report.Passed,
		Must:     report.Counts{Passed: 1},
		Verdicts: []report.Verdict{{ID: "SM-PRB-010", Level: "MUST", Verdict: report.Passed, EvidenceSHA256: report.EvidenceDigest(back[0].SpecReports[0])}},
	}
	if err := report.WriteSummary(filepath.Join(dir, report.SummaryFile), s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, report.JUnitFile), []byte("<testsuites/>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "logs", "sut.log"), []byte("ready\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := attest.SignWithKeyFile(dir, attest.NewPredicate(s), keyPath); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestKeysGenerateAndVerify(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	code, out, stderr := runAttestCLI("keys", "generate", "--out", keys)
	if code != exitPassed || !strings.Contains(out, "konform.pub") {
		t.Fatalf("keys generate: exit %d\n%s%s", code, out, stderr)
	}
	priv, pub := filepath.Join(keys, attest.PrivateKeyFile), filepath.Join(keys, attest.PublicKeyFile)
	if code, _, stderr := runAttestCLI("keys", "generate", "--out", keys); code != exitEnvironment || !strings.Contains(stderr, "exists") {
		t.Errorf("keys generate over existing keys: exit %d, %s", code, stderr)
	}
	dir := signedFolder(t, priv)

	code, out, stderr = runAttestCLI("verify", "--key", pub, dir)
	if code != exitPassed || stderr != "" {
		t.Fatalf("verify: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"product: Beispielverfahren", "version: 2.0", "vendor: Beispiel GmbH", "verdict: passed",
		"date: 2026-03-14T10:01:00Z", "SUT digest: sha256:abab", "signature: valid", "files: 4 verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	if code, _, stderr := runAttestCLI("verify", dir, "--key", pub); code != exitPassed {
		t.Errorf("verify DIR --key PUB: exit %d, %s", code, stderr)
	}

	// A wrong key, a changed file: exit 1, naming the reason.
	other := filepath.Join(t.TempDir(), "other")
	if code, _, stderr := runAttestCLI("keys", "generate", "--alg", "ecdsa-p256", "--out", other); code != exitPassed {
		t.Fatalf("keys generate --alg ecdsa-p256: exit %d, %s", code, stderr)
	}
	if code, out, stderr := runAttestCLI("verify", "--key", filepath.Join(other, attest.PublicKeyFile), dir); code != exitFailed || !strings.Contains(stderr, "signature is not valid") || out != "" {
		t.Errorf("verify with another key: exit %d\n%s%s", code, out, stderr)
	}
	log := filepath.Join(dir, "logs", "sut.log")
	if err := os.WriteFile(log, []byte("READY\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runAttestCLI("verify", "--key", pub, dir); code != exitFailed || !strings.Contains(stderr, "logs/sut.log: the file changed") || !strings.Contains(stderr, "FAILED") {
		t.Errorf("verify of a changed folder: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := runAttestCLI("verify", "--key", pub, t.TempDir()); code != exitFailed || !strings.Contains(stderr, attest.AttestationFile+" does not exist") {
		t.Errorf("verify of an unsigned folder: exit %d, %s", code, stderr)
	}
}

func TestVerifyAndKeysUsage(t *testing.T) {
	keys := t.TempDir()
	if code, _, stderr := runAttestCLI("keys", "generate", "--out", keys); code != exitPassed {
		t.Fatalf("keys generate: exit %d, %s", code, stderr)
	}
	pub := filepath.Join(keys, attest.PublicKeyFile)
	notKey := filepath.Join(keys, "not-a-key.pem")
	if err := os.WriteFile(notKey, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", dir}, "--key PUB is required"},
		{[]string{"verify", "--key", pub}, "DIR is required"},
		{[]string{"verify", "--key", filepath.Join(keys, "absent.pub"), dir}, "reading the public key"},
		{[]string{"verify", "--key", notKey, dir}, "not a PEM file"},
		{[]string{"verify", "--key", filepath.Join(keys, attest.PrivateKeyFile), dir}, "not a public key"},
		{[]string{"verify", "--key", pub, filepath.Join(dir, "absent")}, "is not a folder"},
		{[]string{"verify", "--key", pub, dir, dir}, "unexpected argument"},
		{[]string{"verify", "--nope"}, "flag provided but not defined"},
		{[]string{"keys"}, "keys generate --out DIR"},
		{[]string{"keys", "rotate"}, "unknown verb"},
		{[]string{"keys", "generate"}, "--out DIR is required"},
		{[]string{"keys", "generate", "--out", t.TempDir(), "--alg", "rsa"}, "use ed25519 or ecdsa-p256"},
	} {
		if code, _, stderr := runAttestCLI(tc.args...); code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, want 2 and %q on stderr:\n%s", tc.args, code, tc.want, stderr)
		}
	}
	for _, args := range [][]string{{"verify", "-h"}, {"keys", "-h"}, {"keys", "generate", "-h"}} {
		if code, out, _ := runAttestCLI(args...); code != exitPassed || !strings.Contains(out, "usage") {
			t.Errorf("%q: exit %d, stdout %q", args, code, out)
		}
	}
	if _, out, _ := runAttestCLI("help"); !strings.Contains(out, "conformance verify --key PUB DIR") || !strings.Contains(out, "conformance keys generate") {
		t.Error("the usage does not list keys and verify")
	}
}
