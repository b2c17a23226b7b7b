package xta

import "encoding/xml"

// Code is an XÖV code (xoev-dt:Code and its restrictions KeyCodeType, Code.Fehlernummer):
// unqualified code and name children, listURI and listVersionID attributes.
type Code struct {
	Code          string `xml:"code"`
	Name          string `xml:"name,omitempty"`
	ListURI       string `xml:"listURI,attr,omitempty"`
	ListVersionID string `xml:"listVersionID,attr,omitempty"`
}

// MarshalXML writes code and name unqualified (form="unqualified" in the schemas), which
// encoding/xml cannot express with tags inside a default namespace.
func (c Code) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return c.marshal(e, start)
}

func (c Code) marshal(e *xml.Encoder, start xml.StartElement, extra ...xml.Attr) error {
	if c.ListURI != "" {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "listURI"}, Value: c.ListURI})
	}
	if c.ListVersionID != "" {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "listVersionID"}, Value: c.ListVersionID})
	}
	start.Attr = append(start.Attr, extra...)
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	child := func(local, v string) error {
		s := xml.StartElement{Name: xml.Name{Local: local}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ""}}}
		if err := e.EncodeToken(s); err != nil {
			return err
		}
		if err := e.EncodeToken(xml.CharData(v)); err != nil {
			return err
		}
		return e.EncodeToken(s.End())
	}
	if err := child("code", c.Code); err != nil {
		return err
	}
	if c.Name != "" {
		if err := child("name", c.Name); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}
