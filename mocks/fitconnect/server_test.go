package fitconnect

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

func TestToken(t *testing.T) {
	e := newEnv(t)
	post := func(v url.Values) result {
		return e.call("POST", "/token", "", "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	}
	r := post(url.Values{"grant_type": {"client_credentials"}, "client_id": {subscriberID}, "client_secret": {secret}})
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["token_type"] != "Bearer" || m["access_token"] == "" || m["expires_in"] != float64(1800) || m["scope"] != "subscribe:destination:"+e.destID {
		t.Errorf("token answer %v", m)
	}
	for name, tc := range map[string]struct {
		v      url.Values
		status int
		err    string
	}{
		"wrong secret":  {url.Values{"grant_type": {"client_credentials"}, "client_id": {senderID}, "client_secret": {"nope"}}, 401, "invalid_client"},
		"unknown":       {url.Values{"grant_type": {"client_credentials"}, "client_id": {"who"}, "client_secret": {secret}}, 401, "invalid_client"},
		"no grant":      {url.Values{"client_id": {senderID}, "client_secret": {secret}}, 400, "invalid_request"},
		"wrong grant":   {url.Values{"grant_type": {"password"}, "client_id": {senderID}, "client_secret": {secret}}, 400, "unsupported_grant_type"},
		"no credential": {url.Values{"grant_type": {"client_credentials"}}, 401, "invalid_client"},
	} {
		r := post(tc.v)
		if r.status != tc.status || r.json(t)["error"] != tc.err {
			t.Errorf("%s: %d %s, want %d %s", name, r.status, r.body, tc.status, tc.err)
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, WithClock(clock), WithTokenTTL(time.Minute))
	tok := e.token(subscriberID)
	expect(t, e.call("GET", "/v1/submissions", tok, "", nil), 200)
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	r := e.call("GET", "/v1/submissions", tok, "", nil)
	expect(t, r, 401)
	if !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
	expect(t, e.call("GET", "/v1/submissions", "", "", nil), 401)
	expect(t, e.call("GET", "/v1/submissions", "forged", "", nil), 401)
	must(t, e.ctl.Configure(context.Background(), Config{TokenTTLSeconds: 5}))
	r = e.call("POST", "/token", "", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "client_id": {senderID}, "client_secret": {secret}}.Encode()))
	if r.json(t)["expires_in"] != float64(5) {
		t.Errorf("configured TTL not applied: %s", r.body)
	}
}

func TestTechnicalEndpoints(t *testing.T) {
	e := newEnv(t)
	r := e.call("GET", "/v1/info", "", "", nil)
	expect(t, r, 200)
	if v, _ := r.json(t)["version"].(map[string]any); v["major"] != float64(1) {
		t.Errorf("info %s", r.body)
	}
	r = e.call("GET", "/.well-known/jwks.json", "", "", nil)
	expect(t, r, 200)
	var set jose.JSONWebKeySet
	must(t, json.Unmarshal(r.body, &set))
	if len(set.Keys) != 1 || set.Keys[0].KeyID != mockKey.Public.KeyID || !set.Keys[0].IsPublic() {
		t.Errorf("jwks %s", r.body)
	}
	if !strings.Contains(string(r.body), `"key_ops":["verify"]`) {
		t.Errorf("jwks lacks key_ops: %s", r.body)
	}
	k, err := e.ctl.SigningKey(context.Background())
	must(t, err)
	if k.KeyID != mockKey.Public.KeyID {
		t.Errorf("control signing key %q", k.KeyID)
	}
	expect(t, e.call("GET", "/v1/nothing", "", "", nil), 404)
}

func TestDestination(t *testing.T) {
	e := newEnv(t)
	tok := e.token(senderID)
	r := e.call("GET", "/v1/destinations/"+e.destID, tok, "", nil)
	expect(t, r, 200)
	if r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}
	m := r.json(t)
	if m["encryptionKid"] != destEncKey.Public.KeyID || m["status"] != "active" {
		t.Errorf("destination %s", r.body)
	}
	expect(t, e.call("GET", "/v1/destinations/"+e.destID, "", "", nil), 401)
	expect(t, e.call("GET", "/v1/destinations/"+uuid.NewString(), tok, "", nil), 404)

	r = e.call("GET", "/v1/destinations/"+e.destID+"/keys/"+destEncKey.Public.KeyID, "", "", nil)
	expect(t, r, 200)
	var k jose.JSONWebKey
	must(t, json.Unmarshal(r.body, &k))
	if !k.IsPublic() || k.Algorithm != "RSA-OAEP-256" || len(k.Certificates) != 2 || !strings.Contains(string(r.body), `"key_ops":["wrapKey"]`) {
		t.Errorf("encryption key %s", r.body)
	}
	r = e.call("GET", "/v1/destinations/"+e.destID+"/keys/"+destSigKey.Public.KeyID, "", "", nil)
	expect(t, r, 200)
	if !strings.Contains(string(r.body), `"key_ops":["verify"]`) {
		t.Errorf("signing key %s", r.body)
	}
	expect(t, e.call("GET", "/v1/destinations/"+e.destID+"/keys/unknown-kid", "", "", nil), 404)
}

