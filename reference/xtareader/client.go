package xtareader

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/konform/konform/soap"
	"github.com/konform/konform/xta"
)

// client speaks XTA 2 Version 3 to the three ports: HTTPS with the client certificate, trusting
// only the configured CA; every request a SOAP 1.2 envelope sent as MTOM/XOP with its action in
// the Content-Type and the SOAPAction header, and wsa:Action, a fresh wsa:MessageID and wsa:To.
type client struct {
	management, msgBox, send string
	author                   xta.Party
	http                     *http.Client
	// account is the HTTP client of checkAccountActive (the same unless a defect says otherwise).
	account *http.Client
	// mtom is false under xta-plain-soap.
	mtom bool
	// to says whether a request of op carries wsa:To (not so under xta-no-wsa-to).
	to    func(op xta.Operation) bool
	spool string
}

// newClient builds the client. Every request opens its own TLS connection (no keep-alive), so
// each is authenticated afresh and a changed server certificate is checked at once.
func newClient(cfg Config) (*client, error) {
	if cfg.CA == nil {
		return nil, errors.New("xtareader: no CA to trust for the XTA server")
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.CA, Certificates: []tls.Certificate{cfg.ClientCert}}
	c := &client{management: cfg.ManagementURL, msgBox: cfg.MsgBoxURL, send: cfg.SendURL,
		author: xta.NewParty(xta.IdentifierTypeXoev, cfg.ReaderID), mtom: true,
		to:    func(xta.Operation) bool { return true },
		spool: os.TempDir()}
	withClientDefects(c, cfg, tlsCfg)
	c.http = httpClient(tlsCfg)
	if c.account == nil {
		c.account = c.http
	}
	return c, nil
}

func httpClient(tlsCfg *tls.Config) *http.Client {
	return &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
		TLSClientConfig: tlsCfg, DisableKeepAlives: true, ForceAttemptHTTP2: false,
		TLSHandshakeTimeout: 15 * time.Second, ResponseHeaderTimeout: 2 * time.Minute,
	}}
}

// call sends one request to a port and returns the answer; an XTA fault comes back as a *Fault.
// The header is the reader's oscimeta:Author, or, for sendMessage, the MessageMetaData.
func (c *client) call(ctx context.Context, hc *http.Client, op xta.Operation, url string, md *xta.MessageMetaData, body any, atts ...soap.Attachment) (*soap.Message, error) {
	req := &xta.Request{Op: op, To: url, MetaData: md, Body: body, Attachments: atts, Plain: !c.mtom}
	if md == nil {
		req.Author = &c.author
	}
	env := req.Envelope()
	if !c.to(op) {
		env.Addressing.To = ""
	}
	out, err := soap.NewOutgoing(env, op.Action, c.mtom, atts...)
	if err != nil {
		return nil, err
	}
	m, status, err := soap.Call(ctx, hc, url, out, soap.ReadOptions{Dir: c.spool})
	if err != nil {
		return nil, err
	}
	if ferr := xta.FaultError(m); ferr != nil {
		m.Close()
		return nil, faultOf(ferr)
	}
	if status != http.StatusOK && status != http.StatusAccepted {
		m.Close()
		return nil, fmt.Errorf("HTTP %d from %s", status, url)
	}
	return m, nil
}

// faultOf maps an XTA fault to the reader's Fault by its exception.
func faultOf(err error) *Fault {
	out := &Fault{Kind: FaultOther, Reason: err.Error()}
	var e *xta.Error
	if !errors.As(err, &e) {
		return out
	}
	out.Reason = e.Fault.Reason
	if e.Exception == nil {
		return out
	}
	out.Code = e.Exception.ErrorCode.Code
	switch e.Exception.Kind() {
	case xta.ExcTechnicalProblem:
		out.Kind = FaultTechnical
	case xta.ExcPermissionDenied:
		out.Kind = FaultPermissionDenied
	case xta.ExcInvalidMessageID:
		out.Kind = FaultInvalidMessageID
	case xta.ExcParameterIsNotValid:
		out.Kind = FaultParameter
	}
	return out
}

