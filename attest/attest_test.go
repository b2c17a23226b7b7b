package attest

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ita "github.com/in-toto/attestation/go/v1"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/konform/konform/report"
)

const (
	imageDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	checkID     = "SM-PRB-010"
)

// evidence is what a check attaches: the exchanges the mocks recorded while it ran.
type evidence struct {
	Exchanges []map[string]any `json:"exchanges"`
}

// folder writes a synthetic report folder as a run leaves it and returns its summary: a passed
// check with evidence, an unrun one without.
func folder(t *testing.T, binding string) (string, report.Summary) {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.FixedZone("CET", 3600))
	sr := types.SpecReport{
		LeafNodeType:   types.NodeTypeIt,
		LeafNodeText:   checkID + " the SUT answers the probe",
		LeafNodeLabels: []string{checkID, "smoke"},
		State:          types.SpecStatePassed,
		NumAttempts:    1,
		StartTime:      start,
		EndTime:        start.Add(2 * time.Second),
		RunTime:        2 * time.Second,
		ReportEntries: types.ReportEntries{{
			Name:  report.EntryEvidence,
			Value: types.WrapEntryValue(evidence{Exchanges: []map[string]any{{"method": "GET", "path": "/konform/v1/info", "status": 200}}}),
		}},
	}
	r := types.Report{SuiteDescription: "Konform conformance", SuiteSucceeded: true, StartTime: start, EndTime: start.Add(time.Minute), SpecReports: types.SpecReports{sr}}
	js := filepath.Join(dir, report.JSONFile)
	if err := reporters.GenerateJSONReport(r, js); err != nil {
		t.Fatal(err)
	}
	// The evidence digest as the JSON report holds it.
	var back []types.Report
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	ev := report.EvidenceDigest(back[0].SpecReports[0])
	if ev == "" {
		t.Fatal("the synthetic spec has no evidence")
	}
	meta := report.Meta{
		RunID: "5b0f4a47-0d7c-4f0e-9a4c-1f2d3e4a5b6c", KitVersion: "0.1.0", KitRevision: "da6b7d6", ContractVersion: "1.0",
		Runtime: "docker", SUT: "image example.org/fachverfahren:1.2", Profiles: []string{"smoke"},
		StartedAt: start, FinishedAt: start.Add(time.Minute),
		Product: "Beispielverfahren", ProductVersion: "1.2.0", Vendor: "Beispiel GmbH",
		SUTBinding: binding, SUTImage: "example.org/fachverfahren:1.2", SUTDigest: imageDigest,
		Standards: []report.Standard{{Name: "FIT-Connect", Version: "1"}},
		Inputs: &report.Inputs{Catalogue: "sha256:" + strings.Repeat("a", 64), Fixtures: "sha256:" + strings.Repeat("b", 64),
			Schemas: []report.FileDigest{{Path: "xoev/xfinanz.xsd", SHA256: strings.Repeat("c", 64)}}},
		Certify: true,
	}
	if binding == BindingSelfDeclared {
		meta.SUT, meta.SUTImage, meta.SUTDigest = "url http://localhost:8080", "", ""
	}
	s := report.Summary{
		Meta:    meta,
		Verdict: report.Incomplete,
		Must:    report.Counts{Passed: 1, NotRun: 1},
		Verdicts: []report.Verdict{
			{ID: checkID, Level: "MUST", Title: "probe", Verdict: report.Passed, Seconds: 2, EvidenceSHA256: ev},
			{ID: "SM-TOK-020", Level: "MUST", Title: "token", Verdict: report.NotRun, Reason: "the run ended before this check ran"},
		},
	}
	if err := report.WriteSummary(filepath.Join(dir, report.SummaryFile), s); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, report.JUnitFile), `<?xml version="1.0" encoding="UTF-8"?>`+"\n<testsuites tests=\"2\"></testsuites>\n")
	write(t, filepath.Join(dir, "logs", "sut.log"), "listening on :8080\nready\n")
	return dir, s
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// keys generates a key pair of alg and returns the private key and the public key's PEM.
func keys(t *testing.T, alg string) (crypto.Signer, []byte) {
	t.Helper()
	priv, pub, err := GenerateKeys(t.TempDir(), alg)
	if err != nil {
		t.Fatal(err)
	}
	k, err := LoadPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k, pubPEM
}

