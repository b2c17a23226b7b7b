package fitconnect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/konform/konform/mocks/recorder"
)

var serviceIdentifierRE = regexp.MustCompile(`^urn:[a-z0-9][a-z0-9-]{0,31}:[a-z0-9()+,.:=@;$_!*'%/?#-]+$`)

func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

// readBody reads a bounded request body; it answers 413 or 400 itself and returns false then.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxJSON))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.problem(w, r, http.StatusRequestEntityTooLarge, probPayloadTooLarge, "Request Entity Too Large",
				fmt.Sprintf("body exceeds %d bytes", mbe.Limit))
			return nil, false
		}
		s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", "body unreadable: "+err.Error())
		return nil, false
	}
	return body, true
}

// decodeJSONBody parses a JSON object body strictly enough to name what is wrong.
func decodeJSONBody(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body is not the expected JSON object: %v", err)
	}
	if dec.More() {
		return errors.New("body holds more than one JSON value")
	}
	return nil
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

type createCallback struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// createServiceType tells a missing name (required) from an empty one (allowed: the schema sets
// no minLength).
type createServiceType struct {
	Name        *string `json:"name"`
	Description string  `json:"description"`
	Identifier  string  `json:"identifier"`
}

type createSubmission struct {
	DestinationID        *string            `json:"destinationId"`
	AnnouncedAttachments *[]string          `json:"announcedAttachments"`
	ServiceType          *createServiceType `json:"serviceType"`
	CaseID               *string            `json:"caseId"`
	Callback             *createCallback    `json:"callback"`
	// announced is the set of announced attachments: lower-case, each once, in first-seen order.
	announced []string
}

// parseCreateSubmission checks a create-submission body against the CreateSubmission schema.
func parseCreateSubmission(body []byte) (createSubmission, error) {
	var cs createSubmission
	if err := decodeJSONBody(body, &cs); err != nil {
		return cs, err
	}
	switch {
	case cs.DestinationID == nil:
		return cs, errors.New("destinationId is required")
	case !validUUID(*cs.DestinationID):
		return cs, fmt.Errorf("destinationId %q is not a UUID", *cs.DestinationID)
	case cs.AnnouncedAttachments == nil:
		return cs, errors.New("announcedAttachments is required (may be an empty array)")
	case cs.ServiceType == nil:
		return cs, errors.New("serviceType is required")
	case cs.ServiceType.Name == nil:
		return cs, errors.New("serviceType.name is required (may be an empty string)")
	case len(cs.ServiceType.Identifier) < 7 || len(cs.ServiceType.Identifier) > 255 || !serviceIdentifierRE.MatchString(cs.ServiceType.Identifier):
		return cs, fmt.Errorf("serviceType.identifier %q is not a service URN", cs.ServiceType.Identifier)
	case cs.CaseID != nil && !validUUID(*cs.CaseID):
		return cs, fmt.Errorf("caseId %q is not a UUID", *cs.CaseID)
	}
	// The schema sets no uniqueItems: an ID announced twice names one attachment (a second PUT
	// under an ID overwrites), so the announced set holds it once.
	seen := map[string]bool{}
	for i, a := range *cs.AnnouncedAttachments {
		if !validUUID(a) {
			return cs, fmt.Errorf("announcedAttachments[%d] %q is not a UUID", i, a)
		}
		if id := strings.ToLower(a); !seen[id] {
			seen[id] = true
			cs.announced = append(cs.announced, id)
		}
	}
	if cb := cs.Callback; cb != nil {
		if err := checkCallbackURL(cb.URL); err != nil {
			return cs, fmt.Errorf("callback.url: %v", err)
		}
		if n := len(cb.Secret); n < 32 || n > 512 {
			return cs, fmt.Errorf("callback.secret must be 32 to 512 characters, got %d", n)
		}
	}
	return cs, nil
}

