package fitconnect

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// TestZipRefusedInEveryPart: metadata and data (Decrypt) and attachments (DecryptStream) follow
// the same rule for a JWE header zip.
func TestZipRefusedInEveryPart(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key := &jose.JSONWebKey{Key: priv, KeyID: "enc-key-1", Algorithm: string(jose.RSA_OAEP_256)}
	seal := func(opts *jose.EncrypterOptions) string {
		enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: &priv.PublicKey, KeyID: key.KeyID}, opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := enc.Encrypt([]byte(`{"contentStructure":{}}`))
		if err != nil {
			t.Fatal(err)
		}
		s, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	plain := seal(&jose.EncrypterOptions{})
	zipped := seal(&jose.EncrypterOptions{Compression: jose.DEFLATE})

	if _, err := Decrypt(plain, key); err != nil {
		t.Fatalf("Decrypt without zip: %v", err)
	}
	if _, err := DecryptStream(strings.NewReader(plain), &bytes.Buffer{}, key); err != nil {
		t.Fatalf("DecryptStream without zip: %v", err)
	}
	var de *DecryptError
	if _, err := Decrypt(zipped, key); !errors.As(err, &de) || de.Reason != zipRefused {
		t.Errorf("Decrypt with zip DEF: %v, want %q", err, zipRefused)
	}
	var out bytes.Buffer
	if _, err := DecryptStream(strings.NewReader(zipped), &out, key); !errors.As(err, &de) || de.Reason != zipRefused {
		t.Errorf("DecryptStream with zip DEF: %v, want %q", err, zipRefused)
	}
	if out.Len() != 0 {
		t.Errorf("DecryptStream wrote %d bytes of a refused JWE", out.Len())
	}
}
