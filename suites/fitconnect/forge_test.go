package fitconnect

import (
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestForgeSETKeepsKidAndFailsVerification(t *testing.T) {
	genuineKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS512, Key: jose.JSONWebKey{Key: genuineKey, KeyID: "ds-key"}},
		(&jose.SignerOptions{}).WithType("secevent+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign([]byte(`{"jti":"a","sub":"submission:x","events":{"e":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	genuine, _ := obj.CompactSerialize()
	forged, err := forgeSET(genuine)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(forged, []jose.SignatureAlgorithm{jose.PS512})
	if err != nil {
		t.Fatal(err)
	}
	if kid := jws.Signatures[0].Header.KeyID; kid != "ds-key" {
		t.Fatalf("kid %q, want ds-key", kid)
	}
	if _, err := jws.Verify(&genuineKey.PublicKey); err == nil {
		t.Fatal("forged SET verifies with the genuine key")
	}
	if payload := string(jws.UnsafePayloadWithoutVerification()); !strings.Contains(payload, `"sub":"submission:x"`) || strings.Contains(payload, `"jti":"a"`) {
		t.Fatalf("claims not copied with a new jti: %s", payload)
	}
	for _, bad := range []string{"", "a.b", "!!.e30.x", "e30.!!.x"} {
		if _, err := forgeSET(bad); err == nil {
			t.Errorf("forgeSET(%q) did not fail", bad)
		}
	}
}