func TestCreateSubmissionErrors(t *testing.T) {
	e := newEnv(t)
	tok := e.token(senderID)
	good := func() map[string]any {
		return map[string]any{"destinationId": e.destID, "announcedAttachments": []string{},
			"serviceType": map[string]any{"name": "Bauantrag", "identifier": serviceURN}}
	}
	expect(t, e.jsonCall("POST", "/v1/submissions", tok, good()), 201)
	expect(t, e.jsonCall("POST", "/v1/submissions", "", good()), 401)
	expect(t, e.jsonCall("POST", "/v1/submissions", e.token(subscriberID), good()), 403)

	unknown := good()
	unknown["destinationId"] = uuid.NewString()
	r := e.jsonCall("POST", "/v1/submissions", tok, unknown)
	expect(t, r, 404)
	if r.json(t)["type"] != ProblemBase+"destination-not-found" {
		t.Errorf("problem %s", r.body)
	}
	must(t, e.ctl.SetDestinationStatus(context.Background(), e.dest2, DestinationInactive))
	inactive := good()
	inactive["destinationId"] = e.dest2
	r = e.jsonCall("POST", "/v1/submissions", tok, inactive)
	expect(t, r, 422)
	if r.json(t)["type"] != ProblemBase+"destination-state-invalid" {
		t.Errorf("problem %s", r.body)
	}
	for name, mutate := range map[string]func(m map[string]any){
		"no destination":  func(m map[string]any) { delete(m, "destinationId") },
		"bad destination": func(m map[string]any) { m["destinationId"] = "x" },
		"no attachments":  func(m map[string]any) { delete(m, "announcedAttachments") },
		"bad attachment":  func(m map[string]any) { m["announcedAttachments"] = []string{"nope"} },
		"no service name": func(m map[string]any) { m["serviceType"] = map[string]any{"identifier": serviceURN} },
		"no service":      func(m map[string]any) { delete(m, "serviceType") },
		"bad service urn": func(m map[string]any) { m["serviceType"] = map[string]any{"name": "x", "identifier": "Bauantrag"} },
		"bad callback":    func(m map[string]any) { m["callback"] = map[string]any{"url": "ftp://x", "secret": cbSecret} },
		"short secret":    func(m map[string]any) { m["callback"] = map[string]any{"url": "https://x.example", "secret": "short"} },
		"bad case":        func(m map[string]any) { m["caseId"] = "123" },
	} {
		m := good()
		mutate(m)
		if r := e.jsonCall("POST", "/v1/submissions", tok, m); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	expect(t, e.call("POST", "/v1/submissions", tok, "application/json", strings.NewReader("{")), 400)
	expect(t, e.call("POST", "/v1/submissions", tok, "text/plain", strings.NewReader("{}")), 400)
	withCase := good()
	withCase["caseId"] = uuid.NewString()
	expect(t, e.jsonCall("POST", "/v1/submissions", tok, withCase), 404)
}

func TestSubmissionLifecycle(t *testing.T) {
	e := newEnv(t)
	snd, sub := e.token(senderID), e.token(subscriberID)
	aid := uuid.NewString()
	r := e.jsonCall("POST", "/v1/submissions", snd, map[string]any{"destinationId": e.destID, "announcedAttachments": []string{aid},
		"serviceType": map[string]any{"name": "Bauantrag", "identifier": serviceURN}})
	expect(t, r, 201)
	m := r.json(t)
	sid, caseID := m["submissionId"].(string), m["caseId"].(string)
	if !validUUID(sid) || !validUUID(caseID) || m["destinationId"] != e.destID {
		t.Fatalf("create answer %s", r.body)
	}
	attPath := "/v1/submissions/" + sid + "/attachments/" + aid
	att := encrypt(t, "the attachment")

	// attachment errors
	expect(t, e.call("PUT", attPath, snd, "application/octet-stream", strings.NewReader(att)), 415)
	expect(t, e.call("PUT", "/v1/submissions/"+sid+"/attachments/"+uuid.NewString(), snd, "application/jose", strings.NewReader(att)), 422)
	expect(t, e.call("PUT", attPath, snd, "application/jose", strings.NewReader("a.b.c")), 400)
	expect(t, e.call("PUT", attPath, snd, "application/jose", strings.NewReader("not jwe!")), 400)
	expect(t, e.call("PUT", attPath, sub, "application/jose", strings.NewReader(att)), 403)
	expect(t, e.call("PUT", "/v1/submissions/"+uuid.NewString()+"/attachments/"+aid, snd, "application/jose", strings.NewReader(att)), 404)

	// submit before the attachment is there
	meta, data := encrypt(t, `{"contentStructure":{}}`), encrypt(t, "<antrag/>")
	r = e.jsonCall("PUT", "/v1/submissions/"+sid, snd, map[string]any{"encryptedMetadata": meta, "encryptedData": data})
	expect(t, r, 422)
	if !strings.Contains(string(r.body), aid) {
		t.Errorf("missing-attachment problem does not name %s: %s", aid, r.body)
	}
	expect(t, e.call("PUT", attPath, snd, "application/jose", strings.NewReader(att)), 204)
	expect(t, e.call("PUT", attPath, snd, "application/jose", strings.NewReader(att)), 204) // overwrite
	expect(t, e.call("PUT", "/v1/submissions/"+sid, snd, "text/plain", strings.NewReader("{}")), 415)
	expect(t, e.jsonCall("PUT", "/v1/submissions/"+sid, snd, map[string]any{"encryptedData": data}), 400)
	expect(t, e.jsonCall("PUT", "/v1/submissions/"+sid, snd, map[string]any{"encryptedMetadata": "x.y"}), 400)

	// the subscriber cannot see it yet
	expect(t, e.call("GET", "/v1/submissions/"+sid, sub, "", nil), 404)
	r = e.jsonCall("PUT", "/v1/submissions/"+sid, snd, map[string]any{"encryptedMetadata": meta, "encryptedData": data})
	expect(t, r, 202)
	if got := r.json(t)["attachments"]; len(got.([]any)) != 1 {
		t.Errorf("submit answer %s", r.body)
	}
	expect(t, e.jsonCall("PUT", "/v1/submissions/"+sid, snd, map[string]any{"encryptedMetadata": meta}), 422)
	expect(t, e.call("PUT", attPath, snd, "application/jose", strings.NewReader(att)), 422)

	// receiver side
	r = e.call("GET", "/v1/submissions/"+sid, sub, "", nil)
	expect(t, r, 200)
	m = r.json(t)
	if m["encryptedMetadata"] != meta || m["encryptedData"] != data || m["caseId"] != caseID {
		t.Errorf("submission %s", r.body)
	}
	expect(t, e.call("GET", "/v1/submissions/"+sid, snd, "", nil), 403)
	expect(t, e.call("GET", "/v1/submissions/"+sid, e.token(strangerID), "", nil), 403)
	expect(t, e.call("GET", "/v1/submissions/not-a-uuid", sub, "", nil), 400)
	r = e.call("GET", attPath, sub, "", nil)
	expect(t, r, 200)
	if string(r.body) != att || r.header.Get("Content-Type") != "application/jose" {
		t.Errorf("attachment came back as %q (%s)", r.body, r.header.Get("Content-Type"))
	}
	expect(t, e.call("GET", "/v1/submissions/"+sid+"/attachments/"+uuid.NewString(), sub, "", nil), 404)

	// event log: create-submission and submit-submission, signed by the mock
	r = e.call("GET", "/v1/cases/"+caseID+"/events", sub, "", nil)
	expect(t, r, 200)
	var log struct {
		TotalCount int      `json:"totalCount"`
		EventLog   []string `json:"eventLog"`
	}
	must(t, json.Unmarshal(r.body, &log))
	if log.TotalCount != 2 {
		t.Fatalf("event log %s", r.body)
	}
	for i, want := range []string{EventCreateSubmission, EventSubmitSubmission} {
		jws, err := jose.ParseSigned(log.EventLog[i], []jose.SignatureAlgorithm{jose.PS512})
		must(t, err)
		payload, err := jws.Verify(mockKey.Public.Key)
		must(t, err)
		var c map[string]any
		must(t, json.Unmarshal(payload, &c))
		if _, ok := c["events"].(map[string]any)[want]; !ok || c["iss"] != e.ts.URL || c["sub"] != "submission:"+sid || c["txn"] != "case:"+caseID {
			t.Errorf("event %d: %s", i, payload)
		}
		if jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType] != SETType {
			t.Errorf("event %d typ %v", i, jws.Signatures[0].Protected.ExtraHeaders)
		}
		if want == EventSubmitSubmission && !strings.Contains(string(payload), "authenticationTags") {
			t.Errorf("submit-submission lacks authenticationTags: %s", payload)
		}
	}
	expect(t, e.call("GET", "/v1/cases/"+caseID+"/events", snd, "", nil), 200)
	expect(t, e.call("GET", "/v1/cases/"+caseID+"/events", e.token(strangerID), "", nil), 403)
	expect(t, e.call("GET", "/v1/cases/"+uuid.NewString()+"/events", sub, "", nil), 404)

	// accept, then the state machine refuses more
	expect(t, e.call("POST", "/v1/cases/"+caseID+"/events", sub, "application/jose",
		strings.NewReader(e.receiverSET(sid, caseID, EventAcceptSubmission, nil))), 204)
	expect(t, e.call("POST", "/v1/cases/"+caseID+"/events", sub, "application/jose",
		strings.NewReader(e.receiverSET(sid, caseID, EventAcceptSubmission, nil))), 409)
	expect(t, e.call("POST", "/v1/cases/"+caseID+"/events", sub, "application/jose",
		strings.NewReader(e.receiverSET(sid, caseID, EventRejectSubmission, map[string]any{"problems": []any{map[string]any{"type": "x", "title": "y"}}}))), 409)
	expect(t, e.call("GET", "/v1/submissions/"+sid, sub, "", nil), 404)

	states, err := e.ctl.Submissions(context.Background())
	must(t, err)
	if len(states) != 1 || states[0].State != StateAccepted || len(states[0].Events) != 3 || states[0].Events[2].Event != EventAcceptSubmission ||
		!states[0].Attachments[0].Uploaded || states[0].Attachments[0].Size != int64(len(att)) {
		t.Errorf("control view %+v", states)
	}
}

