// Package intake is the receiving side of the reference Fachverfahren: it polls the
// FIT-Connect Submission API for its destination, verifies each submission the way a
// receiver must (event log, decryption, metadata schema, hashes, attachments, service and
// data schema), stores the decision and the case in one transaction and posts
// accept-submission or reject-submission.
//
// Exactly once: the decision is stored (with the signed event) and the submission marked
// processed before the event is posted. A submission listed again because the post failed
// gets the stored event posted again, never a second case; a 409 means the delivery service
// already has a decision.
//
// A forged or unverifiable event log (a delivery-service SET whose signature does not verify
// with /.well-known/jwks.json, or no verified submit-submission) is answered with a
// reject-submission carrying problem invalid-event-log, instance "submission".
package intake

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/shopspring/decimal"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/fields"
	"github.com/konform/konform/reference/fitconnect"
	"github.com/konform/konform/reference/store"
	"github.com/konform/konform/reference/xsd"
)

// PaymentOrder is what the booking module gets for an accepted submission with payment.
type PaymentOrder struct {
	SubmissionID, CaseReference, ServiceIdentifier, TransactionID, Kassenzeichen, PaymentStatus, PaymentMethod string
	Amount                                                                                                     decimal.Decimal
	PayerName                                                                                                  string
	AcceptedAt                                                                                                 time.Time
}

// Booker takes payment orders; Enqueue must be idempotent per SubmissionID.
type Booker interface {
	Enqueue(PaymentOrder) error
}

// Config is what the processor needs to know about its destination.
type Config struct {
	DestinationID  string
	DecryptionKey  *jose.JSONWebKey
	SigningKey     *jose.JSONWebKey
	MetadataSchema *jsonschema.Schema
	// DataXSDs are the compiled XSDs of the submission schemas by URI (LoadDataXSDs).
	DataXSDs map[string]*xsd.Schema
	// Services the destination serves when the delivery service cannot tell (fallback).
	Services []string
	Defects  defects.Set
}

// Processor polls and processes submissions.
type Processor struct {
	cfg    Config
	client *fitconnect.Client
	store  *store.Store
	mapper *fields.Mapper
	booker Booker
	log    *slog.Logger
	now    func() time.Time
	pageSz int

	// The steps a defect of the reference may swap for a variant (defects_intake.go).
	list      func(ctx context.Context, filter string) ([]fitconnect.SubmissionRef, error)
	openData  func(jwe string, v *verified) ([]byte, bool)
	save      func(sub store.Submission, createCase bool) (store.Submission, error)
	validData func(want DataSchema, root fields.Root, raw []byte, v *verified) bool
	// dataSyntax is the problem named for data that is not well-formed.
	dataSyntax string
	// dataHashInstance is the instance named for a data hash that differs from the metadata.
	dataHashInstance string
	// postFailed handles a decision post that failed; it returns the error to report.
	postFailed func(sub store.Submission, err error) error
	// acceptTags are the authentication tags an accept-submission names.
	acceptTags func(fitconnect.AuthenticationTags) fitconnect.AuthenticationTags
	// rejectProblems are the problems a reject-submission names.
	rejectProblems func([]store.Problem) []store.Problem
	// opensCase says whether an accepted submission opens a case of its own.
	opensCase func(sub store.Submission) (bool, error)
	// storedFields are the fields kept of an accepted submission's data.
	storedFields func(map[string]string) map[string]string
	// keepsAttachment says whether the i-th attachment is kept, under which file name.
	keepsAttachment func(i int, a plainAttachment) bool
	storedName      func(filename string) string

	mu      sync.Mutex // one poll round at a time
	trigger chan struct{}
}

// Option configures a Processor.
type Option func(*Processor)

// WithBooker sets the booking module.
func WithBooker(b Booker) Option { return func(p *Processor) { p.booker = b } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(p *Processor) { p.log = l } }

// WithClock sets the clock.
func WithClock(now func() time.Time) Option { return func(p *Processor) { p.now = now } }

// WithPageSize sets the page size of the submission list.
func WithPageSize(n int) Option { return func(p *Processor) { p.pageSz = n } }