// signed is a signed synthetic folder.
func signed(t *testing.T, alg string) (dir string, s report.Summary, key crypto.Signer, pub []byte) {
	t.Helper()
	dir, s = folder(t, BindingImage)
	key, pub = keys(t, alg)
	if err := Sign(dir, NewPredicate(s), key); err != nil {
		t.Fatal(err)
	}
	return dir, s, key, pub
}

// mustFail verifies dir and wants an error naming every one of names.
func mustFail(t *testing.T, dir string, pub []byte, names ...string) {
	t.Helper()
	_, err := Verify(dir, pub)
	if err == nil {
		t.Fatalf("verification passed; want a failure naming %s", strings.Join(names, ", "))
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("the error does not name %q:\n%v", n, err)
		}
	}
}

func envelope(t *testing.T, dir string) dsse.Envelope {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, AttestationFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte("\n")) != 1 || !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatalf("%s is not one line", AttestationFile)
	}
	var env dsse.Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	return env
}

func writeEnvelope(t *testing.T, dir string, env dsse.Envelope) {
	t.Helper()
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, AttestationFile), string(b)+"\n")
}

func TestSignAndVerify(t *testing.T) {
	for _, alg := range []string{Ed25519, ECDSAP256} {
		t.Run(alg, func(t *testing.T) {
			dir, s, key, pub := signed(t, alg)
			res, err := Verify(dir, pub)
			if err != nil {
				t.Fatal(err)
			}
			wantDigest, err := NewPredicate(s).Digest()
			if err != nil {
				t.Fatal(err)
			}
			if res.Product != "Beispielverfahren" || res.ProductVersion != "1.2.0" || res.Vendor != "Beispiel GmbH" ||
				res.Verdict != report.Incomplete || res.RunID != s.Meta.RunID || res.FinishedAt != "2026-03-14T08:27:53Z" ||
				res.SUT.Digest != imageDigest || res.SUT.Binding != BindingImage || res.Files != 4 || res.Checks != 2 ||
				res.PredicateDigest != wantDigest || !strings.HasPrefix(wantDigest, "sha256:") {
				t.Errorf("result: %+v\nwant predicate digest %s", res, wantDigest)
			}

			env := envelope(t, dir)
			keyID, _ := KeyID(key.Public())
			if env.PayloadType != PayloadType || len(env.Signatures) != 1 || env.Signatures[0].KeyID != keyID || res.KeyID != keyID {
				t.Errorf("envelope: type %q, signatures %+v, want one by key ID %s", env.PayloadType, env.Signatures, keyID)
			}
			payload, _ := base64.StdEncoding.DecodeString(env.Payload)
			st := &ita.Statement{}
			if err := protojson.Unmarshal(payload, st); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, sub := range st.GetSubject() {
				names = append(names, sub.GetName()+" "+sub.GetDigest()["sha256"][:8])
			}
			want := []string{"example.org/fachverfahren:1.2 01234567", "ginkgo-report.json", "junit.xml", "logs/sut.log", "summary.json"}
			if len(names) != len(want) {
				t.Fatalf("subjects %q, want %q", names, want)
			}
			for i := range want {
				if !strings.HasPrefix(names[i], want[i]) {
					t.Errorf("subject %d is %q, want %q", i, names[i], want[i])
				}
			}
			if st.GetType() != ita.StatementTypeUri || st.GetPredicateType() != PredicateType {
				t.Errorf("statement type %q, predicate type %q", st.GetType(), st.GetPredicateType())
			}
		})
	}
}

