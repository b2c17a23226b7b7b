package recorder

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// BodyCap is the most of one body the evidence keeps. Digest and size always cover the whole
// body, which streams past the recorder and is never held beyond this cap.
const BodyCap = 256 << 10

// binaryHead is how much of a binary body the evidence shows (base64), enough for its magic
// number ("%PDF-", "PK") but no content.
const binaryHead = 64

// Body is the evidence of one request or response body.
//
// Text bodies (JSON, XML, JOSE, forms, plain text) keep their first BodyCap bytes in Text, with
// secrets redacted (see redactor); Pretty and Decoded add readable forms where the text parses.
// Binary bodies (application/octet-stream, PDFs, images, or bytes that are not UTF-8) are not
// inlined: HeadBase64 holds their first 64 bytes and Omitted says why the rest is missing.
type Body struct {
	ContentType string `json:"contentType,omitempty"` // as declared by the sender
	Size        int64  `json:"size"`                  // of the whole body
	SHA256      string `json:"sha256"`                // of the whole body, before redaction
	// Truncated is set when Text (or HeadBase64) holds fewer bytes than Size.
	Truncated  bool      `json:"truncated,omitempty"`
	Text       string    `json:"text,omitempty"`
	Pretty     string    `json:"pretty,omitempty"`  // indented JSON or XML, form fields one per line
	Decoded    []Decoded `json:"decoded,omitempty"` // compact JWS and JWE found in the body
	HeadBase64 string    `json:"headBase64,omitempty"`
	Omitted    string    `json:"omitted,omitempty"` // why Text is missing: "binary", "evidence budget exhausted"
	// Abridged says how Text differs from the body as sent when it is no mere prefix (the parts
	// of an MTOM message after its root, multipart.go).
	Abridged string `json:"abridged,omitempty"`
}

// String summarises the body for text reports, which would otherwise show a pointer.
func (b *Body) String() string {
	if b == nil {
		return "none"
	}
	s := fmt.Sprintf("%q %d bytes sha256:%s", b.ContentType, b.Size, b.SHA256)
	if b.Truncated {
		s += " (truncated)"
	}
	return s
}

// cost is the memory the body's evidence takes.
func (b *Body) cost() int {
	if b == nil {
		return 0
	}
	n := len(b.Text) + len(b.Pretty) + len(b.HeadBase64)
	for _, d := range b.Decoded {
		n += len(d.Path) + len(d.Header) + len(d.Payload) + len(d.PayloadText)
	}
	return n
}

// strip drops everything but content type, size and digest.
func (b *Body) strip(reason string) {
	*b = Body{ContentType: b.ContentType, Size: b.Size, SHA256: b.SHA256, Truncated: b.Size > 0, Omitted: reason}
}

// capture digests everything written to it and keeps the first limit bytes.
type capture struct {
	h     hash.Hash
	n     int64
	limit int
	kept  []byte
	parts *partCapture // multipart/related bodies
	// headsOnly keeps nothing but the digest (Retention.HeadsOnly).
	headsOnly bool
}

func newCapture(contentType string) *capture {
	limit := BodyCap
	if isBinaryType(mediaType(contentType)) {
		limit = binaryHead
	}
	return &capture{h: sha256.New(), limit: limit, parts: newPartCapture(contentType)}
}

func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	c.h.Write(p)
	if c.parts != nil {
		c.parts.write(p)
	}
	c.n += int64(n)
	if room := c.limit - len(c.kept); room > 0 {
		p = p[:min(room, len(p))]
		if len(c.kept)+len(p) > cap(c.kept) {
			// Grow by hand: append's growth could overshoot the cap.
			grown := make([]byte, len(c.kept), min(c.limit, max(2*cap(c.kept), len(c.kept)+len(p), 4096)))
			copy(grown, c.kept)
			c.kept = grown
		}
		c.kept = append(c.kept, p...)
	}
	return n, nil
}

func (c *capture) sum() string { return hex.EncodeToString(c.h.Sum(nil)) }

// body turns what was captured into evidence; an empty body has none (nil).
func (c *capture) body(contentType string, red *redactor) *Body {
	if c.headsOnly {
		if c.n == 0 {
			return nil
		}
		return &Body{ContentType: contentType, Size: c.n, SHA256: c.sum(), Truncated: true, Omitted: omittedHeadsOnly}
	}
	var abridged []byte
	ok := false
	if c.parts != nil {
		abridged, ok = c.parts.result()
	}
	if c.n == 0 {
		return nil
	}
	if ok && utf8.Valid(abridged) {
		b := &Body{ContentType: contentType, Size: c.n, SHA256: c.sum(), Abridged: abridgedNote}
		b.Text = red.text(string(abridged), false)
		return b
	}
	return newBody(contentType, c.n, c.sum(), c.kept, red)
}

// BodyOf is the evidence of a body a mock already holds in full, for exchanges it records
// itself with Add. Values of secret headers in secretsFrom are redacted from it.
func BodyOf(contentType string, data []byte, secretsFrom ...http.Header) *Body {
	c := newCapture(contentType)
	_, _ = c.Write(data)
	return c.body(contentType, newRedactor(secretsFrom...))
}

func newBody(contentType string, size int64, sum string, kept []byte, red *redactor) *Body {
	b := &Body{ContentType: contentType, Size: size, SHA256: sum, Truncated: int64(len(kept)) < size}
	mt := mediaType(contentType)
	if b.Truncated {
		kept = trimPartialRune(kept)
	}
	if !isText(mt, kept) {
		b.Omitted = "binary"
		b.HeadBase64 = base64.StdEncoding.EncodeToString(kept[:min(len(kept), binaryHead)])
		b.Truncated = int64(min(len(kept), binaryHead)) < size
		return b
	}
	text := strings.ToValidUTF8(string(kept), "\uFFFD")
	if mt == "application/x-www-form-urlencoded" {
		text = red.form(text)
	}
	b.Text = red.text(text, b.Truncated)
	readable(b, mt, red)
	return b
}

func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

func isBinaryType(mt string) bool {
	switch mt {
	case "application/octet-stream", "application/pdf", "application/zip", "application/gzip",
		"application/x-gzip", "application/x-tar", "application/x-7z-compressed", "application/msword",
		"application/vnd.ms-excel":
		return true
	}
	for _, p := range []string{"image/", "audio/", "video/", "font/", "application/vnd.openxmlformats"} {
		if strings.HasPrefix(mt, p) {
			return true
		}
	}
	return false
}

func isTextType(mt string) bool {
	switch mt {
	case "application/json", "application/xml", "application/jose", "application/jwt",
		"application/x-www-form-urlencoded", "application/javascript", "application/yaml":
		return true
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") ||
		strings.HasSuffix(mt, "+xml") || strings.HasSuffix(mt, "+jwt")
}

// isText decides from the declared type, and from the bytes when the type says nothing.
func isText(mt string, data []byte) bool {
	switch {
	case isBinaryType(mt):
		return false
	case isTextType(mt):
		return true
	}
	return utf8.Valid(data) && bytes.IndexByte(data, 0) < 0
}

// trimPartialRune drops a UTF-8 sequence the cap cut in half.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}
