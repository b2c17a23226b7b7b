package sender

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// problem is an RFC 7807 body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// statusError reads a failed response into an error naming the step, status and problem.
func statusError(step string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var p problem
	if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Type != "") {
		msg := fmt.Sprintf("sender: %s: HTTP %d: %s", step, resp.StatusCode, p.Title)
		if p.Detail != "" {
			msg += ": " + p.Detail
		}
		if p.Type != "" {
			msg += " (" + p.Type + ")"
		}
		return fmt.Errorf("%s", msg)
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return fmt.Errorf("sender: %s: HTTP %d %s", step, resp.StatusCode, text)
}

type token struct {
	value  string
	expiry time.Time
}

// accessToken fetches (or reuses) a client-credentials token. As FIT-Connect documents for
// senders, no scope is requested: the client's registered scopes apply.
func (s *Sender) accessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token.value != "" && time.Now().Before(s.token.expiry) {
		return s.token.value, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.clientID}, "client_secret": {s.clientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("sender: token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("sender: token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", statusError("token", resp)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return "", fmt.Errorf("sender: token: response is not a token JSON: %w", err)
	}
	if tr.AccessToken == "" {
		return "", fmt.Errorf("sender: token: response has no access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", fmt.Errorf("sender: token: token_type %q, want Bearer", tr.TokenType)
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = 5 * time.Minute
	}
	s.token = token{value: tr.AccessToken, expiry: time.Now().Add(life - min(life/10, 30*time.Second))}
	return tr.AccessToken, nil
}

// getJSON performs an authorized GET and decodes the JSON answer into v.
func (s *Sender) getJSON(ctx context.Context, step, path string, v any) error {
	tok, err := s.accessToken(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.apiURL+path, nil)
	if err != nil {
		return fmt.Errorf("sender: %s: %w", step, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("sender: %s: %w", step, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError(step, resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v); err != nil {
		return fmt.Errorf("sender: %s: response is not the expected JSON: %w", step, err)
	}
	return nil
}

// send performs an authorized request with a body of known length and checks the status.
func (s *Sender) send(ctx context.Context, step, method, path, contentType string, body io.Reader, length int64, want int, v any) error {
	tok, err := s.accessToken(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, s.apiURL+path, body)
	if err != nil {
		return fmt.Errorf("sender: %s: %w", step, err)
	}
	req.ContentLength = length
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json, application/problem+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("sender: %s: %w", step, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return statusError(step, resp)
	}
	if v != nil {
		if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v); err != nil {
			return fmt.Errorf("sender: %s: response is not the expected JSON: %w", step, err)
		}
	}
	return nil
}

// destination is the public destination as GET /v1/destinations/{id} returns it.
type destination struct {
	DestinationID    string   `json:"destinationId"`
	Status           string   `json:"status"`
	EncryptionKid    string   `json:"encryptionKid"`
	MetadataVersions []string `json:"metadataVersions"`
	Services         []struct {
		Identifier        string   `json:"identifier"`
		Regions           []string `json:"regions"`
		SubmissionSchemas []struct {
			SchemaURI string `json:"schemaUri"`
			MimeType  string `json:"mimeType"`
		} `json:"submissionSchemas"`
	} `json:"services"`
}

func (d *destination) serves(identifier string) bool {
	for _, s := range d.Services {
		if s.Identifier == identifier {
			return true
		}
	}
	return false
}

type jwk struct {
	Kty    string   `json:"kty"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	X5c    []string `json:"x5c"`
	Kid    string   `json:"kid"`
	N      string   `json:"n"`
	E      string   `json:"e"`
}

// encryptionKey checks a destination's JWK the way a FIT-Connect sender must and returns its
// RSA key. The x5c chain is parsed and its leaf must carry the same key, but the chain is not
// verified against the Verwaltungs-PKI: the kit's destinations use self-signed certificates.
func encryptionKey(k jwk, wantKid string, minBits int) (*rsa.PublicKey, error) {
	if k.Kid != wantKid {
		return nil, fmt.Errorf("key has kid %q, the destination names %q", k.Kid, wantKid)
	}
	if k.Kty != "RSA" {
		return nil, fmt.Errorf("key type %q, want RSA", k.Kty)
	}
	if k.Alg != "RSA-OAEP-256" {
		return nil, fmt.Errorf("key alg %q, want RSA-OAEP-256", k.Alg)
	}
	wrap := false
	for _, op := range k.KeyOps {
		wrap = wrap || op == "wrapKey"
	}
	if !wrap {
		return nil, fmt.Errorf("key_ops %v lack wrapKey", k.KeyOps)
	}
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, fmt.Errorf("modulus n is not base64url: %w", err)
	}
	if k.E != "AQAB" {
		return nil, fmt.Errorf("public exponent %q, want AQAB", k.E)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	if pub.N.BitLen() < minBits {
		return nil, fmt.Errorf("key has %d bits, at least %d are required", pub.N.BitLen(), minBits)
	}
	if len(k.X5c) == 0 {
		return nil, fmt.Errorf("key has no x5c certificate chain")
	}
	der, err := base64.StdEncoding.DecodeString(k.X5c[0])
	if err != nil {
		return nil, fmt.Errorf("x5c[0] is not base64: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("x5c[0] is not an X.509 certificate: %w", err)
	}
	certKey, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !certKey.Equal(pub) {
		return nil, fmt.Errorf("x5c[0] certifies a different key than n/e")
	}
	if time.Now().After(cert.NotAfter) {
		return nil, fmt.Errorf("x5c[0] expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return pub, nil
}
