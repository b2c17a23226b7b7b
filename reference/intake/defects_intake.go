package intake

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/fields"
	"github.com/konform/konform/reference/fitconnect"
	"github.com/konform/konform/reference/store"
)

// This file holds the defective variants of the intake's steps. The clean path names its
// verification steps and calls its swappable steps through the Processor; which defect drops a
// step or swaps in a variant is decided here only.

// Steps of the clean path a defect can drop.
const (
	stepAuthTags            = "authentication tags against submit-submission"
	stepMetadataVersion     = "metadata version"
	stepMetadataSchema      = "metadata against its JSON schema"
	stepServiceServed       = "service served by the destination"
	stepAttachmentSet       = "attachment set of metadata and submission"
	stepDataHash            = "data hash"
	stepAttachmentHash      = "attachment hash"
	stepMissingAttachments  = "attachments of the metadata missing in the submission"
	stepUnlistedAttachments = "attachments of the submission missing in the metadata"
	stepSchemaSupported     = "submission schema announced by the destination"
	stepDataSchema          = "data against its submission schema (well-formed, root, XSD)"
	stepDataXSD             = "data against the XSD of its submission schema"
	stepEventLogSignatures  = "signatures of the delivery service's SETs"
	stepRedeliveryIndex     = "idempotency index of decided submissions"
	stepDestinationFilter   = "own destination only"
	stepFollowPages         = "every page of the submission list"
	stepNoCaseForRejected   = "no case for a rejected submission"
)

// stepDefects names, per step, the defects that drop it.
var stepDefects = map[string][]string{
	stepAuthTags:            {"skip-authentication-tag-check"},
	stepMetadataVersion:     {"accept-any-metadata-version"},
	stepMetadataSchema:      {"skip-metadata-schema-check"},
	stepServiceServed:       {"accept-unsupported-service"},
	stepAttachmentSet:       {"skip-attachment-consistency-check"},
	stepDataHash:            {"skip-data-hash-check", "skip-hash-check"},
	stepAttachmentHash:      {"skip-attachment-hash-check", "skip-hash-check"},
	stepMissingAttachments:  {"ignore-missing-attachment"},
	stepUnlistedAttachments: {"accept-unlisted-attachment"},
	stepSchemaSupported:     {"accept-unsupported-schema"},
	stepDataSchema:          {"skip-data-schema-check"},
	stepDataXSD:             {"skip-data-xsd-validation"},
	stepEventLogSignatures:  {"trust-forged-events"},
	stepRedeliveryIndex:     {"no-dedupe-on-redelivery"},
	stepDestinationFilter:   {"poll-foreign-destination"},
	stepFollowPages:         {"first-page-only"},
	stepNoCaseForRejected:   {"store-rejected-as-case"},
}

// skipped reports whether a defect switched on drops the step.
func (p *Processor) skipped(step string) bool {
	for _, name := range stepDefects[step] {
		if p.cfg.Defects.On(name) {
			return true
		}
	}
	return false
}

// withDefectVariants swaps in the defective variants of the steps whose defects are on.
func withDefectVariants(p *Processor) {
	d := p.cfg.Defects
	if d.On("accept-wrong-authentication-tags") {
		p.acceptTags = func(t fitconnect.AuthenticationTags) fitconnect.AuthenticationTags {
			t.Metadata, t.Data = t.Data, t.Metadata
			return t
		}
	}
	if d.On("reject-wrong-problem-type") {
		p.rejectProblems = func(problems []store.Problem) []store.Problem {
			for i := range problems {
				problems[i].Type = fitconnect.ProblemPrefix + ProblemTechnicalError
				problems[i].Title = problemTitles[ProblemTechnicalError]
				problems[i].Instance = "submission"
			}
			return problems
		}
	}
	if d.On("dedupe-by-message-uuid") {
		p.opensCase = func(sub store.Submission) (bool, error) {
			seen, err := p.seenMessage(sub)
			return !seen, err
		}
	}
	if d.On("store-pdf-only") {
		p.storedFields = func(map[string]string) map[string]string { return nil }
	}
	keeps := p.keepsAttachment
	p.keepsAttachment = func(i int, a plainAttachment) bool {
		switch {
		case d.On("store-pdf-only") && a.mimeType != "application/pdf",
			d.On("lose-attachments-after-10") && i >= 10,
			d.On("lose-large-attachment") && a.size > 32<<20,
			dropsAttachment(d, a):
			return false
		}
		return keeps(i, a)
	}
	p.storedName = func(name string) string { return storedFilename(name, d) }
	if d.On("page-by-limit") {
		p.list = p.listByLimit
	}
	if d.On("skip-gcm-tag-check") {
		p.openData = p.decryptDataUnauthenticated
	}
	if d.On("unwrap-failure-as-technical-error") {
		p.openData = p.decryptDataUnwrapAsTechnical
	}
	if d.On("orphan-case-on-reject") {
		p.save = p.saveOrphanCase
	}
	if d.On("syntax-as-schema-violation") {
		p.dataSyntax = ProblemSchemaViolation
	}
	if d.On("xsd-by-root-element") {
		p.validData = p.validByRoot
	}
	if d.On("data-hash-mismatch-as-submission") {
		p.dataHashInstance = "submission"
	}
	if d.On("forget-decision-on-dropped-post") {
		p.postFailed = p.forgetOnDroppedPost
	}
}