func (c *client) CheckAccountActive(ctx context.Context) error {
	m, err := c.call(ctx, c.account, xta.OpCheckAccountActive, c.management, nil, nil)
	if err != nil {
		return err
	}
	return m.Close()
}

func (c *client) CreateMessageID(ctx context.Context) (string, error) {
	m, err := c.call(ctx, c.http, xta.OpCreateMessageID, c.management, nil, nil)
	if err != nil {
		return "", err
	}
	defer m.Close()
	var id xta.MessageID
	if err := m.DecodeBody(&id); err != nil {
		return "", fmt.Errorf("createMessageId answer: %w", err)
	}
	if v := strings.TrimSpace(id.Value); v != "" {
		return v, nil
	}
	return "", errors.New("createMessageId answered no MessageID")
}

func (c *client) StatusList(ctx context.Context, maxListItems int) (page, error) {
	return c.list(ctx, xta.OpGetStatusList, &xta.MsgBoxStatusListRequest{MaxListItems: maxListItems, ListForm: xta.ListFormMessageMetaData})
}

func (c *client) NextStatusList(ctx context.Context, requestID string) (page, error) {
	return c.list(ctx, xta.OpGetNextStatusList, &xta.MsgBoxGetNextRequest{MsgBoxRequestID: requestID})
}

func (c *client) list(ctx context.Context, op xta.Operation, body any) (page, error) {
	m, err := c.call(ctx, c.http, op, c.msgBox, nil, body)
	if err != nil {
		return page{}, err
	}
	defer m.Close()
	var p page
	resp, err := xta.MsgBoxResponseOf(m)
	if err != nil {
		return p, err
	}
	p.RequestID = resp.MsgBoxRequestID
	if resp.NoMessageAvailable != nil {
		p.NoMessage = resp.NoMessageAvailable.Reason
		if p.NoMessage == "" {
			p.NoMessage = "(no reason)"
		}
	}
	if resp.ItemsPending != nil {
		p.ItemsPending = *resp.ItemsPending
	}
	if m.BodyName.Local == "" {
		return p, nil
	}
	var list xta.MsgStatusList
	if err := m.DecodeBody(&list); err != nil {
		return p, fmt.Errorf("MsgStatusList: %w", err)
	}
	for _, md := range list.MessageMetaData {
		p.Items = append(p.Items, metaOf(md))
	}
	return p, nil
}

func metaOf(md xta.MessageMetaData) meta {
	q := md.Qualifier
	scenario := q.BusinessScenario.Undefined
	if q.BusinessScenario.Defined != nil {
		scenario = q.BusinessScenario.Defined.Code
	}
	return meta{
		MessageID: strings.TrimSpace(md.MsgIdentification.MessageID),
		Author:    partyOf(md.Originators.Author), Reader: partyOf(md.Destinations.Reader),
		Service: strings.TrimSpace(q.Service), BusinessScenario: strings.TrimSpace(scenario),
		MessageType: strings.TrimSpace(q.MessageType.Code.Code), PayloadSchema: strings.TrimSpace(q.MessageType.PayloadSchema),
		TypeListURI: q.MessageType.ListURI, TypeListVersionID: q.MessageType.ListVersionID,
	}
}

func partyOf(p xta.Party) party {
	id := p.Identifier
	return party{Identifier: strings.TrimSpace(id.Value), Type: id.Type, Name: id.Name, Category: id.Category}
}

