package hkr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"go.etcd.io/bbolt"
)

var (
	bucketOrders  = []byte("hkr.orders")
	bucketPending = []byte("hkr.pending")
	bucketSeq     = []byte("hkr.uebertragung")
)

// Backoff bounds of the retry loop.
const (
	retryBase = 100 * time.Millisecond
	retryCap  = 2 * time.Second
)

// stored is what the outbox keeps per submission.
type stored struct {
	Order    Order           `json:"order"`
	Bookings []storedBooking `json:"bookings"`
}

type storedBooking struct {
	AnordnungsNummerExtern string                 `json:"anordnungsNummerExtern"`
	Kassenzeichen          string                 `json:"kassenzeichen"`
	Amount                 string                 `json:"amount"`
	State                  string                 `json:"state"`
	Attempts               int                    `json:"attempts"`
	Fehlertext             []string               `json:"fehlertext"`
	MessageType            string                 `json:"messageType"`
	Payload                []byte                 `json:"payload"` // the message exactly as sent on every retry
	UebertragungsID        uint64                 `json:"uebertragungsId"`
	Created                time.Time              `json:"created"`
	Coding                 contract.BookingCoding `json:"coding"`
	NextAttempt            time.Time              `json:"nextAttempt"`
	LastError              string                 `json:"lastError,omitempty"`
}

// Outbox delivers Anordnungen to the HKR system.
type Outbox struct {
	db     *bbolt.DB
	url    string
	coding map[string]contract.BookingCoding
	d      defects.Set
	log    *slog.Logger
	client *http.Client
	now    func() time.Time
	wake   chan struct{}

	rngMu sync.Mutex
	rng   *rand.Rand
}

// Option configures an Outbox.
type Option func(*Outbox)

// WithHTTPClient sets the client for the HKR system; its Timeout bounds each attempt.
func WithHTTPClient(c *http.Client) Option { return func(o *Outbox) { o.client = c } }

// WithClock sets the time source.
func WithClock(now func() time.Time) Option { return func(o *Outbox) { o.now = now } }

// NewOutbox opens the outbox in db (buckets prefixed "hkr.").
func NewOutbox(db *bbolt.DB, hkrURL string, coding map[string]contract.BookingCoding, d defects.Set, log *slog.Logger, opts ...Option) (*Outbox, error) {
	if db == nil {
		return nil, errors.New("hkr outbox: no database")
	}
	if !strings.HasPrefix(hkrURL, "http://") && !strings.HasPrefix(hkrURL, "https://") {
		return nil, fmt.Errorf("hkr outbox: %s %q is not an http(s) URL", contract.EnvHKRURL, hkrURL)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Outbox{
		db: db, url: hkrURL, coding: coding, d: d, log: log,
		client: &http.Client{Timeout: 10 * time.Second},
		now:    time.Now,
		wake:   make(chan struct{}, 1),
		rng:    rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6b6f6e666f726d)),
	}
	for _, opt := range opts {
		opt(o)
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketOrders, bucketPending, bucketSeq} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hkr outbox: creating buckets: %w", err)
	}
	return o, nil
}

// Enqueue stores the order and, when its payment status calls for it, one Anordnung to send.
// It returns only after both are persisted. Enqueuing a SubmissionID again is a no-op.
func (o *Outbox) Enqueue(ord Order) error {
	if strings.TrimSpace(ord.SubmissionID) == "" {
		return errors.New("hkr outbox: order without submission ID")
	}
	due, err := bookingDueUnder(ord, o.d)
	if err != nil {
		return fmt.Errorf("hkr outbox: %w", err)
	}
	if due {
		if err := ord.validate(); err != nil {
			return fmt.Errorf("hkr outbox: order %s cannot be booked: %w", ord.SubmissionID, err)
		}
	}
	queued := false
	err = o.db.Update(func(tx *bbolt.Tx) error {
		rec, exists, err := getStored(tx, ord.SubmissionID)
		if err != nil {
			return err
		}
		if exists && !o.d.On(DefectRebookOnRedelivery) {
			return nil
		}
		if !exists {
			rec = stored{Order: ord, Bookings: []storedBooking{}}
		}
		if due {
			b, err := o.newBooking(tx, ord, len(rec.Bookings)+1)
			if err != nil {
				return err
			}
			rec.Bookings = append(rec.Bookings, b)
			if b.State == contract.BookingPending {
				if err := tx.Bucket(bucketPending).Put([]byte(ord.SubmissionID), []byte{}); err != nil {
					return err
				}
				queued = true
			}
		}
		return putStored(tx, ord.SubmissionID, rec)
	})
	if err != nil {
		return fmt.Errorf("hkr outbox: storing order %s: %w", ord.SubmissionID, err)
	}
	if queued {
		o.poke()
	}
	return nil
}

