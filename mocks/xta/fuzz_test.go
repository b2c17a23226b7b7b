package xta_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"

	mock "github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/soap"
	"github.com/konform/konform/xta"
)

// FuzzSOAP feeds arbitrary bodies to the SOAP ports as an authenticated TLS client: the mock
// answers, it never panics.
func FuzzSOAP(f *testing.F) {
	for _, op := range []xta.Operation{xta.OpGetStatusList, xta.OpGetMessage, xta.OpClose, xta.OpSendMessage} {
		r := &xta.Request{Op: op, To: "https://x" + op.Path, Body: xta.MsgBoxCloseRequest{MsgBoxRequestID: "r", LastMsgReceived: []string{"m"}}}
		o, _ := r.Outgoing()
		b, _ := o.Bytes()
		f.Add(op.Path, o.ContentType(), b)
	}
	f.Add(xta.PathMsgBox, "application/soap+xml", []byte(`<e:Envelope xmlns:e="`+soap.NS+`"><e:Body/></e:Envelope>`))
	t := &testing.T{}
	ca := newCA(t, "ca")
	certPEM, _ := ca.issue(t, "reader", false)
	block, _ := pem.Decode([]byte(certPEM))
	cert, _ := x509.ParseCertificate(block.Bytes)
	s := mock.New(mock.WithDataDir(f.TempDir()))
	ctl := httptest.NewServer(s)
	defer ctl.Close()
	if err := mock.NewControl(ctl.URL).AddAccount(f.Context(), "bab:1", "xoev", certPEM); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "https://xta.test/", bytes.NewReader(body))
		req.URL.Path = path
		req.Header.Set("Content-Type", contentType)
		req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		s.ServeHTTP(httptest.NewRecorder(), req)
	})
}