func (s *Server) handleCreateSubmission(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok || !s.requireRole(w, r, cl, RoleSender) {
		return
	}
	if mt := mediaType(r); mt != "application/json" {
		s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", "Content-Type must be application/json, got "+strconv.Quote(r.Header.Get("Content-Type")))
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	cs, err := parseCreateSubmission(body)
	if err != nil {
		s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", err.Error())
		return
	}
	destID := strings.ToLower(*cs.DestinationID)

	s.mu.Lock()
	dest, ok := s.destinations[destID]
	if !ok {
		s.mu.Unlock()
		s.problem(w, r, http.StatusNotFound, probDestinationNotFound, "Destination not found", "no destination "+destID)
		return
	}
	if dest.Status != DestinationActive {
		status := dest.Status
		s.mu.Unlock()
		s.problem(w, r, http.StatusUnprocessableEntity, probDestinationStateInvalid, "Destination state invalid",
			"destination "+destID+" is "+status+", submissions are accepted only while it is active")
		return
	}
	caseID := uuid.NewString()
	if cs.CaseID != nil {
		caseID = strings.ToLower(*cs.CaseID)
		c, ok := s.cases[caseID]
		if !ok {
			s.mu.Unlock()
			s.problem(w, r, http.StatusNotFound, probCaseNotFound, "Case not found", "no case "+caseID+" to add a submission to")
			return
		}
		if c.destinationID != destID {
			s.mu.Unlock()
			s.problem(w, r, http.StatusUnprocessableEntity, probInvalidRequest, "Case belongs to another destination",
				"case "+caseID+" belongs to destination "+c.destinationID)
			return
		}
	}
	sub := &submission{
		id: uuid.NewString(), destinationID: destID, caseID: caseID, sender: cl.ID,
		serviceType: ServiceType{Name: *cs.ServiceType.Name, Description: cs.ServiceType.Description, Identifier: cs.ServiceType.Identifier},
		announced:   cs.announced, uploaded: map[string]attachmentFile{},
		state: StateIncomplete, createdAt: s.clock(),
	}
	if cs.Callback != nil {
		sub.callbackURL, sub.callbackSecret = cs.Callback.URL, cs.Callback.Secret
	}
	s.submissions[sub.id] = sub
	s.order = append(s.order, sub.id)
	if _, ok := s.cases[caseID]; !ok {
		s.cases[caseID] = &caseLog{id: caseID, destinationID: destID, jtis: map[string]bool{}}
	}
	s.mu.Unlock()

	if err := s.appendOwnEvent(r, sub, EventCreateSubmission, nil); err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"destinationId": destID, "submissionId": sub.id, "caseId": caseID})
}

// lookupSubmission finds a submission by path value; it answers 400/404 itself.
func (s *Server) lookupSubmission(w http.ResponseWriter, r *http.Request) (*submission, bool) {
	id := strings.ToLower(r.PathValue("submissionId"))
	if !validUUID(id) {
		s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", "submissionId "+strconv.Quote(id)+" is not a UUID")
		return nil, false
	}
	s.mu.Lock()
	sub, ok := s.submissions[id]
	s.mu.Unlock()
	if !ok {
		s.problem(w, r, http.StatusNotFound, probSubmissionNotFound, "Submission not found", "no submission "+id)
		return nil, false
	}
	return sub, true
}

func (s *Server) senderOwns(w http.ResponseWriter, r *http.Request, cl Client, sub *submission) bool {
	if !s.requireRole(w, r, cl, RoleSender) {
		return false
	}
	if sub.sender != cl.ID {
		s.problem(w, r, http.StatusForbidden, probForbidden, "Forbidden", "submission "+sub.id+" was created by another client")
		return false
	}
	return true
}

func (s *Server) subscriberOf(w http.ResponseWriter, r *http.Request, cl Client, destID string) bool {
	if !s.requireRole(w, r, cl, RoleSubscriber) {
		return false
	}
	if !subscribes(cl, destID) {
		s.problem(w, r, http.StatusForbidden, probForbidden, "Forbidden", "client "+cl.ID+" may not access destination "+destID)
		return false
	}
	return true
}

