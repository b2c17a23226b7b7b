package xta_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	mock "github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/soap"
	"github.com/konform/konform/xta"
)

// pki is a test CA issuing ECDSA P-256 certificates.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

var serial int64 = 1

func newCA(t *testing.T, name string) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pki{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// issue returns certificate and PKCS#8 key PEM for cn; server certificates name 127.0.0.1.
func (ca *pki) issue(t *testing.T, cn string, server bool) (certPEM, keyPEM string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}))
}

// env is a running mock with a CA, a server certificate and the control client.
type env struct {
	t       *testing.T
	srv     *mock.Server
	ctl     *mock.Control
	addr    string
	ca      *pki
	ctx     context.Context
	capture *capture
}

func start(t *testing.T, pageSize int) *env {
	t.Helper()
	s := mock.New(mock.WithDataDir(t.TempDir()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := s.WrapListener(ln)
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(wl)
	t.Cleanup(func() { hs.Close() })
	e := &env{t: t, srv: s, addr: ln.Addr().String(), ca: newCA(t, "run CA"), ctx: context.Background(), capture: &capture{}}
	e.ctl = mock.NewControl("http://" + e.addr)
	certPEM, keyPEM := e.ca.issue(t, "xta.test", true)
	if err := e.ctl.Configure(e.ctx, mock.Config{ServerCertPEM: certPEM, ServerKeyPEM: keyPEM, ClientCAPEM: e.ca.pem, PageSize: pageSize}); err != nil {
		t.Fatal(err)
	}
	return e
}

// reader makes a client certificate for readerID and binds it to an account.
func (e *env) reader(readerID string) *client {
	e.t.Helper()
	certPEM, keyPEM := e.ca.issue(e.t, readerID, false)
	if err := e.ctl.AddAccount(e.ctx, readerID, "xoev", certPEM); err != nil {
		e.t.Fatal(err)
	}
	return e.client(certPEM, keyPEM, e.ca)
}

// client is an XTA client with the given certificate (none when certPEM is "") trusting trust.
func (e *env) client(certPEM, keyPEM string, trust *pki) *client {
	pool := x509.NewCertPool()
	pool.AddCert(trust.cert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certPEM != "" {
		c, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			e.t.Fatal(err)
		}
		// Send the certificate whatever CAs the server names, as a SUT with a configured
		// certificate does (Certificates alone would be withheld from a server asking for another CA).
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	return &client{e: e, hc: &http.Client{Transport: &capturing{base: tr, c: e.capture}, Timeout: 30 * time.Second}}
}

type client struct {
	e  *env
	hc *http.Client
}

func (c *client) url(path string) string { return "https://" + c.e.addr + path }

// call sends one XTA request; the message is closed at test end.
func (c *client) call(op xta.Operation, body any, mod ...func(*xta.Request)) (*soap.Message, error) {
	r := &xta.Request{Op: op, To: c.url(op.Path), Body: body}
	for _, m := range mod {
		m(r)
	}
	m, err := xta.Call(c.e.ctx, c.hc, r, soap.ReadOptions{Dir: c.e.t.TempDir()})
	if m != nil {
		c.e.t.Cleanup(func() { m.Close() })
	}
	return m, err
}

// capture keeps every SOAP request and response the test clients exchanged, for the XSD test.
type capture struct {
	mu    sync.Mutex
	items []captured
}

type captured struct {
	what        string
	contentType string
	body        []byte
}

type capturing struct {
	base http.RoundTripper
	c    *capture
}

func (cp *capturing) RoundTrip(r *http.Request) (*http.Response, error) {
	var reqBody []byte
	if r.Body != nil {
		reqBody, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		r.ContentLength = int64(len(reqBody))
	}
	resp, err := cp.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	respBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	cp.c.mu.Lock()
	cp.c.items = append(cp.c.items,
		captured{"request " + r.Header.Get("SOAPAction"), r.Header.Get("Content-Type"), reqBody},
		captured{"response to " + r.Header.Get("SOAPAction"), resp.Header.Get("Content-Type"), respBody})
	cp.c.mu.Unlock()
	return resp, nil
}

// meta returns MessageMetaData for a message to reader.
func meta(reader, messageType string) *xta.MessageMetaData {
	return &xta.MessageMetaData{
		DeliveryAttributes: xta.DeliveryAttributes{Origin: "2026-12-02T10:00:00Z"},
		Originators:        xta.Originators{Author: xta.NewParty("xoev", "bab:010020000000")},
		Destinations:       xta.Destinations{Reader: xta.NewParty("xoev", reader)},
		Qualifier: xta.Qualifier{
			Service:          "urn:xoev-de:xleitstelle:xbau:2.3",
			BusinessScenario: xta.BusinessScenario{Defined: &xta.Code{Code: "XBAU_DATA", ListURI: "urn:de:dataport:codeliste:business.scenario", ListVersionID: "1"}},
			MessageType:      xta.MessageType{Code: xta.Code{Code: messageType, ListURI: "urn:de:payloadschema:elementname", ListVersionID: "1.0"}, PayloadSchema: "http://www.xleitstelle.de/xbau/2/3"},
		},
	}
}

// put offers a message with content to reader's mailbox.
func (e *env) put(reader, content string, mod ...func(*mock.Offer)) string {
	e.t.Helper()
	o := mock.Offer{MetaData: meta(reader, "baugenehmigung.antrag.0200"),
		Message:     mock.Content{Filename: "antrag.xml", ContentType: "application/xml", Body: bytes.NewReader([]byte(content))},
		Attachments: []mock.Content{{Filename: "plan.pdf", ContentType: "application/pdf", Body: bytes.NewReader([]byte("%PDF-1.7 plan"))}},
	}
	for _, m := range mod {
		m(&o)
	}
	id, err := e.ctl.Put(e.ctx, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}
