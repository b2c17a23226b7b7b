package xta_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	mock "github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/soap"
	"github.com/konform/konform/xta"
)

const readerA = "bab:010010000000"

func list(t *testing.T, c *client, maxItems int) (*xta.MsgBoxResponse, *xta.MsgStatusList) {
	t.Helper()
	m, err := c.call(xta.OpGetStatusList, xta.MsgBoxStatusListRequest{MaxListItems: maxItems, ListForm: xta.ListFormMessageMetaData})
	if err != nil {
		t.Fatal(err)
	}
	return decodeList(t, m)
}

func decodeList(t *testing.T, m *soap.Message) (*xta.MsgBoxResponse, *xta.MsgStatusList) {
	t.Helper()
	resp, err := xta.MsgBoxResponseOf(m)
	if err != nil {
		t.Fatal(err)
	}
	var l xta.MsgStatusList
	if err := m.DecodeBody(&l); err != nil {
		t.Fatal(err)
	}
	return resp, &l
}

func ids(l *xta.MsgStatusList) []string {
	var out []string
	for _, md := range l.MessageMetaData {
		out = append(out, md.MsgIdentification.MessageID)
	}
	return out
}

func pending(r *xta.MsgBoxResponse) int {
	if r.ItemsPending == nil {
		return -1
	}
	return *r.ItemsPending
}

func fetch(t *testing.T, c *client, id string) (string, *xta.MessageMetaData, *xta.MsgBoxResponse) {
	t.Helper()
	m, err := c.call(xta.OpGetMessage, xta.MsgBoxFetchRequest{MsgSelector: &xta.MsgSelector{MessageID: []string{id}}})
	if err != nil {
		t.Fatalf("getMessage %s: %v", id, err)
	}
	md, err := xta.MetaDataOf(m)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := xta.MsgBoxResponseOf(m)
	if err != nil {
		t.Fatal(err)
	}
	var gc xta.GenericContentContainer
	if err := m.DecodeBody(&gc); err != nil {
		t.Fatal(err)
	}
	if !m.MTOM || gc.ContentContainer == nil || len(gc.ContentContainer.Attachment) != 1 {
		t.Fatalf("getMessage answer: MTOM %v container %+v", m.MTOM, gc.ContentContainer)
	}
	rc, err := gc.ContentContainer.Message.Open(m)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b), md, resp
}

func closeMsgs(c *client, rid string, ids ...string) error {
	_, err := c.call(xta.OpClose, xta.MsgBoxCloseRequest{MsgBoxRequestID: rid, LastMsgReceived: ids})
	return err
}

