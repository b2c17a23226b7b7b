package fitconnect

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/konform/konform/mocks/recorder"
)

// Event URIs of the FIT-Connect event log.
const (
	EventBase              = "https://schema.fitko.de/fit-connect/events/"
	EventCreateSubmission  = EventBase + "create-submission"
	EventSubmitSubmission  = EventBase + "submit-submission"
	EventNotifySubmission  = EventBase + "notify-submission"
	EventForwardSubmission = EventBase + "forward-submission"
	EventAcceptSubmission  = EventBase + "accept-submission"
	EventRejectSubmission  = EventBase + "reject-submission"
	EventDeleteSubmission  = EventBase + "delete-submission"
	SETPayloadSchema       = "https://schema.fitko.de/fit-connect/set-payload/1.0.0/set-payload.schema.json"
	SETType                = "secevent+jwt"
)

var setSchemaRE = regexp.MustCompile(`^https://schema\.fitko\.de/fit-connect/set-payload/1\.\d+\.\d+/set-payload\.schema\.json$`)

// receiverTransitions: event → states it may follow → state it leads to.
var receiverTransitions = map[string]struct {
	from []string
	to   string
}{
	EventForwardSubmission: {[]string{StateSubmitted}, StateForwarded},
	EventAcceptSubmission:  {[]string{StateSubmitted, StateForwarded}, StateAccepted},
	EventRejectSubmission:  {[]string{StateSubmitted, StateForwarded}, StateRejected},
}

// nextState applies a receiver event to a submission state.
func nextState(state, event string) (string, error) {
	t, ok := receiverTransitions[event]
	if !ok {
		return "", fmt.Errorf("event %s is not one a receiver may post", event)
	}
	for _, f := range t.from {
		if f == state {
			return t.to, nil
		}
	}
	return "", fmt.Errorf("%s is not allowed in state %s", strings.TrimPrefix(event, EventBase), state)
}

// setClaims is a parsed, not yet trusted, SET.
type setClaims struct {
	kid, typ     string
	schema       string // $schema, "" when absent
	jti, iss     string
	sub, txn     string
	iat          int64
	event        string
	eventPayload json.RawMessage
	raw          string
	jws          *jose.JSONWebSignature
}

// parseSET checks the syntax of a FIT-Connect SET (header and claims) without verifying its
// signature.
func parseSET(raw string) (*setClaims, error) {
	raw = strings.TrimSpace(raw)
	if strings.Count(raw, ".") != 2 {
		return nil, errors.New("not a compact JWS: want three dot-separated segments")
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.PS512})
	if err != nil {
		return nil, fmt.Errorf("not a PS512-signed compact JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("want exactly one signature")
	}
	h := jws.Signatures[0].Protected
	c := &setClaims{raw: raw, jws: jws, kid: h.KeyID}
	c.typ, _ = h.ExtraHeaders[jose.HeaderType].(string)
	if c.typ != SETType {
		return nil, fmt.Errorf("header typ is %q, want %q", c.typ, SETType)
	}
	if c.kid == "" {
		return nil, errors.New("header kid missing")
	}
	dec := json.NewDecoder(bytes.NewReader(jws.UnsafePayloadWithoutVerification()))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("payload is not a JSON object: %v", err)
	}
	str := func(k string) (string, error) {
		v, ok := m[k].(string)
		if !ok || v == "" {
			return "", fmt.Errorf("claim %s missing or not a string", k)
		}
		return v, nil
	}
	if c.jti, err = str("jti"); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(c.jti); err != nil || len(c.jti) != 36 {
		return nil, fmt.Errorf("claim jti %q is not a UUID", c.jti)
	}
	if c.iss, err = str("iss"); err != nil {
		return nil, err
	}
	if c.sub, err = str("sub"); err != nil {
		return nil, err
	}
	if c.txn, err = str("txn"); err != nil {
		return nil, err
	}
	n, ok := m["iat"].(json.Number)
	if !ok {
		return nil, errors.New("claim iat missing or not a number")
	}
	if c.iat, err = strconv.ParseInt(n.String(), 10, 64); err != nil {
		return nil, fmt.Errorf("claim iat %s is not an integer", n)
	}
	if c.iat < 1577833200 {
		return nil, fmt.Errorf("claim iat %d lies before 2020", c.iat)
	}
	if s, has := m["$schema"]; has {
		sv, _ := s.(string)
		if !setSchemaRE.MatchString(sv) {
			return nil, fmt.Errorf("claim $schema %q is not a set-payload schema URI", sv)
		}
		c.schema = sv
	}
	events, ok := m["events"].(map[string]any)
	if !ok {
		return nil, errors.New("claim events missing or not an object")
	}
	if len(events) != 1 {
		return nil, fmt.Errorf("claim events holds %d events, want exactly one", len(events))
	}
	for k, v := range events {
		// RFC 8417 §2.2: an event is identified by a URI.
		if u, err := url.Parse(k); err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("event %q is not a URI", k)
		}
		if _, ok := v.(map[string]any); !ok {
			return nil, fmt.Errorf("payload of event %s is not an object", k)
		}
		c.event = k
		c.eventPayload, _ = json.Marshal(v)
	}
	return c, nil
}