func (c *client) Fetch(ctx context.Context, messageID string) (*delivery, error) {
	body := &xta.MsgBoxFetchRequest{MsgSelector: &xta.MsgSelector{MessageID: []string{messageID}}}
	m, err := c.call(ctx, c.http, xta.OpGetMessage, c.msgBox, nil, body)
	if err != nil {
		return nil, err
	}
	d := &delivery{Release: func() { m.Close() }}
	fail := func(err error) (*delivery, error) { m.Close(); return nil, err }
	resp, err := xta.MsgBoxResponseOf(m)
	if err != nil {
		return fail(err)
	}
	d.RequestID = resp.MsgBoxRequestID
	if md, err := xta.MetaDataOf(m); err == nil {
		d.Meta = metaOf(*md)
	}
	var gc xta.GenericContentContainer
	if err := m.DecodeBody(&gc); err != nil {
		return fail(fmt.Errorf("GenericContentContainer: %w", err))
	}
	if gc.ContentContainer == nil {
		return fail(errors.New("the getMessage answer carries no ContentContainer (encrypted content is not supported)"))
	}
	d.Message = contentOf(m, gc.ContentContainer.Message)
	for _, a := range gc.ContentContainer.Attachment {
		d.Attachments = append(d.Attachments, contentOf(m, a))
	}
	return d, nil
}

func contentOf(m *soap.Message, c xta.Content) content {
	return content{ID: c.ID, Filename: c.Filename, ContentType: c.ContentType, Size: c.Size,
		Open: func() (io.ReadCloser, error) { return c.Open(m) }}
}

func (c *client) Close(ctx context.Context, requestID, messageID string) error {
	body := &xta.MsgBoxCloseRequest{MsgBoxRequestID: requestID, LastMsgReceived: []string{messageID}}
	m, err := c.call(ctx, c.http, xta.OpClose, c.msgBox, nil, body)
	if err != nil {
		return err
	}
	return m.Close()
}

// Send is sendMessage: MessageMetaData in the header, the message as an MTOM part.
func (c *client) Send(ctx context.Context, o outgoing) error {
	md := xta.MessageMetaData{
		DeliveryAttributes: xta.DeliveryAttributes{Origin: time.Now().UTC().Format(xta.TimeFormat)},
		Originators:        xta.Originators{Author: wireParty(o.Meta.Author)},
		Destinations:       xta.Destinations{Reader: wireParty(o.Meta.Reader)},
		MsgIdentification:  xta.MsgIdentification{MessageID: o.Meta.MessageID},
		Qualifier: xta.Qualifier{Service: o.Meta.Service,
			BusinessScenario: xta.BusinessScenario{Undefined: o.Meta.BusinessScenario},
			MessageType: xta.MessageType{Code: xta.Code{Code: o.Meta.MessageType, ListURI: o.Meta.TypeListURI,
				ListVersionID: o.Meta.TypeListVersionID}, PayloadSchema: o.Meta.PayloadSchema}},
		MsgSize: o.Message.Size,
	}
	if o.InReplyTo != "" {
		md.MsgIdentification.InReplyTo = []string{o.InReplyTo}
	}
	if md.Qualifier.BusinessScenario.Undefined == "" {
		md.Qualifier.BusinessScenario.Undefined = "XBAU_DATA"
	}
	msg := xta.Content{ContentType: o.Message.ContentType, Encoding: "UTF-8", Filename: o.Message.Filename, ID: o.Message.ID, Size: o.Message.Size}
	var atts []soap.Attachment
	rc, err := o.Message.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if c.mtom {
		cid := uuid.NewString() + "@konform-reference"
		msg.Include = soap.NewInclude(cid)
		atts = append(atts, soap.Attachment{ContentID: cid, ContentType: o.Message.ContentType, Body: rc})
	} else {
		raw, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		msg.Inline = base64Std(raw)
	}
	body := &xta.GenericContentContainer{ContentContainer: &xta.ContentContainer{Message: msg}}
	m, err := c.call(ctx, c.http, xta.OpSendMessage, c.send, &md, body, atts...)
	if err != nil {
		return err
	}
	return m.Close()
}

func wireParty(p party) xta.Party {
	typ := p.Type
	if typ == "" {
		typ = xta.IdentifierTypeXoev
	}
	out := xta.NewParty(typ, p.Identifier)
	out.Identifier.Name, out.Identifier.Category = p.Name, p.Category
	return out
}
