package xtareader

import (
	"bytes"
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/pki"
	mock "github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/store"
	"github.com/konform/konform/specs/specstest"
	"github.com/konform/konform/xta"
)

// The reader against the kit's XTA mock (pages of 2): its valid messages stored and closed with
// the delivering MsgBoxRequestID, the invalid one answered with a Rückweisung and closed, the
// other reader's message neither fetched nor closed; every request over TLS with the client
// certificate, MTOM, with the SOAP action equal to wsa:Action.
// xtaMock is the kit's XTA mock on loopback with a server certificate of the run's CA, pages of
// 2, and an account for readerID.
type xtaMock struct {
	ctl *mock.Control
	cfg Config
}

func startXTAMock(t *testing.T, d defects.Set) *xtaMock {
	ctx := context.Background()
	s := mock.New(mock.WithDataDir(t.TempDir()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(s.WrapListener(ln))
	t.Cleanup(func() { hs.Close() })
	base := "https://" + ln.Addr().String()
	ctl := mock.NewControl("http://" + ln.Addr().String())

	ca, err := pki.NewCA("Konform Test-CA")
	if err != nil {
		t.Fatal(err)
	}
	srvLeaf, err := ca.IssueServer("xta.test", nil, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.Configure(ctx, mock.Config{ServerCertPEM: string(srvLeaf.CertPEM), ServerKeyPEM: string(srvLeaf.KeyPEM),
		ClientCAPEM: string(ca.CertPEM), PageSize: 2}); err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueClient(readerID)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.AddAccount(ctx, readerID, "xoev", string(leaf.CertPEM)); err != nil {
		t.Fatal(err)
	}
	pair, err := leaf.TLS()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	cfg := Config{
		ManagementURL: base + xta.PathManagement, MsgBoxURL: base + xta.PathMsgBox, SendURL: base + xta.PathSend,
		ClientCert: pair, CA: pool, ReaderID: readerID,
		Services: []contract.XTAService{{Service: xbauService, BusinessScenario: "XBAU_DATA",
			MessageTypes: []contract.XTAMessageType{{Code: antrag0200, PayloadSchema: xbauNS}}}},
		PollInterval: time.Second, SchemaDir: specstest.Dir(t), Defects: d,
	}
	return &xtaMock{ctl: ctl, cfg: cfg}
}

// put offers payload from authorID to reader, with a PDF attachment, and returns its MessageID.
func (m *xtaMock) put(t *testing.T, reader string, payload []byte) string {
	md := metaData("", reader, antrag0200, len(payload))
	id, err := m.ctl.Put(context.Background(), mock.Offer{MetaData: &md,
		Message:     mock.Content{Filename: "nachricht.xml", ContentType: "application/xml", Body: bytes.NewReader(payload)},
		Attachments: []mock.Content{{Filename: "lageplan.pdf", ContentType: "application/pdf", Body: bytes.NewReader([]byte("%PDF-1.4"))}}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The reader against the kit's XTA mock (pages of 2): its valid messages stored and closed with
// the delivering MsgBoxRequestID, the invalid one answered with a Rückweisung and closed, the
// other reader's message neither fetched nor closed; every request over TLS with the client
// certificate, MTOM, with the SOAP action equal to wsa:Action.
func TestAgainstTheXTAMock(t *testing.T) {
	ctx := context.Background()
	xm := startXTAMock(t, nil)
	ctl := xm.ctl
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := New(xm.cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	put := func(reader string, payload []byte) string { return xm.put(t, reader, payload) }
	var ours []string
	for _, u := range uuids {
		ours = append(ours, put(readerID, withUUID(t, u)))
	}
	invalid := put(readerID, bytes.Replace(withUUID(t, "5e2b0001-4001-4001-8001-00000000b001"), []byte("</nachrichtenkopf>"), []byte("</nachrichtenkopf><unerwartet/>"), 1))
	foreign := put("bab:010020000000", withUUID(t, "5e2b0001-4001-4001-8001-00000000b002"))

	for range 2 {
		if err := r.Round(ctx); err != nil {
			t.Errorf("round: %v", err)
		}
	}

	for _, id := range append(slices.Clone(ours), invalid) {
		m, err := ctl.Message(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != mock.StateClosed || len(m.Closes) != 1 || !m.Closes[0].IssuedForMessage {
			t.Errorf("message %s: state %s, closes %+v", id, m.State, m.Closes)
		}
	}
	if m, err := ctl.Message(ctx, foreign); err != nil || m.Fetched != 0 || len(m.Closes) != 0 {
		t.Errorf("the other reader's message: %+v %v", m, err)
	}
	if n, _ := st.CountCases(); n != len(ours) {
		t.Errorf("%d cases, want %d", n, len(ours))
	}
	sub, err := st.Get(ours[0])
	if err != nil || len(sub.Attachments) != 1 || sub.Attachments[0].Filename != "lageplan.pdf" {
		t.Errorf("record %+v %v", sub, err)
	}
	sent, err := ctl.Sent(ctx)
	if err != nil || len(sent) != 1 || sent[0].MetaData.Destinations.Reader.Identifier.Value != authorID ||
		sent[0].MetaData.Qualifier.MessageType.Code.Code != RueckweisungCode || !sent[0].MTOM {
		t.Errorf("sent %+v %v", sent, err)
	}
	calls, err := ctl.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		if !c.TLS || c.ClientCert == "" || !c.MTOM || c.Action != c.Addressing.Action || c.Addressing.To == "" || c.Status != 200 {
			t.Errorf("call %+v", c)
		}
	}
}

// Under every defect the reader still reads its box at the kit's mock: 5 valid messages (pages
// of 2) become 5 cases and are closed within three rounds, an invalid one gets its Rückweisung
// (except where the defect is about that). A defect breaks its duty, not the reader.
func TestDefectsAgainstTheXTAMock(t *testing.T) {
	for _, name := range xtaDefects() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			xm := startXTAMock(t, defects.Set{name: true})
			st, err := store.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			r, err := New(xm.cfg, st)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, u := range uuids {
				ids = append(ids, xm.put(t, readerID, withUUID(t, u)))
			}
			xm.put(t, readerID, bytes.Replace(withUUID(t, "5e2b0001-4001-4001-8001-00000000b001"), []byte("</nachrichtenkopf>"), []byte("</nachrichtenkopf><unerwartet/>"), 1))
			for range 3 {
				_ = r.Round(ctx)
			}
			if n, _ := st.CountCases(); n != 5 && name != "xta-store-invalid" || n != 6 && name == "xta-store-invalid" {
				t.Errorf("%d cases", n)
			}
			for _, id := range ids {
				if m, err := xm.ctl.Message(ctx, id); err != nil || m.State != mock.StateClosed {
					t.Errorf("message %s: %s %v", id, m.State, err)
				}
			}
			sent, err := xm.ctl.Sent(ctx)
			want := 1
			if name == "xta-no-rueckweisung" || name == "xta-store-invalid" {
				want = 0
			}
			if err != nil || len(sent) != want {
				t.Errorf("%d sent, want %d (%v)", len(sent), want, err)
			}
		})
	}
}