// checkReceiverPayload checks the shape of the payload members the delivery service knows:
// problems is a list of problem objects, authenticationTags an object. Which members a problem
// must carry is the set-payload schema's to say, which the kit does not hold; suites judge them.
func checkReceiverPayload(payload json.RawMessage) error {
	var p struct {
		Problems           *[]map[string]any `json:"problems"`
		AuthenticationTags *map[string]any   `json:"authenticationTags"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("event payload: %v", err)
	}
	return nil
}

func (s *Server) handleGetEvents(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	caseID := strings.ToLower(r.PathValue("caseId"))
	limit, offset := paging(r)
	s.mu.Lock()
	c, found := s.cases[caseID]
	var all []string
	allowed := false
	if found {
		allowed = subscribes(cl, c.destinationID)
		if cl.Role == RoleSender {
			for _, sub := range s.submissions {
				if sub.caseID == caseID && sub.sender == cl.ID {
					allowed = true
				}
			}
		}
		for _, e := range c.events {
			all = append(all, e.Raw)
		}
	}
	s.mu.Unlock()
	if !found {
		s.problem(w, r, http.StatusNotFound, probCaseNotFound, "Case not found", "no case "+caseID)
		return
	}
	if !allowed {
		s.problem(w, r, http.StatusForbidden, probForbidden, "Forbidden", "client "+cl.ID+" may not read case "+caseID)
		return
	}
	p := page(all, limit, offset)
	writeJSON(w, http.StatusOK, map[string]any{"count": len(p), "offset": offset, "totalCount": len(all), "eventLog": p})
}

func (s *Server) handlePostEvent(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok || !s.requireRole(w, r, cl, RoleSubscriber) {
		return
	}
	caseID := strings.ToLower(r.PathValue("caseId"))
	s.mu.Lock()
	c, found := s.cases[caseID]
	s.mu.Unlock()
	if !found {
		s.problem(w, r, http.StatusNotFound, probCaseNotFound, "Case not found", "no case "+caseID)
		return
	}
	if !subscribes(cl, c.destinationID) {
		s.problem(w, r, http.StatusForbidden, probForbidden, "Forbidden", "client "+cl.ID+" may not post to case "+caseID)
		return
	}
	if mt := mediaType(r); mt != "application/jose" {
		s.problem(w, r, http.StatusBadRequest, probInvalidRequest, "Bad Request", "a SET is sent as application/jose, got "+strconv.Quote(r.Header.Get("Content-Type")))
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	invalid := func(detail string) {
		s.problem(w, r, http.StatusUnprocessableEntity, probInvalidEvent, "Invalid Security Event Token", detail)
	}
	set, err := parseSET(string(body))
	if err != nil {
		invalid(err.Error())
		return
	}
	s.mu.Lock()
	dest := s.destinations[c.destinationID]
	s.mu.Unlock()
	if dest == nil {
		invalid("destination " + c.destinationID + " of the case no longer exists")
		return
	}
	if set.iss != dest.ID {
		invalid("iss is " + strconv.Quote(set.iss) + ", want the destination ID " + dest.ID)
		return
	}
	if set.kid != dest.SigningKey.KeyID {
		invalid("kid " + strconv.Quote(set.kid) + " is not the destination's signing key " + strconv.Quote(dest.SigningKey.KeyID))
		return
	}
	pub, ok := dest.SigningKey.Public().Key.(*rsa.PublicKey)
	if !ok {
		invalid("destination has no RSA signing key")
		return
	}
	if _, err := set.jws.Verify(pub); err != nil {
		invalid("signature does not verify with the destination's signing key: " + err.Error())
		return
	}
	if set.txn != "case:"+caseID {
		invalid("txn is " + strconv.Quote(set.txn) + ", want " + strconv.Quote("case:"+caseID))
		return
	}
	subID, ok := strings.CutPrefix(set.sub, "submission:")
	if !ok || !validUUID(subID) {
		invalid("sub " + strconv.Quote(set.sub) + " is not submission:<uuid>")
		return
	}
	subID = strings.ToLower(subID)
	if _, known := receiverTransitions[set.event]; !known {
		invalid("event " + strconv.Quote(set.event) + " is not one a receiver may post")
		return
	}
	// The delivery service validates the payload of a SET that names its $schema, none other.
	if set.schema != "" {
		if err := checkReceiverPayload(set.eventPayload); err != nil {
			invalid(err.Error())
			return
		}
	}

	s.mu.Lock()
	sub, found := s.submissions[subID]
	if !found || sub.caseID != caseID {
		s.mu.Unlock()
		invalid("submission " + subID + " does not belong to case " + caseID)
		return
	}
	if c.jtis[set.jti] {
		s.mu.Unlock()
		s.problem(w, r, http.StatusConflict, probInvalidStateTransition, "Conflict", "an event with jti "+set.jti+" is already in the log")
		return
	}
	next, err := nextState(sub.state, set.event)
	if err != nil {
		s.mu.Unlock()
		s.problem(w, r, http.StatusConflict, probInvalidStateTransition, "Invalid state transition", err.Error())
		return
	}
	sub.state = next
	c.jtis[set.jti] = true
	s.logEvent(c, storedEvent{EventRecord: EventRecord{Event: set.event, Issuer: set.iss, Subject: set.sub,
		IssuedAt: set.iat, Payload: set.eventPayload, Raw: set.raw}, jti: set.jti})
	cbURL, cbSecret := sub.callbackURL, sub.callbackSecret
	ref := SubmissionRef{DestinationID: sub.destinationID, SubmissionID: sub.id, CaseID: sub.caseID}
	s.mu.Unlock()
	recorder.Note(r, "state "+next)
	w.WriteHeader(http.StatusNoContent)
	if cbURL != "" {
		if body, err := json.Marshal(newEventsCallback([]SubmissionRef{ref})); err == nil {
			s.notify(cbURL, cbSecret, body)
		}
	}
}

// issueSET signs a delivery-service SET.
func (s *Server) issueSET(iss, subject, caseID, event string, payload map[string]any) (string, string, error) {
	jti := uuid.NewString()
	claims := map[string]any{
		"jti": jti, "iss": iss, "iat": s.clock().Unix(),
		"sub": subject, "txn": "case:" + caseID,
	}
	ev := map[string]any{}
	if payload != nil {
		claims["$schema"] = SETPayloadSchema
		ev = payload
	}
	claims["events"] = map[string]any{event: ev}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", "", err
	}
	key, err := s.signingKey()
	if err != nil {
		return "", "", fmt.Errorf("signing SET: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS512,
		Key: jose.JSONWebKey{Key: key.Private, KeyID: key.Public.KeyID}},
		(&jose.SignerOptions{}).WithType(SETType))
	if err != nil {
		return "", "", fmt.Errorf("signing SET: %w", err)
	}
	obj, err := signer.Sign(body)
	if err != nil {
		return "", "", fmt.Errorf("signing SET: %w", err)
	}
	raw, err := obj.CompactSerialize()
	return raw, jti, err
}

// appendOwnEvent writes a delivery-service event for sub into its case log.
func (s *Server) appendOwnEvent(r *http.Request, sub *submission, event string, payload map[string]any) error {
	iss := s.baseURL(r)
	raw, jti, err := s.issueSET(iss, "submission:"+sub.id, sub.caseID, event, payload)
	if err != nil {
		return err
	}
	var pl json.RawMessage = []byte("{}")
	if payload != nil {
		pl, _ = json.Marshal(payload)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cases[sub.caseID]
	c.jtis[jti] = true
	s.logEvent(c, storedEvent{EventRecord: EventRecord{Event: event, Issuer: iss, Subject: "submission:" + sub.id,
		IssuedAt: s.clock().Unix(), Payload: pl, Raw: raw}, jti: jti})
	return nil
}