func (s *Server) handlePutAttachment(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	sub, ok := s.lookupSubmission(w, r)
	if !ok || !s.senderOwns(w, r, cl, sub) {
		return
	}
	aid := strings.ToLower(r.PathValue("attachmentId"))
	if !validUUID(aid) {
		s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", "attachmentId "+strconv.Quote(aid)+" is not a UUID")
		return
	}
	if mt := mediaType(r); mt != "application/jose" {
		s.problem(w, r, http.StatusUnsupportedMediaType, probUnsupportedMediaType, "Unsupported Media Type",
			"attachments are sent as application/jose, got "+strconv.Quote(r.Header.Get("Content-Type")))
		return
	}
	s.mu.Lock()
	state, announced := sub.state, slices.Contains(sub.announced, aid)
	s.mu.Unlock()
	if !announced {
		s.problem(w, r, http.StatusUnprocessableEntity, probAttachmentNotAnnounced, "Attachment not announced",
			"attachment "+aid+" was not announced for submission "+sub.id)
		return
	}
	if state != StateIncomplete {
		s.problem(w, r, http.StatusUnprocessableEntity, probSubmissionStateInvalid, "Submission state invalid",
			"submission "+sub.id+" is "+state+"; attachments can be added only before it is submitted")
		return
	}
	if r.ContentLength > s.maxAttach {
		s.problem(w, r, http.StatusRequestEntityTooLarge, probPayloadTooLarge, "Request Entity Too Large",
			fmt.Sprintf("attachment of %d bytes exceeds the limit of %d bytes", r.ContentLength, s.maxAttach))
		return
	}

	dir := filepath.Join(s.dataDir, "attachments", sub.id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", "storing attachment: "+err.Error())
		return
	}
	tmp, err := os.CreateTemp(dir, aid+".*.part")
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", "storing attachment: "+err.Error())
		return
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	check := newJWEChecker()
	n, err := io.Copy(io.MultiWriter(tmp, check), http.MaxBytesReader(w, r.Body, s.maxAttach))
	closeErr := tmp.Close()
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			s.problem(w, r, http.StatusRequestEntityTooLarge, probPayloadTooLarge, "Request Entity Too Large",
				fmt.Sprintf("attachment exceeds the limit of %d bytes", mbe.Limit))
		case check.err != nil:
			s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", "attachment: "+check.err.Error())
		default:
			s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", "reading attachment: "+err.Error())
		}
		return
	}
	if closeErr != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", "storing attachment: "+closeErr.Error())
		return
	}
	tag, err := check.finish()
	if err != nil {
		s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", "attachment: "+err.Error())
		return
	}
	final := filepath.Join(dir, aid+".jwe")
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.state != StateIncomplete {
		s.problemLocked(w, r, http.StatusUnprocessableEntity, probSubmissionStateInvalid, "Submission state invalid",
			"submission "+sub.id+" was submitted while the attachment was uploading")
		return
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		s.problemLocked(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", "storing attachment: "+err.Error())
		return
	}
	sub.uploaded[aid] = attachmentFile{path: final, size: n, tag: tag}
	w.WriteHeader(http.StatusNoContent)
}

// problemLocked writes a problem while s.mu is held (problem itself reads the config).
func (s *Server) problemLocked(w http.ResponseWriter, r *http.Request, status int, kind, title, detail string) {
	s.mu.Unlock()
	defer s.mu.Lock()
	s.problem(w, r, status, kind, title, detail)
}

type submitSubmission struct {
	EncryptedMetadata *string `json:"encryptedMetadata"`
	EncryptedData     *string `json:"encryptedData"`
}

func parseSubmitSubmission(body []byte) (submitSubmission, map[string]string, error) {
	var ss submitSubmission
	if err := decodeJSONBody(body, &ss); err != nil {
		return ss, nil, err
	}
	if ss.EncryptedMetadata == nil {
		return ss, nil, errors.New("encryptedMetadata is required")
	}
	tags := map[string]string{}
	tag, err := checkCompactJWE(*ss.EncryptedMetadata)
	if err != nil {
		return ss, nil, fmt.Errorf("encryptedMetadata: %v", err)
	}
	tags["metadata"] = tag
	if ss.EncryptedData != nil {
		tag, err := checkCompactJWE(*ss.EncryptedData)
		if err != nil {
			return ss, nil, fmt.Errorf("encryptedData: %v", err)
		}
		tags["data"] = tag
	}
	return ss, tags, nil
}