func TestListFetchClose(t *testing.T) {
	e := start(t, 2)
	a := e.reader(readerA)
	var put []string
	for i := range 5 {
		put = append(put, e.put(readerA, "<antrag n='"+string(rune('0'+i))+"'/>"))
	}
	other := e.put("bab:999", "<other/>")

	// Paging: 2 + 2 + 1, then the iterator is exhausted.
	r1, l1 := list(t, a, 50)
	if got := ids(l1); !slices.Equal(got, put[:2]) || pending(r1) != 3 {
		t.Fatalf("page 1: %v pending %d", got, pending(r1))
	}
	var seen []string
	seen = append(seen, ids(l1)...)
	rid := r1.MsgBoxRequestID
	for _, want := range []int{1, 0} {
		m, err := a.call(xta.OpGetNextStatusList, xta.MsgBoxGetNextRequest{MsgBoxRequestID: rid, LastMsgReceived: seen})
		if err != nil {
			t.Fatal(err)
		}
		r, l := decodeList(t, m)
		if pending(r) != want || r.MsgBoxRequestID != rid {
			t.Fatalf("next page: pending %d id %s", pending(r), r.MsgBoxRequestID)
		}
		seen = append(seen, ids(l)...)
	}
	if !slices.Equal(seen, put) {
		t.Fatalf("listed %v, want %v", seen, put)
	}
	m, _ := a.call(xta.OpGetNextStatusList, xta.MsgBoxGetNextRequest{MsgBoxRequestID: rid})
	if r, _ := decodeList(t, m); r.NoMessageAvailable == nil || r.NoMessageAvailable.Reason != xta.ReasonRequestIDInvalid {
		t.Fatalf("exhausted iterator: %+v", r)
	}
	// maxListItems below the page size caps the page.
	if r, l := list(t, a, 1); len(l.MessageMetaData) != 1 || pending(r) != 4 {
		t.Fatalf("maxListItems 1: %d items, pending %d", len(l.MessageMetaData), pending(r))
	}

	// Fetch and close the first; the metadata is what was put, with the issued MessageID.
	content, md, resp := fetch(t, a, put[0])
	if content != "<antrag n='0'/>" || md.MsgIdentification.MessageID != put[0] || md.Destinations.Reader.Identifier.Value != readerA || pending(resp) != 0 {
		t.Fatalf("fetched %q %+v", content, md)
	}
	if !strings.HasPrefix(put[0], "urn:de:xta:messageid:") {
		t.Errorf("issued MessageID %s", put[0])
	}
	st, _ := e.ctl.Message(e.ctx, put[0])
	if st.State != mock.StateFetched || st.Fetched != 1 || st.Listed != 2 || st.FetchRequestIDs[0] != resp.MsgBoxRequestID {
		t.Fatalf("after fetch: %+v", st)
	}
	if err := closeMsgs(a, resp.MsgBoxRequestID, put[0]); err != nil {
		t.Fatal(err)
	}
	st, _ = e.ctl.Message(e.ctx, put[0])
	if st.State != mock.StateClosed || len(st.Closes) != 1 || !st.Closes[0].IssuedForMessage || st.Closes[0].Account != readerA {
		t.Fatalf("after close: %+v", st)
	}

	// A constant request ID closes too, but the evidence says it was not the mock's.
	_, _, _ = fetch(t, a, put[1])
	if err := closeMsgs(a, "1", put[1]); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.ctl.Message(e.ctx, put[1]); st.Closes[0].IssuedForMessage || st.Closes[0].IssuedByMock {
		t.Fatalf("constant request ID: %+v", st.Closes)
	}

	// Faults: closing an unfetched message, fetching unknown, closed and foreign IDs.
	if err := closeMsgs(a, rid, put[2]); !xta.IsException(err, xta.ExcInvalidMessageID, xta.CodeUnknownMessageID) {
		t.Errorf("close unfetched: %v", err)
	}
	for _, id := range []string{"urn:de:xta:messageid:guessed", put[0], other} {
		if _, err := a.call(xta.OpGetMessage, xta.MsgBoxFetchRequest{MsgSelector: &xta.MsgSelector{MessageID: []string{id}}}); !xta.IsException(err, xta.ExcInvalidMessageID, "9070") {
			t.Errorf("getMessage %s: %v", id, err)
		}
	}

	// getMessage without selector and getNextMessage walk the rest; close by request ID only.
	m, err := a.call(xta.OpGetMessage, xta.MsgBoxFetchRequest{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := xta.MsgBoxResponseOf(m)
	if pending(r) != 2 {
		t.Fatalf("fetch iterator pending %d", pending(r))
	}
	for range 2 {
		if _, err := a.call(xta.OpGetNextMessage, xta.MsgBoxGetNextRequest{MsgBoxRequestID: r.MsgBoxRequestID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.call(xta.OpGetNextMessage, xta.MsgBoxGetNextRequest{MsgBoxRequestID: r.MsgBoxRequestID}); !xta.IsException(err, xta.ExcInvalidMessageID, "") {
		t.Errorf("exhausted getNextMessage: %v", err)
	}
	if err := closeMsgs(a, r.MsgBoxRequestID); err != nil {
		t.Fatal(err)
	}
	r, l := list(t, a, 0)
	if r.NoMessageAvailable == nil || r.NoMessageAvailable.Reason != xta.ReasonNoMatch || len(l.MessageMetaData) != 0 {
		t.Fatalf("empty mailbox: %+v %+v", r, l)
	}
	all, _ := e.ctl.Messages(e.ctx)
	for _, st := range all {
		if (st.MessageID == other) == (st.State == mock.StateClosed) {
			t.Errorf("%s: %s", st.MessageID, st.State)
		}
	}

	// Offered again under the same MessageID.
	if _, err := e.ctl.Put(e.ctx, mock.Offer{OfferHeader: mock.OfferHeader{MessageID: put[0]}, MetaData: meta(readerA, "x"), Message: mock.Content{Body: strings.NewReader("x")}}); err == nil {
		t.Error("MessageID reused without reuseMessageId")
	}
	e.put(readerA, "<again/>", func(o *mock.Offer) { o.MessageID, o.ReuseMessageID = put[0], true })
	if st, _ := e.ctl.Message(e.ctx, put[0]); st.State != mock.StatePending || st.Offers != 2 {
		t.Errorf("offered again: %+v", st)
	}
	if content, _, _ := fetch(t, a, put[0]); content != "<again/>" {
		t.Errorf("offered again content %q", content)
	}
	validateCaptured(t, e)
}

func TestFaults(t *testing.T) {
	e := start(t, 0)
	a := e.reader(readerA)
	id := e.put(readerA, "<a/>")
	add := func(f mock.Fault) {
		if err := e.ctl.AddFault(e.ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	add(mock.Fault{Operation: "getMessage", Kind: mock.FaultTechnical, MessageID: id})
	sel := xta.MsgBoxFetchRequest{MsgSelector: &xta.MsgSelector{MessageID: []string{id}}}
	m, err := a.call(xta.OpGetMessage, sel)
	if !xta.IsException(err, xta.ExcTechnicalProblem, xta.CodeInternalError) || m.Fault.Code != soap.CodeReceiver {
		t.Fatalf("technical: %v", err)
	}
	if _, err := a.call(xta.OpGetMessage, sel); err != nil {
		t.Fatalf("after the one technical fault: %v", err)
	}
	add(mock.Fault{Operation: "close", Kind: mock.FaultPermission})
	if err := closeMsgs(a, "x", id); !xta.IsException(err, xta.ExcPermissionDenied, "9012") {
		t.Errorf("permission: %v", err)
	}
	add(mock.Fault{Operation: "getTransportReport", Kind: mock.FaultInvalidID})
	if _, err := a.call(xta.OpGetTransportReport, xta.MessageID{Value: id}); !xta.IsException(err, xta.ExcInvalidMessageID, "9070") {
		t.Errorf("invalid-id: %v", err)
	}
	add(mock.Fault{Operation: "getStatusList", Kind: mock.FaultRequestIDInvalid})
	if r, _ := list(t, a, 0); r.NoMessageAvailable == nil || r.NoMessageAvailable.Reason != xta.ReasonRequestIDInvalid {
		t.Errorf("request-id-invalid: %+v", r)
	}
	add(mock.Fault{Operation: "getStatusList", Kind: mock.FaultReset})
	if _, err := a.call(xta.OpGetStatusList, xta.MsgBoxStatusListRequest{}); err == nil || xta.FaultError(nil) != nil {
		t.Errorf("reset: %v", err)
	}
	add(mock.Fault{Operation: "checkAccountActive", Kind: mock.FaultDelay, DelayMS: 300})
	t0 := time.Now()
	if _, err := a.call(xta.OpCheckAccountActive, nil); err != nil || time.Since(t0) < 300*time.Millisecond {
		t.Errorf("delay: %v after %v", err, time.Since(t0))
	}
	if err := e.ctl.AddFault(e.ctx, mock.Fault{Operation: "getMessage", Kind: "explode"}); err == nil {
		t.Error("unknown fault kind accepted")
	}
	ex, _ := e.srv.Recorder().Since(0), 0
	var notes []string
	for _, x := range ex {
		notes = append(notes, x.Note)
	}
	for _, want := range []string{"getMessage: fault 9030 (technical, injected)", "getStatusList: fault reset", "close: fault 9012"} {
		if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("no exchange noted %q in %q", want, notes)
		}
	}
	validateCaptured(t, e)
}

func TestTransportAndAuth(t *testing.T) {
	e := start(t, 0)
	a := e.reader(readerA)

	// Plain HTTP: control only; SOAP is refused 403 and recorded.
	resp, err := http.Post("http://"+e.addr+xta.PathMsgBox, "application/soap+xml", strings.NewReader("<x/>"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("plain SOAP: %d", resp.StatusCode)
	}
	if ex := e.srv.Recorder().Since(0); len(ex) != 1 || ex[0].Status != 403 || !strings.Contains(ex[0].Note, "plain HTTP") {
		t.Errorf("plain SOAP not recorded: %+v", ex)
	}

	// No client certificate: recorded and PermissionDenied 9012.
	anon := e.client("", "", e.ca)
	if _, err := anon.call(xta.OpCheckAccountActive, nil); !xta.IsException(err, xta.ExcPermissionDenied, xta.CodeNoAccount) {
		t.Errorf("no certificate: %v", err)
	}
	// A certificate of the CA bound to no account.
	cp, kp := e.ca.issue(t, "stranger", false)
	if _, err := e.client(cp, kp, e.ca).call(xta.OpCheckAccountActive, nil); !xta.IsException(err, xta.ExcPermissionDenied, xta.CodeNoAccount) {
		t.Errorf("unknown certificate: %v", err)
	}
	if _, err := a.call(xta.OpCheckAccountActive, nil); err != nil {
		t.Errorf("account: %v", err)
	}
	calls, _ := e.ctl.Calls(e.ctx)
	if len(calls) < 4 || !strings.Contains(calls[1].Note, "no client certificate") || calls[3].Account != readerA || !calls[3].MTOM {
		t.Errorf("calls: %+v", calls)
	}

	// A client certificate from a foreign CA fails the handshake, which is recorded.
	foreign := newCA(t, "foreign CA")
	fp, fk := foreign.issue(t, "intruder", false)
	if _, err := e.client(fp, fk, e.ca).call(xta.OpCheckAccountActive, nil); err == nil {
		t.Error("foreign client certificate accepted")
	}
	// The server switches to a certificate from a foreign CA: the client refuses it.
	sp, sk := foreign.issue(t, "xta.test", true)
	if err := e.ctl.Configure(e.ctx, mock.Config{ServerCertPEM: sp, ServerKeyPEM: sk, ClientCAPEM: e.ca.pem}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.call(xta.OpCheckAccountActive, nil); err == nil {
		t.Error("client trusted the foreign server certificate")
	}
	time.Sleep(100 * time.Millisecond)
	hs, _ := e.ctl.Handshakes(e.ctx)
	if len(hs) != 2 || hs[0].Remote == "" || hs[0].Error == "" {
		t.Errorf("handshakes: %+v", hs)
	}
	validateCaptured(t, e)
}

func TestSOAPRules(t *testing.T) {
	e := start(t, 0)
	a := e.reader(readerA)
	post := func(ct string, body []byte, hdr map[string]string) (*soap.Message, int) {
		req, _ := http.NewRequest(http.MethodPost, a.url(xta.PathManagement), bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := a.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		m, err := soap.ReadResponse(resp, soap.ReadOptions{})
		if err != nil {
			return nil, resp.StatusCode
		}
		t.Cleanup(func() { m.Close() })
		return m, resp.StatusCode
	}
	env11 := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`
	if _, status := post("text/xml", []byte(env11), map[string]string{"SOAPAction": xta.ActionCheckAccountActive}); status != http.StatusUnsupportedMediaType {
		t.Errorf("SOAP 1.1 text/xml: %d", status)
	}
	if m, status := post("application/soap+xml", []byte(env11), nil); m == nil || m.Fault.Code != soap.CodeVersionMismatch || status != 500 {
		t.Errorf("SOAP 1.1 envelope: %d %+v", status, m)
	}
	// Missing wsa:To.
	o, _ := soap.NewOutgoing(&soap.Envelope{Addressing: soap.Addressing{Action: xta.ActionCheckAccountActive, MessageID: "urn:uuid:1"}}, xta.ActionCheckAccountActive, true)
	b, _ := o.Bytes()
	m, status := post(o.ContentType(), b, nil)
	if m == nil || status != 400 || m.Fault.Subcode.Local != "MessageAddressingHeaderRequired" || m.Addressing.Action != soap.WSAFaultAction || m.Addressing.RelatesTo != "urn:uuid:1" {
		t.Errorf("missing wsa:To: %d %+v", status, m)
	}
	// Action of another port.
	if _, err := a.call(xta.Operation{Name: "x", Action: xta.ActionGetMessage, Path: xta.PathManagement}, nil); err == nil || !strings.Contains(err.Error(), "ActionNotSupported") {
		t.Errorf("foreign action: %v", err)
	}
	// SOAP action differs from wsa:Action.
	r := &xta.Request{Op: xta.OpCheckAccountActive, To: a.url(xta.PathManagement)}
	o, _ = soap.NewOutgoing(r.Envelope(), xta.ActionCreateMessageID, true)
	b, _ = o.Bytes()
	if m, _ := post(o.ContentType(), b, nil); m == nil || m.Fault == nil || !strings.Contains(m.Fault.Reason, "ActionMismatch") {
		t.Errorf("action mismatch: %+v", m)
	}
	// Plain SOAP 1.2 is answered, and the call shows it was not MTOM.
	if _, err := a.call(xta.OpCheckAccountActive, nil, func(r *xta.Request) { r.Plain = true }); err != nil {
		t.Errorf("plain SOAP 1.2: %v", err)
	}
	calls, _ := e.ctl.Calls(e.ctx)
	last := calls[len(calls)-1]
	if last.MTOM || last.Action != xta.ActionCheckAccountActive || last.Addressing.To == "" {
		t.Errorf("plain call: %+v", last)
	}
	validateCaptured(t, e)
}

func TestManagementAndSend(t *testing.T) {
	e := start(t, 0)
	a := e.reader(readerA)
	m, err := a.call(xta.OpCreateMessageID, nil, func(r *xta.Request) { p := xta.NewParty("xoev", readerA); r.Author = &p })
	if err != nil {
		t.Fatal(err)
	}
	var mid xta.MessageID
	if err := m.DecodeBody(&mid); err != nil || !strings.HasPrefix(mid.Value, "urn:de:xta:messageid:") {
		t.Fatalf("createMessageId: %v %q", err, mid.Value)
	}
	m, err = a.call(xta.OpLookupService, xta.LookupServiceRequest{LookupServiceRequestList: []xta.LookupServiceRequestItem{{LookupService: xta.LookupService{Reader: xta.NewParty("xoev", "bab:1"), ServiceType: "urn:s"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var ls xta.LookupServiceResponse
	if err := m.DecodeBody(&ls); err != nil || len(ls.LookupServiceResultList.LookupServiceResult) != 1 || !*ls.LookupServiceResultList.LookupServiceResult[0].IsServiceAvailableValue.ServiceIsAvailable {
		t.Fatalf("lookupService: %v %+v", err, ls)
	}

	// sendMessage with a 5 MB MTOM part and an inline attachment.
	big := bytes.Repeat([]byte("<x>payload</x>"), 5<<20/14)
	md := meta("bab:010020000000", "prozessnachrichten.rueckweisung.G2G.1100")
	md.MsgIdentification.MessageID = mid.Value
	send := func() error {
		_, err := a.call(xta.OpSendMessage, &xta.GenericContentContainer{ContentContainer: &xta.ContentContainer{
			Message:    xta.Content{ContentType: "application/xml", Filename: "rueckweisung.xml", Include: soap.NewInclude("m@test")},
			Attachment: []xta.Content{{ContentType: "text/plain", Filename: "note.txt", Inline: "aGVsbG8="}},
		}}, func(r *xta.Request) {
			r.MetaData = md
			r.Attachments = []soap.Attachment{{ContentID: "m@test", ContentType: "application/xml", Body: bytes.NewReader(big)}}
		})
		return err
	}
	if err := send(); err != nil {
		t.Fatal(err)
	}
	if err := send(); !xta.IsException(err, xta.ExcParameterIsNotValid, xta.CodeMessageIDUsed) {
		t.Errorf("second send: %v", err)
	}
	sent, err := e.ctl.Sent(e.ctx)
	if err != nil || len(sent) != 1 || sent[0].MessageID != mid.Value || sent[0].Message.Size != int64(len(big)) || sent[0].Attachments[0].Filename != "note.txt" || !sent[0].MTOM {
		t.Fatalf("sent: %v %+v", err, sent)
	}
	for part, want := range [][]byte{big, []byte("hello")} {
		rc, err := e.ctl.SentContent(e.ctx, 0, part)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, want) {
			t.Errorf("sent content %d: %d bytes", part, len(got))
		}
	}
	if _, err := e.ctl.SentContent(e.ctx, 3, 0); err == nil {
		t.Error("missing sent content found")
	}

	// getTransportReport: sent → green; a fetched, unclosed message → open; unknown → 9070.
	report := func(id string) (*xta.TransportReport, error) {
		m, err := a.call(xta.OpGetTransportReport, xta.MessageID{Value: id})
		if err != nil {
			return nil, err
		}
		var r xta.TransportReport
		return &r, m.DecodeBody(&r)
	}
	if r, err := report(mid.Value); err != nil || r.MessageStatus.Status != xta.StatusGreen {
		t.Errorf("report of sent: %v %+v", err, r)
	}
	id := e.put(readerA, "<a/>")
	if r, err := report(id); err != nil || r.MessageStatus.Status != xta.StatusOpen || r.MessageMetaData.MsgIdentification.MessageID != id {
		t.Errorf("report of pending: %v %+v", err, r)
	}
	if _, err := report("urn:de:xta:messageid:nope"); !xta.IsException(err, xta.ExcInvalidMessageID, "9070") {
		t.Errorf("report of unknown: %v", err)
	}
	var xe *xta.Error
	if _, err := report("urn:nope"); !errors.As(err, &xe) || xe.Exception.ErrorCode.Name == "" {
		t.Errorf("error code name: %v", err)
	}
	validateCaptured(t, e)
}

// A client that keeps its connection alive meets a new server certificate on its next request:
// swapping the certificate ends the open TLS connections.
func TestNewServerCertificateEndsKeptAliveConnections(t *testing.T) {
	e := start(t, 0)
	const reader = "bab:010010000000"
	certPEM, keyPEM := e.ca.issue(t, reader, false)
	if err := e.ctl.AddAccount(e.ctx, reader, "xoev", certPEM); err != nil {
		t.Fatal(err)
	}
	c := e.client(certPEM, keyPEM, e.ca)
	c.hc.Transport.(*capturing).base.(*http.Transport).DisableKeepAlives = false
	for i := 0; i < 2; i++ {
		if _, err := c.call(xta.OpCheckAccountActive, nil); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	foreign := newCA(t, "foreign CA")
	sp, sk := foreign.issue(t, "xta.test", true)
	if err := e.ctl.Configure(e.ctx, mock.Config{ServerCertPEM: sp, ServerKeyPEM: sk, ClientCAPEM: e.ca.pem}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.call(xta.OpCheckAccountActive, nil); err == nil {
		t.Fatal("the kept-alive connection still served a request after the certificate changed")
	}
}
