package soap

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// scanned is what one pass over the root part finds.
type scanned struct {
	addressing  Addressing
	headerNames []xml.Name
	bodyName    xml.Name
	includes    []string
	fault       *Fault
}

// scanEnvelope walks the envelope once without holding it: it checks it is SOAP 1.2, reads the
// WS-Addressing headers, the body's first element, a fault, and every xop:Include href.
func scanEnvelope(r io.Reader) (*scanned, error) {
	d := xml.NewDecoder(r)
	s := &scanned{}
	var (
		path    []xml.Name // open elements
		ns      []map[string]string
		text    strings.Builder
		sawBody bool
		inFault bool
		detail  *rawWriter
		detailD int // depth of env:Detail

		reasonLang string
	)
	resolve := func(qname string) xml.Name {
		p, local, ok := strings.Cut(qname, ":")
		if !ok {
			p, local = "", qname
		}
		if p == "xml" {
			return xml.Name{Space: nsXML, Local: local}
		}
		for i := len(ns) - 1; i >= 0; i-- {
			if u, ok := ns[i][p]; ok {
				return xml.Name{Space: u, Local: local}
			}
		}
		return xml.Name{Space: p, Local: local}
	}
	for {
		t, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(path) == 0 && !sawBody {
				return nil, fmt.Errorf("%w: %v", ErrNotEnvelope, err)
			}
			return nil, fmt.Errorf("%w: malformed XML: %v", ErrNotEnvelope, err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			decl := map[string]string{}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					decl[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					decl[""] = a.Value
				}
			}
			ns = append(ns, decl)
			depth := len(path)
			path = append(path, t.Name)
			text.Reset()
			if detail != nil {
				scope := map[string]string{}
				for _, m := range ns {
					for p, u := range m {
						scope[p] = u
					}
				}
				detail.start(t, scope)
			}
			if t.Name.Space == NSXOP && t.Name.Local == "Include" {
				href := ""
				for _, a := range t.Attr {
					if a.Name.Local == "href" && a.Name.Space == "" {
						href = a.Value
					}
				}
				s.includes = append(s.includes, href)
			}
			switch depth {
			case 0:
				if t.Name.Space == NS11 && t.Name.Local == "Envelope" {
					return nil, fmt.Errorf("%w (namespace %s)", ErrVersion, NS11)
				}
				if t.Name != (xml.Name{Space: NS, Local: "Envelope"}) {
					return nil, fmt.Errorf("%w: root element is {%s}%s", ErrNotEnvelope, t.Name.Space, t.Name.Local)
				}
			case 1:
				if t.Name.Space != NS || (t.Name.Local != "Header" && t.Name.Local != "Body") {
					return nil, fmt.Errorf("%w: unexpected {%s}%s in the envelope", ErrNotEnvelope, t.Name.Space, t.Name.Local)
				}
				sawBody = sawBody || t.Name.Local == "Body"
			case 2:
				if path[1].Local == "Header" {
					s.headerNames = append(s.headerNames, t.Name)
				} else if s.bodyName.Local == "" {
					s.bodyName = t.Name
					if t.Name.Space == NS && t.Name.Local == "Fault" {
						inFault = true
						s.fault = &Fault{}
					}
				}
			default:
				if inFault && depth == 3 && t.Name.Local == "Detail" {
					detail, detailD = &rawWriter{}, depth
				}
				if inFault && reasonLang == "" && localPath(path[3:]) == "Reason/Text" {
					for _, a := range t.Attr {
						if a.Name.Local == "lang" && (a.Name.Space == nsXML || a.Name.Space == "xml") {
							reasonLang = a.Value
						}
					}
				}
			}
		case xml.CharData:
			text.Write(t)
			if detail != nil && len(path) > detailD+1 {
				detail.text(t)
			}
		case xml.EndElement:
			depth := len(path) - 1
			if depth < 0 {
				return nil, fmt.Errorf("%w: unbalanced end element", ErrNotEnvelope)
			}
			v := strings.TrimSpace(text.String())
			if depth >= 2 && path[1].Local == "Header" && path[2].Space == NSWSA {
				switch {
				case depth == 2 && path[2].Local == "Action":
					s.addressing.Action = v
				case depth == 2 && path[2].Local == "MessageID":
					s.addressing.MessageID = v
				case depth == 2 && path[2].Local == "To":
					s.addressing.To = v
				case depth == 2 && path[2].Local == "RelatesTo":
					s.addressing.RelatesTo = v
				case depth == 3 && path[2].Local == "ReplyTo" && path[3].Local == "Address":
					s.addressing.ReplyTo = v
				}
			}
			if inFault && depth >= 3 {
				f := s.fault
				rel := localPath(path[3:])
				switch rel {
				case "Code/Value":
					f.Code = resolve(v).Local
				case "Code/Subcode/Value":
					f.Subcode = resolve(v)
				case "Reason/Text":
					if f.Reason == "" {
						f.Reason, f.Lang = v, reasonLang
					}
				}
			}
			if detail != nil {
				if depth == detailD {
					s.fault.Detail = RawXML(detail.b.Bytes())
					detail = nil
				} else {
					detail.end()
				}
			}
			if depth == 2 && inFault {
				inFault = false
			}
			path = path[:depth]
			ns = ns[:depth]
			text.Reset()
		}
	}
	if !sawBody {
		return nil, fmt.Errorf("%w: no env:Body", ErrNotEnvelope)
	}
	return s, nil
}

func localPath(p []xml.Name) string {
	parts := make([]string, len(p))
	for i, n := range p {
		parts[i] = n.Local
	}
	return strings.Join(parts, "/")
}

// findBody positions d just after the start of the body's first element and returns it; ok is
// false when the body is empty.
func findBody(d *xml.Decoder) (xml.StartElement, bool, error) {
	depth := 0
	inBody := false
	for {
		t, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return xml.StartElement{}, false, fmt.Errorf("%w: no env:Body", ErrNotEnvelope)
			}
			return xml.StartElement{}, false, fmt.Errorf("%w: %v", ErrNotEnvelope, err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			if inBody {
				return t, true, nil
			}
			depth++
			if depth == 2 && t.Name.Space == NS && t.Name.Local == "Body" {
				inBody = true
			}
		case xml.EndElement:
			if inBody {
				return xml.StartElement{}, false, nil
			}
			depth--
		}
	}
}
