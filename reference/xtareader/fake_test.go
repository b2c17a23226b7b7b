package xtareader

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/store"
	"github.com/konform/konform/soap"
	"github.com/konform/konform/specs/specstest"
	"github.com/konform/konform/xta"
)

const (
	readerID     = "bab:010010000000"
	authorID     = "bau:099990000001"
	xbauService  = "http://www.xleitstelle.de/xbau/2/3/XBau23-BGV-BH2BAB.wsdl"
	xbauNS       = "http://www.xleitstelle.de/xbau/2/3/1"
	antrag0200   = "baugenehmigung.antrag.0200"
	fixtureUUID  = "5e2b0001-4001-4001-8001-000000000001"
	fixturePath  = "../../fixtures/xoev/bg-0200-minimal/data.xml"
	pagePerCall  = 2
	faultTech    = xta.ExcTechnicalProblem
	faultDenied  = xta.ExcPermissionDenied
	faultInvalID = xta.ExcInvalidMessageID
)

// boxMsg is a message waiting in the fake's box.
type boxMsg struct {
	md          xta.MessageMetaData
	payload     []byte
	attachments map[string][]byte // filename → content
}

// call is one request the fake received.
type call struct {
	op        string
	action    string // SOAPAction / content-type action
	wsa       soap.Addressing
	mtom      bool
	cert      bool
	ids       []string // MessageIDs named (getMessage selector, close LastMsgReceived)
	requestID string
	xml       []byte // the envelope with xop:Include inlined
	at        time.Time
}

// sentMsg is a message the reader sent (sendMessage).
type sentMsg struct {
	md      xta.MessageMetaData
	payload []byte
}

// fakeXTA is a small XTA 2 server for the reader's tests: one TLS listener serving the three
// ports, pages of pagePerCall items, iterators per MsgBoxRequestID, faults on demand.
type fakeXTA struct {
	t    testing.TB
	mu   sync.Mutex
	box  []*boxMsg
	seq  int
	iter map[string][]*boxMsg // list iterators: what is still pending
	// delivered: getMessage answer's MsgBoxRequestID → MessageID.
	delivered map[string]string
	closed    []string // MessageIDs closed
	calls     []call
	sent      []sentMsg
	// faults: "op messageID" (or "op") → exception element names to answer, consumed in order.
	faults map[string][]string
	// resetClose makes the next close of a MessageID break the connection instead of answering.
	resetClose map[string]bool
	// requestIDInvalid makes the next getNextStatusList answer NoMessageAvailable RequestIdInvalid.
	requestIDInvalid bool
	// onClose runs (outside the lock) before a close is answered.
	onClose func(messageID string)

	srv  *httptest.Server
	ca   *pki.CA
	cert atomic.Pointer[tls.Certificate]
	pool *x509.CertPool
	base string
}

func newFakeXTA(t testing.TB) *fakeXTA {
	ca, err := pki.NewCA("Konform Test-CA")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeXTA{t: t, ca: ca, iter: map[string][]*boxMsg{}, delivered: map[string]string{}, faults: map[string][]string{},
		resetClose: map[string]bool{}}
	f.pool = x509.NewCertPool()
	f.pool.AddCert(ca.Cert)
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.useServerCert(ca)
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{*f.cert.Load()}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: f.pool,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return f.cert.Load(), nil }}
	f.srv.StartTLS()
	// By name, so that the client sends SNI and the server picks its current certificate.
	f.base = strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1)
	t.Cleanup(f.srv.Close)
	return f
}

// useServerCert serves a certificate of ca (the run's CA, or another).
func (f *fakeXTA) useServerCert(ca *pki.CA) {
	leaf, err := ca.IssueServer("localhost", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		f.t.Fatal(err)
	}
	pair, err := leaf.TLS()
	if err != nil {
		f.t.Fatal(err)
	}
	f.cert.Store(&pair)
}

// config is the reader's configuration for the fake, with a client certificate of its CA.
func (f *fakeXTA) config(t testing.TB, d defects.Set) Config {
	leaf, err := f.ca.IssueClient("konform-reference")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := leaf.TLS()
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		ManagementURL: f.base + xta.PathManagement, MsgBoxURL: f.base + xta.PathMsgBox, SendURL: f.base + xta.PathSend,
		ClientCert: pair, CA: f.pool, ReaderID: readerID,
		Services: []contract.XTAService{{Service: xbauService, BusinessScenario: "XBAU_DATA",
			MessageTypes: []contract.XTAMessageType{{Code: antrag0200, PayloadSchema: xbauNS}}}},
		PollInterval: time.Second, SchemaDir: specstest.Dir(t), Defects: d,
	}
}

