// Package hkr is the HKR system (Haushalts-, Kassen- und Rechnungswesen) mock: it takes XFinanz
// 3.1.0 kasseImport Anordnungen over HTTP, books each anordnungsNummerExtern once, answers with
// the matching antwort message, holds the payment platform's Ist records beside the booked Soll,
// and injects faults on request. It records; it never judges.
package hkr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/konform/konform/mocks/recorder"
)

// Actor is the recorder actor name of the HKR mock.
const Actor = "hkr"

// Server is the HKR mock. It is an http.Handler.
type Server struct {
	rec       *recorder.Recorder
	faults    faultSet
	now       func() time.Time
	maxBody   int64
	holdLimit time.Duration
	product   string
	log       *slog.Logger
	handler   http.Handler

	mu        sync.Mutex
	msgSeq    int64
	messages  []Message
	bookings  map[string]*Booking
	bookOrder []string
	payments  []PaymentRecord
}

// Option configures a Server.
type Option func(*Server)

// WithRecorder records into r instead of a fresh recorder for actor "hkr".
func WithRecorder(r *recorder.Recorder) Option { return func(s *Server) { s.rec = r } }

// WithFaults arms faults from the start, as if added over the control API.
func WithFaults(f ...Fault) Option {
	return func(s *Server) {
		for _, x := range f {
			if err := s.faults.add(x); err != nil {
				s.log.Error("hkr: fault option ignored", "fault", x.Kind, "error", err)
			}
		}
	}
}

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithMaxBody limits the size of an accepted message (default 8 MiB).
func WithMaxBody(n int64) Option { return func(s *Server) { s.maxBody = n } }

// WithHoldLimit bounds how long a timeout fault without DelayMS holds a request when the client
// does not give up first (default 2 minutes).
func WithHoldLimit(d time.Duration) Option { return func(s *Server) { s.holdLimit = d } }

// WithLogger sets the logger for the mock's own problems (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// New returns an HKR mock.
func New(opts ...Option) *Server {
	s := &Server{
		now:       time.Now,
		maxBody:   8 << 20,
		holdLimit: 2 * time.Minute,
		product:   "Konform HKR-Mock",
		log:       slog.New(slog.DiscardHandler),
		bookings:  map[string]*Booking{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.rec == nil {
		s.rec = recorder.New(Actor)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+recorder.ControlPrefix+"health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "actor": Actor})
	})
	mux.Handle("GET "+recorder.ExchangesPath, s.rec.Handler())
	mux.Handle("GET "+recorder.LastPath, s.rec.Handler())
	mux.Handle("PUT "+recorder.RetentionPath, s.rec.RetentionHandler())
	mux.HandleFunc("GET "+faultsPath, s.listFaults)
	mux.HandleFunc("POST "+faultsPath, s.addFault)
	mux.HandleFunc("DELETE "+faultsPath, s.clearFaults)
	mux.HandleFunc("GET "+messagesPath, s.listMessages)
	mux.HandleFunc("GET "+bookingsPath, s.listBookings)
	mux.HandleFunc("GET "+paymentsPath, s.listPayments)
	mux.HandleFunc("POST "+paymentsPath, s.addPayment)
	mux.HandleFunc("GET "+ledgerPath, s.ledger)
	mux.HandleFunc(recorder.ControlPrefix, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown control endpoint "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	})
	s.handler = mux
	return s
}

// Recorder returns the recorder holding the mock's exchanges.
func (s *Server) Recorder() *recorder.Recorder { return s.rec }

// AddFault arms a fault (same as POST /_konform/faults).
func (s *Server) AddFault(f Fault) error { return s.faults.add(f) }

// ClearFaults disarms all faults.
func (s *Server) ClearFaults() { s.faults.clear() }

// ServeHTTP serves the XFinanz endpoint (POST to any path outside /_konform/) and the control API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Path) >= len(recorder.ControlPrefix) && r.URL.Path[:len(recorder.ControlPrefix)] == recorder.ControlPrefix {
		s.handler.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodPost {
		s.rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "the HKR endpoint takes XFinanz messages by POST, not "+r.Method, http.StatusMethodNotAllowed)
		})).ServeHTTP(w, r)
		return
	}
	start := s.now()
	raw, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var p *parsed
	var parseErr error
	var fault Fault
	var faulted bool
	if readErr == nil {
		p, parseErr = parseMessage(raw)
		if parseErr == nil {
			fault, faulted = s.faults.next(p.keys())
		}
	}
	if faulted && (fault.Kind == FaultTimeout || fault.Kind == FaultReset || fault.Kind == FaultBookedReset) {
		s.dropConnection(w, r, raw, p, fault, start)
		return
	}
	s.rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case readErr != nil:
			var tooBig *http.MaxBytesError
			if errors.As(readErr, &tooBig) {
				s.refuse(w, r, raw, nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("message larger than %d bytes", s.maxBody))
				return
			}
			s.refuse(w, r, raw, nil, http.StatusBadRequest, "reading the request body failed: "+readErr.Error())
		case parseErr != nil:
			s.refuse(w, r, raw, p, http.StatusBadRequest, parseErr.Error())
		case faulted:
			s.serveFault(w, r, raw, p, fault)
		default:
			s.book(w, r, raw, p, nil)
		}
	})).ServeHTTP(w, r)
}

