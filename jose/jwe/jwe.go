// Package jwe reads and writes JWE compact serializations (RFC 7516) with key management
// RSA-OAEP-256 and content encryption A256GCM — the only combination FIT-Connect allows —
// without holding plaintext or ciphertext in memory. Encrypt writes the serialization while it
// reads the plaintext; Decrypt writes plaintext while it reads the serialization and verifies
// the authentication tag at the end.
package jwe

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// The only algorithms this package speaks.
const (
	AlgRSAOAEP256 = "RSA-OAEP-256"
	EncA256GCM    = "A256GCM"
)

// Errors callers can tell apart with errors.Is. The returned errors wrap them with detail.
var (
	ErrMalformed      = errors.New("jwe: malformed compact serialization")
	ErrUnsupported    = errors.New("jwe: unsupported header")
	ErrKeyUnwrap      = errors.New("jwe: content encryption key cannot be unwrapped with this private key")
	ErrAuthentication = errors.New("jwe: authentication tag does not verify")
)

// Header is the protected header's variable part. alg and enc are always RSA-OAEP-256 and
// A256GCM; Extra holds further members (e.g. "zip" is refused, custom claims are kept).
type Header struct {
	Kid   string
	Cty   string
	Extra map[string]any
}

// EncryptResult describes a written serialization.
type EncryptResult struct {
	AuthenticationTag string // the fifth segment, base64url without padding
	Len               int64  // bytes of compact serialization written
	PlaintextLen      int64
	Protected         string // the first segment, base64url of the header JSON
}

// DecryptResult describes a read serialization.
type DecryptResult struct {
	Alg, Enc, Kid, Cty string
	Header             map[string]any // the complete protected header
	AuthenticationTag  string         // the fifth segment as received
	PlaintextLen       int64
}

var b64 = base64.RawURLEncoding.Strict()

const (
	cekSize        = 32
	ivSize         = 12
	tagSize        = 16
	chunkSize      = 64 << 10
	maxHeaderChars = 16 << 10
	maxKeyChars    = 2800 // a 16384-bit RSA key
	minKeyBits     = 2048 // RFC 7518, 4.3
)

var reserved = map[string]bool{"alg": true, "enc": true, "kid": true, "cty": true, "zip": true, "crit": true}

