package fitconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"
)

// TestThirdPartyClientQuirks drives the mock as a real third-party FIT-Connect client does:
// everything it sends is allowed by the Submission API 1.1.3, so the mock must take it.
func TestThirdPartyClientQuirks(t *testing.T) {
	e := newEnv(t)
	snd, sub := e.token(senderID), e.token(subscriberID)

	// serviceType.name "" (a string without minLength) and one attachment UUID announced twice,
	// once in upper case (announcedAttachments has no uniqueItems).
	aid := uuid.NewString()
	r := e.jsonCall("POST", "/v1/submissions", snd, map[string]any{"destinationId": e.destID,
		"announcedAttachments": []string{aid, aid, strings.ToUpper(aid)},
		"serviceType":          map[string]any{"name": "", "identifier": serviceURN}})
	expect(t, r, 201)
	created := r
	m := r.json(t)
	sid, caseID := m["submissionId"].(string), m["caseId"].(string)

	// One upload satisfies every announcement of the ID; a second one overwrites.
	att := "/v1/submissions/" + sid + "/attachments/" + aid
	expect(t, e.call("PUT", att, snd, "application/jose", strings.NewReader(encrypt(t, "first"))), 204)
	expect(t, e.call("PUT", att, snd, "application/jose", strings.NewReader(encrypt(t, "second"))), 204)
	r = e.jsonCall("PUT", "/v1/submissions/"+sid, snd, map[string]any{"encryptedMetadata": encrypt(t, "{}")})
	expect(t, r, 202)
	submitted := r
	var reduced struct {
		Attachments []string          `json:"attachments"`
		ServiceType map[string]string `json:"serviceType"`
	}
	must(t, json.Unmarshal(r.body, &reduced))
	if len(reduced.Attachments) != 1 || reduced.Attachments[0] != aid {
		t.Errorf("attachments %v, want the announced set [%s]", reduced.Attachments, aid)
	}
	if name, ok := reduced.ServiceType["name"]; !ok || name != "" {
		t.Errorf("serviceType %v, want the empty name echoed", reduced.ServiceType)
	}
	states, err := e.ctl.Submissions(context.Background())
	must(t, err)
	if len(states) != 1 || len(states[0].Attachments) != 1 || !states[0].Attachments[0].Uploaded || states[0].ServiceType.Name != "" {
		t.Errorf("snapshot %+v", states)
	}

	// limit=0 is below the declared minimum of 1 and the listing declares no 400: served as 1.
	r = e.call("GET", "/v1/submissions?limit=0", sub, "", nil)
	expect(t, r, 200)
	listed := r
	if l := r.json(t); l["count"] != float64(1) || l["totalCount"] != float64(1) {
		t.Errorf("limit=0 listing %s", r.body)
	}
	r = e.call("GET", "/v1/cases/"+caseID+"/events?limit=0&offset=-3", sub, "", nil)
	expect(t, r, 200)
	if l := r.json(t); l["count"] != float64(1) || l["offset"] != float64(0) || l["totalCount"] != float64(2) {
		t.Errorf("limit=0 event log %s", r.body)
	}

	// Unknown methods on known paths: 405 with Allow; unknown paths stay 404.
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/submissions/" + sid, "GET, HEAD, PUT"},
		{"PATCH", "/v1/submissions", "GET, HEAD, POST"},
		{"POST", "/v1/info", "GET, HEAD"},
		{"OPTIONS", "/v1/cases/" + caseID + "/events", "GET, HEAD, POST"},
	} {
		r := e.call(tc.method, tc.path, snd, "", nil)
		expect(t, r, 405)
		if got := r.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if p := r.json(t); p["type"] != ProblemBase+probMethodNotAllowed || p["status"] != float64(405) {
			t.Errorf("%s %s: problem %s", tc.method, tc.path, r.body)
		}
	}
	r = e.call("DELETE", "/v1/nothing", snd, "", nil)
	expect(t, r, 404)
	if r.header.Get("Allow") != "" {
		t.Errorf("404 with Allow %q", r.header.Get("Allow"))
	}

	// SETs the API and the documented rules allow: an iat ahead of the mock's clock, a
	// reject-submission whose problems list is empty (no $schema, so no payload validation).
	set := signSET(t, destSigKey, map[string]any{"jti": uuid.NewString(), "iss": e.destID, "iat": time.Now().Add(time.Hour).Unix(),
		"sub": "submission:" + sid, "txn": "case:" + caseID, "events": map[string]any{EventForwardSubmission: map[string]any{}}})
	expect(t, e.call("POST", "/v1/cases/"+caseID+"/events", sub, "application/jose", strings.NewReader(set)), 204)
	c := e.createAndSubmit(snd, 0, nil)
	reject := e.receiverSET(c.sub, c.caseID, EventRejectSubmission, map[string]any{"problems": []any{}})
	expect(t, e.call("POST", "/v1/cases/"+c.caseID+"/events", sub, "application/jose", strings.NewReader(reject)), 204)

	t.Run("answers conform to the OpenAPI", func(t *testing.T) {
		doc, err := openapi3.NewLoader().LoadFromFile(specPath(t))
		must(t, err)
		doc.Servers = openapi3.Servers{{URL: e.ts.URL}}
		router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
		must(t, err)
		for _, x := range []struct {
			method, path string
			res          result
		}{
			{"POST", "/v1/submissions", created},
			{"PUT", "/v1/submissions/" + sid, submitted},
			{"GET", "/v1/submissions?limit=0", listed},
		} {
			u, err := url.Parse(e.ts.URL + x.path)
			must(t, err)
			req := &http.Request{Method: x.method, URL: u, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(nil))}
			route, params, err := router.FindRoute(req)
			must(t, err)
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{IncludeResponseStatus: true}}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: x.res.status, Header: x.res.header, Options: in.Options}
			out.SetBodyBytes(x.res.body)
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("%s %s → %d: %v\n%s", x.method, x.path, x.res.status, err, x.res.body)
			}
		}
	})
}