// offer puts a message into the box and returns its MessageID.
func (f *fakeXTA) offer(messageID, reader, code string, payload []byte, atts map[string][]byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if messageID == "" {
		f.seq++
		messageID = fmt.Sprintf("urn:de:xta:messageid:konform-test:%04d", f.seq)
	}
	md := metaData(messageID, reader, code, len(payload))
	f.box = append(f.box, &boxMsg{md: md, payload: payload, attachments: atts})
	return messageID
}

// metaData is the MessageMetaData of a test message from authorID to reader.
func metaData(messageID, reader, code string, size int) xta.MessageMetaData {
	md := xta.MessageMetaData{
		DeliveryAttributes: xta.DeliveryAttributes{Delivery: time.Now().UTC().Format(xta.TimeFormat)},
		Originators:        xta.Originators{Author: xta.NewParty(xta.IdentifierTypeXoev, authorID)},
		Destinations:       xta.Destinations{Reader: xta.NewParty(xta.IdentifierTypeXoev, reader)},
		MsgIdentification:  xta.MsgIdentification{MessageID: messageID},
		Qualifier: xta.Qualifier{Service: xbauService, BusinessScenario: xta.BusinessScenario{Undefined: "XBAU_DATA"},
			MessageType: xta.MessageType{Code: xta.Code{Code: code, ListURI: "urn:de:payloadSchema:elementName", ListVersionID: "1.0"},
				PayloadSchema: xbauNS}},
		MsgSize: int64(size),
	}
	md.Originators.Author.Identifier.Name = "Bauportal Musterland"
	return md
}

// failNext makes the next call of op (for messageID, when given) answer with the exception.
func (f *fakeXTA) failNext(op, messageID, exception string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := strings.TrimSpace(op + " " + messageID)
	f.faults[k] = append(f.faults[k], exception)
}

func (f *fakeXTA) takeFault(op, messageID string) string {
	for _, k := range []string{strings.TrimSpace(op + " " + messageID), op} {
		if q := f.faults[k]; len(q) > 0 {
			f.faults[k] = q[1:]
			return q[0]
		}
	}
	return ""
}

