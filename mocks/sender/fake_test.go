package sender

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/konform/konform/jose/jwe"
)

const (
	testKid      = "konform-enc-key-1"
	testService  = "urn:de:fim:leika:leistung:99010003001006"
	testSchema   = "urn:xoev-de:bauantrag:schema:1.0"
	clientID     = "sender-client"
	clientSecret = "sender-secret"
	accessToken  = "token-abc"
)

// stored is one submission as the fake delivery service holds it.
type stored struct {
	announced   []string
	serviceType map[string]any
	attachments map[string][]byte // compact JWEs (small mode)
	streamed    map[string]streamedAttachment
	metadataJWE string
	dataJWE     string
	submitted   bool
	caseID      string
}

type streamedAttachment struct {
	plainHash string
	plainLen  int64
	tag       string
}

// fakeDS is a minimal Submission API v1 delivery service: it checks the protocol and keeps
// what it was sent. With stream set it decrypts attachments on the fly instead of keeping them.
type fakeDS struct {
	t      testing.TB
	key    *rsa.PrivateKey
	jwk    map[string]any
	destID string
	stream bool

	mu   sync.Mutex
	subs map[string]*stored
	errs []string
}

func newFakeDS(t testing.TB, key *rsa.PrivateKey) (*fakeDS, *httptest.Server) {
	f := &fakeDS{t: t, key: key, jwk: testJWK(t, key), destID: uuid.NewString(), subs: map[string]*stored{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func testJWK(t testing.TB, key *rsa.PrivateKey) map[string]any {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Konform test destination"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"kty": "RSA", "key_ops": []string{"wrapKey"}, "alg": "RSA-OAEP-256", "kid": testKid,
		"x5c": []string{base64.StdEncoding.EncodeToString(der)},
		"n":   base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": "AQAB",
	}
}

func (f *fakeDS) fail(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func problemJSON(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": title, "status": status})
}

func (f *fakeDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		r.ParseForm()
		if r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("client_id") != clientID || r.PostForm.Get("client_secret") != clientSecret {
			problemJSON(w, 401, "bad client credentials")
			return
		}
		if r.PostForm.Has("scope") {
			f.fail("token request sends a scope")
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": accessToken, "token_type": "Bearer", "expires_in": 1800})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+accessToken {
		problemJSON(w, 401, "no or wrong bearer token")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "destinations":
		if parts[2] != f.destID {
			problemJSON(w, 404, "Destination not found")
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		json.NewEncoder(w).Encode(map[string]any{
			"destinationId": f.destID, "status": "active", "encryptionKid": testKid, "metadataVersions": []string{"1.0.0"},
			"services": []map[string]any{{"identifier": testService, "regions": []string{"DE09162000"},
				"submissionSchemas": []map[string]string{{"schemaUri": testSchema, "mimeType": "application/xml"}}}},
		})
	case r.Method == http.MethodGet && len(parts) == 5 && parts[3] == "keys":
		if parts[2] != f.destID || parts[4] != testKid {
			problemJSON(w, 404, "key not found")
			return
		}
		json.NewEncoder(w).Encode(f.jwk)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/submissions":
		var req struct {
			DestinationID        string         `json:"destinationId"`
			AnnouncedAttachments []string       `json:"announcedAttachments"`
			ServiceType          map[string]any `json:"serviceType"`
			CaseID               string         `json:"caseId"`
		}
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&req) != nil || req.AnnouncedAttachments == nil || req.ServiceType["identifier"] == nil || req.ServiceType["name"] == nil {
			problemJSON(w, 400, "bad create-submission body")
			return
		}
		if req.DestinationID != f.destID {
			problemJSON(w, 404, "Destination not found")
			return
		}
		sid := uuid.NewString()
		caseID := req.CaseID
		if caseID == "" {
			caseID = uuid.NewString()
		}
		f.mu.Lock()
		f.subs[sid] = &stored{announced: req.AnnouncedAttachments, serviceType: req.ServiceType, caseID: caseID,
			attachments: map[string][]byte{}, streamed: map[string]streamedAttachment{}}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]string{"destinationId": f.destID, "submissionId": sid, "caseId": caseID})
	case r.Method == http.MethodPut && len(parts) == 5 && parts[3] == "attachments":
		sub := f.sub(parts[2])
		if sub == nil {
			problemJSON(w, 404, "Submission not found")
			return
		}
		if r.Header.Get("Content-Type") != "application/jose" {
			problemJSON(w, 415, "want application/jose")
			return
		}
		if r.ContentLength <= 0 {
			f.fail("attachment upload without Content-Length")
		}
		if !contains(sub.announced, parts[4]) {
			problemJSON(w, 422, "attachment not announced")
			return
		}
		if f.stream {
			h := sha512.New()
			cr := &countReader{r: r.Body}
			res, err := jwe.Decrypt(h, cr, f.key)
			if err != nil || cr.n != r.ContentLength {
				problemJSON(w, 400, "attachment does not decrypt")
				return
			}
			f.mu.Lock()
			sub.streamed[parts[4]] = streamedAttachment{hex.EncodeToString(h.Sum(nil)), res.PlaintextLen, res.AuthenticationTag}
			f.mu.Unlock()
		} else {
			b, _ := io.ReadAll(r.Body)
			if int64(len(b)) != r.ContentLength {
				f.fail("attachment Content-Length %d, body %d", r.ContentLength, len(b))
			}
			f.mu.Lock()
			sub.attachments[parts[4]] = b
			f.mu.Unlock()
		}
		w.WriteHeader(204)
	case r.Method == http.MethodPut && len(parts) == 3 && parts[1] == "submissions":
		sub := f.sub(parts[2])
		if sub == nil {
			problemJSON(w, 404, "Submission not found")
			return
		}
		if r.ContentLength <= 0 {
			f.fail("submit without Content-Length")
		}
		var req struct {
			EncryptedMetadata string `json:"encryptedMetadata"`
			EncryptedData     string `json:"encryptedData"`
		}
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&req) != nil || req.EncryptedMetadata == "" {
			problemJSON(w, 400, "bad submit body")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, a := range sub.announced {
			_, ok1 := sub.attachments[a]
			_, ok2 := sub.streamed[a]
			if !ok1 && !ok2 {
				problemJSON(w, 422, "announced attachment missing")
				return
			}
		}
		sub.metadataJWE, sub.dataJWE, sub.submitted = req.EncryptedMetadata, req.EncryptedData, true
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(202)
		json.NewEncoder(w).Encode(map[string]any{"destinationId": f.destID, "submissionId": parts[2], "caseId": sub.caseID,
			"attachments": sub.announced, "serviceType": sub.serviceType})
	default:
		problemJSON(w, 404, "no such endpoint")
	}
}

func (f *fakeDS) sub(id string) *stored {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs[id]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
