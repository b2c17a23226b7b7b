package xta

import (
	"time"

	"github.com/konform/konform/soap"
	wire "github.com/konform/konform/xta"
)

// Message states.
const (
	StatePending = "pending" // in the mailbox, not fetched since it was offered
	StateFetched = "fetched" // fetched, not closed: still listed (XTA 2 v3 marks it delivered only on close)
	StateClosed  = "closed"  // closed: delivered
)

// FileInfo describes one stored content part.
type FileInfo struct {
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"contentType"`
	Description string `json:"description,omitempty"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// Close is one close that named a message.
type Close struct {
	Time            time.Time `json:"time"`
	Account         string    `json:"account"`
	MsgBoxRequestID string    `json:"msgBoxRequestId"`
	// IssuedForMessage: the mock issued MsgBoxRequestID for a response that delivered this message.
	IssuedForMessage bool `json:"issuedForMessage"`
	// IssuedByMock: the mock issued MsgBoxRequestID at all (for any response).
	IssuedByMock bool `json:"issuedByMock"`
	// ViaLastMsgReceived: the message was named in LastMsgReceived (not only implied by the ID).
	ViaLastMsgReceived bool `json:"viaLastMsgReceived"`
}

// MessageState is what the mock knows about one message in a mailbox.
type MessageState struct {
	MessageID string `json:"messageId"`
	// Mailbox is the reader identifier whose mailbox holds the message.
	Mailbox   string      `json:"mailbox"`
	State     string      `json:"state"`
	Offers    int         `json:"offers"`
	OfferedAt []time.Time `json:"offeredAt"`
	Listed    int         `json:"listed"`
	ListedAt  []time.Time `json:"listedAt"`
	Fetched   int         `json:"fetched"`
	FetchedAt []time.Time `json:"fetchedAt"`
	// FetchRequestIDs are the MsgBoxRequestIDs of the responses that delivered the message.
	FetchRequestIDs []string             `json:"fetchRequestIds"`
	Closes          []Close              `json:"closes"`
	MetaData        wire.MessageMetaData `json:"metaData"`
	Message         FileInfo             `json:"message"`
	Attachments     []FileInfo           `json:"attachments"`
}

// SentMessage is one message the SUT sent over sendMessage.
type SentMessage struct {
	Index       int                  `json:"index"`
	Time        time.Time            `json:"time"`
	Account     string               `json:"account"`
	MessageID   string               `json:"messageId"`
	MetaData    wire.MessageMetaData `json:"metaData"`
	MetaDataXML string               `json:"metaDataXml"`
	MTOM        bool                 `json:"mtom"`
	Message     FileInfo             `json:"message"`
	Attachments []FileInfo           `json:"attachments"`
}

// Handshake is a TLS handshake that failed; it never reached HTTP.
type Handshake struct {
	Time   time.Time `json:"time"`
	Remote string    `json:"remote"`
	Error  string    `json:"error"`
}

// Call is one SOAP request as the mock read it, beside the recorder's exchange.
type Call struct {
	Time        time.Time `json:"time"`
	Path        string    `json:"path"`
	Operation   string    `json:"operation,omitempty"`
	TLS         bool      `json:"tls"`
	ClientCert  string    `json:"clientCertSha256,omitempty"`
	Account     string    `json:"account,omitempty"`
	ContentType string    `json:"contentType"`
	MTOM        bool      `json:"mtom"`
	// Action is the SOAP action of the transport (content type or SOAPAction header), ActionSource where.
	Action       string          `json:"action,omitempty"`
	ActionSource string          `json:"actionSource,omitempty"`
	SOAPAction   string          `json:"soapActionHeader,omitempty"`
	Addressing   soap.Addressing `json:"addressing"`
	// MessageIDs are the XTA MessageIDs the request names (selector, LastMsgReceived, body).
	MessageIDs      []string `json:"messageIds,omitempty"`
	MsgBoxRequestID string   `json:"msgBoxRequestId,omitempty"`
	Status          int      `json:"status"`
	Note            string   `json:"note"`
}