// forgetOnDroppedPost (forget-decision-on-dropped-post) takes a decision post that got no HTTP
// answer for a transaction that never happened and clears the submission's processed mark: the
// case it filed stays, and the submission, listed again, is processed as a new one.
func (p *Processor) forgetOnDroppedPost(sub store.Submission, err error) error {
	var answered *fitconnect.APIError
	if errors.As(err, &answered) {
		return err
	}
	if ferr := p.store.Forget(sub.SubmissionID); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

// byLimitPageSize is the page size the page-by-limit variant asks for.
const byLimitPageSize = 3

// listByLimit (page-by-limit) asks for pages of byLimitPageSize and steps the offset by that
// limit, not by the count the server answered: a server that caps pages smaller makes it skip
// the submissions in between.
func (p *Processor) listByLimit(ctx context.Context, filter string) ([]fitconnect.SubmissionRef, error) {
	var refs []fitconnect.SubmissionRef
	for offset := 0; ; offset += byLimitPageSize {
		page, err := p.client.ListSubmissions(ctx, filter, offset, byLimitPageSize)
		if err != nil {
			return nil, fmt.Errorf("list submissions: %w", err)
		}
		refs = append(refs, page.Submissions...)
		if len(page.Submissions) == 0 || offset+byLimitPageSize >= page.TotalCount {
			return refs, nil
		}
	}
}

// validByRoot (xsd-by-root-element) validates XML data against the XSD of the schema whose root
// element the data has, not of the one the metadata declares; data with a root no schema of
// the reference has passes unchecked.
func (p *Processor) validByRoot(_ DataSchema, root fields.Root, raw []byte, v *verified) bool {
	for _, ds := range DataSchemas {
		if ds.RootLocal == root.Local && ds.RootSpace == root.Space {
			return p.validXML(ds, raw, v)
		}
	}
	return true
}

// jweParts unwraps the content key of a compact RSA-OAEP-256/A256GCM JWE.
func (p *Processor) jweParts(jwe string) (parts []string, cek []byte, err error) {
	parts = strings.Split(strings.TrimSpace(jwe), ".")
	if len(parts) != 5 {
		return nil, nil, fmt.Errorf("JWE has %d segments", len(parts))
	}
	priv, ok := p.cfg.DecryptionKey.Key.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("decryption key is not an RSA private key")
	}
	ek, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, err
	}
	cek, err = rsa.DecryptOAEP(sha256.New(), nil, priv, ek, nil)
	return parts, cek, err
}

