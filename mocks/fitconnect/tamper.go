package fitconnect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// TamperTagRequest names the part whose authentication tag the delivery service's
// submit-submission event is to misstate: "metadata", "data" or "attachment:<id>".
type TamperTagRequest struct {
	Part string `json:"part"`
}

// otherTag returns a well-formed authentication tag that differs from tag.
func otherTag(tag string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tag)
	if err != nil || len(b) == 0 {
		return "", fmt.Errorf("authentication tag %q is not base64url", tag)
	}
	b[0] ^= 0xff
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ctlTamperSubmitTags signs the submission's submit-submission event again, correctly, with the
// authentication tag of one part replaced by another one: the event log then disagrees with the
// JWEs the delivery service serves, as after content was swapped in its store. Tamper while the
// submission is held back, before a subscriber can have seen the genuine event.
func (s *Server) ctlTamperSubmitTags(w http.ResponseWriter, r *http.Request) {
	var req TamperTagRequest
	if !decodeControl(w, r, &req) {
		return
	}
	id := strings.ToLower(r.PathValue("id"))
	s.mu.Lock()
	sub, ok := s.submissions[id]
	var c *caseLog
	idx := -1
	if ok {
		c = s.cases[sub.caseID]
		for i, e := range c.events {
			if e.Event == EventSubmitSubmission && e.Subject == "submission:"+id && !e.Injected {
				idx = i
			}
		}
	}
	var ev storedEvent
	if idx >= 0 {
		ev = c.events[idx]
	}
	s.mu.Unlock()
	if !ok || idx < 0 {
		controlFail(w, http.StatusNotFound, "no submitted submission "+id)
		return
	}
	var payload map[string]any
	if err := json.Unmarshal(ev.Payload, &payload); err != nil {
		controlFail(w, http.StatusInternalServerError, "submit-submission payload: "+err.Error())
		return
	}
	tags, _ := payload["authenticationTags"].(map[string]any)
	if tags == nil {
		controlFail(w, http.StatusInternalServerError, "submit-submission carries no authenticationTags")
		return
	}
	holder, key := tags, req.Part
	if aid, isAtt := strings.CutPrefix(req.Part, "attachment:"); isAtt {
		holder, _ = tags["attachments"].(map[string]any)
		key = aid
	} else if req.Part != "metadata" && req.Part != "data" {
		controlFail(w, http.StatusBadRequest, `part must be "metadata", "data" or "attachment:<id>", got `+req.Part)
		return
	}
	old, _ := holder[key].(string)
	if old == "" {
		controlFail(w, http.StatusNotFound, "submit-submission has no authentication tag for "+req.Part)
		return
	}
	changed, err := otherTag(old)
	if err != nil {
		controlFail(w, http.StatusInternalServerError, err.Error())
		return
	}
	holder[key] = changed
	raw, jti, err := s.issueSET(ev.Issuer, ev.Subject, sub.caseID, EventSubmitSubmission, payload)
	if err != nil {
		controlFail(w, http.StatusInternalServerError, err.Error())
		return
	}
	pl, _ := json.Marshal(payload)
	s.mu.Lock()
	delete(c.jtis, ev.jti)
	c.jtis[jti] = true
	ev.Raw, ev.Payload, ev.jti = raw, pl, jti
	c.events[idx] = ev
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"part": req.Part, "was": old, "now": changed})
}

// TamperSubmitTags makes the submission's submit-submission event state a wrong authentication
// tag for part ("metadata", "data" or "attachment:<id>"), signed correctly by the delivery service.
func (c *Control) TamperSubmitTags(ctx context.Context, submissionID, part string) error {
	return c.do(ctx, http.MethodPost, SubmissionsPath+"/"+url.PathEscape(submissionID)+"/submit-tags", TamperTagRequest{Part: part}, nil)
}
