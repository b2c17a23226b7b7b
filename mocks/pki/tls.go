package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"time"
)

// CA is a run's own certificate authority for TLS (the XTA server's certificate and the
// clients' certificates). ECDSA P-256: the XTA policy fixes no key type, and a run makes several
// of them.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	cfg     config
}

// Leaf is a certificate the CA issued, with its private key, both PEM-encoded (the key as PKCS#8).
type Leaf struct {
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// TLS returns the leaf as a tls.Certificate.
func (l *Leaf) TLS() (tls.Certificate, error) { return tls.X509KeyPair(l.CertPEM, l.KeyPEM) }

// NewCA makes a self-signed CA named commonName.
func NewCA(commonName string, opts ...Option) (*CA, error) {
	cfg := config{validFor: 365 * 24 * time.Hour, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: CA key: %w", err)
	}
	sn, err := serial()
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	now := cfg.now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"Konform"}, Country: []string{"DE"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(cfg.validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: issuing CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing CA certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key, CertPEM: pemBlock("CERTIFICATE", der), cfg: cfg}, nil
}

// IssueServer issues a TLS server certificate for the given DNS names and IP addresses.
func (ca *CA) IssueServer(commonName string, dnsNames []string, ips []net.IP) (*Leaf, error) {
	return ca.issue(commonName, x509.ExtKeyUsageServerAuth, dnsNames, ips)
}

// IssueClient issues a TLS client certificate.
func (ca *CA) IssueClient(commonName string) (*Leaf, error) {
	return ca.issue(commonName, x509.ExtKeyUsageClientAuth, nil, nil)
}

func (ca *CA) issue(commonName string, usage x509.ExtKeyUsage, dnsNames []string, ips []net.IP) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: key for %s: %w", commonName, err)
	}
	sn, err := serial()
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	now := ca.cfg.now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"Konform"}, Country: []string{"DE"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(ca.cfg.validFor),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: issuing certificate for %s: %w", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing certificate for %s: %w", commonName, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encoding key for %s: %w", commonName, err)
	}
	return &Leaf{Cert: cert, CertPEM: pemBlock("CERTIFICATE", der), KeyPEM: pemBlock("PRIVATE KEY", pkcs8)}, nil
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}
