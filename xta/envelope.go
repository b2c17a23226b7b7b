package xta

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/http"

	"github.com/konform/konform/soap"
)

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// NewMessageID returns a fresh WS-Addressing message ID (urn:uuid:…).
func NewMessageID() string { return "urn:uuid:" + NewUUID() }

// NewXTAMessageID returns a fresh XTA MessageID as servers issue them (urn:de:xta:messageid:…).
func NewXTAMessageID() string { return "urn:de:xta:messageid:" + NewUUID() }

// Request is one XTA call as a client sends it.
type Request struct {
	Op Operation
	// To is the port's URL; it is the wsa:To and where Call posts.
	To string
	// MessageID is the wsa:MessageID; "" makes a fresh one.
	MessageID string
	// Author is the optional oscimeta:Author header.
	Author *Party
	// MetaData is sendMessage's MessageMetaData header.
	MetaData *MessageMetaData
	// Body is the body element; nil for checkAccountActive and createMessageId.
	Body        any
	Attachments []soap.Attachment
	// Plain writes application/soap+xml instead of MTOM; XTA's policy demands MTOM.
	Plain bool
}

// Envelope returns the request's envelope: wsa:Action (the operation's), MessageID and To,
// then Author and MessageMetaData headers.
func (r *Request) Envelope() *soap.Envelope {
	if r.MessageID == "" {
		r.MessageID = NewMessageID()
	}
	env := &soap.Envelope{
		Addressing: soap.Addressing{Action: r.Op.Action, MessageID: r.MessageID, To: r.To},
		Body:       r.Body,
	}
	if r.Author != nil {
		env.Headers = append(env.Headers, Author{Party: *r.Author})
	}
	if r.MetaData != nil {
		env.Headers = append(env.Headers, r.MetaData)
	}
	return env
}

// Outgoing marshals the request with the operation's SOAP action.
func (r *Request) Outgoing() (*soap.Outgoing, error) {
	return soap.NewOutgoing(r.Envelope(), r.Op.Action, !r.Plain, r.Attachments...)
}

// Call sends r to r.To and reads the answer. A fault comes back as *Error together with the
// message; the caller closes the message.
func Call(ctx context.Context, client *http.Client, r *Request, opt soap.ReadOptions) (*soap.Message, error) {
	o, err := r.Outgoing()
	if err != nil {
		return nil, err
	}
	m, _, err := soap.Call(ctx, client, r.To, o, opt)
	if err != nil {
		return nil, fmt.Errorf("xta %s: %w", r.Op.Name, err)
	}
	if err := FaultError(m); err != nil {
		return m, err
	}
	return m, nil
}

// Response is a server's answer to one operation.
type Response struct {
	Op Operation
	// RelatesTo is the request's wsa:MessageID.
	RelatesTo string
	// Headers in order, e.g. MessageMetaData then MsgBoxResponse for getMessage.
	Headers     []any
	Body        any
	Attachments []soap.Attachment
}

// Outgoing marshals the response as MTOM with the operation's Action, a fresh wsa:MessageID and
// wsa:RelatesTo.
func (r *Response) Outgoing() (*soap.Outgoing, error) {
	env := &soap.Envelope{
		Addressing: soap.Addressing{Action: r.Op.Action, MessageID: NewMessageID(), RelatesTo: r.RelatesTo},
		Headers:    r.Headers,
		Body:       r.Body,
	}
	return soap.NewOutgoing(env, r.Op.Action, true, r.Attachments...)
}

// FaultOutgoing returns a fault answer. action is the operation's Action for XTA exceptions
// (the WSDL gives faults the operation's wsam:Action) or soap.WSAFaultAction for
// WS-Addressing faults.
func FaultOutgoing(action, relatesTo string, f *soap.Fault) (*soap.Outgoing, error) {
	env := &soap.Envelope{
		Addressing: soap.Addressing{Action: action, MessageID: NewMessageID(), RelatesTo: relatesTo},
		Body:       f,
	}
	return soap.NewOutgoing(env, action, true)
}

var (
	nameMsgBoxResponse  = xml.Name{Space: NSOSCI, Local: "MsgBoxResponse"}
	nameMessageMetaData = xml.Name{Space: NSMeta, Local: "MessageMetaData"}
	nameAuthor          = xml.Name{Space: NSMeta, Local: "Author"}
)

// MsgBoxResponseOf reads the osci:MsgBoxResponse header of m.
func MsgBoxResponseOf(m *soap.Message) (*MsgBoxResponse, error) {
	var r MsgBoxResponse
	ok, err := m.DecodeHeader(nameMsgBoxResponse, &r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("xta: no osci:MsgBoxResponse header")
	}
	return &r, nil
}

// MetaDataOf reads the oscimeta:MessageMetaData header of m.
func MetaDataOf(m *soap.Message) (*MessageMetaData, error) {
	var md MessageMetaData
	ok, err := m.DecodeHeader(nameMessageMetaData, &md)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("xta: no oscimeta:MessageMetaData header")
	}
	return &md, nil
}

// AuthorOf reads the optional oscimeta:Author header of m; nil when absent.
func AuthorOf(m *soap.Message) (*Party, error) {
	var a Author
	ok, err := m.DecodeHeader(nameAuthor, &a)
	if err != nil || !ok {
		return nil, err
	}
	return &a.Party, nil
}
