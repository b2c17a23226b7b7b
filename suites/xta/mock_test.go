package xta

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/mocks/sender"
	xtamock "github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/soap"
	"github.com/konform/konform/suites/drive"
	xtawire "github.com/konform/konform/xta"
)

var soapOpts = soap.ReadOptions{}

// mockRun serves the XTA mock on loopback as a run does and returns the run environment the
// suite sees, with a reader's TLS client for playing the SUT.
type mockRun struct {
	env    *runenv.Env
	base   string // https base
	client *http.Client
}

func startMock(t *testing.T) mockRun {
	t.Helper()
	ca, err := pki.NewCA("Konform Test CA")
	if err != nil {
		t.Fatal(err)
	}
	foreignCA, err := pki.NewCA("Foreign CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.IssueServer("xta", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := foreignCA.IssueServer("xta", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	sut, err := ca.IssueClient("sut")
	if err != nil {
		t.Fatal(err)
	}
	m := xtamock.New(xtamock.WithDataDir(t.TempDir()))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: m}
	go func() { _ = hs.Serve(m.WrapListener(l)) }()
	t.Cleanup(func() { _ = hs.Close() })
	addr := l.Addr().String()
	x := &runenv.XTA{
		Endpoint: runenv.Endpoint{Internal: "https://" + addr, External: "http://" + addr}, ExternalTLS: "https://" + addr,
		ReaderID: "bab:010010000000", OtherReaderID: "bab:099990000999", AuthorID: "bpt:099990000001",
		CAPEM: ca.CertPEM, ServerCertPEM: srv.CertPEM, ServerKeyPEM: srv.KeyPEM, ForeignCertPEM: foreign.CertPEM, ForeignKeyPEM: foreign.KeyPEM,
		PollInterval: time.Second,
	}
	env := &runenv.Env{XTA: x}
	ctx := context.Background()
	mb, err := drive.Mailbox(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.SetPageCap(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := mb.AddAccount(ctx, x.ReaderID, "xoev", string(sut.CertPEM)); err != nil {
		t.Fatal(err)
	}
	cert, err := sut.TLS()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool},
		DisableKeepAlives: true,
	}}
	return mockRun{env: env, base: "https://" + addr, client: client}
}

func (r mockRun) call(t *testing.T, op xtawire.Operation, body any) {
	t.Helper()
	m, err := xtawire.Call(context.Background(), r.client, &xtawire.Request{Op: op, To: r.base + op.Path, Body: body}, soapOpts)
	if err != nil {
		t.Fatalf("%s: %v", op.Name, err)
	}
	m.Close()
}

func smallFixture(t *testing.T) fixtures.Fixture {
	t.Helper()
	dir, err := fixtures.Default()
	if err != nil {
		t.Skip("no built-in fixtures: ", err)
	}
	all, err := fixtures.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if f.Manifest.ID == small {
			return f
		}
	}
	t.Fatalf("no fixture %s in %s", small, dir)
	return fixtures.Fixture{}
}

