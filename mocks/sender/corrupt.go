package sender

import (
	"bytes"
	"fmt"
	"io"

	"github.com/beevik/etree"
)

// DropElement returns a Part with the XML of p minus the first element whose local name is
// localName — for BreakDataSchema, name an element the schema requires. It reads p once, now,
// and fails if p is not well-formed XML or has no such element.
func DropElement(p Part, localName string) (Part, error) {
	raw, err := readAll(p)
	if err != nil {
		return Part{}, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return Part{}, fmt.Errorf("sender: DropElement: data is not well-formed XML: %w", err)
	}
	if doc.Root() == nil {
		return Part{}, fmt.Errorf("sender: DropElement: data has no root element")
	}
	el := doc.FindElement("//" + localName)
	if el == nil || el == doc.Root() {
		return Part{}, fmt.Errorf("sender: DropElement: no child element %q in the data", localName)
	}
	el.Parent().RemoveChild(el)
	out, err := doc.WriteToBytes()
	if err != nil {
		return Part{}, fmt.Errorf("sender: DropElement: %w", err)
	}
	return Bytes(p.MimeType, out), nil
}

// Malformed returns a Part with the XML of p cut before the root's end tag, so it is no longer
// well-formed — for BreakDataSchema against a receiver's XML parser.
func Malformed(p Part) (Part, error) {
	raw, err := readAll(p)
	if err != nil {
		return Part{}, err
	}
	i := bytes.LastIndex(raw, []byte("</"))
	if i <= 0 {
		return Part{}, fmt.Errorf("sender: Malformed: data has no end tag to remove")
	}
	return Bytes(p.MimeType, raw[:i]), nil
}

// UnexpectedElement is the local name of the element BreakDataInvalid inserts.
const UnexpectedElement = "konformUnerwartetesElement"

// WithUnexpectedElement returns a Part with the XML of p and an empty UnexpectedElement (no
// namespace) as the root's first child: still well-formed, the root unchanged, but invalid
// against any schema that does not allow arbitrary content there.
func WithUnexpectedElement(p Part) (Part, error) {
	raw, err := readAll(p)
	if err != nil {
		return Part{}, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return Part{}, fmt.Errorf("sender: WithUnexpectedElement: data is not well-formed XML: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return Part{}, fmt.Errorf("sender: WithUnexpectedElement: data has no root element")
	}
	root.InsertChildAt(0, etree.NewElement(UnexpectedElement))
	out, err := doc.WriteToBytes()
	if err != nil {
		return Part{}, fmt.Errorf("sender: WithUnexpectedElement: %w", err)
	}
	return Bytes(p.MimeType, out), nil
}

// dataToSend is the data as the submission's breakage sends it.
func dataToSend(sub Submission) (Part, error) {
	switch sub.Break {
	case BreakDataInvalid:
		return WithUnexpectedElement(sub.Data)
	case BreakDataMalformed:
		return Malformed(sub.Data)
	}
	return sub.Data, nil
}

func readAll(p Part) ([]byte, error) {
	if p.Open == nil {
		return nil, fmt.Errorf("sender: data Part has no Open")
	}
	rc, err := p.Open()
	if err != nil {
		return nil, fmt.Errorf("sender: open data: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("sender: read data: %w", err)
	}
	return b, nil
}
