// Package xtareader is the reference Fachverfahren's XTA 2 (Version 3) reader (Leser): it reads
// its mailbox at an XTA server over HTTPS with its client certificate, SOAP 1.2 and MTOM, and
// takes each message addressed to it into the case store the way the FIT-Connect intake does.
//
// One round, every poll interval:
//
//	getStatusList (ListForm MessageMetaData) → getNextStatusList(MsgBoxRequestID) while ItemsPending > 0
//	per listed message, metadata first: Reader is us, Service and MessageType are served — else leave it
//	getMessage(MessageID from the list)
//	  already stored (MessageID, or nachrichtenUUID under another MessageID) → close, no second case
//	  valid against its XBau schema → store the case durably → close
//	  invalid → Rückweisung 1100 to the author over sendMessage → store a rejected record → close
//
// close names the MessageID in LastMsgReceived with the MsgBoxRequestID of the getMessage answer.
// Faults: XTAWSTechnicalProblem, a broken connection or a time-out leave the message for a later
// round; PermissionDenied, InvalidMessageID and ParameterIsNotValid are logged and the call is
// not repeated in the round. NoMessageAvailable is an empty box, not an error.
//
// Everything the reader must remember across a restart lives in the store (bbolt): a crash
// between store and close makes the next round fetch the message again, find it stored and
// close it — one case.
package xtareader

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/fields"
	"github.com/konform/konform/reference/store"
)

// DefaultMaxListItems is the page size the reader asks getStatusList for.
const DefaultMaxListItems = 50

// Config is what the reader needs (KONFORM_XTA_*, see docs/sut-contract.md §1).
type Config struct {
	ManagementURL, MsgBoxURL, SendURL string
	// ClientCert authenticates the reader; CA is the only issuer it trusts for the server.
	ClientCert tls.Certificate
	CA         *x509.CertPool
	// ReaderID is the reader's identity (Identifier of type xoev).
	ReaderID     string
	Services     []contract.XTAService
	PollInterval time.Duration
	// SchemaDir is laid out like the specs folder (XBau 2.3.1 XSDs under XBauXSDDir).
	SchemaDir    string
	MaxListItems int
	// Product names the reference in the Rückweisungen it writes.
	Product string
	Defects defects.Set
}

// Reader reads the mailbox.
type Reader struct {
	cfg     Config
	srv     server
	store   *store.Store
	schemas *xbauSchemas
	mapper  *fields.Mapper
	log     *slog.Logger
	now     func() time.Time

	mu            sync.Mutex // one round at a time
	accountActive bool
	// left are the MessageIDs of listed messages not for the reader, logged once each.
	left map[string]bool

	// The steps a defect of the reference may swap for a variant (defects_reader.go).
	followPages bool
	// noMessage runs when an answer says NoMessageAvailable (paging: to getNextStatusList).
	noMessage func(reason string, paging bool)
	// pauseUntil: no round starts before (xta-stop-on-no-message).
	pauseUntil time.Time
	// forUs says whether a listed message is for the reader; reason says why not.
	forUs func(m meta) (ok bool, reason string)
	// leave handles a listed message not for the reader (never fetched, never closed).
	leave func(ctx context.Context, m meta, listRequestID string)
	// fetch is getMessage with the reader's answer to faults.
	fetch func(ctx context.Context, messageID string) (*delivery, error)
	// afterList runs after the listed messages were handled.
	afterList func(ctx context.Context, listed []meta)
	// taken reports whether a MessageID was stored before, and whether it was rejected.
	taken func(messageID string) (bool, error)
	// stored runs once a message's record is stored.
	stored func(messageID string)
	// dedupeNachrichten is false when a nachrichtenUUID seen under another MessageID makes a case.
	dedupeNachrichten bool
	// schemaCode is the MessageType code whose XBau schema the payload is validated against.
	schemaCode func(m meta, payload []byte) string
	// checkPayload is false when any payload counts as valid.
	checkPayload bool
	// sendsRueckweisung is false when an invalid payload gets no Rückweisung.
	sendsRueckweisung bool
	// closesRejected is false when a rejected message is never closed.
	closesRejected bool
	// closeBeforeStore closes a message right after getMessage and stores it storeLag later.
	closeBeforeStore bool
	storeLag         time.Duration
	// closeRequestID is the MsgBoxRequestID a close names for a delivery.
	closeRequestID func(d *delivery) string
}

// Option configures a Reader.
type Option func(*Reader)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(r *Reader) { r.log = l } }

// WithClock sets the clock.
func WithClock(now func() time.Time) Option { return func(r *Reader) { r.now = now } }

