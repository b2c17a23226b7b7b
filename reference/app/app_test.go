package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/specs/specstest"
)

func jwkJSON(t *testing.T, kid, alg string) string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: alg})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func baseEnv(t *testing.T) map[string]string {
	schemaDir := specstest.Dir(t) // the reference compiles the XBau XSDs at start
	return map[string]string{
		contract.EnvContractVersion:  "1",
		contract.EnvListenAddr:       "127.0.0.1:0",
		contract.EnvSubmissionAPIURL: "http://zd.example",
		contract.EnvTokenURL:         "http://zd.example/token",
		contract.EnvClientID:         "client",
		contract.EnvClientSecret:     "secret",
		contract.EnvDestinationID:    "8a3f1e6c-2b4d-4f7a-9e1c-5d6b7a8c9d0e",
		contract.EnvDecryptionJWK:    jwkJSON(t, "enc", "RSA-OAEP-256"),
		contract.EnvSigningJWK:       jwkJSON(t, "sig", "PS512"),
		contract.EnvCallbackSecret:   strings.Repeat("c", 32),
		contract.EnvPollInterval:     "1s",
		contract.EnvHKRURL:           "http://hkr.example/xfinanz",
		contract.EnvHKRBookingCoding: `{"urn:de:fim:leika:leistung:99010003001006":{"mandant":"001","bewirtschaftungsstelle":"63","produkt":"51.10.01","sachkonto":"43110000"}}`,
		EnvSchemaDir:                 schemaDir,
		EnvDataDir:                   t.TempDir(),
	}
}

func TestConfigErrors(t *testing.T) {
	env := baseEnv(t)
	if _, err := ConfigFromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := map[string]string{
		contract.EnvContractVersion:  "3",
		contract.EnvListenAddr:       "",
		contract.EnvSubmissionAPIURL: "zd.example",
		contract.EnvDestinationID:    "not-a-uuid",
		contract.EnvDecryptionJWK:    `{"kty":"RSA"}`,
		contract.EnvSigningJWK:       env[contract.EnvDecryptionJWK],
		contract.EnvPollInterval:     "soon",
		contract.EnvHKRBookingCoding: `{"x":{"mandant":"001"}}`,
		contract.EnvClientSecret:     "",
		EnvSchemaDir:                 t.TempDir(),
		EnvDefects:                   "no-such-defect",
	}
	for name, val := range cases {
		t.Run(name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			e[name] = val
			_, err := ConfigFromEnv(func(k string) string { return e[k] })
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Variable != name {
				t.Fatalf("err = %v, want a ConfigError naming %s", err, name)
			}
			if strings.Contains(err.Error(), "secret") && name == contract.EnvSigningJWK && strings.Contains(err.Error(), `"d"`) {
				t.Error("error leaks key material")
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestRunServesProbeAndShutsDown(t *testing.T) {
	zd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token":
			json.NewEncoder(w).Encode(map[string]any{"access_token": "t", "expires_in": 60})
		default:
			json.NewEncoder(w).Encode(map[string]any{"count": 0, "offset": 0, "totalCount": 0, "submissions": []any{}})
		}
	}))
	defer zd.Close()
	for _, defect := range []string{"", "probe-wrong-contract-version"} {
		env := baseEnv(t)
		env[contract.EnvListenAddr] = freeAddr(t)
		env[contract.EnvSubmissionAPIURL] = zd.URL
		env[contract.EnvTokenURL] = zd.URL + "/token"
		env[EnvDefects] = defect
		cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Run(ctx, cfg, nil) }()
		var info contract.Info
		for i := 0; ; i++ {
			resp, err := http.Get("http://" + cfg.ListenAddr + contract.ProbeInfoPath)
			if err == nil {
				json.NewDecoder(resp.Body).Decode(&info)
				resp.Body.Close()
				break
			}
			if i > 100 {
				t.Fatal("probe not up")
			}
			time.Sleep(20 * time.Millisecond)
		}
		want := contract.Version
		if defect != "" {
			want = "0"
		}
		if info.ContractVersion != want {
			t.Errorf("defect %q: contractVersion %q", defect, info.ContractVersion)
		}
		resp, err := http.Get("http://" + cfg.ListenAddr + "/konform/v1/submissions/5e2b1a3c-0d4f-4a8e-9c61-2f7d3b9a1e04")
		if err != nil || resp.StatusCode != 404 {
			t.Errorf("unknown submission: %v %v", resp.StatusCode, err)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no graceful shutdown")
		}
	}
}
