package xta

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/konform/konform/mocks/sender"
	xtamock "github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/suites/drive"
)

// mailbox is what the checks ask of the XTA server mock's control API: put a message into the
// SUT's box, see its state, inject faults, cap pages, switch the server certificate, list the
// failed TLS handshakes and the TLS side of each request. What the SUT sent and what its requests
// said the checks read from the recorded exchanges themselves (parse.go).
type mailbox interface {
	// Put puts the offer into the SUT's mailbox under the offer's MessageID (also one already
	// delivered) and returns the MessageID.
	Put(ctx context.Context, o sender.XTAOffer) (string, error)
	// State is the message's state at the server: statePending, stateFetched or stateClosed.
	State(ctx context.Context, messageID string) (string, error)
	// AddFault makes the server answer the next count calls of operation op (naming messageID,
	// when not "") with fault kind (Fault* kinds, or FaultRequestIDInvalid for getNextStatusList).
	AddFault(ctx context.Context, op, kind, messageID string, count int) error
	// AddDelay makes the server hold its answer to the next call of op naming messageID for d
	// before it carries the call out.
	AddDelay(ctx context.Context, op, messageID string, d time.Duration) error
	// ClearFaults removes every fault not yet used up.
	ClearFaults(ctx context.Context) error
	// SetPageCap caps the items of one listing answer (0: no cap beyond maxListItems).
	SetPageCap(ctx context.Context, n int) error
	// UseForeignCert makes the server present the certificate of another CA (true) or the
	// run's (false), dropping open connections.
	UseForeignCert(ctx context.Context, foreign bool) error
	// Handshakes lists the TLS handshakes at the server that failed, in order.
	Handshakes(ctx context.Context) ([]Handshake, error)
	// Sent lists what clients sent over sendMessage, with the content container's Message.
	Sent(ctx context.Context) ([]Sent, error)
	// Calls lists the requests at the server's ports as the server saw them, in order, with
	// their TLS side (TLS, ClientCert), path, port, operation, the MessageIDs they name
	// (SelectorIDs of getMessage, LastMsgReceived of close) and Time when they arrived.
	Calls(ctx context.Context) ([]Call, error)
}

// Message states at the server.
const (
	statePending = "pending"
	stateFetched = "fetched"
	stateClosed  = "closed"
)

// newMailbox returns the run's mailbox at the XTA server mock.
var newMailbox = func(env *runenv.Env) (mailbox, error) {
	m, err := drive.Mailbox(env)
	if err != nil {
		return nil, err
	}
	return driveMailbox{m}, nil
}

// driveMailbox is the mailbox through drive's client of the mock's control API.
type driveMailbox struct{ m *drive.XTAMailbox }

func (d driveMailbox) Put(ctx context.Context, o sender.XTAOffer) (string, error) {
	return d.m.PutOffer(ctx, o)
}

func (d driveMailbox) State(ctx context.Context, messageID string) (string, error) {
	st, err := d.m.Message(ctx, messageID)
	return st.State, err
}

func (d driveMailbox) AddFault(ctx context.Context, op, kind, messageID string, count int) error {
	return d.m.AddFault(ctx, xtamock.Fault{Operation: op, Kind: kind, MessageID: messageID, Count: count})
}

func (d driveMailbox) AddDelay(ctx context.Context, op, messageID string, delay time.Duration) error {
	return d.m.AddFault(ctx, xtamock.Fault{Operation: op, Kind: xtamock.FaultDelay, MessageID: messageID, Count: 1, DelayMS: int(delay / time.Millisecond)})
}

func (d driveMailbox) ClearFaults(ctx context.Context) error { return d.m.ClearFaults(ctx) }

func (d driveMailbox) SetPageCap(ctx context.Context, n int) error { return d.m.SetPageCap(ctx, n) }

func (d driveMailbox) UseForeignCert(ctx context.Context, foreign bool) error {
	return d.m.UseForeignCert(ctx, foreign)
}

func (d driveMailbox) Handshakes(ctx context.Context) ([]Handshake, error) {
	hs, err := d.m.Handshakes(ctx)
	out := make([]Handshake, 0, len(hs))
	for _, h := range hs {
		out = append(out, Handshake{Time: h.Time, Error: h.Error})
	}
	return out, err
}

func (d driveMailbox) Sent(ctx context.Context) ([]Sent, error) {
	ss, err := d.m.Sent(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Sent, 0, len(ss))
	for _, s := range ss {
		md := s.MetaData
		sent := Sent{Seq: int64(s.Index), Time: s.Time, MessageID: s.MessageID, Author: md.Originators.Author.Identifier.Value,
			Reader: md.Destinations.Reader.Identifier.Value, MessageTypeCode: md.Qualifier.MessageType.Code.Code}
		rc, err := d.m.SentContent(ctx, s.Index, 0)
		if err != nil {
			return nil, fmt.Errorf("the Message of sent message %d: %w", s.Index, err)
		}
		sent.Message, err = io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("the Message of sent message %d: %w", s.Index, err)
		}
		out = append(out, sent)
	}
	return out, nil
}

func (d driveMailbox) Calls(ctx context.Context) ([]Call, error) {
	cs, err := d.m.Calls(ctx)
	out := make([]Call, 0, len(cs))
	for i, c := range cs {
		call := Call{Seq: int64(i + 1), Time: c.Time, Path: c.Path, Port: PortOfPath(c.Path), Op: c.Operation,
			TLS: c.TLS, ClientCert: strings.ToLower(c.ClientCert), Account: c.Account, Status: c.Status, RequestID: c.MsgBoxRequestID}
		switch c.Operation {
		case OpGetMessage:
			call.SelectorIDs = c.MessageIDs
		case OpClose, OpGetNextMessage, OpGetNextStatusList:
			call.LastMsgReceived = c.MessageIDs
		}
		out = append(out, call)
	}
	return out, err
}