func (o *Outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *Outbox) newBooking(tx *bbolt.Tx, ord Order, n int) (storedBooking, error) {
	kz := strings.TrimSpace(ord.Kassenzeichen)
	if o.d.On(DefectWrongKassenzeichen) {
		kz = ord.TransactionID
	}
	ref := ord.CaseReference
	if ref == "" {
		ref = ord.SubmissionID
	}
	b := storedBooking{
		AnordnungsNummerExtern: fmt.Sprintf("%s-%d", ref, n),
		Kassenzeichen:          kz,
		Amount:                 ord.Amount.StringFixed(2),
		State:                  contract.BookingPending,
		Fehlertext:             []string{},
		Created:                o.now().UTC(),
	}
	coding, ok := o.coding[ord.ServiceIdentifier]
	if !ok {
		// Nothing can be sent without a coding; the failure is kept and shown in the probe.
		b.State = contract.BookingFailed
		b.Fehlertext = []string{fmt.Sprintf("nicht gesendet: keine Kontierung für Leistung %q in %s", ord.ServiceIdentifier, contract.EnvHKRBookingCoding)}
		o.log.Error("hkr: no booking coding for service", "submission", ord.SubmissionID, "service", ord.ServiceIdentifier)
		return b, nil
	}
	b.Coding = coding
	seq, err := tx.Bucket(bucketSeq).NextSequence()
	if err != nil {
		return b, err
	}
	b.UebertragungsID = seq
	if err := o.render(&b, ord); err != nil {
		return b, err
	}
	b.NextAttempt = b.Created
	return b, nil
}

func (o *Outbox) render(b *storedBooking, ord Order) error {
	payload, msgType, err := buildMessage(anordnung{
		nummerExtern: b.AnordnungsNummerExtern, uebertragungsID: b.UebertragungsID, created: b.Created,
		ord: ord, items: ord.items(), kassenzeichen: b.Kassenzeichen, coding: b.Coding,
	}, o.d)
	if err != nil {
		return err
	}
	b.Payload, b.MessageType = payload, msgType
	return nil
}

func putStored(tx *bbolt.Tx, id string, rec stored) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketOrders).Put([]byte(id), v)
}

func getStored(tx *bbolt.Tx, id string) (stored, bool, error) {
	var rec stored
	v := tx.Bucket(bucketOrders).Get([]byte(id))
	if v == nil {
		return rec, false, nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, false, fmt.Errorf("hkr outbox: stored order %s is unreadable: %w", id, err)
	}
	return rec, true, nil
}

// Bookings returns the Anordnungen of a submission for the probe ([] when none is due or the
// submission is unknown).
func (o *Outbox) Bookings(submissionID string) ([]contract.Booking, error) {
	out := []contract.Booking{}
	err := o.db.View(func(tx *bbolt.Tx) error {
		rec, ok, err := getStored(tx, submissionID)
		if err != nil || !ok {
			return err
		}
		for _, b := range rec.Bookings {
			out = append(out, contract.Booking{
				AnordnungsNummerExtern: b.AnordnungsNummerExtern,
				Kassenzeichen:          b.Kassenzeichen,
				Amount:                 b.Amount,
				State:                  b.State,
				Attempts:               b.Attempts,
				Fehlertext:             append([]string{}, b.Fehlertext...),
			})
		}
		return nil
	})
	return out, err
}

// Run delivers pending Anordnungen until ctx ends. Call it once.
func (o *Outbox) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		next := o.deliverDue(ctx)
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(o.now()), time.Millisecond)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-timer.C:
		}
	}
}

// deliverDue attempts every pending booking whose time has come and returns the earliest next
// attempt time (zero when nothing is pending).
func (o *Outbox) deliverDue(ctx context.Context) time.Time {
	var ids []string
	if err := o.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	}); err != nil {
		o.log.Error("hkr: reading the outbox failed", "error", err)
		return o.now().Add(retryCap)
	}
	var next time.Time
	for _, id := range ids {
		if ctx.Err() != nil {
			return time.Time{}
		}
		n, err := o.deliver(ctx, id)
		if err != nil {
			o.log.Error("hkr: delivery bookkeeping failed", "submission", id, "error", err)
			n = o.now().Add(retryCap)
		}
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next
}