// withServer replaces the SOAP client (tests).
func withServer(s server) Option { return func(r *Reader) { r.srv = s } }

// New returns a reader on the store. It compiles the XBau schemas of the configured message
// types; a missing one is an error.
func New(cfg Config, st *store.Store, opts ...Option) (*Reader, error) {
	if cfg.Defects == nil {
		cfg.Defects = defects.Set{}
	}
	if cfg.MaxListItems <= 0 {
		cfg.MaxListItems = DefaultMaxListItems
	}
	if cfg.Product == "" {
		cfg.Product = "Konform Referenz-Fachverfahren"
	}
	r := &Reader{cfg: cfg, store: st, schemas: newSchemas(cfg.SchemaDir), mapper: fields.New(),
		log: slog.New(slog.DiscardHandler), now: time.Now, left: map[string]bool{}}
	for _, o := range opts {
		o(r)
	}
	var codes []string
	for _, s := range cfg.Services {
		for _, mt := range s.MessageTypes {
			codes = append(codes, mt.Code)
		}
	}
	if err := r.schemas.Check(codes); err != nil {
		return nil, fmt.Errorf("xtareader: %w", err)
	}
	if r.srv == nil {
		c, err := newClient(cfg)
		if err != nil {
			return nil, err
		}
		r.srv = c
	}
	r.followPages = true
	r.noMessage = func(string, bool) {}
	r.forUs = r.addressedAndServed
	r.leave = func(context.Context, meta, string) {}
	r.fetch = r.fetchOnce
	r.afterList = func(context.Context, []meta) {}
	r.taken = r.storedBefore
	r.stored = func(string) {}
	r.dedupeNachrichten = true
	r.schemaCode = func(m meta, _ []byte) string { return m.MessageType }
	r.checkPayload, r.sendsRueckweisung, r.closesRejected = true, true, true
	r.closeRequestID = func(d *delivery) string { return d.RequestID }
	withDefectVariants(r)
	return r, nil
}