func TestPredicate(t *testing.T) {
	_, s := folder(t, BindingImage)
	p := NewPredicate(s)
	if p.StartedAt != "2026-03-14T08:26:53Z" || p.Kit.Revision != "da6b7d6" || p.Inputs.Schemas[0].Path != "xoev/xfinanz.xsd" ||
		!p.Certify || p.SUT.Subject != "example.org/fachverfahren:1.2" || len(p.Checks) != 2 || p.Checks[0].EvidenceSHA256 == "" {
		t.Errorf("predicate: %+v", p)
	}
	canon, err := p.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(canon, []byte("\n")) || !bytes.HasPrefix(canon, []byte(`{"certify":true,"checks":[{"evidenceSha256":"`)) {
		t.Errorf("not canonical JSON (sorted keys, no white space): %s", canon)
	}
	d1, _ := p.Digest()
	p.Verdict = report.Passed
	if d2, _ := p.Digest(); d1 == d2 {
		t.Error("the digest does not change with the verdict")
	}

	_, s = folder(t, BindingSelfDeclared)
	p = NewPredicate(s)
	if p.SUT.Subject != "" || !strings.Contains(p.SUT.SubjectNote, "self-declared") {
		t.Errorf("self-declared SUT: %+v", p.SUT)
	}
}

func TestSelfDeclaredSUTHasNoSubject(t *testing.T) {
	dir, s := folder(t, BindingSelfDeclared)
	key, pub := keys(t, Ed25519)
	if err := Sign(dir, NewPredicate(s), key); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(dir, pub)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 4 || res.SUT.Digest != "" || res.SUT.Subject != "" {
		t.Errorf("result: %+v", res)
	}
	payload, _ := base64.StdEncoding.DecodeString(envelope(t, dir).Payload)
	st := &ita.Statement{}
	if err := protojson.Unmarshal(payload, st); err != nil {
		t.Fatal(err)
	}
	if len(st.GetSubject()) != 4 || st.GetSubject()[0].GetName() != report.JSONFile {
		t.Errorf("subjects of a self-declared SUT's statement: %v", st.GetSubject())
	}
}

// Every file of the folder is bound: one flipped byte anywhere fails, naming the file.
func TestAChangedByteInAnyFileFails(t *testing.T) {
	dir, _, _, pub := signed(t, Ed25519)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Fatalf("files %q, want the four reports and the attestation", files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(f))
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { write(t, path, string(orig)) })
			for _, at := range []int{0, len(orig) / 2, len(orig) - 1} {
				changed := bytes.Clone(orig)
				changed[at] ^= 0x01
				write(t, path, string(changed))
				mustFail(t, dir, pub, f)
			}
		})
	}
	if _, err := Verify(dir, pub); err != nil {
		t.Fatalf("restored folder: %v", err)
	}
}

// No byte of the attestation can change without failing verification (in memory: the folder's
// files are checked above).
func TestEveryByteOfTheAttestationIsBound(t *testing.T) {
	dir, _, key, _ := signed(t, Ed25519)
	orig, err := os.ReadFile(filepath.Join(dir, AttestationFile))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := newSignerVerifier(nil, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openEnvelope(orig, sv); err != nil {
		t.Fatal(err)
	}
	for i := range orig {
		for _, flip := range []byte{0x01, 0x20} { // a bit, and a letter's case
			if flip == 0x20 && !('a' <= orig[i]|0x20 && orig[i]|0x20 <= 'z') {
				continue
			}
			changed := bytes.Clone(orig)
			changed[i] ^= flip
			if _, err := openEnvelope(changed, sv); err == nil {
				t.Errorf("byte %d (%q → %q) changed and the attestation still verifies", i, orig[i], changed[i])
			}
		}
	}
}

func TestAChangedPayloadOrSignatureFails(t *testing.T) {
	for _, alg := range []string{Ed25519, ECDSAP256} {
		t.Run(alg, func(t *testing.T) {
			dir, _, _, pub := signed(t, alg)
			orig := envelope(t, dir)

			env := orig
			payload, _ := base64.StdEncoding.DecodeString(env.Payload)
			payload[len(payload)/2] ^= 0x01
			env.Payload = base64.StdEncoding.EncodeToString(payload)
			writeEnvelope(t, dir, env)
			mustFail(t, dir, pub, AttestationFile, "signature is not valid")

			env = orig
			sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
			sig[len(sig)/2] ^= 0x01
			env.Signatures = []dsse.Signature{{KeyID: orig.Signatures[0].KeyID, Sig: base64.StdEncoding.EncodeToString(sig)}}
			writeEnvelope(t, dir, env)
			mustFail(t, dir, pub, AttestationFile, "signature is not valid")

			writeEnvelope(t, dir, orig)
			if _, err := Verify(dir, pub); err != nil {
				t.Fatalf("restored envelope: %v", err)
			}
		})
	}
}

func TestAWrongKeyFails(t *testing.T) {
	dir, _, _, _ := signed(t, Ed25519)
	for _, alg := range []string{Ed25519, ECDSAP256} {
		_, other := keys(t, alg)
		mustFail(t, dir, other, "signature is not valid", "another key")
	}
	if _, err := Verify(dir, []byte("not a key")); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Errorf("a file that is no key: %v", err)
	}
}