func (p *parsed) keys() []string {
	var k []string
	for _, ao := range p.aos {
		k = append(k, ao.AnordnungsNummerExtern)
		for _, pos := range ao.Positions {
			k = append(k, pos.Kassenzeichen)
		}
	}
	return k
}

// record stores a received message and returns its sequence number.
func (s *Server) record(m Message) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgSeq++
	m.Seq = s.msgSeq
	s.messages = append(s.messages, m)
	return m.Seq
}

func (s *Server) newMessage(raw []byte, p *parsed) Message {
	m := Message{Time: s.now().UTC(), Raw: append([]byte(nil), raw...), Positions: []Position{}, Anordnungen: []Anordnung{}}
	if p != nil {
		m.MessageType, m.Namespace, m.Payer = p.msgType, p.namespace, p.payer
		m.Anordnungen = append(m.Anordnungen, p.aos...)
		if len(p.aos) > 0 {
			first := p.aos[0]
			m.AnordnungsNummerExtern, m.Positions = first.AnordnungsNummerExtern, first.Positions
			m.Gesamtbetrag, m.AnzahlPositionen = first.Gesamtbetrag, first.AnzahlPositionen
		}
	}
	return m
}

func (s *Server) head(p *parsed) antwortHead {
	s.mu.Lock()
	id := s.msgSeq + 1
	s.mu.Unlock()
	h := antwortHead{product: s.product, version: "1", uebertragungsID: id, now: s.now()}
	if p != nil {
		h.senderProduct = p.senderProduct
	}
	return h
}

// refuse answers a message the mock cannot process with antwort.AnnahmeVerweigert.9901.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, raw []byte, p *parsed, status int, problem string) {
	m := s.newMessage(raw, p)
	m.Outcome, m.Problem, m.Status = OutcomeMalformed, problem, status
	m.Fehlertext = []string{problem}
	body, err := buildAnnahmeVerweigert(s.head(p), problem)
	s.record(m)
	recorder.Note(r, "malformed: "+problem)
	if err != nil {
		http.Error(w, problem, status)
		return
	}
	writeXML(w, status, body)
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, raw []byte, p *parsed, f Fault) {
	switch f.Kind {
	case FaultUnavailable:
		m := s.newMessage(raw, p)
		m.Outcome, m.Status = outcomeFault+f.Kind, http.StatusServiceUnavailable
		s.record(m)
		recorder.Note(r, "fault: unavailable (503)")
		w.Header().Set("Retry-After", "1")
		http.Error(w, "HKR system temporarily unavailable", http.StatusServiceUnavailable)
	case FaultSlow:
		recorder.Note(r, fmt.Sprintf("fault: slow (%d ms)", f.DelayMS))
		select {
		case <-time.After(time.Duration(f.DelayMS) * time.Millisecond):
		case <-r.Context().Done():
		}
		s.book(w, r, raw, p, &f)
	case FaultReject:
		text := f.Fehlertext
		if text == "" {
			text = "Anordnung abgelehnt: Buchung im HKR-Verfahren nicht möglich"
		}
		recorder.Note(r, "fault: reject ("+text+")")
		m := s.newMessage(raw, p)
		m.Outcome, m.Status, m.Fehlertext = OutcomeRejected, http.StatusOK, []string{text}
		answers := make([]aoAnswer, 0, len(p.aos))
		for i := range p.aos {
			m.Anordnungen[i].Outcome = OutcomeRejected
			answers = append(answers, aoAnswer{nummer: p.aos[i].AnordnungsNummerExtern, positions: apNummern(p.aos[i]), fehlertext: []string{text}})
		}
		body, err := buildAntwortAO(s.head(p), p, answers)
		s.record(m)
		if err != nil {
			http.Error(w, "building the antwort failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		writeXML(w, http.StatusOK, body)
	}
}

// dropConnection serves timeout, reset and booked-reset faults: no answer at all. The exchange
// is recorded here because the connection is taken over from the HTTP server.
func (s *Server) dropConnection(w http.ResponseWriter, r *http.Request, raw []byte, p *parsed, f Fault, start time.Time) {
	note := "fault: reset (connection closed without answer)"
	switch f.Kind {
	case FaultBookedReset:
		_, outcomes := s.commit(raw, p, &f, 0)
		note = "fault: booked-reset (" + strings.Join(outcomes, ", ") + "; connection closed without answer)"
	case FaultTimeout:
		hold := s.holdLimit
		if f.DelayMS > 0 {
			hold = time.Duration(f.DelayMS) * time.Millisecond
		}
		t := time.NewTimer(hold)
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
		note = fmt.Sprintf("fault: timeout (held %d ms, no answer)", time.Since(start).Milliseconds())
	}
	if f.Kind != FaultBookedReset {
		m := s.newMessage(raw, p)
		m.Outcome = outcomeFault + f.Kind
		s.record(m)
	}
	s.rec.Add(recorder.Exchange{
		Direction:   "inbound",
		Time:        start.UTC(),
		DurationMS:  time.Since(start).Milliseconds(),
		Method:      r.Method,
		URL:         r.URL.RequestURI(),
		Error:       "connection closed by the mock without an answer",
		ReqHeaders:  recorder.Redact(r.Header),
		RespHeaders: map[string][]string{},
		ReqBodySize: int64(len(raw)),
		ReqBodySHA:  sha256Hex(raw),
		ReqBody:     recorder.BodyOf(r.Header.Get("Content-Type"), raw, r.Header),
		RespBodySHA: sha256Hex(nil),
		Note:        note,
	})
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, response recorders): the closest is an answer that books nothing.
		http.Error(w, "HKR system did not answer in time", http.StatusGatewayTimeout)
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // a real RST, not an orderly FIN
	}
	_ = conn.Close()
}

