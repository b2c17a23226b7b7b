package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	ita "github.com/in-toto/attestation/go/v1"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/konform/konform/report"
)

// Result is what a verified attestation asserts, for printing.
type Result struct {
	Product        string
	ProductVersion string
	Vendor         string
	Verdict        string
	RunID          string
	// StartedAt and FinishedAt are RFC 3339 (UTC); FinishedAt is the run's date.
	StartedAt  string
	FinishedAt string
	SUT        SUT
	// KeyID is the signing key's ID (hex SHA-256 of its PKIX DER).
	KeyID string
	// PredicateDigest is Predicate.Digest() of the signed predicate: the digest the certificate
	// prints.
	PredicateDigest string
	// Files is the number of files the statement lists, all verified when the error is nil.
	Files int
	// Checks is the number of checks the predicate lists.
	Checks    int
	Predicate Predicate
}

// Verify verifies the attestation of the report folder dir with the public key in pubKeyPEM
// (PKIX PEM, Ed25519 or ECDSA P-256): the envelope's signature, the statement and its predicate
// type, every file's digest (no file changed, missing or added), each check's evidence digest
// against ginkgo-report.json, and that summary.json says what the predicate says. A nil error
// means all of it holds. Once the signature holds, the Result describes the signed predicate
// even when the error lists the folder's discrepancies (one line each).
func Verify(dir string, pubKeyPEM []byte) (Result, error) {
	var res Result
	pub, err := ParsePublicKey(pubKeyPEM)
	if err != nil {
		return res, fmt.Errorf("the public key: %w", err)
	}
	sv, err := newSignerVerifier(nil, pub)
	if err != nil {
		return res, fmt.Errorf("the public key: %w", err)
	}
	res.KeyID = sv.keyID

	b, err := os.ReadFile(filepath.Join(dir, AttestationFile))
	if errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("%s does not exist: the run was not signed, or this is not its report folder", filepath.Join(dir, AttestationFile))
	}
	if err != nil {
		return res, fmt.Errorf("reading the attestation: %w", err)
	}
	payload, err := openEnvelope(b, sv)
	if err != nil {
		return res, err
	}

	st := &ita.Statement{}
	if err := protojson.Unmarshal(payload, st); err != nil {
		return res, fmt.Errorf("%s: the signed payload is not an in-toto statement: %w", AttestationFile, err)
	}
	if st.GetType() != ita.StatementTypeUri {
		return res, fmt.Errorf("%s: the statement's type is %q, not %q", AttestationFile, st.GetType(), ita.StatementTypeUri)
	}
	if err := st.Validate(); err != nil {
		return res, fmt.Errorf("%s: the statement is not valid: %w", AttestationFile, err)
	}
	if st.GetPredicateType() != PredicateType {
		return res, fmt.Errorf("%s: the predicate type is %q, not a Konform run's (%s)", AttestationFile, st.GetPredicateType(), PredicateType)
	}
	predJSON, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return res, fmt.Errorf("%s: reading the predicate: %w", AttestationFile, err)
	}
	var p Predicate
	dec := json.NewDecoder(bytes.NewReader(predJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return res, fmt.Errorf("%s: the predicate is not a Konform run's: %w", AttestationFile, err)
	}
	res = Result{
		Product: p.Product, ProductVersion: p.ProductVersion, Vendor: p.Vendor, Verdict: p.Verdict,
		RunID: p.RunID, StartedAt: p.StartedAt, FinishedAt: p.FinishedAt, SUT: p.SUT, KeyID: sv.keyID,
		Checks: len(p.Checks), Predicate: p,
	}
	if res.PredicateDigest, err = p.Digest(); err != nil {
		return res, fmt.Errorf("%s: %w", AttestationFile, err)
	}

	subjects := st.GetSubject()
	if p.SUT.Subject != "" {
		if err := checkSUTSubject(p.SUT, subjects[0]); err != nil {
			return res, err
		}
		subjects = subjects[1:]
	}
	listed, err := fileSubjects(subjects)
	if err != nil {
		return res, err
	}
	res.Files = len(listed)

	var problems []error
	problems = append(problems, checkFiles(dir, listed)...)
	problems = append(problems, checkEvidence(dir, p)...)
	problems = append(problems, checkSummary(dir, p)...)
	return res, errors.Join(problems...)
}

// VerifyWithKeyFile is Verify with the public key in a PEM file.
func VerifyWithKeyFile(dir, pubKeyPath string) (Result, error) {
	b, err := os.ReadFile(pubKeyPath)
	if err != nil {
		return Result{}, fmt.Errorf("reading the public key: %w", err)
	}
	return Verify(dir, b)
}

