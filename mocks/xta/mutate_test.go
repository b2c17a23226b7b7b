package xta_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	mock "github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/xta"
)

// TestMutatedRequests sends thousands of damaged SOAP requests (bodies and content types) as an
// authenticated client: every one is answered in time, none panics.
func TestMutatedRequests(t *testing.T) {
	ca := newCA(t, "ca")
	certPEM, _ := ca.issue(t, "reader", false)
	block, _ := pem.Decode([]byte(certPEM))
	cert, _ := x509.ParseCertificate(block.Bytes)
	s := mock.New(mock.WithDataDir(t.TempDir()))
	ctl := httptest.NewServer(s)
	defer ctl.Close()
	mock.NewControl(ctl.URL).AddAccount(t.Context(), "bab:1", "xoev", certPEM)
	var seeds [][]byte
	var cts []string
	for _, op := range []xta.Operation{xta.OpGetStatusList, xta.OpGetMessage, xta.OpClose, xta.OpSendMessage} {
		r := &xta.Request{Op: op, To: "https://x" + op.Path, Body: xta.MsgBoxCloseRequest{MsgBoxRequestID: "r", LastMsgReceived: []string{"m"}}}
		o, _ := r.Outgoing()
		b, _ := o.Bytes()
		seeds = append(seeds, b)
		cts = append(cts, o.ContentType())
	}
	paths := []string{xta.PathMsgBox, xta.PathSend, xta.PathManagement}
	rnd := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		k := rnd.Intn(len(seeds))
		b := append([]byte(nil), seeds[k]...)
		for j := 0; j < rnd.Intn(4); j++ {
			b[rnd.Intn(len(b))] = byte(rnd.Intn(256))
		}
		if rnd.Intn(3) == 0 {
			b = b[:rnd.Intn(len(b))]
		}
		req := httptest.NewRequest(http.MethodPost, "https://xta.test/", bytes.NewReader(b))
		req.URL.Path = paths[rnd.Intn(3)]
		ct := []byte(cts[rnd.Intn(len(cts))])
		for j := 0; j < rnd.Intn(3); j++ {
			ct[rnd.Intn(len(ct))] = byte(32 + rnd.Intn(95))
		}
		if rnd.Intn(4) == 0 {
			ct = ct[:rnd.Intn(len(ct))]
		}
		req.Header.Set("Content-Type", string(ct))
		req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		done := make(chan struct{})
		go func() { s.ServeHTTP(httptest.NewRecorder(), req); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatalf("request %d hangs: %q %q", i, ct, b)
		}
	}
}