func apNummern(ao Anordnung) []int {
	out := make([]int, 0, len(ao.Positions))
	for _, p := range ao.Positions {
		out = append(out, p.APNummer)
	}
	return out
}

// book books each Anordnung of the message once per anordnungsNummerExtern and answers OK.
func (s *Server) book(w http.ResponseWriter, r *http.Request, raw []byte, p *parsed, slow *Fault) {
	h, outcomes := s.commit(raw, p, slow, http.StatusOK)
	answers := make([]aoAnswer, 0, len(p.aos))
	for i, ao := range p.aos {
		answers = append(answers, aoAnswer{nummer: ao.AnordnungsNummerExtern, positions: apNummern(ao), ok: true})
		recorder.Note(r, outcomes[i])
	}
	body, err := buildAntwortAO(h, p, answers)
	if err != nil {
		http.Error(w, "building the antwort failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeXML(w, http.StatusOK, body)
}

// commit books each Anordnung of the message once per anordnungsNummerExtern and records the
// message with status (0: no answer sent). A fault that lets the booking through names the
// message's outcome. It returns the head for the answer and "outcome: number" per Anordnung.
func (s *Server) commit(raw []byte, p *parsed, fault *Fault, status int) (antwortHead, []string) {
	m := s.newMessage(raw, p)
	m.Status = status
	if fault != nil {
		m.Outcome = outcomeFault + fault.Kind
	}
	outcomes := make([]string, 0, len(p.aos))
	h := s.head(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, ao := range p.aos {
		outcome := OutcomeBooked
		if b, ok := s.bookings[ao.AnordnungsNummerExtern]; ok {
			b.Repeats++
			outcome = OutcomeRepeat
		} else {
			s.bookings[ao.AnordnungsNummerExtern] = &Booking{
				AnordnungsNummerExtern: ao.AnordnungsNummerExtern,
				MessageSeq:             s.msgSeq + 1,
				MessageType:            p.msgType,
				BookedAt:               s.now().UTC(),
				Gesamtbetrag:           ao.Gesamtbetrag,
				Positions:              ao.Positions,
			}
			s.bookOrder = append(s.bookOrder, ao.AnordnungsNummerExtern)
		}
		m.Anordnungen[i].Outcome = outcome
		if i == 0 && fault == nil {
			m.Outcome = outcome
		}
		outcomes = append(outcomes, outcome+": "+ao.AnordnungsNummerExtern)
	}
	// Recorded under the same lock so MessageSeq above names this message.
	s.msgSeq++
	m.Seq = s.msgSeq
	s.messages = append(s.messages, m)
	return h, outcomes
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Serve serves the mock on l until ctx ends, then shuts down gracefully (held requests are cut
// after a short grace period).
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		<-errc
		return nil
	}
}

// ListenAndServe listens on addr (e.g. ":8080") and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("hkr mock: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, l)
}
