package recorder

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Decoded is a compact JWS or JWE found in a body, decoded beside its compact form (which stays
// in Body.Text at Path). A JWE shows its protected header only; its ciphertext stays opaque.
type Decoded struct {
	Path        string          `json:"path"` // "$" for the whole body, "$.eventLog[0]" inside JSON
	Form        string          `json:"form"` // "JWS" or "JWE"
	Header      json.RawMessage `json:"header"`
	Payload     json.RawMessage `json:"payload,omitempty"`     // a JWS payload that is JSON
	PayloadText string          `json:"payloadText,omitempty"` // a JWS payload that is other text
	Note        string          `json:"note,omitempty"`        // e.g. "payload is not base64url"
}

const (
	maxDepth   = 64  // deeper documents are shown raw: indenting them would cost depth² memory
	maxDecoded = 200 // JOSE strings decoded per body
)

// readable adds the readable forms of b.Text. Anything that does not parse is simply left raw.
func readable(b *Body, mt string, red *redactor) {
	s := strings.TrimSpace(b.Text)
	switch {
	case s == "":
	case s[0] == '{' || s[0] == '[':
		if !b.Truncated {
			b.Pretty = prettyJSON(s)
			b.Decoded = joseInJSON(s, red)
		}
	case s[0] == '<':
		if !b.Truncated {
			b.Pretty = prettyXML(s)
		}
	case mt == "application/x-www-form-urlencoded":
		b.Pretty = prettyForm(s)
	default:
		if d, ok := decodeCompact("$", s, b.Truncated, red); ok {
			b.Decoded = []Decoded{d}
		}
	}
}

func prettyJSON(s string) string {
	if jsonDepth(s) > maxDepth {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return ""
	}
	return buf.String()
}

// jsonDepth is the deepest nesting of objects and arrays in s.
func jsonDepth(s string) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// prettyXML re-indents an XML document with etree, which keeps namespace prefixes as written.
func prettyXML(s string) string {
	doc := etree.NewDocument()
	doc.ReadSettings.ValidateInput = true
	doc.ReadSettings.MaxDepth = maxDepth
	if err := doc.ReadFromString(s); err != nil {
		return ""
	}
	doc.Indent(2)
	out, err := doc.WriteToString()
	if err != nil {
		return ""
	}
	return out
}

// prettyForm lists form fields one per line, percent-decoded; secret fields stay redacted.
func prettyForm(s string) string {
	var lines []string
	for _, pair := range strings.Split(s, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if isSecretField(k) {
			v = Redacted
		} else if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		lines = append(lines, k+" = "+v)
	}
	return strings.Join(lines, "\n")
}

// joseInJSON decodes the compact JWS and JWE among the strings of a JSON document, such as the
// SETs of an eventLog.
func joseInJSON(s string, red *redactor) []Decoded {
	if jsonDepth(s) > maxDepth {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil
	}
	var out []Decoded
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if len(out) >= maxDecoded {
			return
		}
		switch v := v.(type) {
		case string:
			if d, ok := decodeCompact(path, v, false, red); ok {
				out = append(out, d)
			}
		case []any:
			for i, e := range v {
				walk(path+"["+strconv.Itoa(i)+"]", e)
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(path+memberPath(k), v[k])
			}
		}
	}
	walk("$", v)
	return out
}

func memberPath(k string) string {
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "[" + strconv.Quote(k) + "]"
		}
	}
	return "." + k
}

// decodeCompact decodes s when it is a compact JWS (three base64url segments) or JWE (five).
// partial means s was cut off: then only the protected header is decoded.
func decodeCompact(path, s string, partial bool, red *redactor) (Decoded, bool) {
	segs := strings.Split(s, ".")
	if !partial && len(segs) != 3 && len(segs) != 5 || partial && len(segs) < 2 {
		return Decoded{}, false
	}
	for _, seg := range segs {
		if !isBase64URL(seg) {
			return Decoded{}, false
		}
	}
	raw, err := decodeSegment(segs[0])
	var hdr struct {
		Alg any `json:"alg"`
		Enc any `json:"enc"`
	}
	if err != nil || json.Unmarshal(raw, &hdr) != nil || hdr.Alg == nil {
		return Decoded{}, false
	}
	d := Decoded{Path: path, Form: "JWS", Header: redactedJSON(raw, red)}
	if len(segs) == 5 || hdr.Enc != nil {
		d.Form = "JWE"
		return d, true
	}
	if partial {
		d.Note = "body truncated: payload not decoded"
		return d, true
	}
	if segs[1] == "" {
		d.Note = "detached payload"
		return d, true
	}
	payload, err := decodeSegment(segs[1])
	switch {
	case err != nil:
		d.Note = "payload is not base64url: " + err.Error()
	case json.Valid(payload):
		d.Payload = redactedJSON(payload, red)
	case utf8.Valid(payload):
		d.PayloadText = red.text(string(payload), false)
	default:
		d.Note = fmt.Sprintf("binary payload of %d bytes", len(payload))
	}
	return d, true
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || c == '=' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func decodeSegment(seg string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
}

// redactedJSON redacts valid JSON and compacts it for embedding.
func redactedJSON(raw []byte, red *redactor) json.RawMessage {
	s := red.text(string(raw), false)
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		q, _ := json.Marshal(s) // redaction cannot break JSON; should it ever, show it as a string
		return q
	}
	return buf.Bytes()
}