func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	sub, ok := s.lookupSubmission(w, r)
	if !ok || !s.senderOwns(w, r, cl, sub) {
		return
	}
	if mt := mediaType(r); mt != "application/json" {
		s.problem(w, r, http.StatusUnsupportedMediaType, probUnsupportedMediaType, "Unsupported Media Type",
			"Content-Type must be application/json, got "+strconv.Quote(r.Header.Get("Content-Type")))
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	ss, tags, err := parseSubmitSubmission(body)
	if err != nil {
		s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", err.Error())
		return
	}
	s.mu.Lock()
	if sub.state != StateIncomplete {
		state := sub.state
		s.mu.Unlock()
		s.problem(w, r, http.StatusUnprocessableEntity, probSubmissionStateInvalid, "Submission state invalid",
			"submission "+sub.id+" is already "+state)
		return
	}
	if missing := sub.missingAttachments(); len(missing) > 0 {
		s.mu.Unlock()
		s.problem(w, r, http.StatusUnprocessableEntity, probMissingAttachments, "Announced attachments missing",
			"announced attachments not uploaded: "+strings.Join(missing, ", "))
		return
	}
	attTags := map[string]string{}
	for id, f := range sub.uploaded {
		attTags[id] = f.tag
	}
	s.mu.Unlock()

	// The submit-submission event is signed first and stored in the same step that makes the
	// submission submitted: a subscriber never lists a submission whose event is not yet there.
	payload := map[string]any{"authenticationTags": map[string]any{"metadata": tags["metadata"], "attachments": attTags}}
	if t, ok := tags["data"]; ok {
		payload["authenticationTags"].(map[string]any)["data"] = t
	}
	iss := s.baseURL(r)
	raw, jti, err := s.issueSET(iss, "submission:"+sub.id, sub.caseID, EventSubmitSubmission, payload)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", err.Error())
		return
	}
	pl, _ := json.Marshal(payload)
	content := storedContent{EncryptedMetadata: *ss.EncryptedMetadata}
	if ss.EncryptedData != nil {
		content.EncryptedData = *ss.EncryptedData
	}
	contentPath, err := s.storeContent(sub.id, content)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", err.Error())
		return
	}

	s.mu.Lock()
	if sub.state != StateIncomplete {
		state := sub.state
		s.mu.Unlock()
		s.problem(w, r, http.StatusUnprocessableEntity, probSubmissionStateInvalid, "Submission state invalid",
			"submission "+sub.id+" is already "+state)
		return
	}
	sub.contentPath = contentPath
	now := s.clock()
	sub.state, sub.submittedAt = StateSubmitted, &now
	sub.held = s.holds[sub.destinationID]
	held := sub.held
	c := s.cases[sub.caseID]
	c.jtis[jti] = true
	s.logEvent(c, storedEvent{EventRecord: EventRecord{Event: EventSubmitSubmission, Issuer: iss,
		Subject: "submission:" + sub.id, IssuedAt: now.Unix(), Payload: pl, Raw: raw}, jti: jti})
	resp := s.reducedLocked(sub)
	dest := s.destinations[sub.destinationID]
	var cbURL, cbSecret string
	if dest != nil {
		cbURL, cbSecret = dest.CallbackURL, dest.CallbackSecret
	}
	s.mu.Unlock()

	writeJSON(w, http.StatusAccepted, resp)
	if cbURL != "" && !held {
		body, err := json.Marshal(newSubmissionsCallback([]SubmissionRef{{DestinationID: sub.destinationID, SubmissionID: sub.id, CaseID: sub.caseID}}))
		if err == nil {
			s.notify(cbURL, cbSecret, body)
		}
	}
}

func (s *Server) reducedLocked(sub *submission) map[string]any {
	m := map[string]any{
		"destinationId": sub.destinationID,
		"submissionId":  sub.id,
		"caseId":        sub.caseID,
		"attachments":   sub.uploadedIDs(),
		"serviceType":   sub.serviceType,
	}
	if sub.callbackURL != "" {
		m["callback"] = map[string]string{"url": sub.callbackURL}
	}
	return m
}

func pickable(state string) bool { return state == StateSubmitted || state == StateForwarded }

// held reports whether sub is held back from subscribers; it answers 404 as for an unknown
// submission then. s.mu must be held.
func heldBack(sub *submission) bool { return sub.held }

func (s *Server) handleGetSubmission(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	sub, ok := s.lookupSubmission(w, r)
	if !ok || !s.subscriberOf(w, r, cl, sub.destinationID) {
		return
	}
	s.mu.Lock()
	if heldBack(sub) {
		s.mu.Unlock()
		s.problem(w, r, http.StatusNotFound, probSubmissionNotFound, "Submission not found", "no submission "+sub.id)
		return
	}
	if !pickable(sub.state) {
		state := sub.state
		s.mu.Unlock()
		s.problem(w, r, http.StatusNotFound, probSubmissionNotFound, "Submission not found",
			"submission "+sub.id+" is "+state+", only submitted or forwarded submissions can be fetched")
		return
	}
	m := s.reducedLocked(sub)
	contentPath := sub.contentPath
	s.mu.Unlock()
	content, err := loadContent(contentPath)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", err.Error())
		return
	}
	m["encryptedMetadata"] = content.EncryptedMetadata
	if content.EncryptedData != "" {
		m["encryptedData"] = content.EncryptedData
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) handleGetAttachment(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	sub, ok := s.lookupSubmission(w, r)
	if !ok || !s.subscriberOf(w, r, cl, sub.destinationID) {
		return
	}
	aid := strings.ToLower(r.PathValue("attachmentId"))
	s.mu.Lock()
	state := sub.state
	f, found := sub.uploaded[aid]
	isHeld := heldBack(sub)
	s.mu.Unlock()
	if isHeld {
		s.problem(w, r, http.StatusNotFound, probSubmissionNotFound, "Submission not found", "no submission "+sub.id)
		return
	}
	if !pickable(state) {
		s.problem(w, r, http.StatusNotFound, probSubmissionNotFound, "Submission not found",
			"submission "+sub.id+" is "+state+", only submitted or forwarded submissions can be fetched")
		return
	}
	if !found {
		s.problem(w, r, http.StatusNotFound, probAttachmentNotFound, "Attachment not found", "submission "+sub.id+" has no attachment "+aid)
		return
	}
	file, err := os.Open(f.path)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", "reading attachment: "+err.Error())
		return
	}
	defer file.Close()
	w.Header().Set("Content-Type", "application/jose")
	w.Header().Set("Content-Length", strconv.FormatInt(f.size, 10))
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, file)
}