func TestStateMachine(t *testing.T) {
	for _, tc := range []struct {
		state, event, want string
	}{
		{StateSubmitted, EventForwardSubmission, StateForwarded},
		{StateSubmitted, EventAcceptSubmission, StateAccepted},
		{StateForwarded, EventAcceptSubmission, StateAccepted},
		{StateSubmitted, EventRejectSubmission, StateRejected},
		{StateForwarded, EventRejectSubmission, StateRejected},
		{StateIncomplete, EventAcceptSubmission, ""},
		{StateAccepted, EventAcceptSubmission, ""},
		{StateAccepted, EventRejectSubmission, ""},
		{StateRejected, EventAcceptSubmission, ""},
		{StateForwarded, EventForwardSubmission, ""},
		{StateSubmitted, EventSubmitSubmission, ""},
	} {
		got, err := nextState(tc.state, tc.event)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("%s + %s = %q, %v; want %q", tc.state, tc.event, got, err, tc.want)
		}
	}
}

func TestPostEventErrors(t *testing.T) {
	e := newEnv(t)
	snd, sub := e.token(senderID), e.token(subscriberID)
	c := e.createAndSubmit(snd, 0, nil)
	post := func(tok, caseID, set string) result {
		return e.call("POST", "/v1/cases/"+caseID+"/events", tok, "application/jose", strings.NewReader(set))
	}
	claims := func() map[string]any {
		return map[string]any{"jti": uuid.NewString(), "iss": e.destID, "iat": time.Now().Unix(),
			"sub": "submission:" + c.sub, "txn": "case:" + c.caseID, "events": map[string]any{EventAcceptSubmission: map[string]any{}}}
	}
	expect(t, post(snd, c.caseID, e.receiverSET(c.sub, c.caseID, EventAcceptSubmission, nil)), 403)
	expect(t, post(e.token(strangerID), c.caseID, e.receiverSET(c.sub, c.caseID, EventAcceptSubmission, nil)), 403)
	expect(t, post(sub, uuid.NewString(), e.receiverSET(c.sub, c.caseID, EventAcceptSubmission, nil)), 404)
	expect(t, e.call("POST", "/v1/cases/"+c.caseID+"/events", sub, "application/json", strings.NewReader("{}")), 400)

	cases := map[string]string{
		"garbage":   "not a set",
		"wrong key": signSET(t, otherSigKey, claims()),
		"unknown event": signSET(t, destSigKey, func() map[string]any {
			m := claims()
			m["events"] = map[string]any{EventBase + "x": map[string]any{}}
			return m
		}()),
		"zd event": signSET(t, destSigKey, func() map[string]any {
			m := claims()
			m["events"] = map[string]any{EventSubmitSubmission: map[string]any{}}
			return m
		}()),
		"two events": signSET(t, destSigKey, func() map[string]any {
			m := claims()
			m["events"] = map[string]any{EventAcceptSubmission: map[string]any{}, EventRejectSubmission: map[string]any{}}
			return m
		}()),
		"wrong iss":    signSET(t, destSigKey, func() map[string]any { m := claims(); m["iss"] = e.dest2; return m }()),
		"wrong txn":    signSET(t, destSigKey, func() map[string]any { m := claims(); m["txn"] = "case:" + uuid.NewString(); return m }()),
		"bad sub":      signSET(t, destSigKey, func() map[string]any { m := claims(); m["sub"] = "reply:" + c.sub; return m }()),
		"foreign sub":  signSET(t, destSigKey, func() map[string]any { m := claims(); m["sub"] = "submission:" + uuid.NewString(); return m }()),
		"jti not uuid": signSET(t, destSigKey, func() map[string]any { m := claims(); m["jti"] = "1"; return m }()),
		"no iat":       signSET(t, destSigKey, func() map[string]any { m := claims(); delete(m, "iat"); return m }()),
		"early iat":    signSET(t, destSigKey, func() map[string]any { m := claims(); m["iat"] = 1500000000; return m }()),
		"bad schema":   signSET(t, destSigKey, func() map[string]any { m := claims(); m["$schema"] = "https://example.org"; return m }()),
		"problems not a list": signSET(t, destSigKey, func() map[string]any {
			m := claims()
			m["$schema"] = SETPayloadSchema
			m["events"] = map[string]any{EventRejectSubmission: map[string]any{"problems": "none"}}
			return m
		}()),
	}
	for name, set := range cases {
		r := post(sub, c.caseID, set)
		if r.status != 422 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	// wrong typ header
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS512, Key: jose.JSONWebKey{Key: destSigKey.Private, KeyID: destSigKey.Public.KeyID}}, (&jose.SignerOptions{}).WithType("JWT"))
	must(t, err)
	b, _ := json.Marshal(claims())
	obj, err := signer.Sign(b)
	must(t, err)
	jwt, _ := obj.CompactSerialize()
	expect(t, post(sub, c.caseID, jwt), 422)

	// forward then reject works; then accept conflicts
	expect(t, post(sub, c.caseID, e.receiverSET(c.sub, c.caseID, EventForwardSubmission, nil)), 204)
	expect(t, post(sub, c.caseID, e.receiverSET(c.sub, c.caseID, EventRejectSubmission, map[string]any{"problems": []any{map[string]any{"type": "https://schema.fitko.de/fit-connect/events/problems/x", "title": "t"}}})), 204)
	expect(t, post(sub, c.caseID, e.receiverSET(c.sub, c.caseID, EventAcceptSubmission, nil)), 409)
	// the same SET twice conflicts
	c2 := e.createAndSubmit(snd, 0, nil)
	set := e.receiverSET(c2.sub, c2.caseID, EventForwardSubmission, nil)
	expect(t, post(sub, c2.caseID, set), 204)
	expect(t, post(sub, c2.caseID, set), 409)
}

