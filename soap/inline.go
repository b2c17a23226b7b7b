package soap

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// InlineXML returns the envelope with every xop:Include replaced by the base64 of its part: the
// XOP infoset as a plain document, e.g. to validate against a schema. It holds everything in
// memory; use it for tests and small messages.
func (m *Message) InlineXML() ([]byte, error) {
	root, err := m.Root.Bytes()
	if err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytes.NewReader(root))
	var out bytes.Buffer
	last := int64(0)
	for {
		off := d.InputOffset()
		t, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotEnvelope, err)
		}
		s, ok := t.(xml.StartElement)
		if !ok || s.Name.Space != NSXOP || s.Name.Local != "Include" {
			continue
		}
		href := ""
		for _, a := range s.Attr {
			if a.Name.Local == "href" {
				href = a.Value
			}
		}
		if err := d.Skip(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotEnvelope, err)
		}
		p, err := m.Part(href)
		if err != nil {
			return nil, err
		}
		data, err := p.Bytes()
		if err != nil {
			return nil, err
		}
		out.Write(root[last:off])
		out.WriteString(base64.StdEncoding.EncodeToString(data))
		last = d.InputOffset()
	}
	out.Write(root[last:])
	return out.Bytes(), nil
}

// EnvelopeXML returns the root part as it is (xop:Include elements left in place).
func (m *Message) EnvelopeXML() ([]byte, error) { return m.Root.Bytes() }
