// Package fields maps the business data of a submission to field paths as the SUT contract
// (§3) describes them: element local names from the message root joined by "/", a 1-based
// position only where same-name siblings exist, attributes as "@name", and the character
// content byte for byte. JSON data maps to object keys and 1-based array positions.
package fields

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Mapper turns data into field path → value. The zero value via New() is the faithful mapping;
// the options model the shortcuts a field mapping can have.
type Mapper struct {
	skipSuffixElements bool
	nfc                bool
	renorm             []renormalisation
	latin1             bool
	maxLen             int
	firstOnly          map[string]bool
	// post runs over the mapped record and the data it came from.
	post []func(out map[string]string, data []byte)
}

// Option configures a Mapper.
type Option func(*Mapper)

// WithoutSuffixElements leaves out elements whose local name ends in "zusatz" (a mapping
// without columns for address and name suffixes).
func WithoutSuffixElements() Option { return func(m *Mapper) { m.skipSuffixElements = true } }

// WithNFC normalises values to Unicode NFC before storing.
func WithNFC() Option { return func(m *Mapper) { m.nfc = true } }

// WithLatin1Column stores values through a Latin-1 column: other characters become '?'.
func WithLatin1Column() Option { return func(m *Mapper) { m.latin1 = true } }

// WithMaxLength cuts values at n characters.
func WithMaxLength(n int) Option { return func(m *Mapper) { m.maxLen = n } }

// WithSingle keeps only the first of same-name sibling elements with this local name.
func WithSingle(localName string) Option {
	return func(m *Mapper) {
		if m.firstOnly == nil {
			m.firstOnly = map[string]bool{}
		}
		m.firstOnly[localName] = true
	}
}

// New returns a mapper.
func New(opts ...Option) *Mapper {
	m := &Mapper{}
	for _, o := range opts {
		o(m)
	}
	return m
}

func (m *Mapper) value(s string) string {
	if m.nfc {
		s = norm.NFC.String(s)
	}
	if m.latin1 {
		var b strings.Builder
		for _, r := range s {
			if r > 0xFF {
				r = '?'
			}
			b.WriteRune(r)
		}
		s = b.String()
	}
	if m.maxLen > 0 && utf8.RuneCountInString(s) > m.maxLen {
		s = string([]rune(s)[:m.maxLen])
	}
	return s
}

type node struct {
	name     string
	attrs    []xml.Attr
	text     bytes.Buffer
	children []*node
}

// Root describes the root element of an XML document.
type Root struct{ Local, Space string }

// XMLRoot reads the root element name and namespace, and checks the whole document is
// well-formed.
func XMLRoot(data []byte) (Root, error) {
	n, root, err := parseXML(data)
	_ = n
	return root, err
}

func parseXML(data []byte) (*node, Root, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*node
	var top *node
	var root Root
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, root, fmt.Errorf("data is not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: t.Attr}
			if len(stack) == 0 {
				if top != nil {
					return nil, root, errors.New("data is not well-formed XML: more than one root element")
				}
				top = n
				root = Root{Local: t.Name.Local, Space: t.Name.Space}
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, root, errors.New("data is not well-formed XML: text outside the root element")
			}
		}
	}
	if top == nil {
		return nil, root, errors.New("data is not well-formed XML: no root element")
	}
	return top, root, nil
}

// FromXML maps an XML document.
func (m *Mapper) FromXML(data []byte) (map[string]string, error) {
	top, _, err := parseXML(data)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	m.walk(top, top.name, out)
	m.renormalise(out)
	m.postProcess(out, data)
	return out, nil
}

func (m *Mapper) walk(n *node, path string, out map[string]string) {
	if m.skipSuffixElements && strings.HasSuffix(strings.ToLower(n.name), "zusatz") {
		return
	}
	for _, a := range n.attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		out[path+"/@"+a.Name.Local] = m.value(a.Value)
	}
	// An element with child elements is no field of its own, mixed content included.
	if text := n.text.String(); len(n.children) == 0 && text != "" {
		out[path] = m.value(text)
	}
	count := map[string]int{}
	for _, c := range n.children {
		count[c.name]++
	}
	seen := map[string]int{}
	for _, c := range n.children {
		seen[c.name]++
		p := path + "/" + c.name
		if count[c.name] > 1 {
			if m.firstOnly[c.name] && seen[c.name] > 1 {
				continue
			}
			p = fmt.Sprintf("%s[%d]", p, seen[c.name])
		}
		m.walk(c, p, out)
	}
}

// FromJSON maps a JSON document. Numbers keep their literal text.
func (m *Mapper) FromJSON(data []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("data is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("data is not valid JSON: trailing content")
	}
	out := map[string]string{}
	m.walkJSON(v, "", out)
	m.renormalise(out)
	m.postProcess(out, data)
	return out, nil
}

func (m *Mapper) walkJSON(v any, path string, out map[string]string) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "/" + k
	}
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if m.skipSuffixElements && strings.HasSuffix(strings.ToLower(k), "zusatz") {
				continue
			}
			m.walkJSON(c, join(k), out)
		}
	case []any:
		for i, c := range t {
			m.walkJSON(c, fmt.Sprintf("%s[%d]", path, i+1), out)
		}
	case string:
		out[path] = m.value(t)
	case json.Number:
		out[path] = t.String()
	case bool:
		out[path] = fmt.Sprint(t)
	}
}