func TestListSubmissions(t *testing.T) {
	e := newEnv(t)
	snd, sub := e.token(senderID), e.token(subscriberID)
	var ids []string
	for range 5 {
		ids = append(ids, e.createAndSubmit(snd, 0, nil).sub)
	}
	// an incomplete one never shows
	expect(t, e.jsonCall("POST", "/v1/submissions", snd, map[string]any{"destinationId": e.destID, "announcedAttachments": []string{},
		"serviceType": map[string]any{"name": "x", "identifier": serviceURN}}), 201)
	type list struct {
		Count, Offset, TotalCount int
		Submissions               []SubmissionRef
	}
	get := func(q string) list {
		r := e.call("GET", "/v1/submissions"+q, sub, "", nil)
		expect(t, r, 200)
		var l list
		must(t, json.Unmarshal(r.body, &l))
		return l
	}
	if l := get(""); l.TotalCount != 5 || l.Count != 5 || l.Submissions[0].SubmissionID != ids[0] {
		t.Errorf("all: %+v", l)
	}
	if l := get("?destinationId=" + e.destID + "&limit=2&offset=2"); l.Count != 2 || l.Offset != 2 || l.TotalCount != 5 || l.Submissions[0].SubmissionID != ids[2] {
		t.Errorf("page: %+v", l)
	}
	if l := get("?offset=10"); l.Count != 0 || l.Submissions == nil {
		t.Errorf("past the end: %+v", l)
	}
	// The listing declares no 400: values outside the declared ranges are served as the nearest
	// value inside them, non-integers as the default.
	for q, want := range map[string]list{
		"?limit=0": {Count: 1, TotalCount: 5}, "?limit=501": {Count: 5, TotalCount: 5}, "?limit=x": {Count: 5, TotalCount: 5},
		"?offset=-1&limit=2": {Count: 2, TotalCount: 5}, "?offset=x": {Count: 5, TotalCount: 5}, "?destinationId=": {Count: 5, TotalCount: 5},
	} {
		if l := get(q); l.Count != want.Count || l.Offset != 0 || l.TotalCount != want.TotalCount || l.Submissions[0].SubmissionID != ids[0] {
			t.Errorf("%s: %+v", q, l)
		}
	}
	expect(t, e.call("GET", "/v1/submissions?destinationId=x", sub, "", nil), 403)
	expect(t, e.call("GET", "/v1/submissions?destinationId="+e.dest2, sub, "", nil), 403)
	expect(t, e.call("GET", "/v1/submissions", snd, "", nil), 403)
	if r := e.call("GET", "/v1/submissions", e.token(strangerID), "", nil); !strings.Contains(string(r.body), `"totalCount":0`) {
		t.Errorf("stranger sees %s", r.body)
	}
}

