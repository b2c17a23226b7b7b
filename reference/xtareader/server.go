package xtareader

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// server is the XTA server as the reader uses it: one method per operation. client.go speaks
// it over SOAP 1.2 + MTOM (packages soap and xta); the tests' fake server answers it.
type server interface {
	CheckAccountActive(ctx context.Context) error
	// StatusList is getStatusList with ListForm MessageMetaData and maxListItems.
	StatusList(ctx context.Context, maxListItems int) (page, error)
	// NextStatusList is getNextStatusList with the MsgBoxRequestID of the last page.
	NextStatusList(ctx context.Context, requestID string) (page, error)
	// Fetch is getMessage of one MessageID. The delivery's parts stay readable until Close.
	Fetch(ctx context.Context, messageID string) (*delivery, error)
	// Close is close with LastMsgReceived = messageID under requestID.
	Close(ctx context.Context, requestID, messageID string) error
	CreateMessageID(ctx context.Context) (string, error)
	// Send is sendMessage of one message.
	Send(ctx context.Context, m outgoing) error
}

// meta is the part of a message's MessageMetaData the reader evaluates and answers with.
type meta struct {
	MessageID        string
	Author           party
	Reader           party
	Service          string
	BusinessScenario string
	// MessageType code and payloadSchema; listURI and listVersionID as given.
	MessageType, PayloadSchema, TypeListURI, TypeListVersionID string
}

// page is one answer of getStatusList / getNextStatusList.
type page struct {
	// RequestID is the MsgBoxRequestID of the answer.
	RequestID string
	// NoMessage is the NoMessageAvailable reason; "" when the answer lists messages.
	NoMessage    string
	ItemsPending int
	Items        []meta
}

// content is one ContentType of a content container: the Message or an Attachment.
type content struct {
	ID, Filename, ContentType string
	Size                      int64
	Open                      func() (io.ReadCloser, error)
}

// delivery is one answer of getMessage.
type delivery struct {
	// RequestID is the MsgBoxRequestID of the answer that delivered the message.
	RequestID   string
	Meta        meta
	Message     content
	Attachments []content
	// Release frees what the answer holds (spooled parts).
	Release func()
}

// outgoing is a message the reader sends (its Rückweisungen).
type outgoing struct {
	Meta      meta
	InReplyTo string
	Message   content
}

// Kinds of XTA faults, by what the reader does after them.
const (
	FaultTechnical        = "XTAWSTechnicalProblem"
	FaultPermissionDenied = "PermissionDenied"
	FaultInvalidMessageID = "InvalidMessageID"
	FaultParameter        = "ParameterIsNotValid"
	FaultOther            = "other"
)

// Fault is an XTA fault the server answered with.
type Fault struct {
	Kind   string // one of the Fault* kinds
	Code   string // the XTA error code (urn:de:xta:webservice:codeliste:fehlernummer), if any
	Reason string
}

func (f *Fault) Error() string {
	s := "XTA fault " + f.Kind
	if f.Code != "" {
		s += " (" + f.Code + ")"
	}
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}

// faultKind returns the kind of an XTA fault, "" when err is none (a broken connection, a
// time-out, an answer that is no SOAP).
func faultKind(err error) string {
	var f *Fault
	if errors.As(err, &f) {
		return f.Kind
	}
	return ""
}

// final reports whether the server refused the call itself (PermissionDenied, InvalidMessageID,
// ParameterIsNotValid): repeating it in the same round cannot help.
func final(err error) bool {
	switch faultKind(err) {
	case FaultPermissionDenied, FaultInvalidMessageID, FaultParameter:
		return true
	}
	return false
}

// opError names the operation a call failed in.
func opError(op string, err error) error { return fmt.Errorf("%s: %w", op, err) }
