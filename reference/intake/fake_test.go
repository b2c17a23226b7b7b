package intake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/konform/konform/specs/specstest"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/konform/konform/reference/fitconnect"
)

const (
	testService = "urn:de:fim:leika:leistung:99010003001006"
	testSecret  = "subscriber-secret"
)

var (
	keysOnce              sync.Once
	encKey, sigKey, dsKey *jose.JSONWebKey
	testDestination       = "8a3f1e6c-2b4d-4f7a-9e1c-5d6b7a8c9d0e"
	foreignDestination    = "11111111-2222-4333-8444-555555555555"
	validXML              = `<?xml version="1.0" encoding="UTF-8"?><xbau:baugenehmigung.antrag.0200 xmlns:xbau="http://www.xleitstelle.de/xbau/2/3/1"><nachrichtenkopf.g2g><identifikation.nachricht><nachrichtenUUID>c0ffee00-1234-4abc-8def-0123456789ab</nachrichtenUUID></identifikation.nachricht></nachrichtenkopf.g2g><antragsteller><name><familienname><name>Müller</name></familienname><namenszusatz>Dr.</namenszusatz></name></antragsteller><antragsteller><name><familienname><name>Øvergaard</name></familienname></name></antragsteller><code listVersionID="1.0">A</code></xbau:baugenehmigung.antrag.0200>`
	pdfContent            = []byte("%PDF-1.4 lageplan")
)

func genKey(t testing.TB, kid, alg string) *jose.JSONWebKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: alg}
}

func testKeys(t testing.TB) {
	keysOnce.Do(func() {
		encKey = genKey(t, "enc-key-1", "RSA-OAEP-256")
		sigKey = genKey(t, "sig-key-1", "PS512")
		dsKey = genKey(t, "zd-key-1", "PS512")
	})
}

func encrypt(t testing.TB, plain []byte, kid, cty string) string {
	pub := encKey.Key.(*rsa.PrivateKey).Public()
	e, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: pub, KeyID: kid},
		(&jose.EncrypterOptions{}).WithContentType(jose.ContentType(cty)))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt(plain)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sha(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

// fakeSubmission is what the fake delivery service holds.
type fakeSubmission struct {
	fitconnect.Submission
	attachments map[string]string // id → JWE
	events      []string
	decided     bool
}

// fakeZD is a small FIT-Connect delivery service.
type fakeZD struct {
	t           testing.TB
	mu          sync.Mutex
	subs        []*fakeSubmission
	posted      map[string][]string // caseId → posted SETs
	failPosts   int
	tokens      int
	listQueries []string
	srv         *httptest.Server
}

func newFakeZD(t testing.TB) *fakeZD {
	testKeys(t)
	f := &fakeZD{t: t, posted: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("client_secret") != testSecret || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_client"}`, 401)
			return
		}
		f.mu.Lock()
		f.tokens++
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok", "expires_in": 1800, "token_type": "bearer"})
	})
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer tok" {
				http.Error(w, "unauthorized", 401)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /v1/submissions", auth(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		q := r.URL.Query()
		f.listQueries = append(f.listQueries, r.URL.RawQuery)
		var all []fitconnect.SubmissionRef
		for _, s := range f.subs {
			if s.decided || (q.Get("destinationId") != "" && q.Get("destinationId") != s.DestinationID) {
				continue
			}
			all = append(all, fitconnect.SubmissionRef{DestinationID: s.DestinationID, SubmissionID: s.SubmissionID, CaseID: s.CaseID})
		}
		off, _ := strconv.Atoi(q.Get("offset"))
		lim, _ := strconv.Atoi(q.Get("limit"))
		if lim == 0 {
			lim = 100
		}
		page := []fitconnect.SubmissionRef{}
		for i := off; i < len(all) && i < off+lim; i++ {
			page = append(page, all[i])
		}
		json.NewEncoder(w).Encode(fitconnect.SubmissionList{Count: len(page), Offset: off, TotalCount: len(all), Submissions: page})
	}))
	mux.HandleFunc("GET /v1/submissions/{id}", auth(func(w http.ResponseWriter, r *http.Request) {
		s := f.find(r.PathValue("id"))
		if s == nil {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(s.Submission)
	}))
	mux.HandleFunc("GET /v1/submissions/{id}/attachments/{aid}", auth(func(w http.ResponseWriter, r *http.Request) {
		s := f.find(r.PathValue("id"))
		if s == nil || s.attachments[r.PathValue("aid")] == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jose")
		io.WriteString(w, s.attachments[r.PathValue("aid")])
	}))
	mux.HandleFunc("GET /v1/cases/{cid}/events", auth(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var log []string
		for _, s := range f.subs {
			if s.CaseID == r.PathValue("cid") {
				log = append(log, s.events...)
			}
		}
		log = append(log, f.posted[r.PathValue("cid")]...)
		json.NewEncoder(w).Encode(map[string]any{"count": len(log), "offset": 0, "totalCount": len(log), "eventLog": log})
	}))
	mux.HandleFunc("POST /v1/cases/{cid}/events", auth(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failPosts > 0 {
			f.failPosts--
			http.Error(w, "unavailable", 503)
			return
		}
		set, _, err := fitconnect.ParseEvent(string(body))
		if err != nil {
			http.Error(w, err.Error(), 422)
			return
		}
		var s *fakeSubmission
		for _, x := range f.subs {
			if "submission:"+x.SubmissionID == set.Sub {
				s = x
			}
		}
		if s == nil {
			http.Error(w, "unknown submission", 404)
			return
		}
		if s.decided {
			http.Error(w, "invalid state transition", 409)
			return
		}
		s.decided = true
		f.posted[r.PathValue("cid")] = append(f.posted[r.PathValue("cid")], string(body))
		w.WriteHeader(204)
	}))
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{dsKey.Public()}})
	})
	mux.HandleFunc("GET /v1/destinations/{did}", auth(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(fitconnect.Destination{DestinationID: r.PathValue("did"), Status: "active",
			Services: []fitconnect.DestinationService{{Identifier: testService, SubmissionSchemas: []fitconnect.SubmissionSchema{{SchemaURI: XBauAntrag0200.URI, MimeType: "application/xml"}}}}})
	}))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeZD) find(id string) *fakeSubmission {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.subs {
		if s.SubmissionID == id {
			return s
		}
	}
	return nil
}