func TestAttachmentSizeLimit(t *testing.T) {
	e := newEnv(t, WithMaxAttachmentSize(1024))
	snd := e.token(senderID)
	aid := uuid.NewString()
	r := e.jsonCall("POST", "/v1/submissions", snd, map[string]any{"destinationId": e.destID, "announcedAttachments": []string{aid},
		"serviceType": map[string]any{"name": "x", "identifier": serviceURN}})
	sid := r.json(t)["submissionId"].(string)
	expect(t, e.call("PUT", "/v1/submissions/"+sid+"/attachments/"+aid, snd, "application/jose", strings.NewReader(encrypt(t, strings.Repeat("x", 2000)))), 413)
	// chunked, without Content-Length
	expect(t, e.call("PUT", "/v1/submissions/"+sid+"/attachments/"+aid, snd, "application/jose", io.MultiReader(strings.NewReader(encrypt(t, strings.Repeat("x", 2000))))), 413)
}

// jweStream is a JWE-shaped body of n ciphertext bytes, generated on the fly.
type jweStream struct {
	head, tail string
	n          int64
	pos        int64
}

func newJWEStream(n int64) *jweStream {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RSA-OAEP-256","enc":"A256GCM","cty":"application/pdf"}`))
	return &jweStream{head: h + ".a2V5.aXY.", tail: ".dGFnLXRhZy10YWctdGFn", n: n}
}