// openEnvelope reads the attestation — exactly one line holding a DSSE envelope, nothing else,
// its member names letter for letter, its payload and signatures in canonical standard base64,
// so that no byte of it can change without changing what is verified — and returns its payload
// once a signature verifies with sv.
func openEnvelope(b []byte, sv *signerVerifier) ([]byte, error) {
	line, ok := bytes.CutSuffix(b, []byte("\n"))
	if !ok || bytes.ContainsAny(line, "\r\n") {
		return nil, fmt.Errorf("%s: not one line ending in a newline", AttestationFile)
	}
	var env dsse.Envelope
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("%s: not a DSSE envelope: %w", AttestationFile, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: text after the DSSE envelope", AttestationFile)
	}
	if err := exactKeys(line); err != nil {
		return nil, fmt.Errorf("%s: not a DSSE envelope: %w", AttestationFile, err)
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("%s: the payload type is %q, not %q", AttestationFile, env.PayloadType, PayloadType)
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%s: the envelope holds no signature", AttestationFile)
	}
	strict := base64.StdEncoding.Strict()
	if _, err := strict.DecodeString(env.Payload); err != nil {
		return nil, fmt.Errorf("%s: the payload is not canonical base64: %w", AttestationFile, err)
	}
	for _, s := range env.Signatures {
		if _, err := strict.DecodeString(s.Sig); err != nil {
			return nil, fmt.Errorf("%s: a signature is not canonical base64: %w", AttestationFile, err)
		}
	}
	ev, err := dsse.NewEnvelopeVerifier(sv)
	if err != nil {
		return nil, err
	}
	_, payload, err := ev.VerifyAndDecode(context.Background(), &env)
	if err != nil {
		var ids []string
		for _, s := range env.Signatures {
			ids = append(ids, s.KeyID)
		}
		return nil, fmt.Errorf("%s: the signature is not valid for the public key (key ID %s); the envelope names key ID %s: the attestation was changed or signed with another key", AttestationFile, sv.keyID, strings.Join(ids, ", "))
	}
	return payload, nil
}

// exactKeys checks the envelope's member names letter for letter (encoding/json matches them
// regardless of case).
func exactKeys(line []byte) error {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(line, &env); err != nil {
		return err
	}
	if err := keysAre(env, "payloadType", "payload", "signatures"); err != nil {
		return err
	}
	var sigs []map[string]json.RawMessage
	if err := json.Unmarshal(env["signatures"], &sigs); err != nil {
		return err
	}
	for _, s := range sigs {
		if err := keysAre(s, "keyid", "sig"); err != nil {
			return err
		}
	}
	return nil
}

func keysAre(m map[string]json.RawMessage, names ...string) error {
	for _, n := range names {
		if _, ok := m[n]; !ok {
			return fmt.Errorf("no member %q", n)
		}
	}
	if len(m) != len(names) {
		return fmt.Errorf("members other than %s", strings.Join(names, ", "))
	}
	return nil
}

func checkSUTSubject(sut SUT, rd *ita.ResourceDescriptor) error {
	_, h, ok := sutDigest(sut.Digest)
	if !ok {
		return fmt.Errorf("%s: the predicate's SUT digest %q is not sha256:<hex>", AttestationFile, sut.Digest)
	}
	if rd.GetName() != sut.Subject || len(rd.GetDigest()) != 1 || rd.GetDigest()["sha256"] != h {
		return fmt.Errorf("%s: the statement's first subject (%s %v) is not the SUT the predicate names (%s sha256:%s)", AttestationFile, rd.GetName(), rd.GetDigest(), sut.Subject, h)
	}
	return nil
}

