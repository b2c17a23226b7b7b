package recorder

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func noSecrets(t *testing.T, what string, b *Body, secrets ...string) {
	t.Helper()
	raw, _ := json.Marshal(b)
	for _, s := range secrets {
		if strings.Contains(string(raw), s) {
			t.Errorf("%s: secret %q in evidence: %s", what, s, raw)
		}
	}
}

func TestTokenRequestAndResponseAreRedacted(t *testing.T) {
	e := serve(t, New("test"), "application/x-www-form-urlencoded",
		strings.NewReader("grant_type=client_credentials&client_id=sut&client%5Fsecret=s3cr3t-value-1&scope=x"),
		"application/json", `{"access_token":"tok-abcdefgh-123","token_type":"Bearer","expires_in":300}`)
	noSecrets(t, "token request", e.ReqBody, "s3cr3t-value-1")
	if !strings.Contains(e.ReqBody.Text, "client_id=sut") || !strings.Contains(e.ReqBody.Pretty, "client_secret = [redacted]") {
		t.Errorf("token request evidence: %q / %q", e.ReqBody.Text, e.ReqBody.Pretty)
	}
	noSecrets(t, "token response", e.RespBody, "tok-abcdefgh-123")
	if !strings.Contains(e.RespBody.Pretty, `"token_type": "Bearer"`) {
		t.Errorf("token response evidence: %q", e.RespBody.Pretty)
	}
}

func TestFormSecretsInUndeclaredBodies(t *testing.T) {
	e := serve(t, New("test"), "", strings.NewReader("client_id=a&client_secret=plainsecret99"), "", "")
	noSecrets(t, "undeclared form", e.ReqBody, "plainsecret99")
}

func TestPrivateJWKMembersAreRedacted(t *testing.T) {
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"public-modulus","e":"AQAB","d":"PRIV-D","p":"PRIV-P","q":"PRIV-Q","dp":"PRIV-DP","dq":"PRIV-DQ","qi":"PRIV-QI"},` +
		`{"k":"PRIV-OCT","kty":"oct"}]}`
	e := serve(t, New("test"), "application/json", strings.NewReader(jwks), "application/jwk-set+json", jwks)
	for _, b := range []*Body{e.ReqBody, e.RespBody} {
		noSecrets(t, "jwks", b, "PRIV-")
		if !strings.Contains(b.Text, `"n":"public-modulus"`) || !strings.Contains(b.Pretty, `"kid": "k1"`) {
			t.Errorf("public members lost: %s", b.Text)
		}
	}
	// Without a JWK in the document, a member called "d" is ordinary data.
	e = serve(t, New("test"), "application/json", strings.NewReader(`{"d":"2024-01-01"}`), "", "")
	if e.ReqBody.Text != `{"d":"2024-01-01"}` {
		t.Errorf("non-JWK member redacted: %s", e.ReqBody.Text)
	}
}

func TestCallbackSecretsAreRedacted(t *testing.T) {
	rec := New("test")
	const mac = "7f3a9b2c1d0e5f4a7f3a9b2c1d0e5f4a"
	var echoed string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echoed = r.Header.Get("Callback-Authentication")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "mac "+echoed+" accepted")
	}))
	defer srv.Close()
	client := &http.Client{Transport: rec.Transport(nil)}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/callback", strings.NewReader(`{"type":"https://schema.fitko.de/fit-connect/callbacks/new-submissions","mac":"`+mac+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("callback-authentication", mac)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	e := rec.Since(0)[0]
	if echoed != mac {
		t.Fatalf("the receiver got %q", echoed)
	}
	noSecrets(t, "callback request", e.ReqBody, mac)
	noSecrets(t, "callback response", e.RespBody, mac)
	if e.RespBody.Text != "mac [redacted] accepted" || e.ReqHeaders["Callback-Authentication"][0] != Redacted {
		t.Errorf("callback evidence: %q %v", e.RespBody.Text, e.ReqHeaders)
	}

	// The callback secret a sender registers with its submission.
	e = serve(t, New("test"), "application/json",
		strings.NewReader(`{"destinationId":"d","callback":{"url":"https://sut/cb","secret":"my-callback-secret-0123456789abcdef"}}`), "", "")
	noSecrets(t, "submission", e.ReqBody, "my-callback-secret")
	if !strings.Contains(e.ReqBody.Pretty, `"url": "https://sut/cb"`) {
		t.Errorf("submission evidence: %s", e.ReqBody.Pretty)
	}
}

func TestSecretCutByTheCapIsRedacted(t *testing.T) {
	token := "bearer-token-0123456789"
	body := strings.Repeat(" ", BodyCap-10) + token
	rec := New("test")
	h := rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest(http.MethodPost, "/v1/x", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(httptest.NewRecorder(), req)
	b := rec.Since(0)[0].ReqBody
	if strings.Contains(b.Text, token[:8]) || !strings.HasSuffix(b.Text, Redacted) {
		t.Errorf("cut secret shows: %q", b.Text[len(b.Text)-20:])
	}

	cut := `{"access_token":"` + strings.Repeat("t", BodyCap)
	b = serve(t, New("test"), "application/json", strings.NewReader(cut), "", "").ReqBody
	if !b.Truncated || strings.Contains(b.Text, "tttt") {
		t.Errorf("truncated JSON secret shows: %q", b.Text[:40])
	}
}
