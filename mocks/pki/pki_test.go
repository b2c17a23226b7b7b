package pki

import (
	"crypto/x509"
	"encoding/json"
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestSigningKey(t *testing.T) {
	k, err := NewSigningKey("sig-key-0001", WithBits(2048))
	if err != nil {
		t.Fatal(err)
	}
	pub := checkJWK(t, k, "PS512", []string{"verify"}, []string{"sign"})
	if _, hasD := pub["d"]; hasD {
		t.Error("public JWK carries the private exponent")
	}
	if k.Chain[0].SignatureAlgorithm != x509.SHA512WithRSAPSS || k.Chain[1].SignatureAlgorithm != x509.SHA512WithRSAPSS {
		t.Errorf("chain signature algorithms %v, %v; want SHA512-RSAPSS", k.Chain[0].SignatureAlgorithm, k.Chain[1].SignatureAlgorithm)
	}
	if !k.Chain[1].IsCA {
		t.Error("root is not a CA")
	}
	if err := VerifyChain(k.Public); err != nil {
		t.Error(err)
	}
	if err := VerifyChain(k.JWK); err != nil {
		t.Error(err)
	}
}

func TestEncryptionKey(t *testing.T) {
	k, err := NewEncryptionKey("enc-key-0001", WithBits(2048))
	if err != nil {
		t.Fatal(err)
	}
	checkJWK(t, k, "RSA-OAEP-256", []string{"wrapKey"}, []string{"unwrapKey"})
	priv, err := k.PrivateJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back jose.JSONWebKey
	if err := back.UnmarshalJSON(priv); err != nil {
		t.Fatalf("private JWK does not parse back: %v", err)
	}
	if back.IsPublic() {
		t.Error("private JWK parsed as public")
	}
}

func TestDefault4096(t *testing.T) {
	if testing.Short() {
		t.Skip("4096-bit key generation skipped in -short mode")
	}
	k, err := NewSigningKey("sig-key-4096")
	if err != nil {
		t.Fatal(err)
	}
	if n := k.Private.N.BitLen(); n != 4096 {
		t.Fatalf("default key has %d bits, want 4096", n)
	}
	pub := checkJWK(t, k, "PS512", []string{"verify"}, []string{"sign"})
	if n, _ := pub["n"].(string); len(n) < 683 {
		t.Errorf("n has %d characters, FIT-Connect demands at least 683", len(n))
	}
}

func TestRefusals(t *testing.T) {
	if _, err := NewSigningKey("sig-key-0001", WithBits(1024)); err == nil {
		t.Error("1024-bit key accepted")
	}
	if _, err := NewSigningKey("short", WithBits(2048)); err == nil {
		t.Error("kid shorter than 8 characters accepted")
	}
	if _, err := KeyOpsFor("HS256"); err == nil {
		t.Error("unknown alg accepted")
	}
}

func checkJWK(t *testing.T, k *Key, alg string, pubOps, privOps []string) map[string]any {
	t.Helper()
	raw, err := k.PublicJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m["kty"] != "RSA" || m["alg"] != alg || m["e"] != "AQAB" || m["kid"] == "" {
		t.Errorf("public JWK fields: %v", m)
	}
	if x5c, _ := m["x5c"].([]any); len(x5c) != 2 {
		t.Errorf("x5c has %d entries, want 2", len(x5c))
	}
	if got := toStrings(m["key_ops"]); !slices.Equal(got, pubOps) {
		t.Errorf("public key_ops %v, want %v", got, pubOps)
	}
	rawPriv, err := k.PrivateJSON()
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	_ = json.Unmarshal(rawPriv, &p)
	if got := toStrings(p["key_ops"]); !slices.Equal(got, privOps) {
		t.Errorf("private key_ops %v, want %v", got, privOps)
	}
	if _, ok := p["d"]; !ok {
		t.Error("private JWK lacks d")
	}
	return m
}

func toStrings(v any) []string {
	var out []string
	xs, _ := v.([]any)
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