// TestAgainstTheMock plays a reader against the real XTA mock: the mailbox puts offers, the
// recorded exchanges read into calls give what the checks judge.
func TestAgainstTheMock(t *testing.T) {
	r := startMock(t)
	ctx := context.Background()
	mb, err := newMailbox(r.env)
	if err != nil {
		t.Fatal(err)
	}
	x := r.env.XTA
	f := smallFixture(t)
	var ids []string
	for range 3 {
		o, err := drive.XTAOffer(x, f, sender.XTABreakNone)
		if err != nil {
			t.Fatal(err)
		}
		id, err := mb.Put(ctx, o)
		if err != nil || id != o.MessageID {
			t.Fatalf("put: %q, %v", id, err)
		}
		ids = append(ids, id)
	}
	other, err := drive.XTAOffer(x, f, sender.BreakXTAOtherReader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Put(ctx, other); err != nil {
		t.Fatalf("put for another reader into the SUT's box: %v", err)
	}
	if err := mb.SetPageCap(ctx, pageCap); err != nil {
		t.Fatal(err)
	}
	mark, err := drive.XTAMarkNow(ctx, r.env)
	if err != nil {
		t.Fatal(err)
	}

	// A round: list, page on, fetch the first, close it.
	r.call(t, xtawire.OpGetStatusList, &xtawire.MsgBoxStatusListRequest{MaxListItems: 50, ListForm: xtawire.ListFormMessageMetaData})
	calls := recorded(t, r, mark)
	if len(calls) != 1 || calls[0].Op != OpGetStatusList || !calls[0].HasItemsPending || calls[0].ItemsPending != 2 || len(calls[0].Listed) != 2 || calls[0].Unparsed != "" {
		t.Fatalf("getStatusList read as %+v", calls)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	if err := drive.AwaitXTARounds(wctx, r.env, mark, 0); err != nil {
		t.Errorf("the recorded getStatusList is no round start: %v", err)
	}
	cancel()
	r.call(t, xtawire.OpGetNextStatusList, &xtawire.MsgBoxGetNextRequest{MsgBoxRequestID: calls[0].AnswerRequestID})
	r.call(t, xtawire.OpGetMessage, &xtawire.MsgBoxFetchRequest{MsgSelector: &xtawire.MsgSelector{MessageID: []string{ids[0]}}})
	calls = recorded(t, r, mark)
	fetch := calls[len(calls)-1]
	if fetch.Delivered != ids[0] || fetch.AnswerRequestID == "" || fetch.Unparsed != "" {
		t.Fatalf("getMessage read as %+v", fetch)
	}
	r.call(t, xtawire.OpClose, &xtawire.MsgBoxCloseRequest{MsgBoxRequestID: fetch.AnswerRequestID, LastMsgReceived: []string{ids[0]}})
	calls = recorded(t, r, mark)
	expectNone(t, "a reader by the book", addressingVerdict(calls, nil))
	expectNone(t, "a reader by the book", mtomVerdict(calls))
	expectNone(t, "a reader by the book", closeRequestIDVerdict(calls, ids[0]))
	expectNone(t, "a reader by the book", guessedFetchVerdict(calls))
	if st, err := mb.State(ctx, ids[0]); err != nil || st != stateClosed {
		t.Errorf("state after close: %q, %v", st, err)
	}
	if st, err := mb.State(ctx, ids[1]); err != nil || st != statePending {
		t.Errorf("state of a listed message: %q, %v", st, err)
	}
	tc, err := mb.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	expectNone(t, "the TLS side", certVerdict(soapCalls(tc), "", x.ReaderID))
	if n := len(soapCalls(tc)); n != 4 {
		t.Errorf("the mock recorded %d calls: %+v", n, tc)
	}

	// Faults as the checks arm them.
	if err := mb.AddFault(ctx, OpGetMessage, FaultPermission, ids[1], 1); err != nil {
		t.Fatal(err)
	}
	m, err := xtawire.Call(ctx, r.client, &xtawire.Request{Op: xtawire.OpGetMessage, To: r.base + xtawire.PathMsgBox,
		Body: &xtawire.MsgBoxFetchRequest{MsgSelector: &xtawire.MsgSelector{MessageID: []string{ids[1]}}}}, soapOpts)
	if m != nil {
		m.Close()
	}
	if !xtawire.IsException(err, xtawire.ExcPermissionDenied, "") {
		t.Fatalf("armed PermissionDenied answered %v", err)
	}
	calls = recorded(t, r, mark)
	if c := calls[len(calls)-1]; c.Fault != FaultPermission || len(c.SelectorIDs) != 1 {
		t.Errorf("a PermissionDenied answer read as %+v", c)
	}
	if err := mb.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}

	// Another CA's certificate: the reader's TLS refuses it and the mock notes a failed handshake.
	if err := mb.UseForeignCert(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.Get(r.base + xtawire.PathMsgBox); err == nil {
		t.Error("a client trusting only the run's CA reached the server with the foreign certificate")
	}
	time.Sleep(100 * time.Millisecond) // the mock logs the handshake after the client gave up
	hs, err := mb.Handshakes(ctx)
	if err != nil || len(hs) == 0 {
		t.Errorf("handshakes after the switch: %v, %v", hs, err)
	}
	if err := mb.UseForeignCert(ctx, false); err != nil {
		t.Fatal(err)
	}
	r.call(t, xtawire.OpCheckAccountActive, nil)

	// The same MessageID offered again.
	again, err := drive.XTAOffer(x, f, sender.BreakXTAReuseMessageID, func(m *sender.XTAMessage) { m.ReuseMessageID = ids[0] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Put(ctx, again); err != nil {
		t.Fatalf("offering MessageID %s again: %v", ids[0], err)
	}
	if st, err := mb.State(ctx, ids[0]); err != nil || st != statePending {
		t.Errorf("state after the offer again: %q, %v", st, err)
	}
	if r.env.XTA.PollInterval <= 0 || !slices.Contains(ids, ids[0]) || !strings.HasPrefix(ids[0], sender.XTAMessageIDPrefix) {
		t.Error("unexpected set-up")
	}
}

func recorded(t *testing.T, r mockRun, m drive.XTAMark) []Call {
	t.Helper()
	ex, err := drive.XTAExchanges(context.Background(), r.env, int64(m))
	if err != nil {
		t.Fatal(err)
	}
	return callsOf(ex)
}