func TestADeletedOrAddedFileFails(t *testing.T) {
	dir, _, _, pub := signed(t, ECDSAP256)
	if err := os.Remove(filepath.Join(dir, "logs", "sut.log")); err != nil {
		t.Fatal(err)
	}
	mustFail(t, dir, pub, "logs/sut.log: the file is missing")

	dir, _, _, pub = signed(t, Ed25519)
	write(t, filepath.Join(dir, "logs", "extra.log"), "later\n")
	mustFail(t, dir, pub, "logs/extra.log: the file was added")

	dir, _, _, pub = signed(t, Ed25519)
	if err := os.Remove(filepath.Join(dir, AttestationFile)); err != nil {
		t.Fatal(err)
	}
	mustFail(t, dir, pub, AttestationFile, "does not exist")
}

// A signed predicate whose evidence digest is not the evidence in ginkgo-report.json fails,
// naming the check; so does one whose verdict is not summary.json's.
func TestPredicateAndReportsMustAgree(t *testing.T) {
	dir, s, key, pub := signed(t, Ed25519)
	js := filepath.Join(dir, report.JSONFile)
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), `\"status\":200`, `\"status\":500`, 1)
	if changed == string(b) {
		t.Fatalf("the evidence entry is not in %s:\n%s", report.JSONFile, b)
	}
	write(t, js, changed)
	mustFail(t, dir, pub, report.JSONFile+": the file changed", checkID+": the check's evidence")

	// Signed again over the changed report, with the predicate of the original run.
	if err := Sign(dir, NewPredicate(s), key); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(dir, pub)
	if err == nil || !strings.HasPrefix(err.Error(), checkID+": the check's evidence") || strings.Contains(err.Error(), "file changed") {
		t.Errorf("want only the check's evidence to fail, got %v", err)
	}

	dir, s, key, pub = signed(t, Ed25519)
	p := NewPredicate(s)
	p.Verdict, p.RunID, p.Vendor = report.Passed, "another run", "Someone Else"
	if err := Sign(dir, p, key); err != nil {
		t.Fatal(err)
	}
	mustFail(t, dir, pub, `summary.json: its verdict is "incomplete", the attestation's "passed"`, "summary.json: its run ID", "disagrees with the attestation on vendor")
}

func TestGenerateKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	priv, pub, err := GenerateKeys(dir, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode: %v %v", fi.Mode(), err)
	}
	for path, head := range map[string]string{priv: "-----BEGIN PRIVATE KEY-----", pub: "-----BEGIN PUBLIC KEY-----"} {
		if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte(head)) {
			t.Errorf("%s does not start with %s", path, head)
		}
	}
	before, _ := os.ReadFile(priv)
	if _, _, err := GenerateKeys(dir, Ed25519); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("generating into a folder with keys: %v", err)
	}
	if after, _ := os.ReadFile(priv); !bytes.Equal(before, after) {
		t.Error("the private key was overwritten")
	}
	if _, _, err := GenerateKeys(t.TempDir(), "rsa"); err == nil {
		t.Error("an RSA key was generated")
	}
	if _, err := ParsePrivateKey([]byte("-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n")); err == nil {
		t.Error("a public key parsed as a private one")
	}
}
