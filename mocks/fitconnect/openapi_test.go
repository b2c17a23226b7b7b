package fitconnect

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/konform/konform/specs/specstest"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"

	"github.com/konform/konform/mocks/pki"
)

func specPath(t *testing.T) string { return specstest.File(t, "fit-connect/submission-api.yaml") }

type captured struct {
	req    *http.Request
	body   []byte
	status int
	header http.Header
	resp   []byte
}

// capture keeps a copy of every exchange small enough to validate.
func capture(next http.Handler, mu *sync.Mutex, out *[]captured) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		clone := r.Clone(context.Background())
		mu.Lock()
		*out = append(*out, captured{clone, body, rec.Code, rec.Header().Clone(), rec.Body.Bytes()})
		mu.Unlock()
	})
}

// TestOpenAPIConformance validates the mock's requests and answers for every path and method
// it serves against the Submission API 1.1.3 spec. The spec secures most operations with
// OAuth2; kin-openapi cannot check OAuth2 itself, so the AuthenticationFunc below only
// demands a bearer token where the spec names a security requirement.
func TestOpenAPIConformance(t *testing.T) {
	p := specPath(t)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(p)
	must(t, err)
	// The spec's own examples do not all conform to its schemas (a $ref inside an example).
	must(t, doc.Validate(context.Background(), openapi3.DisableExamplesValidation()))

	// The JWK schema demands a 4096-bit modulus, so this test uses real-size keys.
	keys := make([]*pki.Key, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, mk := range []func() (*pki.Key, error){
		func() (*pki.Key, error) { return pki.NewSigningKey("mock-set-key-4096") },
		func() (*pki.Key, error) { return pki.NewEncryptionKey("dest-enc-key-4096") },
		func() (*pki.Key, error) { return pki.NewSigningKey("dest-sig-key-4096") },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); keys[i], errs[i] = mk() }()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	testKeys(t)
	saveEnc, saveSig := destEncKey, destSigKey
	destEncKey, destSigKey = keys[1], keys[2]
	t.Cleanup(func() { destEncKey, destSigKey = saveEnc, saveSig })

	srv := New(WithSigningKey(keys[0]), WithDataDir(t.TempDir()), WithCallbackRetry(1, 0))
	var mu sync.Mutex
	var got []captured
	ts := httptest.NewServer(capture(srv, &mu, &got))
	t.Cleanup(func() { ts.Close(); _ = srv.Close() })
	e := &env{t: t, srv: srv, ts: ts, ctl: NewControl(ts.URL), destID: uuid.NewString(), dest2: uuid.NewString()}
	ctx := context.Background()
	must(t, e.ctl.Configure(ctx, Config{PublicBaseURL: ts.URL}))
	for _, id := range []string{e.destID, e.dest2} {
		must(t, e.ctl.AddDestination(ctx, e.destination(id, "")))
	}
	must(t, e.ctl.AddClient(ctx, Client{ID: senderID, Secret: secret, Role: RoleSender}))
	must(t, e.ctl.AddClient(ctx, Client{ID: subscriberID, Secret: secret, Role: RoleSubscriber, Destinations: []string{e.destID}}))
	must(t, e.ctl.AddClient(ctx, Client{ID: strangerID, Secret: secret, Role: RoleSubscriber, Destinations: []string{e.dest2}}))
	must(t, e.ctl.SetDestinationStatus(ctx, e.dest2, DestinationInactive))

	snd, sub, stranger := e.token(senderID), e.token(subscriberID), e.token(strangerID)
	// Technical endpoints and destinations.
	e.call("GET", "/v1/info", "", "", nil)
	e.call("GET", "/.well-known/jwks.json", "", "", nil)
	e.call("GET", "/v1/destinations/"+e.destID, snd, "", nil)
	e.call("GET", "/v1/destinations/"+uuid.NewString(), snd, "", nil)
	e.call("GET", "/v1/destinations/"+e.destID+"/keys/"+keys[1].Public.KeyID, "", "", nil)
	e.call("GET", "/v1/destinations/"+e.destID+"/keys/"+keys[2].Public.KeyID, "", "", nil)
	e.call("GET", "/v1/destinations/"+e.destID+"/keys/unknown-kid", "", "", nil)
	// Sender side with its error answers.
	st := map[string]any{"name": "Bauantrag", "identifier": serviceURN}
	e.jsonCall("POST", "/v1/submissions", snd, map[string]any{"destinationId": uuid.NewString(), "announcedAttachments": []string{}, "serviceType": st})
	e.jsonCall("POST", "/v1/submissions", snd, map[string]any{"destinationId": e.dest2, "announcedAttachments": []string{}, "serviceType": st})
	e.jsonCall("POST", "/v1/submissions", sub, map[string]any{"destinationId": e.destID, "announcedAttachments": []string{}, "serviceType": st})
	aid := uuid.NewString()
	r := e.jsonCall("POST", "/v1/submissions", snd, map[string]any{"destinationId": e.destID, "announcedAttachments": []string{aid},
		"serviceType": st, "callback": map[string]any{"url": "https://127.0.0.1:1/callbacks", "secret": cbSecret}})
	m := r.json(t)
	sid, caseID := m["submissionId"].(string), m["caseId"].(string)
	meta := encrypt(t, "{}")
	e.jsonCall("PUT", "/v1/submissions/"+sid, snd, map[string]any{"encryptedMetadata": meta})
	e.call("PUT", "/v1/submissions/"+sid+"/attachments/"+uuid.NewString(), snd, "application/jose", strings.NewReader(encrypt(t, "x")))
	e.call("PUT", "/v1/submissions/"+sid+"/attachments/"+aid, snd, "application/jose", strings.NewReader(encrypt(t, "x")))
	e.jsonCall("PUT", "/v1/submissions/"+sid, snd, map[string]any{"encryptedMetadata": meta, "encryptedData": encrypt(t, "<a/>")})
	// Receiver side.
	e.call("GET", "/v1/submissions?destinationId="+e.destID+"&limit=10&offset=0", sub, "", nil)
	e.call("GET", "/v1/submissions", sub, "", nil)
	e.call("GET", "/v1/submissions?destinationId="+e.dest2, sub, "", nil)
	e.call("GET", "/v1/submissions/"+sid, sub, "", nil)
	e.call("GET", "/v1/submissions/"+sid, stranger, "", nil)
	e.call("GET", "/v1/submissions/"+uuid.NewString(), sub, "", nil)
	e.call("GET", "/v1/submissions/"+sid+"/attachments/"+aid, sub, "", nil)
	e.call("GET", "/v1/submissions/"+sid+"/attachments/"+uuid.NewString(), sub, "", nil)
	e.call("GET", "/v1/cases/"+caseID+"/events", sub, "", nil)
	e.call("GET", "/v1/cases/"+caseID+"/events?limit=1&offset=1", snd, "", nil)
	e.call("GET", "/v1/cases/"+uuid.NewString()+"/events", sub, "", nil)
	e.call("POST", "/v1/cases/"+caseID+"/events", sub, "application/jose", strings.NewReader(e.receiverSET(sid, caseID, EventAcceptSubmission, nil)))
	e.call("POST", "/v1/cases/"+caseID+"/events", sub, "application/jose", strings.NewReader(e.receiverSET(sid, caseID, EventAcceptSubmission, nil)))
	e.call("POST", "/v1/cases/"+caseID+"/events", sub, "application/jose", strings.NewReader(signSET(t, otherSigKey, map[string]any{"jti": uuid.NewString()})))
	e.call("POST", "/v1/cases/"+caseID+"/events", snd, "application/jose", strings.NewReader(e.receiverSET(sid, caseID, EventAcceptSubmission, nil)))
	e.call("GET", "/v1/submissions", "", "", nil)

	doc.Servers = openapi3.Servers{{URL: ts.URL}}
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	must(t, err)
	openapi3filter.RegisterBodyDecoder("application/jose", openapi3filter.PlainBodyDecoder)
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.SecurityScheme.Type == "oauth2" && !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
				return errNoBearer
			}
			return nil
		},
	}
	covered := map[string]bool{}
	mu.Lock()
	defer mu.Unlock()
	for _, c := range got {
		if strings.HasPrefix(c.req.URL.Path, "/_konform/") || c.req.URL.Path == "/token" {
			continue
		}
		c.req.URL.Scheme, c.req.URL.Host = "http", strings.TrimPrefix(ts.URL, "http://")
		c.req.Body = io.NopCloser(bytes.NewReader(c.body))
		route, params, err := router.FindRoute(c.req)
		if err != nil {
			t.Errorf("%s %s: not in the spec: %v", c.req.Method, c.req.URL.Path, err)
			continue
		}
		covered[c.req.Method+" "+route.Path] = true
		in := &openapi3filter.RequestValidationInput{Request: c.req, PathParams: params, Route: route, Options: opts}
		authMissing := c.req.Header.Get("Authorization") == ""
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && !(authMissing && c.status == 401) {
			t.Errorf("%s %s: request does not conform: %v", c.req.Method, c.req.URL, err)
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: c.status, Header: c.header, Options: opts}
		out.SetBodyBytes(c.resp)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s → %d: response does not conform: %v\n%s", c.req.Method, c.req.URL, c.status, err, c.resp)
		}
	}
	served := []string{
		"GET /v1/info", "GET /.well-known/jwks.json", "GET /v1/destinations/{destinationId}",
		"GET /v1/destinations/{destinationId}/keys/{keyId}", "POST /v1/submissions", "GET /v1/submissions",
		"GET /v1/submissions/{submissionId}", "PUT /v1/submissions/{submissionId}",
		"PUT /v1/submissions/{submissionId}/attachments/{attachmentId}", "GET /v1/submissions/{submissionId}/attachments/{attachmentId}",
		"GET /v1/cases/{caseId}/events", "POST /v1/cases/{caseId}/events",
	}
	var missing []string
	for _, s := range served {
		if !covered[s] {
			missing = append(missing, s)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("not exercised against the spec: %v", missing)
	}
}

var errNoBearer = errorString("no bearer token")

type errorString string

func (e errorString) Error() string { return string(e) }

var _ routers.Router = (*legacy.Router)(nil)
