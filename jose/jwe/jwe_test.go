package jwe

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

var sizes = []int{0, 1, 15, 16, 17, 31, 32, 33, 4095, 4096, 65535, 65536, 65537, 1<<20 + 7}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		testKey = k
	})
	return testKey
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// oneByteReader delivers its input in the smallest possible reads.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestGCMStreamEqualsStdlib(t *testing.T) {
	for _, n := range append(sizes, 48, 100, 255, 1000) {
		for _, aadLen := range []int{0, 1, 16, 17, 120} {
			k, iv, aad, pt := randBytes(32), randBytes(12), randBytes(aadLen), randBytes(n)
			block, _ := aes.NewCipher(k)
			std, _ := cipher.NewGCM(block)
			want := std.Seal(nil, iv, pt, aad)

			s, err := newGCMStream(k, iv, aad)
			if err != nil {
				t.Fatal(err)
			}
			ct := make([]byte, n)
			// uneven pieces exercise the partial-block buffering of GHASH
			for off := 0; off < n; {
				step := min(n-off, 1+mrand.IntN(37))
				if err := s.seal(ct[off:off+step], pt[off:off+step]); err != nil {
					t.Fatal(err)
				}
				off += step
			}
			tag := s.tag()
			got := append(ct, tag[:]...)
			if !bytes.Equal(got, want) {
				t.Fatalf("size %d aad %d: output differs from crypto/cipher GCM", n, aadLen)
			}
		}
	}
}

func TestRoundTripAndLength(t *testing.T) {
	k := key(t)
	hdr := Header{Kid: "kid-1234", Cty: "application/xml", Extra: map[string]any{"x-konform": "1"}}
	for _, n := range sizes {
		pt := randBytes(n)
		var out bytes.Buffer
		res, err := Encrypt(&out, bytes.NewReader(pt), &k.PublicKey, hdr)
		if err != nil {
			t.Fatal(err)
		}
		wantLen, err := EncryptedLen(int64(n), &k.PublicKey, hdr)
		if err != nil {
			t.Fatal(err)
		}
		if res.Len != int64(out.Len()) || res.Len != wantLen || res.PlaintextLen != int64(n) {
			t.Fatalf("size %d: Len %d, written %d, EncryptedLen %d", n, res.Len, out.Len(), wantLen)
		}
		parts := strings.Split(out.String(), ".")
		if len(parts) != 5 || parts[4] != res.AuthenticationTag || parts[0] != res.Protected {
			t.Fatalf("size %d: tag/segments do not match the result", n)
		}
		var back bytes.Buffer
		dres, err := Decrypt(&back, oneByteReader{bytes.NewReader(out.Bytes())}, k)
		if err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		if !bytes.Equal(back.Bytes(), pt) {
			t.Fatalf("size %d: plaintext differs", n)
		}
		if dres.Kid != "kid-1234" || dres.Cty != "application/xml" || dres.Alg != AlgRSAOAEP256 || dres.Enc != EncA256GCM ||
			dres.AuthenticationTag != res.AuthenticationTag || dres.PlaintextLen != int64(n) || dres.Header["x-konform"] != "1" {
			t.Fatalf("size %d: result %+v", n, dres)
		}
	}
}

