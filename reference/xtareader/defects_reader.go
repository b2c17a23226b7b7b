package xtareader

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/konform/konform/reference/store"
)

// errDropped is what getMessage gives under xta-drop-on-technical-fault for a message the reader
// gave up.
var errDropped = errors.New("message given up after a technical fault")

// withDefectVariants swaps the reader's steps for the variants of the defects switched on. Each
// variant breaks one duty (docs/sut-contract.md §7) and nothing else.
func withDefectVariants(r *Reader) {
	d := r.cfg.Defects
	if d.On("xta-first-page-only") {
		r.followPages = false
	}
	if d.On("xta-fetch-guessed-id") {
		r.afterList = r.fetchGuessed
	}
	if d.On("xta-close-before-store") {
		// The close goes out right after getMessage; storing follows a second later (time its
		// back office takes), so the server shows the message closed while the probe has no record.
		r.closeBeforeStore, r.storeLag = true, time.Second
	}
	if d.On("xta-close-constant-request-id") {
		r.closeRequestID = func(*delivery) string { return "1" }
	}
	if d.On("xta-close-untaken") {
		r.leave = r.closeForeign
	}
	if d.On("xta-no-dedupe-message-id") {
		r.taken = r.storedNotClosed
	}
	if d.On("xta-no-dedupe-nachrichten-uuid") {
		r.dedupeNachrichten = false
	}
	if d.On("xta-ignore-reader") {
		r.forUs = func(m meta) (bool, string) { return r.served(m) }
	}
	if d.On("xta-ignore-message-type") {
		r.forUs = r.addressed
		r.schemaCode = func(_ meta, payload []byte) string { return readHeader(payload).rootLocal }
	}
	if d.On("xta-stop-on-no-message") {
		r.noMessage = r.stopAfterInvalidIterator
	}
	if d.On("xta-drop-on-technical-fault") {
		r.fetch = dropOnTechnicalFault(r.fetch)
	}
	if d.On("xta-retry-permission-denied") {
		r.fetch = retryRefused(r.fetch)
	}
	if d.On("xta-store-invalid") {
		r.checkPayload = false
	}
	if d.On("xta-no-rueckweisung") {
		r.sendsRueckweisung = false
	}
	if d.On("xta-leave-invalid-open") {
		r.closesRejected = false
	}
	if d.On("xta-forget-fetched-on-restart") {
		r.taken, r.stored = r.rememberedInMemory()
	}
}

// stopAfterInvalidIterator (xta-stop-on-no-message) takes NoMessageAvailable in an answer to
// getNextStatusList (RequestIdInvalid) for a broken mailbox and stops polling for twice its
// interval plus 15 s: 5 s beyond the gap XT-RDR-100 allows, short enough that the checks after it
// find the reader polling again. The empty box's NoMatch to getStatusList it takes in its stride.
func (r *Reader) stopAfterInvalidIterator(reason string, paging bool) {
	if !paging {
		return
	}
	r.log.Warn("NoMessageAvailable while paging: the mailbox looks broken, polling stops for a while", "reason", reason)
	r.pauseUntil = r.now().Add(2*r.cfg.PollInterval + 15*time.Second)
}

// fetchGuessed (xta-fetch-guessed-id) asks getMessage, after the listed messages, for one more
// MessageID it made up from the last listed one, to see whether more is waiting.
func (r *Reader) fetchGuessed(ctx context.Context, listed []meta) {
	if len(listed) == 0 {
		return
	}
	guess := guessNext(listed[len(listed)-1].MessageID)
	d, err := r.srv.Fetch(ctx, guess)
	if err != nil {
		r.log.Info("guessed MessageID not fetched", "messageId", guess, "error", err.Error())
		return
	}
	if d.Release != nil {
		d.Release()
	}
}

// guessNext counts up the number a MessageID ends in, or appends one.
func guessNext(id string) string {
	i := len(id)
	for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
		i--
	}
	if i == len(id) || len(id)-i > 18 {
		return id + "1"
	}
	n, _ := strconv.ParseUint(id[i:], 10, 64)
	next := strconv.FormatUint(n+1, 10)
	if pad := len(id) - i - len(next); pad > 0 {
		next = strings.Repeat("0", pad) + next
	}
	return id[:i] + next
}

// closeForeign (xta-close-untaken) closes a listed message that names another reader, with the
// MsgBoxRequestID of the list, "to keep the box clean".
func (r *Reader) closeForeign(ctx context.Context, m meta, listRequestID string) {
	if ok, _ := r.addressed(m); ok {
		return
	}
	if err := r.srv.Close(ctx, listRequestID, m.MessageID); err != nil {
		r.log.Info("closing a message for another reader failed", "messageId", m.MessageID, "error", err.Error())
	}
}

// storedNotClosed (xta-no-dedupe-message-id) knows a MessageID only until it closed the message:
// offered again afterwards under the same MessageID, the message makes a second case.
func (r *Reader) storedNotClosed(messageID string) (bool, error) {
	st, err := r.store.XTAState(messageID)
	return st == store.XTAStored, err
}

// rememberedInMemory (xta-forget-fetched-on-restart) keeps the MessageIDs it stored but has not
// closed yet in memory: after a restart between store and close the message, listed again, makes
// a second case. What it closed it finds in the store.
func (r *Reader) rememberedInMemory() (taken func(string) (bool, error), stored func(string)) {
	var mu sync.Mutex
	seen := map[string]bool{}
	taken = func(id string) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if seen[id] {
			return true, nil
		}
		st, err := r.store.XTAState(id)
		return st == store.XTAClosed, err
	}
	stored = func(id string) {
		mu.Lock()
		defer mu.Unlock()
		seen[id] = true
	}
	return taken, stored
}

// dropOnTechnicalFault (xta-drop-on-technical-fault) gives a message up for good after an
// XTAWSTechnicalProblem on getMessage: it is never fetched again.
func dropOnTechnicalFault(fetch func(context.Context, string) (*delivery, error)) func(context.Context, string) (*delivery, error) {
	var mu sync.Mutex
	dropped := map[string]bool{}
	return func(ctx context.Context, id string) (*delivery, error) {
		mu.Lock()
		gone := dropped[id]
		mu.Unlock()
		if gone {
			return nil, errDropped
		}
		d, err := fetch(ctx, id)
		if faultKind(err) == FaultTechnical {
			mu.Lock()
			dropped[id] = true
			mu.Unlock()
		}
		return d, err
	}
}

// retryRefused (xta-retry-permission-denied) repeats a getMessage the server refused
// (PermissionDenied, InvalidMessageID, ParameterIsNotValid) twice more at once.
func retryRefused(fetch func(context.Context, string) (*delivery, error)) func(context.Context, string) (*delivery, error) {
	return func(ctx context.Context, id string) (*delivery, error) {
		d, err := fetch(ctx, id)
		for i := 0; i < 2 && final(err); i++ {
			d, err = fetch(ctx, id)
		}
		return d, err
	}
}