// decryptDataUnauthenticated (skip-gcm-tag-check) decrypts the data's A256GCM content as plain
// counter mode and never looks at the authentication tag: altered ciphertext comes out as
// altered plaintext instead of an encryption-issue.
func (p *Processor) decryptDataUnauthenticated(jwe string, v *verified) ([]byte, bool) {
	parts, cek, err := p.jweParts(jwe)
	var iv, ct []byte
	if err == nil {
		iv, err = base64.RawURLEncoding.DecodeString(parts[2])
	}
	if err == nil {
		ct, err = base64.RawURLEncoding.DecodeString(parts[3])
	}
	var block cipher.Block
	if err == nil {
		block, err = aes.NewCipher(cek)
	}
	if err == nil && len(iv) != 12 {
		err = fmt.Errorf("IV of %d bytes", len(iv))
	}
	if err != nil {
		v.add(ProblemEncryptionIssue, "data", err.Error())
		return nil, false
	}
	ctr := append(append([]byte{}, iv...), 0, 0, 0, 2) // GCM: the first counter block after J0
	plain := make([]byte, len(ct))
	cipher.NewCTR(block, ctr).XORKeyStream(plain, ct)
	return plain, true
}

// decryptDataUnwrapAsTechnical (unwrap-failure-as-technical-error) reports data whose content
// key does not unwrap with the destination's key as a technical error of its own.
func (p *Processor) decryptDataUnwrapAsTechnical(jwe string, v *verified) ([]byte, bool) {
	if _, _, err := p.jweParts(jwe); err != nil {
		v.add(ProblemTechnicalError, "data", "content key not readable: "+err.Error())
		return nil, false
	}
	return p.decryptData(jwe, v)
}

// saveOrphanCase (orphan-case-on-reject) files a case for a rejected submission as well, but
// keeps the submission's own record free of it: the record says rejected without case while
// the case list holds one for it.
func (p *Processor) saveOrphanCase(sub store.Submission, createCase bool) (store.Submission, error) {
	if createCase || sub.Decision != contract.StatusRejected {
		return p.store.Save(sub, createCase)
	}
	if _, err := p.store.Save(sub, true); err != nil {
		return sub, err
	}
	return p.store.Save(sub, false)
}

// FetchAnnounced (callback-fetch-named-submissions) fetches every submission a valid
// new-submissions callback names, before checking that it belongs to the destination, and then
// polls. The clean reference only polls its own destination's list on a callback.
func (p *Processor) FetchAnnounced(ctx context.Context, body []byte) {
	var cb struct {
		Submissions []fitconnect.SubmissionRef `json:"submissions"`
	}
	if err := json.Unmarshal(body, &cb); err == nil {
		for _, ref := range cb.Submissions {
			fs, err := p.client.Submission(ctx, ref.SubmissionID)
			if err != nil {
				p.log.Warn("announced submission not fetched", "submissionId", ref.SubmissionID, "error", err.Error())
				continue
			}
			if fs.DestinationID != p.cfg.DestinationID {
				p.log.Warn("announced submission of another destination ignored", "submissionId", fs.SubmissionID)
			}
		}
	}
	p.Trigger()
}

func mapperOptions(d defects.Set) []fields.Option {
	var o []fields.Option
	if d.On("drop-optional-element") {
		o = append(o, fields.WithoutSuffixElements())
	}
	if d.On("unicode-normalize") {
		o = append(o, fields.WithNFC())
	}
	if d.On("latin1-roundtrip") {
		o = append(o, fields.WithLatin1Column())
	}
	if d.On("truncate-long-text") {
		o = append(o, fields.WithMaxLength(255))
	}
	if d.On("first-applicant-only") {
		o = append(o, fields.WithSingle("antragsteller"))
	}
	o = append(o, ingestDefectOptions(d)...)
	return append(o, unicodeDefectOptions(d)...)
}

// seenMessage reports whether a case already holds a submission with the same XBau
// nachrichtenUUID (the dedupe-by-message-uuid defect keys idempotency on it).
func (p *Processor) seenMessage(sub store.Submission) (bool, error) {
	uuid := messageUUID(sub.Fields)
	if uuid == "" {
		return false, nil
	}
	cases, err := p.store.Cases()
	if err != nil {
		return false, err
	}
	for _, c := range cases {
		if c.SubmissionID == sub.SubmissionID {
			continue
		}
		other, err := p.store.Get(c.SubmissionID)
		if err != nil {
			return false, err
		}
		if messageUUID(other.Fields) == uuid {
			return true, nil
		}
	}
	return false, nil
}

func messageUUID(fields map[string]string) string {
	for k, v := range fields {
		if strings.HasSuffix(k, "/identifikation.nachricht/nachrichtenUUID") {
			return v
		}
	}
	return ""
}
