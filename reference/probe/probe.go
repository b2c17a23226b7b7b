// Package probe serves the read-only probe API of the SUT contract (§3) as a view over the
// reference's case store: it reports what was stored, never re-parses a message.
package probe

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/store"
)

// BookingsFunc returns the bookings of a submission.
type BookingsFunc func(submissionID string) ([]contract.Booking, error)

// Handler serves /konform/v1/.
type Handler struct {
	store    *store.Store
	info     contract.Info
	bookings BookingsFunc
	log      *slog.Logger
	mux      *http.ServeMux
}

// Option configures a Handler.
type Option func(*Handler)

// WithInfo sets the answer of /konform/v1/info.
func WithInfo(i contract.Info) Option { return func(h *Handler) { h.info = i } }

// WithBookings sets where bookings come from.
func WithBookings(f BookingsFunc) Option { return func(h *Handler) { h.bookings = f } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// New returns the probe handler.
func New(st *store.Store, opts ...Option) *Handler {
	h := &Handler{store: st, log: slog.New(slog.DiscardHandler),
		info: contract.Info{ContractVersion: contract.Version, Product: "Konform Referenz-Fachverfahren", ProductVersion: "1.0.0"}}
	for _, o := range opts {
		o(h)
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET "+contract.ProbeInfoPath, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, h.info) })
	h.mux.HandleFunc("GET "+contract.ProbeCasesPath, h.cases)
	h.mux.HandleFunc("GET "+contract.ProbePrefix+"/submissions/{id}", h.submission)
	h.mux.HandleFunc("GET "+contract.ProbePrefix+"/xta/messages/{id}", h.xtaMessage)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

type problemJSON struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if status >= 400 {
		w.Header().Set("Content-Type", "application/problem+json")
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (h *Handler) cases(w http.ResponseWriter, _ *http.Request) {
	c, err := h.store.Cases()
	if err != nil {
		h.log.Error("probe: read cases", "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, problemJSON{Title: "case store not readable", Status: 500})
		return
	}
	writeJSON(w, http.StatusOK, contract.CaseList{Cases: c})
}

func (h *Handler) submission(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || strings.Contains(id, "/") {
		writeJSON(w, http.StatusNotFound, problemJSON{Title: "submission not found", Status: 404})
		return
	}
	h.record(w, id, "")
}

// xtaMessage serves the record of a message that came over XTA; the path carries its MessageID
// path-escaped (the mux hands it over unescaped, so a MessageID may contain "/").
func (h *Handler) xtaMessage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" {
		writeJSON(w, http.StatusNotFound, problemJSON{Title: "XTA message not found", Status: 404})
		return
	}
	h.record(w, id, contract.TransportXTA)
}

// record writes the record of a stored submission or XTA message; one of another transport than
// asked for is not found.
func (h *Handler) record(w http.ResponseWriter, id, transport string) {
	sub, err := h.store.Get(id)
	if err == nil && sub.Transport != transport {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		title := "submission not found"
		if transport == contract.TransportXTA {
			title = "XTA message not found"
		}
		writeJSON(w, http.StatusNotFound, problemJSON{Title: title, Status: 404, Detail: "not taken in (yet)"})
		return
	}
	if err != nil {
		h.log.Error("probe: read submission", "submissionId", id, "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, problemJSON{Title: "case store not readable", Status: 500})
		return
	}
	rec := contract.Record{
		SubmissionID: sub.SubmissionID, Transport: sub.Transport, XTAMessageID: sub.XTAMessageID, CaseID: sub.CaseID, DestinationID: sub.DestinationID,
		Status: sub.Decision, ReceivedAt: sub.ReceivedAt.UTC(), Problems: []contract.Problem{}, Case: sub.Case,
		ServiceIdentifier: sub.ServiceIdentifier, DataSchemaURI: sub.DataSchemaURI, Fields: sub.Fields,
		Attachments: sub.Attachments, Payment: sub.Payment, Bookings: []contract.Booking{},
	}
	if !sub.EventPosted {
		rec.Status = contract.StatusProcessing
	}
	if rec.Fields == nil {
		rec.Fields = map[string]string{}
	}
	if rec.Attachments == nil {
		rec.Attachments = []contract.Attachment{}
	}
	for _, p := range sub.Problems {
		rec.Problems = append(rec.Problems, contract.Problem{Type: p.Type, Instance: p.Instance, Title: p.Title})
	}
	if h.bookings != nil {
		b, err := h.bookings(id)
		if err != nil {
			h.log.Error("probe: read bookings", "submissionId", id, "error", err.Error())
			writeJSON(w, http.StatusInternalServerError, problemJSON{Title: "bookings not readable", Status: 500})
			return
		}
		if b != nil {
			rec.Bookings = b
		}
	}
	writeJSON(w, http.StatusOK, rec)
}