func (s *jweStream) size() int64 { return int64(len(s.head)) + s.n + int64(len(s.tail)) }

func (s *jweStream) Read(p []byte) (int, error) {
	total := s.size()
	if s.pos >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && s.pos < total {
		switch {
		case s.pos < int64(len(s.head)):
			p[i] = s.head[s.pos]
		case s.pos < int64(len(s.head))+s.n:
			p[i] = 'A' + byte(s.pos%26)
		default:
			p[i] = s.tail[s.pos-int64(len(s.head))-s.n]
		}
		i++
		s.pos++
	}
	return i, nil
}

func TestLargeAttachmentStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("67 MB attachment skipped in -short mode")
	}
	e := newEnv(t)
	snd, sub := e.token(senderID), e.token(subscriberID)
	aid := uuid.NewString()
	r := e.jsonCall("POST", "/v1/submissions", snd, map[string]any{"destinationId": e.destID, "announcedAttachments": []string{aid},
		"serviceType": map[string]any{"name": "x", "identifier": serviceURN}})
	sid, caseID := r.json(t)["submissionId"].(string), r.json(t)["caseId"].(string)
	_ = caseID
	body := newJWEStream(67 << 20)
	want := sha256.New()
	_, _ = io.Copy(want, newJWEStream(67<<20))

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequest("PUT", e.ts.URL+"/v1/submissions/"+sid+"/attachments/"+aid, body)
	req.ContentLength = body.size()
	req.Header.Set("Authorization", "Bearer "+snd)
	req.Header.Set("Content-Type", "application/jose")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	expect(t, e.jsonCall("PUT", "/v1/submissions/"+sid, snd, map[string]any{"encryptedMetadata": encrypt(t, "{}")}), 202)
	req, _ = http.NewRequest("GET", e.ts.URL+"/v1/submissions/"+sid+"/attachments/"+aid, nil)
	req.Header.Set("Authorization", "Bearer "+sub)
	resp, err = http.DefaultClient.Do(req)
	must(t, err)
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	must(t, err)
	runtime.ReadMemStats(&after)
	if n != body.size() || string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatalf("downloaded %d bytes, digest differs or size (want %d)", n, body.size())
	}
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 24<<20 {
		t.Errorf("heap grew by %d MB while streaming 67 MB", grew>>20)
	}
}