func TestGoJoseDecryptsOurs(t *testing.T) {
	k := key(t)
	for _, n := range sizes {
		pt := randBytes(n)
		var out bytes.Buffer
		if _, err := Encrypt(&out, bytes.NewReader(pt), &k.PublicKey, Header{Kid: "abcdefgh", Cty: "application/json"}); err != nil {
			t.Fatal(err)
		}
		obj, err := jose.ParseEncryptedCompact(out.String(), []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
		if err != nil {
			t.Fatalf("size %d: go-jose parse: %v", n, err)
		}
		got, err := obj.Decrypt(k)
		if err != nil {
			t.Fatalf("size %d: go-jose decrypt: %v", n, err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("size %d: go-jose plaintext differs", n)
		}
		if obj.Header.KeyID != "abcdefgh" || obj.Header.ExtraHeaders[jose.HeaderContentType] != "application/json" {
			t.Fatalf("size %d: header %+v", n, obj.Header)
		}
	}
}

func goJoseEncrypt(t testing.TB, pub *rsa.PublicKey, alg jose.KeyAlgorithm, enc jose.ContentEncryption, pt []byte) string {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: pub, KeyID: "kid-jose"},
		(&jose.EncrypterOptions{}).WithContentType("text/plain"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt(pt)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWeDecryptGoJose(t *testing.T) {
	k := key(t)
	for _, n := range sizes {
		pt := randBytes(n)
		s := goJoseEncrypt(t, &k.PublicKey, jose.RSA_OAEP_256, jose.A256GCM, pt)
		var back bytes.Buffer
		res, err := Decrypt(&back, strings.NewReader(s), k)
		if err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		if !bytes.Equal(back.Bytes(), pt) || res.Kid != "kid-jose" || res.Cty != "text/plain" {
			t.Fatalf("size %d: plaintext or header differs: %+v", n, res)
		}
		if res.AuthenticationTag != s[strings.LastIndex(s, ".")+1:] {
			t.Fatalf("size %d: tag %q", n, res.AuthenticationTag)
		}
	}
}

func TestTrailingNewlineTolerated(t *testing.T) {
	k := key(t)
	s := goJoseEncrypt(t, &k.PublicKey, jose.RSA_OAEP_256, jose.A256GCM, []byte("hallo"))
	var back bytes.Buffer
	if _, err := Decrypt(&back, strings.NewReader(s+"\r\n"), k); err != nil || back.String() != "hallo" {
		t.Fatalf("%v %q", err, back.String())
	}
}

func TestRejectsOtherAlgorithms(t *testing.T) {
	k := key(t)
	for _, c := range []struct {
		alg  jose.KeyAlgorithm
		enc  jose.ContentEncryption
		want string
	}{
		{jose.RSA_OAEP, jose.A256GCM, `alg "RSA-OAEP"`},
		{jose.RSA1_5, jose.A256GCM, `alg "RSA1_5"`},
		{jose.RSA_OAEP_256, jose.A128GCM, `enc "A128GCM"`},
		{jose.RSA_OAEP_256, jose.A256CBC_HS512, `enc "A256CBC-HS512"`},
	} {
		s := goJoseEncrypt(t, &k.PublicKey, c.alg, c.enc, []byte("x"))
		_, err := Decrypt(io.Discard, strings.NewReader(s), k)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s/%s: got %v", c.alg, c.enc, err)
		}
	}
	if _, err := Encrypt(io.Discard, strings.NewReader(""), &k.PublicKey, Header{Extra: map[string]any{"alg": "dir"}}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Extra alg: %v", err)
	}
}

// flip changes one base64url character of a segment to another valid character.
func flip(s string, segment, pos int) string {
	parts := strings.Split(s, ".")
	p := []byte(parts[segment])
	if p[pos] == 'A' {
		p[pos] = 'B'
	} else {
		p[pos] = 'A'
	}
	parts[segment] = string(p)
	return strings.Join(parts, ".")
}

func TestTamperingFails(t *testing.T) {
	k := key(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	var out bytes.Buffer
	if _, err := Encrypt(&out, bytes.NewReader(randBytes(1000)), &k.PublicKey, Header{Kid: "kid-1234", Cty: "application/xml"}); err != nil {
		t.Fatal(err)
	}
	good := out.String()
	parts := strings.Split(good, ".")
	changedHeader := strings.Replace(good, parts[0], b64.EncodeToString([]byte(`{"alg":"RSA-OAEP-256","cty":"text/xml","enc":"A256GCM","kid":"kid-1234"}`)), 1)
	cases := map[string]struct {
		in   string
		key  *rsa.PrivateKey
		want error
	}{
		"ciphertext first char":  {flip(good, 3, 0), k, ErrAuthentication},
		"ciphertext middle char": {flip(good, 3, 600), k, ErrAuthentication},
		"tag":                    {flip(good, 4, 3), k, ErrAuthentication},
		"iv":                     {flip(good, 2, 2), k, ErrAuthentication},
		"header (AAD)":           {changedHeader, k, ErrAuthentication},
		"encrypted key":          {flip(good, 1, 10), k, ErrKeyUnwrap},
		"wrong private key":      {good, other, ErrKeyUnwrap},
		"truncated":              {good[:len(good)-30], k, ErrMalformed},
		"four segments":          {strings.Join(parts[:4], "."), k, ErrMalformed},
		"six segments":           {good + ".AAAA", k, ErrMalformed},
		"padding":                {good + "==", k, ErrMalformed},
		"garbage":                {"not a jwe", k, ErrMalformed},
		"empty":                  {"", k, ErrMalformed},
		"header not json":        {b64.EncodeToString([]byte("[1]")) + good[len(parts[0]):], k, ErrMalformed},
		"space in ciphertext":    {strings.Replace(good, parts[3], parts[3][:5]+" "+parts[3][5:], 1), k, ErrMalformed},
	}
	for name, c := range cases {
		_, err := Decrypt(io.Discard, strings.NewReader(c.in), c.key)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
		// go-jose must agree that it is not valid
		if obj, perr := jose.ParseEncryptedCompact(c.in, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM}); perr == nil {
			if _, derr := obj.Decrypt(c.key); derr == nil && name != "padding" {
				t.Errorf("%s: go-jose accepts it", name)
			}
		}
	}
}

func TestBadInputs(t *testing.T) {
	k := key(t)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := Encrypt(io.Discard, strings.NewReader("x"), &small.PublicKey, Header{}); err == nil {
		t.Error("1024-bit key accepted")
	}
	if _, err := Encrypt(io.Discard, strings.NewReader("x"), nil, Header{}); err == nil {
		t.Error("nil key accepted")
	}
	if _, err := Decrypt(io.Discard, strings.NewReader("x"), nil); err == nil {
		t.Error("nil private key accepted")
	}
	if _, err := EncryptedLen(-1, &k.PublicKey, Header{}); err == nil {
		t.Error("negative length accepted")
	}
	if _, err := Encrypt(io.Discard, errReader{}, &k.PublicKey, Header{}); err == nil || !strings.Contains(err.Error(), "read plaintext") {
		t.Errorf("read error: %v", err)
	}
	if _, err := Encrypt(io.Discard, strings.NewReader("x"), &k.PublicKey, Header{Extra: map[string]any{"f": func() {}}}); err == nil {
		t.Error("unmarshalable header accepted")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, fmt.Errorf("disk gone") }

func benchmarkSize() int { return 8 << 20 }

func BenchmarkEncrypt(b *testing.B) {
	k := key(b)
	pt := randBytes(benchmarkSize())
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := Encrypt(io.Discard, bytes.NewReader(pt), &k.PublicKey, Header{Kid: "k"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	k := key(b)
	var out bytes.Buffer
	if _, err := Encrypt(&out, bytes.NewReader(randBytes(benchmarkSize())), &k.PublicKey, Header{Kid: "k"}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(benchmarkSize()))
	for b.Loop() {
		if _, err := Decrypt(io.Discard, bytes.NewReader(out.Bytes()), k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGoJoseEncrypt(b *testing.B) {
	k := key(b)
	pt := randBytes(benchmarkSize())
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		goJoseEncrypt(b, &k.PublicKey, jose.RSA_OAEP_256, jose.A256GCM, pt)
	}
}
