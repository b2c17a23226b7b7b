package fitconnect

import (
	"encoding/json"
	"net/http"

	"github.com/konform/konform/mocks/recorder"
)

// ProblemBase prefixes the RFC 7807 problem types of the Submission API.
const ProblemBase = "https://schema.fitko.de/fit-connect/submission-api/problems/"

// Problem is an RFC 7807 problem document.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// Problem type names (appended to ProblemBase). The first three are the ones the FIT-Connect
// clients know; the others follow the same scheme.
const (
	probDestinationNotFound     = "destination-not-found"
	probDestinationStateInvalid = "destination-state-invalid"
	probSubmissionNotFound      = "submission-not-found"
	probCaseNotFound            = "case-not-found"
	probAttachmentNotFound      = "attachment-not-found"
	probAttachmentNotAnnounced  = "attachment-not-announced"
	probMissingAttachments      = "missing-attachments"
	probSubmissionStateInvalid  = "submission-state-invalid"
	probInvalidRequest          = "invalid-request"
	probUnsupportedMediaType    = "unsupported-media-type"
	probPayloadTooLarge         = "payload-too-large"
	probUnauthorized            = "unauthorized"
	probForbidden               = "forbidden"
	probInvalidStateTransition  = "invalid-state-transition"
	probInvalidEvent            = "invalid-event"
	probNotFound                = "not-found"
	probMethodNotAllowed        = "method-not-allowed"
	probInternal                = "internal-error"
	probInjectedFault           = "injected-fault"
)

func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, kind, title, detail string) {
	recorder.Note(r, kind+": "+detail)
	p := Problem{Type: ProblemBase + kind, Title: title, Status: status, Detail: detail,
		Instance: s.baseURL(r) + r.URL.Path}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