func (f *fakeXTA) serve(w http.ResponseWriter, r *http.Request) {
	m, err := soap.ReadRequest(r, soap.ReadOptions{Dir: f.t.TempDir()})
	if err != nil {
		f.t.Errorf("fake XTA: unreadable request to %s: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer m.Close()
	op, ok := xta.OperationFor(r.URL.Path, m.Addressing.Action)
	if !ok {
		f.t.Errorf("fake XTA: no operation at %s for wsa:Action %q", r.URL.Path, m.Addressing.Action)
		http.Error(w, "no such operation", http.StatusBadRequest)
		return
	}
	inline, err := m.InlineXML()
	if err != nil {
		f.t.Errorf("fake XTA: %s: %v", op.Name, err)
	}
	c := call{op: op.Name, action: m.Action, wsa: m.Addressing, mtom: m.MTOM, cert: r.TLS != nil && len(r.TLS.PeerCertificates) > 0,
		xml: inline, at: time.Now()}
	switch op.Name {
	case "getMessage":
		var req xta.MsgBoxFetchRequest
		if err := m.DecodeBody(&req); err != nil {
			f.t.Errorf("fake XTA: getMessage body: %v", err)
		}
		c.ids = req.MessageIDs()
	case "close":
		var req xta.MsgBoxCloseRequest
		if err := m.DecodeBody(&req); err != nil {
			f.t.Errorf("fake XTA: close body: %v", err)
		}
		c.ids, c.requestID = req.LastMsgReceived, req.MsgBoxRequestID
	case "getNextStatusList":
		var req xta.MsgBoxGetNextRequest
		if err := m.DecodeBody(&req); err != nil {
			f.t.Errorf("fake XTA: getNextStatusList body: %v", err)
		}
		c.requestID = req.MsgBoxRequestID
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	id := ""
	if len(c.ids) > 0 {
		id = c.ids[0]
	}
	exception := f.takeFault(op.Name, id)
	reset := op.Name == "close" && f.resetClose[id]
	if reset {
		delete(f.resetClose, id)
	}
	f.mu.Unlock()
	if exception != "" {
		f.fault(w, op, exception)
		return
	}
	if reset {
		hj, ok := w.(http.Hijacker)
		if !ok {
			f.t.Fatal("fake XTA: cannot hijack")
		}
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	}
	switch op.Name {
	case "checkAccountActive":
		f.answer(w, op, nil, nil)
	case "createMessageId":
		f.mu.Lock()
		f.seq++
		id := fmt.Sprintf("urn:de:xta:messageid:konform-test:out-%04d", f.seq)
		f.mu.Unlock()
		f.answer(w, op, nil, soap.RawXML(`<wsa:MessageID xmlns:wsa="`+xta.NSWSA+`">`+id+`</wsa:MessageID>`))
	case "getStatusList":
		f.list(w, op, "")
	case "getNextStatusList":
		f.list(w, op, c.requestID)
	case "getMessage":
		f.getMessage(w, op, c.ids)
	case "close":
		f.close(w, op, c.ids)
	case "sendMessage":
		f.sendMessage(w, op, m)
	default:
		f.fault(w, op, faultTech)
	}
}

func (f *fakeXTA) answer(w http.ResponseWriter, op xta.Operation, headers []any, body any, atts ...soap.Attachment) {
	env := &soap.Envelope{Addressing: soap.Addressing{Action: op.Action}, Headers: headers, Body: body}
	out, err := soap.NewOutgoing(env, op.Action, true, atts...)
	if err != nil {
		f.t.Errorf("fake XTA: %v", err)
		return
	}
	if err := soap.WriteResponse(w, http.StatusOK, out); err != nil {
		f.t.Logf("fake XTA: writing answer: %v", err)
	}
}

func (f *fakeXTA) fault(w http.ResponseWriter, op xta.Operation, exception string) {
	code := map[string]string{xta.ExcTechnicalProblem: xta.CodeInternalError, xta.ExcPermissionDenied: xta.CodeNoAccount,
		xta.ExcInvalidMessageID: xta.CodeUnknownMessageID, xta.ExcParameterIsNotValid: xta.CodeInvalidParameterCombo}[exception]
	out, err := xta.FaultOutgoing(op.Action, "", xta.NewException(exception, code).Fault(""))
	if err != nil {
		f.t.Errorf("fake XTA: %v", err)
		return
	}
	_ = soap.WriteResponse(w, http.StatusInternalServerError, out)
}

// list answers getStatusList (requestID "") or getNextStatusList.
func (f *fakeXTA) list(w http.ResponseWriter, op xta.Operation, requestID string) {
	f.mu.Lock()
	var rest []*boxMsg
	if requestID == "" {
		rest = append(rest, f.box...)
		f.seq++
		requestID = fmt.Sprintf("urn:uuid:list-%04d", f.seq)
	} else {
		var ok bool
		rest, ok = f.iter[requestID]
		if !ok || f.requestIDInvalid {
			f.requestIDInvalid = false
			delete(f.iter, requestID)
			f.mu.Unlock()
			f.answer(w, op, []any{xta.NoMessage(requestID, xta.ReasonRequestIDInvalid)}, nil)
			return
		}
	}
	if len(rest) == 0 {
		f.mu.Unlock()
		f.answer(w, op, []any{xta.NoMessage(requestID, xta.ReasonNoMatch)}, nil)
		return
	}
	n := min(pagePerCall, len(rest))
	page, left := rest[:n], rest[n:]
	f.iter[requestID] = left
	var list xta.MsgStatusList
	for _, b := range page {
		list.MessageMetaData = append(list.MessageMetaData, b.md)
	}
	f.mu.Unlock()
	f.answer(w, op, []any{xta.Pending(requestID, len(left))}, &list)
}

func (f *fakeXTA) find(id string) *boxMsg {
	for _, b := range f.box {
		if b.md.MsgIdentification.MessageID == id {
			return b
		}
	}
	return nil
}

func (f *fakeXTA) getMessage(w http.ResponseWriter, op xta.Operation, ids []string) {
	f.mu.Lock()
	var b *boxMsg
	if len(ids) == 1 {
		b = f.find(ids[0])
	}
	if b == nil {
		f.mu.Unlock()
		f.fault(w, op, faultInvalID)
		return
	}
	f.seq++
	requestID := fmt.Sprintf("urn:uuid:fetch-%04d", f.seq)
	f.delivered[requestID] = ids[0]
	f.mu.Unlock()
	cc := &xta.ContentContainer{Message: xta.Content{ContentType: "application/xml", Encoding: "UTF-8", Filename: "nachricht.xml",
		ID: "nachricht", Size: int64(len(b.payload)), Include: soap.NewInclude("msg@fake")}}
	atts := []soap.Attachment{{ContentID: "msg@fake", ContentType: "application/xml", Body: bytes.NewReader(b.payload)}}
	i := 0
	for name, data := range b.attachments {
		i++
		cid := fmt.Sprintf("att%d@fake", i)
		cc.Attachment = append(cc.Attachment, xta.Content{ContentType: "application/pdf", Filename: name, ID: fmt.Sprintf("anlage-%d", i),
			Size: int64(len(data)), Include: soap.NewInclude(cid)})
		atts = append(atts, soap.Attachment{ContentID: cid, ContentType: "application/pdf", Body: bytes.NewReader(data)})
	}
	f.answer(w, op, []any{b.md, xta.Pending(requestID, 0)}, &xta.GenericContentContainer{ContentContainer: cc}, atts...)
}

func (f *fakeXTA) close(w http.ResponseWriter, op xta.Operation, ids []string) {
	if f.onClose != nil && len(ids) > 0 {
		f.onClose(ids[0])
	}
	f.mu.Lock()
	for _, id := range ids {
		if b := f.find(id); b != nil {
			f.closed = append(f.closed, id)
			var keep []*boxMsg
			for _, x := range f.box {
				if x != b {
					keep = append(keep, x)
				}
			}
			f.box = keep
		}
	}
	f.mu.Unlock()
	f.answer(w, op, nil, nil)
}

func (f *fakeXTA) sendMessage(w http.ResponseWriter, op xta.Operation, m *soap.Message) {
	var md xta.MessageMetaData
	if _, err := m.DecodeHeader(xml.Name{Space: xta.NSMeta, Local: "MessageMetaData"}, &md); err != nil {
		f.t.Errorf("fake XTA: sendMessage header: %v", err)
	}
	var gc xta.GenericContentContainer
	if err := m.DecodeBody(&gc); err != nil || gc.ContentContainer == nil {
		f.t.Errorf("fake XTA: sendMessage body: %v", err)
		f.fault(w, op, xta.ExcParameterIsNotValid)
		return
	}
	rc, err := gc.ContentContainer.Message.Open(m)
	if err != nil {
		f.t.Errorf("fake XTA: sendMessage content: %v", err)
		return
	}
	payload, _ := io.ReadAll(rc)
	rc.Close()
	f.mu.Lock()
	f.sent = append(f.sent, sentMsg{md: md, payload: payload})
	f.mu.Unlock()
	f.answer(w, op, nil, nil)
}

// snapshot returns copies of what the fake recorded.
func (f *fakeXTA) snapshot() (calls []call, closed []string, sent []sentMsg, box int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...), append([]string(nil), f.closed...), append([]sentMsg(nil), f.sent...), len(f.box)
}

// callsOf returns the calls of one operation.
func callsOf(calls []call, op string) []call {
	var out []call
	for _, c := range calls {
		if c.op == op {
			out = append(out, c)
		}
	}
	return out
}

// newTestReader opens a store in dir and a reader on it against the fake.
func newTestReader(t testing.TB, f *fakeXTA, dir string, d defects.Set) (*Reader, *store.Store) {
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var logs bytes.Buffer
	r, err := New(f.config(t, d), st, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("reader log:\n%s", logs.String())
		}
	})
	return r, st
}

func fixture(t testing.TB) []byte {
	b, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withUUID returns the fixture with another nachrichtenUUID.
func withUUID(t testing.TB, uuid string) []byte {
	return bytes.Replace(fixture(t), []byte(fixtureUUID), []byte(uuid), 1)
}

func round(t testing.TB, r *Reader) {
	t.Helper()
	if err := r.Round(context.Background()); err != nil {
		t.Logf("round: %v", err)
	}
}

func cases(t testing.TB, st *store.Store) []contract.CaseEntry {
	c, err := st.Cases()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
