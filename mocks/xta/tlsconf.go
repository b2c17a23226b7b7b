package xta

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// Config is what Configure sets. Configure may be called again, e.g. to swap the server
// certificate for one from a foreign CA; new connections use the new one.
type Config struct {
	ServerCertPEM string `json:"serverCertPem"` // leaf first, then intermediates
	ServerKeyPEM  string `json:"serverKeyPem"`
	// ClientCAPEM holds the CA certificates client certificates must chain to.
	ClientCAPEM string `json:"clientCaPem"`
	// PageSize caps the items of one status list page (0: only maxListItems caps).
	PageSize int `json:"pageSize"`
}

func (s *Server) configure(c Config) error {
	cert, err := tls.X509KeyPair([]byte(c.ServerCertPEM), []byte(c.ServerKeyPEM))
	if err != nil {
		return fmt.Errorf("server certificate and key: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(c.ClientCAPEM)) {
		return errors.New("client CA: no PEM certificate found")
	}
	if c.PageSize < 0 {
		return fmt.Errorf("pageSize %d is negative", c.PageSize)
	}
	s.mu.Lock()
	changed := s.tlsCert != nil && !bytes.Equal(s.tlsCert.Certificate[0], cert.Certificate[0])
	s.tlsCert, s.clientCAs, s.pageSize = &cert, pool, c.PageSize
	s.mu.Unlock()
	if changed {
		s.endTLSConns()
	}
	return nil
}

// tlsConfig is the configuration for a new connection; nil before Configure.
//
// The client certificate is requested and, when given, verified against the client CA
// (VerifyClientCertIfGiven): a certificate from another CA fails the handshake (recorded under
// handshakes), while a request without one reaches the handler, is recorded and answered with
// PermissionDeniedException 9012, so the evidence shows the missing certificate.
func (s *Server) tlsConfig() *tls.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tlsCert == nil {
		return nil
	}
	return &tls.Config{
		Certificates: []tls.Certificate{*s.tlsCert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    s.clientCAs,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
}

// certFingerprint is the hex SHA-256 of the first certificate in pemText, or of der.
func certFingerprint(der []byte) string {
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:])
}

func parseCertPEM(pemText string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(pemText))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(b.Bytes)
}