// Paging bounds of the Submission API (components.parameters limit and offset).
const (
	defaultLimit = 100
	maxLimit     = 500
)

// paging reads limit (1–500, default 100) and offset (≥0, default 0). The paged operations
// declare no 400, so a value outside the declared range is served as the nearest one inside it
// (limit=0 as 1, limit=900 as 500, offset=-1 as 0) and one that is no integer as the default;
// recorder notes keep what was asked.
func paging(r *http.Request) (limit, offset int) {
	limit, offset = defaultLimit, 0
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			recorder.Note(r, "limit "+strconv.Quote(v)+" is no integer; served as "+strconv.Itoa(defaultLimit))
		case n < 1 || n > maxLimit:
			limit = min(max(n, 1), maxLimit)
			recorder.Note(r, "limit "+v+" is outside 1–500; served as "+strconv.Itoa(limit))
		default:
			limit = n
		}
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			recorder.Note(r, "offset "+strconv.Quote(v)+" is no non-negative integer; served as 0")
		} else {
			offset = n
		}
	}
	return limit, offset
}

func page[T any](all []T, limit, offset int) []T {
	if offset >= len(all) {
		return []T{}
	}
	end := min(offset+limit, len(all))
	return all[offset:end]
}

func (s *Server) handleListSubmissions(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok || !s.requireRole(w, r, cl, RoleSubscriber) {
		return
	}
	limit, offset := paging(r)
	// The operation declares no 400: a destinationId that is no UUID names no destination the
	// client subscribes, so it gets the 403 of any foreign destination; an empty one filters nothing.
	destFilter := strings.ToLower(r.URL.Query().Get("destinationId"))
	if destFilter != "" && !s.subscriberOf(w, r, cl, destFilter) {
		return
	}
	s.mu.Lock()
	all := []SubmissionRef{}
	for _, id := range s.order {
		sub := s.submissions[id]
		if sub.state != StateSubmitted || sub.held || !subscribes(cl, sub.destinationID) {
			continue
		}
		if destFilter != "" && sub.destinationID != destFilter {
			continue
		}
		all = append(all, SubmissionRef{DestinationID: sub.destinationID, SubmissionID: sub.id, CaseID: sub.caseID})
	}
	// A server may answer fewer items than asked for; clients follow totalCount.
	if s.maxPage > 0 && limit > s.maxPage {
		limit = s.maxPage
	}
	s.mu.Unlock()
	p := page(all, limit, offset)
	recorder.Note(r, fmt.Sprintf("listing: offset %d, count %d, totalCount %d", offset, len(p), len(all)))
	writeJSON(w, http.StatusOK, map[string]any{"count": len(p), "offset": offset, "totalCount": len(all), "submissions": p})
}

// SubmissionRef names a submission in lists and callbacks.
type SubmissionRef struct {
	DestinationID string `json:"destinationId"`
	SubmissionID  string `json:"submissionId"`
	CaseID        string `json:"caseId"`
}

// storedContent is what a submit carried: kept on disk, beside the attachments, so that the
// mock's memory does not grow with the submissions it holds.
type storedContent struct {
	EncryptedMetadata string `json:"encryptedMetadata"`
	EncryptedData     string `json:"encryptedData,omitempty"`
}

func (s *Server) storeContent(submissionID string, c storedContent) (string, error) {
	dir := filepath.Join(s.dataDir, "submissions")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("storing the submission: %w", err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, submissionID+".json")
	if err := os.WriteFile(path, b, 0o640); err != nil {
		return "", fmt.Errorf("storing the submission: %w", err)
	}
	return path, nil
}

func loadContent(path string) (storedContent, error) {
	var c storedContent
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("reading the stored submission: %w", err)
	}
	return c, json.Unmarshal(b, &c)
}
