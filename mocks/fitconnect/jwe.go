package fitconnect

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// maxHeaderSegment bounds the protected header the shape check decodes.
const maxHeaderSegment = 16 << 10

func isJOSEChar(c byte) bool { return base64URLChar[c] || c == '.' }

// base64URLChar holds the characters of a base64url segment (with padding, which some
// encoders add).
var base64URLChar = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=" {
		t[c] = true
	}
	return t
}()

// checkCompactJWE checks the shape of a JWE in compact serialisation (RFC 7516 §7.1): five
// base64url segments, a protected header that is a JSON object naming alg and enc, and a
// non-empty encrypted key, IV and tag. The delivery service cannot decrypt, so this is all
// it can check. It returns the authentication tag (the fifth segment).
func checkCompactJWE(s string) (tag string, err error) {
	c := newJWEChecker()
	if _, err := c.Write([]byte(s)); err != nil {
		return "", err
	}
	return c.finish()
}

// jweChecker checks a compact JWE as it streams past, holding only its header and tag.
type jweChecker struct {
	n       int64
	segment int
	segLen  [5]int64
	header  []byte
	tail    []byte
	err     error
}

func newJWEChecker() *jweChecker { return &jweChecker{} }

func (c *jweChecker) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for i := 0; i < len(p); {
		// The encrypted key, IV and ciphertext (segments 1–3; the ciphertext may be 50 MiB and
		// more) are only counted: skip over them a run at a time.
		if c.segment >= 1 && c.segment <= 3 {
			j := i
			for j < len(p) && base64URLChar[p[j]] {
				j++
			}
			c.segLen[c.segment] += int64(j - i)
			if i = j; i == len(p) {
				break
			}
		}
		b := p[i]
		if !isJOSEChar(b) {
			c.err = fmt.Errorf("not a compact JWE: byte %d is %q, only base64url characters and '.' are allowed", c.n+int64(i), b)
			return i, c.err
		}
		i++
		if b == '.' {
			c.segment++
			if c.segment > 4 {
				c.err = errors.New("not a compact JWE: more than five segments")
				return i - 1, c.err
			}
			continue
		}
		c.segLen[c.segment]++
		switch c.segment {
		case 0:
			if len(c.header) >= maxHeaderSegment {
				c.err = fmt.Errorf("not a compact JWE: protected header longer than %d bytes", maxHeaderSegment)
				return i - 1, c.err
			}
			c.header = append(c.header, b)
		case 4:
			if len(c.tail) < 512 {
				c.tail = append(c.tail, b)
			}
		}
	}
	c.n += int64(len(p))
	return len(p), nil
}

func (c *jweChecker) finish() (string, error) {
	if c.err != nil {
		return "", c.err
	}
	if c.n == 0 {
		return "", errors.New("not a compact JWE: empty")
	}
	if c.segment != 4 {
		return "", fmt.Errorf("not a compact JWE: %d segments, want 5", c.segment+1)
	}
	for i, name := range []string{"protected header", "encrypted key", "initialization vector", "", "authentication tag"} {
		if name != "" && c.segLen[i] == 0 {
			return "", fmt.Errorf("not a compact JWE: %s is empty", name)
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(c.header), "="))
	if err != nil {
		return "", fmt.Errorf("not a compact JWE: protected header is not base64url: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", fmt.Errorf("not a compact JWE: protected header is not a JSON object: %v", err)
	}
	for _, k := range []string{"alg", "enc"} {
		if v, ok := h[k].(string); !ok || v == "" {
			return "", fmt.Errorf("not a compact JWE: protected header lacks %q", k)
		}
	}
	return string(c.tail), nil
}
