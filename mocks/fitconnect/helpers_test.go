package fitconnect

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/konform/konform/mocks/pki"
)

var (
	keysOnce                        sync.Once
	mockKey, destEncKey, destSigKey *pki.Key
	otherSigKey                     *pki.Key
	keysErr                         error
)

// testKeys makes the 2048-bit keys the tests share, side by side.
func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var wg sync.WaitGroup
		var errs [4]error
		gen := func(i int, f func() (*pki.Key, error), dst **pki.Key) {
			defer wg.Done()
			*dst, errs[i] = f()
		}
		wg.Add(4)
		go gen(0, func() (*pki.Key, error) { return pki.NewSigningKey("mock-set-key-1", pki.WithBits(2048)) }, &mockKey)
		go gen(1, func() (*pki.Key, error) { return pki.NewEncryptionKey("dest-enc-key-1", pki.WithBits(2048)) }, &destEncKey)
		go gen(2, func() (*pki.Key, error) { return pki.NewSigningKey("dest-sig-key-1", pki.WithBits(2048)) }, &destSigKey)
		go gen(3, func() (*pki.Key, error) { return pki.NewSigningKey("dest-sig-key-1", pki.WithBits(2048)) }, &otherSigKey)
		wg.Wait()
		for _, e := range errs {
			if e != nil {
				keysErr = e
			}
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
}

const (
	senderID     = "sender-1"
	subscriberID = "subscriber-1"
	strangerID   = "subscriber-2"
	secret       = "s3cret-s3cret-s3cret"
	serviceURN   = "urn:de:fim:leika:leistung:99010003001006"
	cbSecret     = "callback-secret-0123456789-abcdefghij"
)

type env struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	ctl    *Control
	destID string
	dest2  string
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	testKeys(t)
	opts = append([]Option{WithSigningKey(mockKey), WithDataDir(t.TempDir()), WithCallbackRetry(3, 10*time.Millisecond)}, opts...)
	srv := New(opts...)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); _ = srv.Close() })
	e := &env{t: t, srv: srv, ts: ts, ctl: NewControl(ts.URL), destID: uuid.NewString(), dest2: uuid.NewString()}
	ctx := context.Background()
	must(t, e.ctl.Health(ctx))
	must(t, e.ctl.Configure(ctx, Config{PublicBaseURL: ts.URL}))
	for _, id := range []string{e.destID, e.dest2} {
		must(t, e.ctl.AddDestination(ctx, e.destination(id, "")))
	}
	must(t, e.ctl.AddClient(ctx, Client{ID: senderID, Secret: secret, Role: RoleSender}))
	must(t, e.ctl.AddClient(ctx, Client{ID: subscriberID, Secret: secret, Role: RoleSubscriber, Destinations: []string{e.destID}}))
	must(t, e.ctl.AddClient(ctx, Client{ID: strangerID, Secret: secret, Role: RoleSubscriber, Destinations: []string{e.dest2}}))
	return e
}

func (e *env) destination(id, callback string) Destination {
	d := Destination{ID: id, Status: DestinationActive,
		Services: []Service{{Identifier: serviceURN, Regions: []string{"DE09"},
			SubmissionSchemas: []SubmissionSchema{{SchemaURI: "urn:xoev-de:bmk:standard:xbau_2.3.1", MimeType: "application/xml"}}}},
		EncryptionKey: destEncKey.Public, SigningKey: destSigKey.Public, MetadataVersions: []string{"1.0.0"}}
	if callback != "" {
		d.CallbackURL, d.CallbackSecret = callback, cbSecret
	}
	return d
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) token(client string) string {
	e.t.Helper()
	resp, err := http.PostForm(e.ts.URL+"/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}})
	must(e.t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 {
		e.t.Fatalf("token for %s: %d", client, resp.StatusCode)
	}
	must(e.t, json.NewDecoder(resp.Body).Decode(&tok))
	return tok.AccessToken
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, r.body)
	}
	return m
}

func (e *env) call(method, path, tok, ctype string, body io.Reader) result {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	must(e.t, err)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(e.t, err)
	return result{resp.StatusCode, resp.Header, b}
}

func (e *env) jsonCall(method, path, tok string, v any) result {
	b, err := json.Marshal(v)
	must(e.t, err)
	return e.call(method, path, tok, "application/json", strings.NewReader(string(b)))
}

func expect(t testing.TB, r result, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if status >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("error answer has Content-Type %q, want application/problem+json", r.header.Get("Content-Type"))
	}
}

// encrypt makes a real JWE for the destination key.
func encrypt(t testing.TB, plain string) string {
	t.Helper()
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: destEncKey.Public.Key, KeyID: destEncKey.Public.KeyID},
		(&jose.EncrypterOptions{}).WithContentType("application/json"))
	must(t, err)
	obj, err := enc.Encrypt([]byte(plain))
	must(t, err)
	s, err := obj.CompactSerialize()
	must(t, err)
	return s
}

// signSET makes a receiver SET signed with key.
func signSET(t testing.TB, key *pki.Key, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS512, Key: jose.JSONWebKey{Key: key.Private, KeyID: key.Public.KeyID}},
		(&jose.SignerOptions{}).WithType(SETType))
	must(t, err)
	b, err := json.Marshal(claims)
	must(t, err)
	obj, err := signer.Sign(b)
	must(t, err)
	s, err := obj.CompactSerialize()
	must(t, err)
	return s
}

func (e *env) receiverSET(subID, caseID, event string, payload map[string]any) string {
	if payload == nil {
		payload = map[string]any{}
	}
	return signSET(e.t, destSigKey, map[string]any{
		"jti": uuid.NewString(), "iss": e.destID, "iat": time.Now().Unix(),
		"sub": "submission:" + subID, "txn": "case:" + caseID, "events": map[string]any{event: payload},
	})
}

type created struct{ sub, caseID string }

// createAndSubmit runs the sender's side with the given attachment count.
func (e *env) createAndSubmit(tok string, attachments int, extra map[string]any) created {
	e.t.Helper()
	var ids []string
	for range attachments {
		ids = append(ids, uuid.NewString())
	}
	body := map[string]any{"destinationId": e.destID, "announcedAttachments": append([]string{}, ids...),
		"serviceType": map[string]any{"name": "Bauantrag", "identifier": serviceURN}}
	for k, v := range extra {
		body[k] = v
	}
	r := e.jsonCall("POST", "/v1/submissions", tok, body)
	expect(e.t, r, 201)
	m := r.json(e.t)
	sub, _ := m["submissionId"].(string)
	caseID, _ := m["caseId"].(string)
	for _, id := range ids {
		expect(e.t, e.call("PUT", "/v1/submissions/"+sub+"/attachments/"+id, tok, "application/jose", strings.NewReader(encrypt(e.t, "attachment"))), 204)
	}
	expect(e.t, e.jsonCall("PUT", "/v1/submissions/"+sub, tok, map[string]any{
		"encryptedMetadata": encrypt(e.t, `{"contentStructure":{}}`), "encryptedData": encrypt(e.t, "<xml/>")}), 202)
	return created{sub, caseID}
}