// deliver attempts the pending bookings of one submission that are due.
func (o *Outbox) deliver(ctx context.Context, id string) (time.Time, error) {
	var rec stored
	var ok bool
	if err := o.db.View(func(tx *bbolt.Tx) (err error) {
		rec, ok, err = getStored(tx, id)
		return err
	}); err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, o.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketPending).Delete([]byte(id)) })
	}
	var next time.Time
	pending := false
	for i := range rec.Bookings {
		b := &rec.Bookings[i]
		if b.State != contract.BookingPending {
			continue
		}
		if b.NextAttempt.After(o.now()) {
			pending = true
			if next.IsZero() || b.NextAttempt.Before(next) {
				next = b.NextAttempt
			}
			continue
		}
		if o.d.On(DefectDoubleBookingOnRetry) && b.Attempts > 0 {
			b.AnordnungsNummerExtern = fmt.Sprintf("%s-1-%d", refOf(rec.Order), b.Attempts+1)
			if err := o.render(b, rec.Order); err != nil {
				return time.Time{}, err
			}
		}
		res := o.send(ctx, b.Payload, b.AnordnungsNummerExtern)
		if ctx.Err() != nil && res.transient {
			return time.Time{}, nil // shutting down: not an attempt
		}
		b.Attempts++
		switch {
		case res.transient && o.d.On(DefectDropBookingOn503) && res.status == http.StatusServiceUnavailable:
			b.State, b.Fehlertext = contract.BookingFailed, []string{res.problem}
		case res.transient:
			b.LastError = res.problem
			b.NextAttempt = o.now().Add(o.backoff(b.Attempts))
			pending = true
			if next.IsZero() || b.NextAttempt.Before(next) {
				next = b.NextAttempt
			}
			o.log.Warn("hkr: Anordnung not delivered, will retry", "submission", id, "anordnungsNummerExtern", b.AnordnungsNummerExtern, "attempt", b.Attempts, "problem", res.problem)
		case res.ok:
			b.State, b.LastError = contract.BookingBooked, ""
		default:
			b.State, b.Fehlertext = contract.BookingFailed, res.fehlertext
			o.log.Error("hkr: Anordnung refused", "submission", id, "anordnungsNummerExtern", b.AnordnungsNummerExtern, "fehlertext", res.fehlertext)
		}
	}
	err := o.db.Update(func(tx *bbolt.Tx) error {
		// Bookings Enqueue added while these were being sent (only rebook-on-redelivery adds to
		// a stored order) are kept, not overwritten: the defect must book twice every time.
		cur, ok, err := getStored(tx, id)
		if err != nil {
			return err
		}
		if ok && len(cur.Bookings) > len(rec.Bookings) {
			for _, b := range cur.Bookings[len(rec.Bookings):] {
				rec.Bookings = append(rec.Bookings, b)
				if b.State == contract.BookingPending {
					pending, next = true, o.now()
				}
			}
		}
		if err := putStored(tx, id, rec); err != nil {
			return err
		}
		if !pending {
			return tx.Bucket(bucketPending).Delete([]byte(id))
		}
		return nil
	})
	return next, err
}

func refOf(o Order) string {
	if o.CaseReference != "" {
		return o.CaseReference
	}
	return o.SubmissionID
}

// backoff is exponential from retryBase, capped at retryCap, with ±50 % jitter.
func (o *Outbox) backoff(attempt int) time.Duration {
	d := retryBase << min(attempt-1, 10)
	d = min(d, retryCap)
	o.rngMu.Lock()
	j := o.rng.Int64N(int64(d))
	o.rngMu.Unlock()
	return min(d/2+time.Duration(j), retryCap)
}

type sendResult struct {
	ok         bool
	transient  bool
	status     int
	problem    string
	fehlertext []string
}

func (o *Outbox) send(ctx context.Context, payload []byte, nummer string) sendResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(payload))
	if err != nil {
		return sendResult{fehlertext: []string{"nicht gesendet: " + err.Error()}}
	}
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	resp, err := o.client.Do(req)
	if err != nil {
		return sendResult{transient: true, problem: err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return sendResult{transient: true, status: resp.StatusCode, problem: "reading the answer: " + err.Error()}
	}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout:
		return sendResult{transient: true, status: resp.StatusCode, problem: "HKR answered " + resp.Status}
	case resp.StatusCode == http.StatusOK:
		a, err := parseAntwort(body, nummer)
		if err != nil {
			// An answer that does not say booked is no acknowledgement: send again.
			return sendResult{transient: true, status: resp.StatusCode, problem: err.Error()}
		}
		if o.d.On(DefectSwallowRejection) {
			return sendResult{ok: true, status: resp.StatusCode}
		}
		return sendResult{ok: a.ok, status: resp.StatusCode, fehlertext: a.fehlertext}
	case resp.StatusCode >= 400:
		texts := []string{"HKR answered " + resp.Status}
		if a, err := parseAntwort(body, nummer); err == nil && len(a.fehlertext) > 0 {
			texts = append(texts, a.fehlertext...)
		} else if s := strings.TrimSpace(string(body)); s != "" {
			texts = append(texts, truncate(s, 500))
		}
		return sendResult{status: resp.StatusCode, fehlertext: texts}
	default:
		return sendResult{transient: true, status: resp.StatusCode, problem: "HKR answered " + resp.Status}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