// New returns a processor.
func New(cfg Config, client *fitconnect.Client, st *store.Store, opts ...Option) *Processor {
	if cfg.Defects == nil {
		cfg.Defects = defects.Set{}
	}
	p := &Processor{cfg: cfg, client: client, store: st, log: slog.New(slog.DiscardHandler), now: time.Now,
		pageSz: 100, trigger: make(chan struct{}, 1)}
	for _, o := range opts {
		o(p)
	}
	p.mapper = fields.New(mapperOptions(cfg.Defects)...)
	p.list, p.openData, p.save = p.listAll, p.decryptData, p.store.Save
	p.validData, p.dataSyntax = p.validAgainstDeclared, ProblemSyntaxViolation
	p.dataHashInstance = "data"
	p.postFailed = func(_ store.Submission, err error) error { return err }
	p.acceptTags = func(t fitconnect.AuthenticationTags) fitconnect.AuthenticationTags { return t }
	p.rejectProblems = func(pr []store.Problem) []store.Problem { return pr }
	p.opensCase = func(store.Submission) (bool, error) { return true, nil }
	p.storedFields = func(f map[string]string) map[string]string { return f }
	p.keepsAttachment = func(int, plainAttachment) bool { return true }
	p.storedName = func(name string) string { return name }
	withDefectVariants(p)
	withIngestDefectVariants(p)
	return p
}

// Trigger asks for a poll round as soon as possible (a valid callback arrived).
func (p *Processor) Trigger() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Run polls every interval and on Trigger until ctx ends. A round in progress finishes.
func (p *Processor) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := p.Poll(context.WithoutCancel(ctx)); err != nil {
			p.log.Warn("poll round failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.trigger:
		}
	}
}

