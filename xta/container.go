package xta

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/konform/konform/soap"
)

// GenericContentContainer is the body of sendMessage and of getMessage's response
// (xenc:EncryptedData is not supported).
type GenericContentContainer struct {
	XMLName          xml.Name          `xml:"http://xoev.de/transport/xta/211 GenericContentContainer"`
	ContentContainer *ContentContainer `xml:"http://xoev.de/transport/xta/211 ContentContainer"`
}

// ContentContainer is the message and its attachments.
type ContentContainer struct {
	Message    Content   `xml:"http://xoev.de/transport/xta/211 Message"`
	Attachment []Content `xml:"http://xoev.de/transport/xta/211 Attachment"`
}

// Content is xta:ContentType: base64Binary content with attributes, either inline or, under MTOM,
// an xop:Include of a part.
type Content struct {
	ContentDescription string        `xml:"contentDescription,attr,omitempty"`
	ContentType        string        `xml:"contentType,attr"`
	Encoding           string        `xml:"encoding,attr,omitempty"`
	Filename           string        `xml:"filename,attr,omitempty"`
	ID                 string        `xml:"id,attr,omitempty"`
	Lang               string        `xml:"lang,attr,omitempty"`
	Size               int64         `xml:"size,attr,omitempty"` // positiveInteger; 0 leaves it out
	Include            *soap.Include `xml:"http://www.w3.org/2004/08/xop/include Include,omitempty"`
	Inline             string        `xml:",chardata"` // base64
}

// Open reads the content: the part its xop:Include names in m, or the inline base64.
func (c *Content) Open(m *soap.Message) (io.ReadCloser, error) {
	if c.Include != nil {
		if m == nil {
			return nil, errors.New("xta: content is an xop:Include but there is no message to take the part from")
		}
		p, err := m.Part(c.Include.Href)
		if err != nil {
			return nil, err
		}
		return p.Open()
	}
	s := strings.TrimSpace(c.Inline)
	if s == "" {
		return nil, fmt.Errorf("xta: content %q is empty (neither inline base64 nor xop:Include)", c.Filename)
	}
	return io.NopCloser(base64.NewDecoder(base64.StdEncoding, strings.NewReader(removeSpace(s)))), nil
}

func removeSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
}