func (f *fakeZD) client(secret string) *fitconnect.Client {
	return fitconnect.New(f.srv.URL, f.srv.URL+"/token", "client-1", secret)
}

// postedFor returns the SETs the receiver posted for a submission.
func (f *fakeZD) postedFor(sid string) []fitconnect.SET {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fitconnect.SET
	for _, sets := range f.posted {
		for _, raw := range sets {
			s, _, _ := fitconnect.ParseEvent(raw)
			if s.Sub == "submission:"+sid {
				out = append(out, s)
			}
		}
	}
	return out
}

// spec describes a submission to build; mutate hooks break it on purpose.
type spec struct {
	destination string
	service     string
	data        []byte
	attachments [][]byte
	meta        func(m map[string]any)
	sub         func(s *fakeSubmission)
	dataKid     string
	forgeEvents bool
}

func (f *fakeZD) add(sp spec) *fakeSubmission {
	t := f.t
	if sp.destination == "" {
		sp.destination = testDestination
	}
	if sp.service == "" {
		sp.service = testService
	}
	if sp.data == nil {
		sp.data = []byte(validXML)
	}
	if sp.dataKid == "" {
		sp.dataKid = encKey.KeyID
	}
	s := &fakeSubmission{attachments: map[string]string{}}
	s.SubmissionID, s.CaseID, s.DestinationID = uuid.NewString(), uuid.NewString(), sp.destination
	s.ServiceType = fitconnect.ServiceType{Name: "Baugenehmigung", Identifier: sp.service}
	var metaAtts []any
	tags := map[string]string{}
	for i, a := range sp.attachments {
		id := uuid.NewString()
		s.Attachments = append(s.Attachments, id)
		mime := "application/pdf"
		if i%2 == 1 {
			mime = "image/png"
		}
		jwe := encrypt(t, a, encKey.KeyID, mime)
		s.attachments[id] = jwe
		tags[id] = fitconnect.AuthTag(jwe)
		metaAtts = append(metaAtts, map[string]any{"attachmentId": id, "hash": map[string]any{"type": "sha512", "content": sha(a)},
			"purpose": "attachment", "mimeType": mime, "filename": "anlage" + strconv.Itoa(i) + ".pdf"})
	}
	if metaAtts == nil {
		metaAtts = []any{}
	}
	meta := map[string]any{
		"contentStructure": map[string]any{
			"data":        map[string]any{"hash": map[string]any{"type": "sha512", "content": sha(sp.data)}, "submissionSchema": map[string]any{"schemaUri": XBauAntrag0200.URI, "mimeType": "application/xml"}},
			"attachments": metaAtts,
		},
		"publicServiceType": map[string]any{"identifier": sp.service, "name": "Baugenehmigung"},
	}
	if sp.meta != nil {
		sp.meta(meta)
	}
	rawMeta, _ := json.Marshal(meta)
	s.EncryptedMetadata = encrypt(t, rawMeta, encKey.KeyID, "application/json")
	s.EncryptedData = encrypt(t, sp.data, sp.dataKid, "application/xml")
	signer := dsKey
	if sp.forgeEvents {
		signer = genKey(t, dsKey.KeyID, "PS512")
	}
	for _, ev := range []string{fitconnect.EventCreateSubmission, fitconnect.EventSubmitSubmission} {
		var payload any = map[string]any{}
		if ev == fitconnect.EventSubmitSubmission {
			payload = fitconnect.TagsPayload{AuthenticationTags: &fitconnect.AuthenticationTags{Metadata: fitconnect.AuthTag(s.EncryptedMetadata), Data: fitconnect.AuthTag(s.EncryptedData), Attachments: tags}}
		}
		set, err := fitconnect.SignEvent(signer, f.srv.URL, s.SubmissionID, s.CaseID, ev, payload, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		s.events = append(s.events, set)
	}
	if sp.sub != nil {
		sp.sub(s)
	}
	f.mu.Lock()
	f.subs = append(f.subs, s)
	f.mu.Unlock()
	return s
}

func specsDir(t testing.TB) string {
	specstest.File(t, MetadataSchemaFileV100)
	return specstest.Dir(t)
}

func jwks(k *jose.JSONWebKey) jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.Public()}}
}