// Poll runs one round: post pending decisions again, then read every page of the submission
// list and process each submission.
func (p *Processor) Poll(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Decisions stored but not yet posted (a crash, a failed post) are posted again first.
	if !p.skipped(stepRedeliveryIndex) {
		if err := p.repostPending(ctx); err != nil {
			p.log.Warn("re-posting pending decisions", "error", err.Error())
		}
	}
	filter := p.cfg.DestinationID
	if p.skipped(stepDestinationFilter) {
		filter = ""
	}
	refs, err := p.list(ctx, filter)
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range refs {
		if err := p.process(ctx, ref); err != nil {
			p.log.Error("submission not processed", "submissionId", ref.SubmissionID, "error", err.Error())
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// listAll reads every page of the submission list, each from the offset where the last one
// ended (offset + count), until totalCount.
func (p *Processor) listAll(ctx context.Context, filter string) ([]fitconnect.SubmissionRef, error) {
	var refs []fitconnect.SubmissionRef
	for offset := 0; ; {
		page, err := p.client.ListSubmissions(ctx, filter, offset, p.pageSz)
		if err != nil {
			return nil, fmt.Errorf("list submissions: %w", err)
		}
		refs = append(refs, page.Submissions...)
		offset += len(page.Submissions)
		if p.skipped(stepFollowPages) || len(page.Submissions) == 0 || offset >= page.TotalCount {
			return refs, nil
		}
	}
}

func (p *Processor) repostPending(ctx context.Context) error {
	ids, err := p.store.Pending()
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		sub, err := p.store.Get(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, p.finish(ctx, sub))
	}
	return errors.Join(errs...)
}

func (p *Processor) own(destinationID string) bool {
	return destinationID == p.cfg.DestinationID || p.skipped(stepDestinationFilter)
}

func (p *Processor) process(ctx context.Context, ref fitconnect.SubmissionRef) error {
	if !p.own(ref.DestinationID) {
		p.log.Warn("listed submission of another destination ignored", "submissionId", ref.SubmissionID, "destinationId", ref.DestinationID)
		return nil
	}
	if !p.skipped(stepRedeliveryIndex) {
		state, err := p.store.State(ref.SubmissionID)
		if err != nil {
			return err
		}
		switch state {
		case store.StatePosted:
			return nil
		case store.StateDecided:
			sub, err := p.store.Get(ref.SubmissionID)
			if err != nil {
				return err
			}
			return p.finish(ctx, sub)
		}
	}
	fs, err := p.client.Submission(ctx, ref.SubmissionID)
	if err != nil {
		return fmt.Errorf("fetch submission %s: %w", ref.SubmissionID, err)
	}
	if !p.own(fs.DestinationID) {
		p.log.Warn("submission of another destination ignored", "submissionId", fs.SubmissionID, "destinationId", fs.DestinationID)
		return nil
	}
	receivedAt := p.now().UTC()
	v, err := p.verify(ctx, fs)
	if v != nil {
		defer v.cleanup()
	}
	if err != nil {
		return err // transient (network, disk): try again next round
	}
	sub := store.Submission{
		SubmissionID: fs.SubmissionID, CaseID: fs.CaseID, DestinationID: fs.DestinationID, ReceivedAt: receivedAt,
		ServiceIdentifier: fs.ServiceType.Identifier, DataSchemaURI: v.meta.ContentStructure.Data.SubmissionSchema.SchemaURI,
	}
	accepted := len(v.problems) == 0
	if accepted {
		sub.Decision = contract.StatusAccepted
		sub.Payment = v.payment
		if err := p.keep(v, &sub); err != nil {
			return err
		}
		tags := p.acceptTags(v.tags)
		sub.Event, err = fitconnect.SignEvent(p.cfg.SigningKey, p.cfg.DestinationID, fs.SubmissionID, fs.CaseID, fitconnect.EventAcceptSubmission,
			fitconnect.TagsPayload{AuthenticationTags: &tags}, p.now())
	} else {
		sub.Decision = contract.StatusRejected
		sub.Problems = p.rejectProblems(v.problems)
		entries := make([]fitconnect.ProblemEntry, len(sub.Problems))
		for i, pr := range sub.Problems {
			entries[i] = fitconnect.ProblemEntry{Type: pr.Type, Title: pr.Title, Detail: pr.Detail, Instance: pr.Instance}
		}
		sub.Event, err = fitconnect.SignEvent(p.cfg.SigningKey, p.cfg.DestinationID, fs.SubmissionID, fs.CaseID, fitconnect.EventRejectSubmission,
			map[string]any{"problems": entries}, p.now())
	}
	if err != nil {
		return err
	}
	createCase := accepted || p.skipped(stepNoCaseForRejected)
	if accepted {
		if createCase, err = p.opensCase(sub); err != nil {
			return err
		}
	}
	sub, err = p.save(sub, createCase)
	if err != nil {
		return err
	}
	p.log.Info("submission decided", "submissionId", sub.SubmissionID, "decision", sub.Decision, "problems", len(sub.Problems))
	return p.finish(ctx, sub)
}

// keep moves the accepted content into the store: fields and attachment files.
func (p *Processor) keep(v *verified, sub *store.Submission) error {
	sub.Fields = p.storedFields(v.fields)
	for i, a := range v.attachments {
		if !p.keepsAttachment(i, a) {
			continue
		}
		f, err := os.Open(a.plainPath)
		if err != nil {
			return err
		}
		sha, size, err := p.store.PutAttachment(f)
		f.Close()
		if err != nil {
			return err
		}
		sub.Attachments = append(sub.Attachments, store.Attachment{AttachmentID: a.id, Filename: p.storedName(a.filename),
			MimeType: a.mimeType, Purpose: a.purpose, SHA512: sha, Size: size})
	}
	return nil
}

// payerFamilyName is the family name of the first applicant when that applicant is a natural
// person: the fee is owed by the applicant, and the HKR system keeps the person with the order.
func payerFamilyName(fields map[string]string) string {
	for k, v := range fields {
		parts := strings.Split(k, "/")
		if len(parts) == 6 && (parts[1] == "antragsteller" || parts[1] == "antragsteller[1]") &&
			strings.Join(parts[2:], "/") == "natuerlichePerson/name/familienname/name" {
			return v
		}
	}
	return ""
}

// finish hands an accepted payment to the booking module and posts the decision event.
func (p *Processor) finish(ctx context.Context, sub store.Submission) error {
	if sub.Decision == contract.StatusAccepted && sub.Payment != nil && p.booker != nil && sub.Case != nil {
		amount, _ := decimal.NewFromString(sub.Payment.GrossAmount)
		err := p.booker.Enqueue(PaymentOrder{SubmissionID: sub.SubmissionID, CaseReference: sub.Case.Reference,
			ServiceIdentifier: sub.ServiceIdentifier, TransactionID: sub.Payment.TransactionID,
			Kassenzeichen: sub.Payment.TransactionReference, PaymentStatus: sub.Payment.Status,
			PaymentMethod: sub.Payment.PaymentMethod, Amount: amount, AcceptedAt: sub.Case.CreatedAt,
			PayerName: payerFamilyName(sub.Fields)})
		if err != nil {
			return fmt.Errorf("hand payment of %s to booking: %w", sub.SubmissionID, err)
		}
	}
	err := p.client.PostEvent(ctx, sub.CaseID, sub.Event)
	if errors.Is(err, fitconnect.ErrConflict) {
		p.log.Info("decision already in the event log", "submissionId", sub.SubmissionID)
		err = nil
	}
	if err != nil {
		return p.postFailed(sub, fmt.Errorf("post decision for %s: %w", sub.SubmissionID, err))
	}
	return p.store.MarkPosted(sub.SubmissionID)
}

type plainAttachment struct {
	id, filename, mimeType, purpose, plainPath string
	size                                       int64
}

type verified struct {
	meta        Metadata
	problems    []store.Problem
	tags        fitconnect.AuthenticationTags
	fields      map[string]string
	attachments []plainAttachment
	payment     *contract.Payment
	temps       []string
}

func (v *verified) cleanup() {
	for _, t := range v.temps {
		os.Remove(t)
	}
}

func (v *verified) add(name, instance, detail string) {
	v.problems = append(v.problems, problem(name, instance, detail))
}

// verify runs the receiver's checks. Problems found go into v.problems; an error means the
// submission could not be checked now (network, disk) and is retried later.
func (p *Processor) verify(ctx context.Context, fs fitconnect.Submission) (*verified, error) {
	v := &verified{}
	v.tags = fitconnect.AuthenticationTags{Metadata: fitconnect.AuthTag(fs.EncryptedMetadata), Attachments: map[string]string{}}
	if fs.EncryptedData != "" {
		v.tags.Data = fitconnect.AuthTag(fs.EncryptedData)
	}

	submitted, err := p.checkEventLog(ctx, fs, v)
	if err != nil {
		return v, err
	}
	if p.skipped(stepAuthTags) {
		submitted = nil
	}

	// Metadata.
	rawMeta, err := fitconnect.Decrypt(fs.EncryptedMetadata, p.cfg.DecryptionKey)
	if err != nil {
		v.add(ProblemEncryptionIssue, "metadata", err.Error())
		return v, nil
	}
	if !json.Valid(rawMeta) {
		v.add(ProblemSyntaxViolation, "metadata", "metadata is not valid JSON")
		return v, nil
	}
	meta, err := decodeMetadata(rawMeta)
	if err != nil {
		if !p.skipped(stepMetadataSchema) {
			v.add(ProblemSchemaViolation, "metadata", err.Error())
			return v, nil
		}
	}
	v.meta = meta
	if meta.Schema != "" && meta.Schema != MetadataSchemaV100URI && !p.skipped(stepMetadataVersion) {
		v.add(ProblemUnsupportedSchema, "metadata", fmt.Sprintf("metadata schema %q is not supported (supported: %s)", meta.Schema, MetadataSchemaV100URI))
		return v, nil
	}
	if !p.skipped(stepMetadataSchema) {
		if err := validateAgainst(p.cfg.MetadataSchema, rawMeta); err != nil {
			v.add(ProblemSchemaViolation, "metadata", err.Error())
			return v, nil
		}
	}

	// Authentication tags against submit-submission.
	if submitted != nil {
		if submitted.Metadata != v.tags.Metadata {
			v.add(ProblemIncorrectAuthTag, "metadata", "authentication tag of the metadata differs from submit-submission")
		}
		if submitted.Data != v.tags.Data {
			v.add(ProblemIncorrectAuthTag, "data", "authentication tag of the data differs from submit-submission")
		}
	}

	// Service.
	served, schemas := p.served(ctx, fs.DestinationID)
	if !p.skipped(stepServiceServed) {
		if !served[fs.ServiceType.Identifier] {
			v.add(ProblemUnsupportedService, "submission", fmt.Sprintf("service %q is not served by this destination", fs.ServiceType.Identifier))
		} else if meta.PublicServiceType != nil && meta.PublicServiceType.Identifier != fs.ServiceType.Identifier {
			v.add(ProblemUnsupportedService, "metadata", fmt.Sprintf("metadata service %q differs from the submission's service %q", meta.PublicServiceType.Identifier, fs.ServiceType.Identifier))
		}
	}

	// Attachment set.
	metaAtts := map[string]int{}
	for i, a := range meta.ContentStructure.Attachments {
		metaAtts[a.AttachmentID] = i
	}
	if !p.skipped(stepAttachmentSet) {
		subAtts := map[string]bool{}
		for _, id := range fs.Attachments {
			subAtts[id] = true
			if _, ok := metaAtts[id]; !ok && !p.skipped(stepUnlistedAttachments) {
				v.add(ProblemAttachmentsMismatch, "attachment:"+id, "attachment of the submission is missing in the metadata")
			}
		}
		for _, a := range meta.ContentStructure.Attachments {
			if !subAtts[a.AttachmentID] && !p.skipped(stepMissingAttachments) {
				v.add(ProblemAttachmentsMismatch, "attachment:"+a.AttachmentID, "attachment of the metadata is missing in the submission")
			}
		}
	}

	// Data.
	p.checkData(fs, meta, schemas, v)

	// Attachments.
	for _, id := range fs.Attachments {
		if err := p.checkAttachment(ctx, fs, id, meta, metaAtts, submitted, v); err != nil {
			return v, err
		}
	}

	// Payment.
	if pi := meta.PaymentInformation; pi != nil {
		pay := &contract.Payment{TransactionID: pi.TransactionID, TransactionReference: pi.TransactionReference,
			PaymentMethod: pi.PaymentMethod, Status: pi.Status}
		if pi.GrossAmount != "" {
			amt, err := decimal.NewFromString(pi.GrossAmount.String())
			if err != nil {
				v.add(ProblemSchemaViolation, "metadata", "paymentInformation.grossAmount is not a decimal number")
			} else {
				pay.GrossAmount = amt.StringFixed(2)
			}
		}
		v.payment = pay
	}
	return v, nil
}

// decryptData decrypts the data JWE; content that does not decrypt is an encryption-issue.
func (p *Processor) decryptData(jwe string, v *verified) ([]byte, bool) {
	raw, err := fitconnect.Decrypt(jwe, p.cfg.DecryptionKey)
	if err != nil {
		v.add(ProblemEncryptionIssue, "data", err.Error())
		return nil, false
	}
	return raw, true
}

func (p *Processor) checkData(fs fitconnect.Submission, meta Metadata, schemas map[string]bool, v *verified) {
	ss := meta.ContentStructure.Data.SubmissionSchema
	if fs.EncryptedData == "" {
		v.add(ProblemMissingData, "data", "the submission carries no data")
		return
	}
	raw, ok := p.openData(fs.EncryptedData, v)
	if !ok {
		return
	}
	if !p.skipped(stepDataHash) {
		sum := sha512.Sum512(raw)
		if h := meta.ContentStructure.Data.Hash; h.Type != "sha512" || !strings.EqualFold(h.Content, hex.EncodeToString(sum[:])) {
			v.add(ProblemHashMismatch, p.dataHashInstance, "SHA-512 of the data differs from the metadata hash")
		}
	}
	want, known := readable(ss.SchemaURI, ss.MimeType)
	if !p.skipped(stepSchemaSupported) && (!known || !schemas[ss.SchemaURI+" "+ss.MimeType]) {
		v.add(ProblemUnsupportedSchema, "data", fmt.Sprintf("submission schema %q (%s) is not supported", ss.SchemaURI, ss.MimeType))
		return
	}
	var fieldsOut map[string]string
	if ss.MimeType == "application/json" {
		var err error
		fieldsOut, err = p.mapper.FromJSON(raw)
		if err != nil && !p.skipped(stepDataSchema) {
			v.add(ProblemSyntaxViolation, "data", err.Error())
			return
		}
	} else {
		root, err := fields.XMLRoot(raw)
		if err != nil {
			if !p.skipped(stepDataSchema) {
				v.add(p.dataSyntax, "data", err.Error())
			}
			return
		}
		if !p.skipped(stepDataSchema) && known && !p.validData(want, root, raw, v) {
			return
		}
		fieldsOut, _ = p.mapper.FromXML(raw)
	}
	v.fields = fieldsOut
}

// validAgainstDeclared checks XML data against the submission schema the metadata declares:
// its root element, then its XSD.
func (p *Processor) validAgainstDeclared(want DataSchema, root fields.Root, raw []byte, v *verified) bool {
	if root.Local != want.RootLocal || root.Space != want.RootSpace {
		v.add(ProblemSchemaViolation, "data", fmt.Sprintf("root element {%s}%s is not {%s}%s", root.Space, root.Local, want.RootSpace, want.RootLocal))
		return false
	}
	return p.skipped(stepDataXSD) || p.validXML(want, raw, v)
}

// validXML validates XML data against the XSD of its submission schema: data libxml2 cannot
// parse is a syntax problem, data it finds invalid a schema-violation.
func (p *Processor) validXML(ds DataSchema, raw []byte, v *verified) bool {
	x := p.cfg.DataXSDs[ds.URI]
	if x == nil {
		v.add(ProblemTechnicalError, "data", "no XSD loaded for submission schema "+ds.URI)
		return false
	}
	err := x.Validate(raw)
	var nw *xsd.NotWellFormedError
	var inv *xsd.InvalidError
	switch {
	case err == nil:
		return true
	case errors.As(err, &nw):
		v.add(p.dataSyntax, "data", "data is "+nw.Error())
	case errors.As(err, &inv):
		v.add(ProblemSchemaViolation, "data", "data is "+truncate(inv.Error(), 500))
	default:
		v.add(ProblemTechnicalError, "data", err.Error())
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (p *Processor) checkAttachment(ctx context.Context, fs fitconnect.Submission, id string, meta Metadata, metaAtts map[string]int,
	submitted *fitconnect.AuthenticationTags, v *verified) error {
	inst := "attachment:" + id
	enc, err := p.store.TempFile("jwe-*")
	if err != nil {
		return err
	}
	v.temps = append(v.temps, enc.Name())
	_, err = p.client.DownloadAttachment(ctx, fs.SubmissionID, id, enc)
	if err == nil {
		_, err = enc.Seek(0, io.SeekStart)
	}
	if err != nil {
		enc.Close()
		return fmt.Errorf("download attachment %s: %w", id, err)
	}
	plain, err := p.store.TempFile("att-*")
	if err != nil {
		enc.Close()
		return err
	}
	v.temps = append(v.temps, plain.Name())
	h := sha512.New()
	cw := &countWriter{}
	tag, derr := fitconnect.DecryptStream(enc, io.MultiWriter(plain, h, cw), p.cfg.DecryptionKey)
	enc.Close()
	if cerr := plain.Close(); cerr != nil && derr == nil {
		return cerr
	}
	if derr != nil {
		var de *fitconnect.DecryptError
		if errors.As(derr, &de) {
			v.add(ProblemEncryptionIssue, inst, derr.Error())
			return nil
		}
		return derr
	}
	v.tags.Attachments[id] = tag
	if submitted != nil && submitted.Attachments[id] != tag {
		v.add(ProblemIncorrectAuthTag, inst, "authentication tag of the attachment differs from submit-submission")
	}
	pa := plainAttachment{id: id, plainPath: plain.Name(), size: cw.n, mimeType: "application/octet-stream", purpose: "attachment"}
	if i, ok := metaAtts[id]; ok {
		ma := meta.ContentStructure.Attachments[i]
		pa.filename, pa.mimeType, pa.purpose = ma.Filename, ma.MimeType, ma.Purpose
		if !p.skipped(stepAttachmentHash) && (ma.Hash.Type != "sha512" || !strings.EqualFold(ma.Hash.Content, hex.EncodeToString(h.Sum(nil)))) {
			v.add(ProblemHashMismatch, inst, "SHA-512 of the attachment differs from the metadata hash")
		}
	}
	v.attachments = append(v.attachments, pa)
	return nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

// checkEventLog verifies the delivery service's SETs of the case and returns the
// authentication tags of the submission's submit-submission event.
func (p *Processor) checkEventLog(ctx context.Context, fs fitconnect.Submission, v *verified) (*fitconnect.AuthenticationTags, error) {
	log, err := p.client.CaseEvents(ctx, fs.CaseID)
	if err != nil {
		return nil, fmt.Errorf("event log of case %s: %w", fs.CaseID, err)
	}
	trust := p.skipped(stepEventLogSignatures)
	var keys jose.JSONWebKeySet
	if !trust {
		keys, err = p.client.DeliveryServiceKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("delivery service keys: %w", err)
		}
	}
	var tags *fitconnect.AuthenticationTags
	for i, raw := range log {
		set, jws, err := fitconnect.ParseEvent(raw)
		if err != nil {
			v.add(ProblemInvalidEventLog, "submission", fmt.Sprintf("event %d: %v", i+1, err))
			continue
		}
		ev := set.Event()
		if ev == "" {
			v.add(ProblemInvalidEventLog, "submission", fmt.Sprintf("event %d does not carry exactly one event", i+1))
			continue
		}
		if set.Sub != "submission:"+fs.SubmissionID || !deliveryServiceEvent(ev) {
			continue // other submissions of the case, and receiver events (signed by destinations)
		}
		if !trust {
			if err := fitconnect.VerifyEvent(jws, keys); err != nil {
				v.add(ProblemInvalidEventLog, "submission", fmt.Sprintf("%s: %v", strings.TrimPrefix(ev, fitconnect.EventPrefix), err))
				continue
			}
		}
		if ev == fitconnect.EventSubmitSubmission {
			var pl fitconnect.TagsPayload
			if err := json.Unmarshal(set.Events[ev], &pl); err == nil && pl.AuthenticationTags != nil && pl.AuthenticationTags.Metadata != "" {
				tags = pl.AuthenticationTags
			}
		}
	}
	if tags == nil && !trust && len(v.problems) == 0 {
		v.add(ProblemInvalidEventLog, "submission", "no verified submit-submission event with authentication tags in the event log")
	}
	return tags, nil
}

func deliveryServiceEvent(ev string) bool {
	switch ev {
	case fitconnect.EventCreateSubmission, fitconnect.EventSubmitSubmission, fitconnect.EventNotifySubmission, fitconnect.EventDeleteSubmission:
		return true
	}
	return false
}

// served returns the services of the destination and its schemas ("uri mime").
func (p *Processor) served(ctx context.Context, destinationID string) (map[string]bool, map[string]bool) {
	svc, schemas := map[string]bool{}, map[string]bool{}
	dest, err := p.client.Destination(ctx, p.cfg.DestinationID)
	if err == nil && len(dest.Services) > 0 {
		for _, s := range dest.Services {
			svc[s.Identifier] = true
			for _, sc := range s.SubmissionSchemas {
				schemas[sc.SchemaURI+" "+sc.MimeType] = true
			}
		}
		return svc, schemas
	}
	if err != nil {
		p.log.Warn("destination not readable, using configured services", "error", err.Error())
	}
	for _, s := range p.cfg.Services {
		svc[s] = true
	}
	for _, ds := range DataSchemas {
		schemas[ds.URI+" "+ds.MimeType] = true
	}
	return svc, schemas
}