// fileSubjects maps each file subject's path to its SHA-256 (hex).
func fileSubjects(subjects []*ita.ResourceDescriptor) (map[string]string, error) {
	out := map[string]string{}
	for _, rd := range subjects {
		name := rd.GetName()
		h, ok := rd.GetDigest()["sha256"]
		switch {
		case !ok || len(rd.GetDigest()) != 1:
			return nil, fmt.Errorf("%s: the subject %q has no SHA-256 digest of its own", AttestationFile, name)
		case name == "" || name == AttestationFile || !filepath.IsLocal(filepath.FromSlash(name)) || path.Clean(name) != name || strings.Contains(name, `\`):
			return nil, fmt.Errorf("%s: the subject %q is not a file of the report folder", AttestationFile, name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s: the file %s is listed twice", AttestationFile, name)
		}
		out[name] = h
	}
	return out, nil
}

// checkFiles compares the folder's files with the listed ones.
func checkFiles(dir string, listed map[string]string) []error {
	files, err := digestFiles(dir)
	if err != nil {
		return []error{err}
	}
	var problems []error
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.Path] = true
		want, ok := listed[f.Path]
		switch {
		case !ok:
			problems = append(problems, fmt.Errorf("%s: the file was added after signing (the attestation does not list it)", f.Path))
		case want != f.SHA256:
			problems = append(problems, fmt.Errorf("%s: the file changed after signing (sha256 %s, signed %s)", f.Path, f.SHA256, want))
		}
	}
	var missing []string
	for name := range listed {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		problems = append(problems, fmt.Errorf("%s: the file is missing (the attestation lists it)", name))
	}
	return problems
}

// checkEvidence recomputes each check's evidence digest from ginkgo-report.json.
func checkEvidence(dir string, p Predicate) []error {
	file := filepath.Join(dir, report.JSONFile)
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		var problems []error
		for _, c := range p.Checks {
			if c.EvidenceSHA256 != "" {
				problems = append(problems, fmt.Errorf("%s: its evidence (%s) cannot be checked: %s is missing", c.ID, report.JSONFile, report.JSONFile))
			}
		}
		return problems
	}
	if err != nil {
		return []error{fmt.Errorf("%s: %w", report.JSONFile, err)}
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return []error{fmt.Errorf("%s: not Ginkgo's JSON report, so no check's evidence can be checked: %v", report.JSONFile, err)}
	}
	got := map[string]string{}
	for _, r := range reports {
		for _, sr := range r.SpecReports {
			if sr.LeafNodeType != types.NodeTypeIt || sr.NumAttempts == 0 {
				continue
			}
			id := report.TestID(sr.Labels())
			if d := report.EvidenceDigest(sr); d != "" || got[id] == "" {
				got[id] = d
			}
		}
	}
	var problems []error
	listed := map[string]bool{}
	for _, c := range p.Checks {
		listed[c.ID] = true
		if d := got[c.ID]; d != c.EvidenceSHA256 {
			switch {
			case c.EvidenceSHA256 == "":
				problems = append(problems, fmt.Errorf("%s: %s holds evidence for this check, the attestation none", c.ID, report.JSONFile))
			case d == "":
				problems = append(problems, fmt.Errorf("%s: %s holds no evidence for this check, the attestation signed evidence sha256 %s", c.ID, report.JSONFile, c.EvidenceSHA256))
			default:
				problems = append(problems, fmt.Errorf("%s: the check's evidence in %s has sha256 %s, the attestation signed %s", c.ID, report.JSONFile, d, c.EvidenceSHA256))
			}
		}
	}
	var extra []string
	for id, d := range got {
		if !listed[id] && d != "" {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	for _, id := range extra {
		problems = append(problems, fmt.Errorf("%s: %s holds evidence for this check, which the attestation does not list", id, report.JSONFile))
	}
	return problems
}

// checkSummary compares summary.json with the signed predicate, field by field.
func checkSummary(dir string, p Predicate) []error {
	s, err := report.ReadSummary(filepath.Join(dir, report.SummaryFile))
	if errors.Is(err, fs.ErrNotExist) {
		return []error{fmt.Errorf("%s: missing, so the verdict cannot be compared with the attestation", report.SummaryFile)}
	}
	if err != nil {
		return []error{fmt.Errorf("%s: not readable as a summary, so the verdict cannot be compared with the attestation: %v", report.SummaryFile, err)}
	}
	var problems []error
	if s.Verdict != p.Verdict {
		problems = append(problems, fmt.Errorf("%s: its verdict is %q, the attestation's %q", report.SummaryFile, s.Verdict, p.Verdict))
	}
	if s.Meta.RunID != p.RunID {
		problems = append(problems, fmt.Errorf("%s: its run ID is %q, the attestation's %q", report.SummaryFile, s.Meta.RunID, p.RunID))
	}
	want, err1 := p.fields()
	have, err2 := NewPredicate(s).fields()
	if err := errors.Join(err1, err2); err != nil {
		return append(problems, fmt.Errorf("%s: %w", report.SummaryFile, err))
	}
	var differ []string
	for k, v := range want {
		if k != "verdict" && k != "runId" && !bytes.Equal(v, have[k]) {
			differ = append(differ, k)
		}
	}
	sort.Strings(differ)
	if len(differ) > 0 {
		problems = append(problems, fmt.Errorf("%s: it disagrees with the attestation on %s", report.SummaryFile, strings.Join(differ, ", ")))
	}
	return problems
}
