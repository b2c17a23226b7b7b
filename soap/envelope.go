package soap

import (
	"bytes"
	"encoding/xml"
	"fmt"
)

// Addressing holds the WS-Addressing 1.0 message addressing properties this kit uses.
type Addressing struct {
	Action    string
	MessageID string
	To        string
	RelatesTo string
	// ReplyTo is the address of wsa:ReplyTo/wsa:Address; empty means the header is absent.
	ReplyTo string
}

// Envelope is a SOAP 1.2 envelope to write. Headers and Body are marshalled with encoding/xml
// (a []byte or RawXML value is written as is); the WS-Addressing headers come first.
type Envelope struct {
	Addressing Addressing
	Headers    []any
	// Body is the body's content; nil writes an empty Body.
	Body any
}

// RawXML is XML written verbatim into a header or the body. It must be complete elements that
// declare every namespace prefix they use.
type RawXML []byte

// Include is an xop:Include element: a reference from the envelope to an MTOM part.
type Include struct {
	XMLName xml.Name `xml:"http://www.w3.org/2004/08/xop/include Include"`
	Href    string   `xml:"href,attr"`
}

// NewInclude returns the xop:Include for the part with Content-ID cid.
func NewInclude(cid string) *Include { return &Include{Href: "cid:" + cid} }

// Marshal writes the envelope as XML.
func (e *Envelope) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<env:Envelope xmlns:env="` + NS + `" xmlns:wsa="` + NSWSA + `">`)
	if err := e.writeHeader(&b); err != nil {
		return nil, err
	}
	b.WriteString(`<env:Body>`)
	if e.Body != nil {
		if err := writeValue(&b, e.Body); err != nil {
			return nil, fmt.Errorf("soap: marshalling body: %w", err)
		}
	}
	b.WriteString(`</env:Body></env:Envelope>`)
	return b.Bytes(), nil
}

func (e *Envelope) writeHeader(b *bytes.Buffer) error {
	a := e.Addressing
	if a == (Addressing{}) && len(e.Headers) == 0 {
		return nil
	}
	b.WriteString(`<env:Header>`)
	text := func(local, v string) {
		if v == "" {
			return
		}
		b.WriteString(`<wsa:` + local + `>`)
		_ = xml.EscapeText(b, []byte(v))
		b.WriteString(`</wsa:` + local + `>`)
	}
	text("Action", a.Action)
	text("MessageID", a.MessageID)
	text("To", a.To)
	text("RelatesTo", a.RelatesTo)
	if a.ReplyTo != "" {
		b.WriteString(`<wsa:ReplyTo>`)
		text("Address", a.ReplyTo)
		b.WriteString(`</wsa:ReplyTo>`)
	}
	for i, h := range e.Headers {
		if err := writeValue(b, h); err != nil {
			return fmt.Errorf("soap: marshalling header %d: %w", i, err)
		}
	}
	b.WriteString(`</env:Header>`)
	return nil
}

func writeValue(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case RawXML:
		b.Write(x)
		return nil
	case []byte:
		b.Write(x)
		return nil
	}
	out, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}
