package recorder

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces every secret the evidence would otherwise show.
const Redacted = "[redacted]"

// secretHeaders are replaced by "[redacted]" in evidence.
var secretHeaders = map[string]bool{
	"authorization":           true,
	"proxy-authorization":     true,
	"cookie":                  true,
	"set-cookie":              true,
	"callback-authentication": true,
}

// Redact returns a copy of h with secret header values replaced.
func Redact(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		if secretHeaders[strings.ToLower(k)] {
			out[k] = []string{Redacted}
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}

// secretFields name the JSON members and form fields whose values are secrets wherever they
// appear (compared case-insensitively): OAuth client secrets and tokens, callback secrets, and
// the secret headers when a body carries them.
var secretFields = []string{
	"client_secret", "clientSecret", "secret", "callbackSecret", "callback_secret",
	"access_token", "accessToken", "refresh_token", "refreshToken", "id_token", "password",
	"callback-authentication", "authorization",
}

// jwkPrivateMembers are the private and symmetric key members of a JWK (RFC 7518 §6.3.2, §6.4).
var jwkPrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k"}

// jsonValue matches a JSON string (also one cut off by truncation) or a bare scalar.
const jsonValue = `(?:"(?:[^"\\]|\\.)*(?:"|\\?$)|[-0-9a-zA-Z.+]+)`

var (
	secretFieldRE = regexp.MustCompile(`("(?i:` + alternation(secretFields) + `)"\s*:\s*)` + jsonValue)
	jwkPrivateRE  = regexp.MustCompile(`("(?:` + alternation(jwkPrivateMembers) + `)"\s*:\s*)` + jsonValue)
	secretFormRE  = regexp.MustCompile(`((?:^|[&?\s])(?i:` + alternation(secretFields) + `)=)[^&\s]*`)
)

func alternation(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = regexp.QuoteMeta(n)
	}
	return strings.Join(q, "|")
}

// minSecretLen keeps short header values (a cookie "a=1") from blanking unrelated text.
const minSecretLen = 8

// redactor removes secrets from body text as the package comment lists. It works on text, not
// on parsed documents, so it also covers truncated and malformed bodies; where a body is cut
// inside a secret, the secret's visible start is redacted too. A JSON member "d" counts as a
// JWK's when the document has a "kty" anywhere: erring towards redacting too much.
type redactor struct {
	values []string // longest first, so a token is not half-replaced by its own prefix
}

func newRedactor(headers ...http.Header) *redactor {
	r := &redactor{}
	for _, h := range headers {
		for k, vs := range h {
			if !secretHeaders[strings.ToLower(k)] {
				continue
			}
			for _, v := range vs {
				r.add(v)
				if _, cred, ok := strings.Cut(v, " "); ok {
					r.add(cred) // the token of "Bearer <token>"
				}
				for _, part := range strings.Split(v, ";") {
					if _, val, ok := strings.Cut(part, "="); ok {
						r.add(val) // a cookie's value
					}
				}
			}
		}
	}
	slices.SortFunc(r.values, func(a, b string) int { return len(b) - len(a) })
	return r
}

func (r *redactor) add(v string) {
	v = strings.TrimSpace(v)
	if len(v) >= minSecretLen && !slices.Contains(r.values, v) {
		r.values = append(r.values, v)
	}
}

// text redacts s; truncated says s ends where the body was cut.
func (r *redactor) text(s string, truncated bool) string {
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Redacted)
		if truncated {
			s = cutSecretPrefix(s, v)
		}
	}
	if strings.Contains(s, `"kty"`) {
		s = jwkPrivateRE.ReplaceAllString(s, `${1}"`+Redacted+`"`)
	}
	if !mentionsSecretField(s) {
		return s // the regular expressions below are slow on large bodies
	}
	s = secretFieldRE.ReplaceAllString(s, `${1}"`+Redacted+`"`)
	return secretFormRE.ReplaceAllString(s, `${1}`+Redacted)
}

func mentionsSecretField(s string) bool {
	lower := strings.ToLower(s)
	return slices.ContainsFunc(secretFields, func(f string) bool { return strings.Contains(lower, strings.ToLower(f)) })
}

// cutSecretPrefix redacts the start of secret v when s ends with it.
func cutSecretPrefix(s, v string) string {
	for n := len(v) - 1; n >= minSecretLen/2; n-- {
		if strings.HasSuffix(s, v[:n]) {
			return s[:len(s)-n] + Redacted
		}
	}
	return s
}

// form redacts the secret fields of an application/x-www-form-urlencoded body, also when their
// names are percent-encoded.
func (r *redactor) form(s string) string {
	pairs := strings.Split(s, "&")
	for i, p := range pairs {
		k, _, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if isSecretField(name) {
			pairs[i] = k + "=" + Redacted
		}
	}
	return strings.Join(pairs, "&")
}

func isSecretField(name string) bool {
	return slices.ContainsFunc(secretFields, func(f string) bool { return strings.EqualFold(f, name) })
}
