package soap

import (
	"bytes"
	"encoding/xml"
	"fmt"
)

// SOAP 1.2 fault code values (SOAP 1.2 Part 1 §5.4.6), local names in the envelope namespace.
const (
	CodeSender              = "Sender"
	CodeReceiver            = "Receiver"
	CodeVersionMismatch     = "VersionMismatch"
	CodeMustUnderstand      = "MustUnderstand"
	CodeDataEncodingUnknown = "DataEncodingUnknown"
)

// Fault is a SOAP 1.2 fault. It is an error, and the Body of an Envelope.
type Fault struct {
	// Code is the local name of env:Code/env:Value, e.g. CodeSender.
	Code string
	// Subcode is the first env:Subcode/env:Value as a resolved QName; zero when absent.
	Subcode xml.Name
	Reason  string
	// Lang is the xml:lang of the reason text; "en" when empty.
	Lang string
	// Detail is the content of env:Detail: complete elements declaring their namespaces.
	// Empty means no Detail element.
	Detail RawXML
}

func (f *Fault) Error() string {
	s := "SOAP fault " + f.Code
	if f.Subcode.Local != "" {
		s += "/" + f.Subcode.Local
	}
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}

// DecodeDetail unmarshals the first element of the Detail into v.
func (f *Fault) DecodeDetail(v any) error {
	if len(bytes.TrimSpace(f.Detail)) == 0 {
		return fmt.Errorf("soap: fault has no detail")
	}
	return xml.Unmarshal(f.Detail, v)
}

// DetailName is the name of the Detail's first element; zero when there is none.
func (f *Fault) DetailName() xml.Name {
	d := xml.NewDecoder(bytes.NewReader(f.Detail))
	for {
		t, err := d.Token()
		if err != nil {
			return xml.Name{}
		}
		if s, ok := t.(xml.StartElement); ok {
			return s.Name
		}
	}
}

// MarshalXML writes the fault as env:Fault.
func (f Fault) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.Encode(struct {
		XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Fault"`
		Inner   []byte   `xml:",innerxml"`
	}{Inner: f.inner()})
}

// inner is the fault's content in the default namespace NS, which MarshalXML's Fault element declares.
func (f Fault) inner() []byte {
	var b bytes.Buffer
	esc := func(s string) { _ = xml.EscapeText(&b, []byte(s)) }
	b.WriteString(`<Code><Value xmlns:env="` + NS + `">env:`)
	esc(f.Code)
	b.WriteString(`</Value>`)
	if f.Subcode.Local != "" {
		b.WriteString(`<Subcode><Value xmlns:sc="`)
		esc(f.Subcode.Space)
		b.WriteString(`">sc:`)
		esc(f.Subcode.Local)
		b.WriteString(`</Value></Subcode>`)
	}
	lang := f.Lang
	if lang == "" {
		lang = "en"
	}
	b.WriteString(`</Code><Reason><Text xml:lang="`)
	esc(lang)
	b.WriteString(`">`)
	esc(f.Reason)
	b.WriteString(`</Text></Reason>`)
	if len(f.Detail) > 0 {
		b.WriteString(`<Detail>`)
		b.Write(f.Detail)
		b.WriteString(`</Detail>`)
	}
	return b.Bytes()
}