// Run checks the account, then runs a round every poll interval until ctx ends. A round in
// progress finishes.
func (r *Reader) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		if err := r.Round(context.WithoutCancel(ctx)); err != nil {
			r.log.Warn("XTA round failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round runs one round: checkAccountActive until it once succeeded, list every page, take what is
// for the reader.
func (r *Reader) Round(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.now().Before(r.pauseUntil) {
		return nil
	}
	if !r.accountActive {
		if err := r.srv.CheckAccountActive(ctx); err != nil {
			r.log.Warn("checkAccountActive failed", "error", err.Error())
		} else {
			r.accountActive = true
		}
	}
	listed, requestIDs, err := r.list(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i, m := range listed {
		if ok, why := r.forUs(m); !ok {
			if !r.left[m.MessageID] {
				r.left[m.MessageID] = true
				r.log.Info("XTA message not for this reader: left in the box", "messageId", m.MessageID, "reason", why)
			}
			r.leave(ctx, m, requestIDs[i])
			continue
		}
		if err := r.take(ctx, m); err != nil {
			r.log.Warn("XTA message not taken in this round", "messageId", m.MessageID, "error", err.Error())
			errs = append(errs, err)
		}
	}
	r.afterList(ctx, listed)
	return errors.Join(errs...)
}

// list reads the status list: the first page, then, while ItemsPending > 0, the next pages with
// the MsgBoxRequestID of the answer before. It returns the messages and, for each, the
// MsgBoxRequestID of the page that listed it.
func (r *Reader) list(ctx context.Context) ([]meta, []string, error) {
	p, err := r.srv.StatusList(ctx, r.cfg.MaxListItems)
	if err != nil {
		return nil, nil, opError("getStatusList", err)
	}
	var listed []meta
	var ids []string
	for paging := false; ; paging = true {
		if p.NoMessage != "" {
			r.noMessage(p.NoMessage, paging)
		}
		for _, m := range p.Items {
			listed = append(listed, m)
			ids = append(ids, p.RequestID)
		}
		if !r.followPages || p.NoMessage != "" || p.ItemsPending <= 0 {
			return listed, ids, nil
		}
		next, err := r.srv.NextStatusList(ctx, p.RequestID)
		if err != nil {
			// What was listed is taken; the rest waits for the next round.
			r.log.Warn("getNextStatusList failed", "msgBoxRequestId", p.RequestID, "error", err.Error())
			return listed, ids, nil
		}
		p = next
	}
}

// addressedAndServed is the metadata check before taking a message: the Reader is us, the
// Service and the MessageType (code and payloadSchema) are in KONFORM_XTA_SERVICES.
func (r *Reader) addressedAndServed(m meta) (bool, string) {
	if ok, why := r.addressed(m); !ok {
		return false, why
	}
	return r.served(m)
}

func (r *Reader) addressed(m meta) (bool, string) {
	if m.Reader.Identifier != r.cfg.ReaderID {
		return false, fmt.Sprintf("Reader %q is not %q", m.Reader.Identifier, r.cfg.ReaderID)
	}
	return true, ""
}

func (r *Reader) served(m meta) (bool, string) {
	for _, s := range r.cfg.Services {
		if s.Service != m.Service {
			continue
		}
		for _, mt := range s.MessageTypes {
			if mt.Code == m.MessageType && mt.PayloadSchema == m.PayloadSchema {
				return true, ""
			}
		}
		return false, fmt.Sprintf("MessageType %q (payloadSchema %q) is not served under service %q", m.MessageType, m.PayloadSchema, m.Service)
	}
	return false, fmt.Sprintf("service %q is not served", m.Service)
}

// fetchOnce is getMessage; the caller leaves the message after any failure (a later round tries
// again), so a refused call is not repeated in this round.
func (r *Reader) fetchOnce(ctx context.Context, messageID string) (*delivery, error) {
	d, err := r.srv.Fetch(ctx, messageID)
	if err != nil {
		return nil, opError("getMessage", err)
	}
	return d, nil
}

// storedBefore reports whether the reader stored this MessageID before (the store's mark).
func (r *Reader) storedBefore(messageID string) (bool, error) {
	st, err := r.store.XTAState(messageID)
	return st != "", err
}

// take fetches one listed message and takes it in.
func (r *Reader) take(ctx context.Context, listed meta) error {
	d, err := r.fetch(ctx, listed.MessageID)
	if errors.Is(err, errDropped) {
		return nil
	}
	if err != nil {
		if final(err) {
			r.log.Error("XTA server refused getMessage; not repeated in this round", "messageId", listed.MessageID, "error", err.Error())
			return nil
		}
		return err
	}
	if d.Release != nil {
		defer d.Release()
	}
	id := listed.MessageID
	m := d.Meta
	if m.MessageID == "" {
		m = listed
	}
	m.MessageID = id
	if r.closeBeforeStore {
		if err := r.close(ctx, d, id); err != nil {
			return err
		}
		time.Sleep(r.storeLag)
	}
	seen, err := r.taken(id)
	if err != nil {
		return err
	}
	if seen {
		if !r.closesRejected && r.rejected(id) {
			return nil
		}
		r.log.Info("XTA message stored before: closing it", "messageId", id)
		return r.closeStored(ctx, d, id)
	}
	payload, err := readAll(d.Message)
	if err != nil {
		return fmt.Errorf("read the message of %s: %w", id, err)
	}
	receivedAt := r.now().UTC()
	if r.checkPayload {
		verr := r.schemas.validate(r.schemaCode(m, payload), payload)
		var inv *invalidPayload
		if errors.As(verr, &inv) {
			return r.reject(ctx, d, m, payload, inv.reason, receivedAt)
		}
		if verr != nil {
			return fmt.Errorf("validate the message of %s: %w", id, verr)
		}
	}
	msg := store.XTAMessage{Submission: store.Submission{XTAMessageID: id, Decision: contract.StatusAccepted,
		ReceivedAt: receivedAt, ServiceIdentifier: m.Service, DataSchemaURI: m.PayloadSchema}}
	msg.NachrichtenUUID = readHeader(payload).nachrichtenUUID
	if r.dedupeNachrichten && msg.NachrichtenUUID != "" {
		first, err := r.store.XTAByNachrichtenUUID(msg.NachrichtenUUID)
		if err != nil {
			return err
		}
		if first != "" && first != id {
			msg.DuplicateOf = first
			r.log.Info("XTA message repeats a stored nachrichtenUUID: no second case", "messageId", id,
				"nachrichtenUUID", msg.NachrichtenUUID, "firstMessageId", first)
		}
	}
	if err := r.keep(d, payload, &msg.Submission); err != nil {
		return err
	}
	sub, err := r.store.SaveXTA(msg, msg.DuplicateOf == "")
	if err != nil {
		return err
	}
	r.stored(id)
	ref := ""
	if sub.Case != nil {
		ref = sub.Case.Reference
	}
	r.log.Info("XTA message stored", "messageId", id, "case", ref, "duplicateOf", msg.DuplicateOf)
	return r.closeStored(ctx, d, id)
}

// keep maps the payload to fields and moves the attachments into the store.
func (r *Reader) keep(d *delivery, payload []byte, sub *store.Submission) error {
	f, err := r.mapper.FromXML(payload)
	if err != nil {
		return fmt.Errorf("map the fields of %s: %w", sub.XTAMessageID, err)
	}
	sub.Fields = f
	for i, a := range d.Attachments {
		rc, err := a.Open()
		if err != nil {
			return fmt.Errorf("attachment %d of %s: %w", i+1, sub.XTAMessageID, err)
		}
		sha, size, err := r.store.PutAttachment(rc)
		rc.Close()
		if err != nil {
			return err
		}
		mime := a.ContentType
		if mime == "" {
			mime = "application/octet-stream"
		}
		sub.Attachments = append(sub.Attachments, store.Attachment{AttachmentID: a.ID, Filename: a.Filename,
			MimeType: mime, Purpose: "attachment", SHA512: sha, Size: size})
	}
	return nil
}

// reject answers a payload that is not valid against its XBau schema: a Rückweisung to its
// author, a rejected record (no case), then close.
func (r *Reader) reject(ctx context.Context, d *delivery, m meta, payload []byte, reason string, receivedAt time.Time) error {
	r.log.Warn("XTA message not valid against its XBau schema: Rückweisung", "messageId", m.MessageID, "reason", reason)
	if r.sendsRueckweisung {
		if err := r.sendRueckweisung(ctx, m, payload, reason); err != nil {
			return err
		}
	}
	msg := store.XTAMessage{Submission: store.Submission{XTAMessageID: m.MessageID, Decision: contract.StatusRejected,
		ReceivedAt: receivedAt, ServiceIdentifier: m.Service, DataSchemaURI: m.PayloadSchema,
		Problems: []store.Problem{{Type: fehlerkennzahlList + ":" + fehlerkennzahlSchema, Title: "Nachricht nicht schemakonform",
			Detail: reason, Instance: "message"}}}}
	if _, err := r.store.SaveXTA(msg, false); err != nil {
		return err
	}
	r.stored(m.MessageID)
	if !r.closesRejected {
		return nil
	}
	return r.closeStored(ctx, d, m.MessageID)
}

// sendRueckweisung sends the Rückweisung: createMessageId, then sendMessage with Reader = the
// original Author and Author = us.
func (r *Reader) sendRueckweisung(ctx context.Context, m meta, payload []byte, reason string) error {
	id, err := r.srv.CreateMessageID(ctx)
	if err != nil {
		return opError("createMessageId", err)
	}
	rw := newRueckweisung(r.now(), r.cfg.Product, m.Author, party{Identifier: r.cfg.ReaderID, Type: "xoev"}, reason, payload)
	doc := rw.Marshal()
	out := outgoing{
		Meta: meta{MessageID: id, Author: party{Identifier: r.cfg.ReaderID, Type: "xoev"}, Reader: m.Author,
			Service: m.Service, BusinessScenario: m.BusinessScenario,
			MessageType: RueckweisungCode, PayloadSchema: KernmodulNamespace,
			TypeListURI: "urn:de:payloadSchema:elementName", TypeListVersionID: "1.0"},
		InReplyTo: m.MessageID,
		Message: content{ID: "rueckweisung-" + rw.UUID, Filename: rw.UUID + ".xml", ContentType: "application/xml",
			Size: int64(len(doc)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(doc)), nil }},
	}
	if err := r.srv.Send(ctx, out); err != nil {
		return opError("sendMessage", err)
	}
	r.log.Info("Rückweisung sent", "messageId", m.MessageID, "rueckweisungMessageId", id, "to", m.Author.Identifier)
	return nil
}

// rejected reports whether the stored record of a MessageID is a rejection.
func (r *Reader) rejected(messageID string) bool {
	sub, err := r.store.Get(messageID)
	return err == nil && sub.Decision == contract.StatusRejected
}

// closeStored closes a stored message (unless it was closed before it was stored) and marks it
// closed.
func (r *Reader) closeStored(ctx context.Context, d *delivery, messageID string) error {
	if r.closeBeforeStore {
		return r.store.MarkXTAClosed(messageID)
	}
	if err := r.close(ctx, d, messageID); err != nil {
		return err
	}
	return r.store.MarkXTAClosed(messageID)
}

func (r *Reader) close(ctx context.Context, d *delivery, messageID string) error {
	if err := r.srv.Close(ctx, r.closeRequestID(d), messageID); err != nil {
		if final(err) {
			r.log.Error("XTA server refused close; not repeated in this round", "messageId", messageID, "error", err.Error())
		}
		return opError("close", err)
	}
	return nil
}

func readAll(c content) ([]byte, error) {
	if c.Open == nil {
		return nil, errors.New("the content container has no Message")
	}
	rc, err := c.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