func headerJSON(hdr Header) ([]byte, error) {
	m := make(map[string]any, len(hdr.Extra)+4)
	keys := make([]string, 0, len(hdr.Extra))
	for k := range hdr.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if reserved[k] {
			return nil, fmt.Errorf("%w: header member %q cannot be set through Extra", ErrUnsupported, k)
		}
		m[k] = hdr.Extra[k]
	}
	m["alg"] = AlgRSAOAEP256
	m["enc"] = EncA256GCM
	if hdr.Kid != "" {
		m["kid"] = hdr.Kid
	}
	if hdr.Cty != "" {
		m["cty"] = hdr.Cty
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("jwe: header: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func b64Len(n int64) int64 { return (n*8 + 5) / 6 }

func checkKey(key *rsa.PublicKey) error {
	if key == nil || key.N == nil {
		return errors.New("jwe: no public key")
	}
	if key.N.BitLen() < minKeyBits {
		return fmt.Errorf("jwe: RSA key of %d bits is below the %d bits RSA-OAEP-256 requires", key.N.BitLen(), minKeyBits)
	}
	return nil
}

// EncryptedLen is the exact length of the compact serialization Encrypt writes for a plaintext
// of plainLen bytes, the key and the header — what an HTTP body's Content-Length must say.
func EncryptedLen(plainLen int64, key *rsa.PublicKey, hdr Header) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if plainLen < 0 || plainLen > maxPlaintext {
		return 0, fmt.Errorf("jwe: plaintext length %d out of range", plainLen)
	}
	h, err := headerJSON(hdr)
	if err != nil {
		return 0, err
	}
	return b64Len(int64(len(h))) + 1 + b64Len(int64(key.Size())) + 1 + b64Len(ivSize) + 1 +
		b64Len(plainLen) + 1 + b64Len(tagSize), nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Encrypt reads plaintext to its end and writes its compact JWE serialization, encrypted for
// key, to dst as it goes. Memory use is constant.
func Encrypt(dst io.Writer, plaintext io.Reader, key *rsa.PublicKey, hdr Header) (EncryptResult, error) {
	if err := checkKey(key); err != nil {
		return EncryptResult{}, err
	}
	h, err := headerJSON(hdr)
	if err != nil {
		return EncryptResult{}, err
	}
	cek := make([]byte, cekSize+ivSize)
	if _, err := rand.Read(cek); err != nil {
		return EncryptResult{}, fmt.Errorf("jwe: random: %w", err)
	}
	cek, iv := cek[:cekSize], cek[cekSize:]
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, key, cek, nil)
	if err != nil {
		return EncryptResult{}, fmt.Errorf("jwe: wrap content encryption key: %w", err)
	}
	protected := b64.EncodeToString(h)
	gcm, err := newGCMStream(cek, iv, []byte(protected))
	if err != nil {
		return EncryptResult{}, fmt.Errorf("jwe: %w", err)
	}

	cw := &countingWriter{w: dst}
	bw := bufio.NewWriterSize(cw, chunkSize)
	bw.WriteString(protected)
	bw.WriteByte('.')
	bw.WriteString(b64.EncodeToString(wrapped))
	bw.WriteByte('.')
	bw.WriteString(b64.EncodeToString(iv))
	bw.WriteByte('.')
	enc := base64.NewEncoder(base64.RawURLEncoding, bw)
	buf := make([]byte, chunkSize)
	var plainLen int64
	for {
		n, rerr := plaintext.Read(buf)
		if n > 0 {
			if err := gcm.seal(buf[:n], buf[:n]); err != nil {
				return EncryptResult{}, fmt.Errorf("jwe: %w", err)
			}
			if _, err := enc.Write(buf[:n]); err != nil {
				return EncryptResult{}, fmt.Errorf("jwe: write: %w", err)
			}
			plainLen += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return EncryptResult{}, fmt.Errorf("jwe: read plaintext: %w", rerr)
		}
	}
	if err := enc.Close(); err != nil {
		return EncryptResult{}, fmt.Errorf("jwe: write: %w", err)
	}
	t := gcm.tag()
	tag := b64.EncodeToString(t[:])
	bw.WriteByte('.')
	bw.WriteString(tag)
	if err := bw.Flush(); err != nil {
		return EncryptResult{}, fmt.Errorf("jwe: write: %w", err)
	}
	return EncryptResult{AuthenticationTag: tag, Len: cw.n, PlaintextLen: plainLen, Protected: protected}, nil
}

// Decrypt reads a compact JWE serialization from compact and writes the plaintext to dst as it
// is decrypted. The tag can only be checked at the end: when Decrypt returns an error, dst may
// already hold unauthenticated plaintext, which the caller must discard.
func Decrypt(dst io.Writer, compact io.Reader, key *rsa.PrivateKey) (DecryptResult, error) {
	var res DecryptResult
	if key == nil {
		return res, errors.New("jwe: no private key")
	}
	br := bufio.NewReaderSize(compact, chunkSize)

	seg, err := readSegment(br, "protected header", maxHeaderChars)
	if err != nil {
		return res, err
	}
	protected := string(seg)
	raw, err := b64.DecodeString(protected)
	if err != nil {
		return res, fmt.Errorf("%w: protected header is not base64url: %v", ErrMalformed, err)
	}
	if err := res.parseHeader(raw); err != nil {
		return res, err
	}

	seg, err = readSegment(br, "encrypted key", maxKeyChars)
	if err != nil {
		return res, err
	}
	wrapped, err := b64.DecodeString(string(seg))
	if err != nil {
		return res, fmt.Errorf("%w: encrypted key is not base64url: %v", ErrMalformed, err)
	}
	if len(wrapped) != key.Size() {
		return res, fmt.Errorf("%w: encrypted key has %d bytes, the %d-bit key needs %d", ErrKeyUnwrap, len(wrapped), key.N.BitLen(), key.Size())
	}
	cek, err := rsa.DecryptOAEP(sha256.New(), nil, key, wrapped, nil)
	if err != nil || len(cek) != cekSize {
		return res, fmt.Errorf("%w (kid %q)", ErrKeyUnwrap, res.Kid)
	}

	seg, err = readSegment(br, "initialization vector", b64Len(ivSize)+1)
	if err != nil {
		return res, err
	}
	iv, err := b64.DecodeString(string(seg))
	if err != nil || len(iv) != ivSize {
		return res, fmt.Errorf("%w: initialization vector must be 96 bits in base64url", ErrMalformed)
	}

	gcm, err := newGCMStream(cek, iv, []byte(protected))
	if err != nil {
		return res, fmt.Errorf("jwe: %w", err)
	}
	ctReader := &segmentReader{r: br}
	text := make([]byte, chunkSize)
	buf := make([]byte, b64.DecodedLen(chunkSize))
	carry := 0 // characters of an incomplete 4-character group kept for the next round
	for {
		n, rerr := io.ReadFull(ctReader, text[carry:])
		n += carry
		whole := n
		if rerr == nil {
			whole = n &^ 3
		}
		if whole > 0 {
			m, err := b64.Decode(buf, text[:whole])
			if err != nil {
				return res, fmt.Errorf("%w: ciphertext is not base64url: %v", ErrMalformed, err)
			}
			if err := gcm.open(buf[:m], buf[:m]); err != nil {
				return res, fmt.Errorf("jwe: %w", err)
			}
			if _, err := dst.Write(buf[:m]); err != nil {
				return res, fmt.Errorf("jwe: write plaintext: %w", err)
			}
			res.PlaintextLen += int64(m)
		}
		carry = copy(text, text[whole:n])
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return res, rerr
		}
	}
	if !ctReader.dot {
		return res, fmt.Errorf("%w: authentication tag segment missing", ErrMalformed)
	}

	rest, err := io.ReadAll(io.LimitReader(br, 64))
	if err != nil {
		return res, fmt.Errorf("jwe: read: %w", err)
	}
	tagText := strings.TrimRight(string(rest), " \t\r\n")
	res.AuthenticationTag = tagText
	got, err := b64.DecodeString(tagText)
	if err != nil || len(got) != tagSize {
		return res, fmt.Errorf("%w: authentication tag must be 128 bits in base64url, got %q", ErrMalformed, tagText)
	}
	if _, err := br.Peek(1); err != io.EOF {
		return res, fmt.Errorf("%w: data after the authentication tag", ErrMalformed)
	}
	want := gcm.tag()
	if subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return res, ErrAuthentication
	}
	return res, nil
}

