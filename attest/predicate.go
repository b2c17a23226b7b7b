// Package attest signs a run's report folder and verifies it offline: an in-toto Statement v1
// whose subjects are the SUT's image (by its content digest) and every file of the folder, with a
// predicate that says what was tested with what (kit, catalogue, fixtures, schemas), against what
// (product, vendor, SUT digest) and with which outcome (the verdict and every check's verdict and
// evidence digest), in a DSSE envelope signed with an Ed25519 or ECDSA P-256 key
// (attestation.intoto.jsonl).
package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/cjson"

	"github.com/konform/konform/report"
)

// PredicateType names the predicate of a Konform run's attestation.
const PredicateType = "https://github.com/konform/konform/attestation/conformance-run/v1"

// SUT bindings (report.Meta.SUTBinding).
const (
	BindingImage        = "image"
	BindingBinary       = "binary"
	BindingSelfDeclared = "self-declared"
)

// Predicate is what a run's attestation asserts about the run.
type Predicate struct {
	Kit    Kit    `json:"kit"`
	Inputs Inputs `json:"inputs"`
	// Runtime is the runtime the actors ran in (docker or process).
	Runtime     string   `json:"runtime"`
	Profiles    []string `json:"profiles"`
	LabelFilter string   `json:"labelFilter"`
	Certify     bool     `json:"certify"`
	// NotCertifiable says why a --certify run yields no certificate.
	NotCertifiable string            `json:"notCertifiable"`
	Standards      []report.Standard `json:"standards"`

	Product        string `json:"product"`
	ProductVersion string `json:"productVersion"`
	Vendor         string `json:"vendor"`
	SUT            SUT    `json:"sut"`

	RunID string `json:"runId"`
	// StartedAt and FinishedAt are RFC 3339 times in UTC, to the second.
	StartedAt   string `json:"startedAt"`
	FinishedAt  string `json:"finishedAt"`
	Interrupted bool   `json:"interrupted"`
	// Verdict is the run's verdict: passed, failed, incomplete or error.
	Verdict string  `json:"verdict"`
	Checks  []Check `json:"checks"`
}

// Kit is the conformance kit that made the run.
type Kit struct {
	Version         string `json:"version"`
	Revision        string `json:"revision"`
	ContractVersion string `json:"contractVersion"`
}

// Inputs are the digests ("sha256:<hex>") of what the verdicts rest on besides the SUT.
type Inputs struct {
	Catalogue string `json:"catalogue"`
	Fixtures  string `json:"fixtures"`
	// Schemas are the official schema files used, each by its path and SHA-256 (hex).
	Schemas []report.FileDigest `json:"schemas"`
}

// SUT is what the verdict is bound to.
type SUT struct {
	// Description is how the run named the SUT (report.Meta.SUT).
	Description string `json:"description"`
	// Binding is image, binary or self-declared.
	Binding string `json:"binding"`
	Image   string `json:"image"`
	// Digest is "sha256:<hex>" of the image (its ID) or of the binary.
	Digest string `json:"digest"`
	// Subject is the name of the statement's subject that stands for the SUT; "" when the
	// statement has none (SubjectNote says why).
	Subject     string `json:"subject"`
	SubjectNote string `json:"subjectNote"`
}

// Check is one check's outcome.
type Check struct {
	ID      string `json:"id"`
	Level   string `json:"level"`
	Verdict string `json:"verdict"`
	// EvidenceSHA256 is the SHA-256 (hex) of the check's evidence entry in ginkgo-report.json
	// (report.EvidenceDigest); "" when it has none.
	EvidenceSHA256 string `json:"evidenceSha256"`
}

// NewPredicate is the predicate of the run s summarises.
func NewPredicate(s report.Summary) Predicate {
	m := s.Meta
	p := Predicate{
		Kit:            Kit{Version: m.KitVersion, Revision: m.KitRevision, ContractVersion: m.ContractVersion},
		Runtime:        m.Runtime,
		Profiles:       nonNil(m.Profiles),
		LabelFilter:    m.LabelFilter,
		Certify:        m.Certify,
		NotCertifiable: m.NotCertifiable,
		Standards:      nonNil(m.Standards),
		Product:        m.Product,
		ProductVersion: m.ProductVersion,
		Vendor:         m.Vendor,
		SUT:            SUT{Description: m.SUT, Binding: m.SUTBinding, Image: m.SUTImage, Digest: m.SUTDigest},
		RunID:          m.RunID,
		StartedAt:      rfc3339(m.StartedAt),
		FinishedAt:     rfc3339(m.FinishedAt),
		Interrupted:    m.Interrupted,
		Verdict:        s.Verdict,
		Checks:         []Check{},
		Inputs:         Inputs{Schemas: []report.FileDigest{}},
	}
	if in := m.Inputs; in != nil {
		p.Inputs = Inputs{Catalogue: in.Catalogue, Fixtures: in.Fixtures, Schemas: nonNil(in.Schemas)}
	}
	for _, v := range s.Verdicts {
		p.Checks = append(p.Checks, Check{ID: v.ID, Level: v.Level, Verdict: v.Verdict, EvidenceSHA256: v.EvidenceSHA256})
	}
	switch _, h, ok := sutDigest(p.SUT.Digest); {
	case p.SUT.Binding == BindingSelfDeclared:
		p.SUT.SubjectNote = "the SUT was given by URL (self-declared): the verdict is bound to no image or binary, so the statement has no subject for it"
	case !ok || h == "":
		p.SUT.SubjectNote = "the run recorded no SHA-256 digest of the SUT, so the statement has no subject for it"
	default:
		p.SUT.Subject = p.SUT.Image
		if p.SUT.Subject == "" {
			p.SUT.Subject = p.SUT.Description
		}
		if p.SUT.Subject == "" {
			p.SUT.Subject = "sut"
		}
	}
	return p
}

// CanonicalJSON is the predicate as canonical JSON (OLPC: sorted keys, no insignificant
// white space).
func (p Predicate) CanonicalJSON() ([]byte, error) {
	b, err := cjson.EncodeCanonical(p)
	if err != nil {
		return nil, fmt.Errorf("encoding the predicate as canonical JSON: %w", err)
	}
	return b, nil
}

// Digest is "sha256:<hex>" of the predicate's canonical JSON. The certificate prints it; a
// verified attestation's predicate has the same digest (Result.PredicateDigest).
func (p Predicate) Digest() (string, error) {
	b, err := p.CanonicalJSON()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// fields is the predicate as a map of its top-level JSON fields.
func (p Predicate) fields() (map[string]json.RawMessage, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}

// sutDigest splits "sha256:<hex>" into its parts; ok is false for any other form.
func sutDigest(d string) (alg, hexDigest string, ok bool) {
	if d == "" {
		return "", "", false
	}
	const prefix = "sha256:"
	if len(d) != len(prefix)+64 || d[:len(prefix)] != prefix {
		return "", "", false
	}
	if _, err := hex.DecodeString(d[len(prefix):]); err != nil {
		return "", "", false
	}
	return "sha256", d[len(prefix):], true
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