func (res *DecryptResult) parseHeader(raw []byte) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&res.Header); err != nil || res.Header == nil {
		return fmt.Errorf("%w: protected header is not a JSON object", ErrMalformed)
	}
	str := func(name string) (string, error) {
		v, ok := res.Header[name]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%w: header member %q is not a string", ErrMalformed, name)
		}
		return s, nil
	}
	var err error
	for name, dst := range map[string]*string{"alg": &res.Alg, "enc": &res.Enc, "kid": &res.Kid, "cty": &res.Cty} {
		if *dst, err = str(name); err != nil {
			return err
		}
	}
	if res.Alg != AlgRSAOAEP256 {
		return fmt.Errorf("%w: alg %q, only %s is accepted", ErrUnsupported, res.Alg, AlgRSAOAEP256)
	}
	if res.Enc != EncA256GCM {
		return fmt.Errorf("%w: enc %q, only %s is accepted", ErrUnsupported, res.Enc, EncA256GCM)
	}
	if _, ok := res.Header["zip"]; ok {
		return fmt.Errorf("%w: zip (compressed plaintext) is not accepted", ErrUnsupported)
	}
	if _, ok := res.Header["crit"]; ok {
		return fmt.Errorf("%w: crit names extensions this implementation does not understand", ErrUnsupported)
	}
	return nil
}

func isB64URL(c byte) bool { return b64URLChar[c] }

// b64URLChar holds the characters of unpadded base64url: a table, because the ciphertext of a
// 50 MiB attachment is 70 million of them.
var b64URLChar = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

// readSegment reads up to the next '.', which it consumes.
func readSegment(br *bufio.Reader, name string, max int64) ([]byte, error) {
	var seg []byte
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: input ends inside the %s", ErrMalformed, name)
		}
		if err != nil {
			return nil, fmt.Errorf("jwe: read %s: %w", name, err)
		}
		if c == '.' {
			return seg, nil
		}
		if !isB64URL(c) {
			return nil, fmt.Errorf("%w: %s contains %q, not base64url", ErrMalformed, name, c)
		}
		if int64(len(seg)) >= max {
			return nil, fmt.Errorf("%w: %s longer than %d characters", ErrMalformed, name, max)
		}
		seg = append(seg, c)
	}
}

// segmentReader yields the ciphertext segment: everything up to the next '.', which it
// consumes, refusing characters outside base64url.
type segmentReader struct {
	r   *bufio.Reader
	dot bool
	err error
}

func (s *segmentReader) Read(p []byte) (int, error) {
	if s.dot {
		return 0, io.EOF
	}
	if s.err != nil {
		return 0, s.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	want := min(len(p), s.r.Buffered())
	if want == 0 {
		want = 1 // makes bufio fill its buffer
	}
	peek, err := s.r.Peek(want)
	if len(peek) == 1 && want == 1 && len(p) > 1 {
		peek, _ = s.r.Peek(min(len(p), s.r.Buffered()))
	}
	if len(peek) == 0 {
		if err == io.EOF {
			s.err = fmt.Errorf("%w: input ends inside the ciphertext", ErrMalformed)
		} else {
			s.err = fmt.Errorf("jwe: read ciphertext: %w", err)
		}
		return 0, s.err
	}
	n := bytes.IndexByte(peek, '.')
	if n < 0 {
		n = len(peek)
	} else {
		s.dot = true
	}
	for i, c := range peek[:n] {
		if !b64URLChar[c] {
			s.err = fmt.Errorf("%w: ciphertext contains %q, not base64url", ErrMalformed, c)
			s.dot, n = false, i
			break
		}
	}
	copy(p, peek[:n])
	s.r.Discard(n)
	if s.dot {
		s.r.Discard(1)
		if n == 0 {
			return 0, io.EOF
		}
	}
	if s.err != nil && n == 0 {
		return 0, s.err
	}
	return n, nil
}
