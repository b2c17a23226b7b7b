package app

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/xtareader"
)

// xtaFromEnv reads the XTA part of the configuration (contract version 2): the three port URLs,
// the client certificate and key, the CA, the reader ID, the services and the poll interval.
func xtaFromEnv(req func(string) (string, bool)) (*xtareader.Config, error) {
	bad := func(v, p string) error { return &ConfigError{Variable: v, Problem: p} }
	c := &xtareader.Config{Product: Product}
	for _, u := range []struct {
		name string
		dst  *string
	}{{contract.EnvXTAManagementURL, &c.ManagementURL}, {contract.EnvXTAMsgBoxURL, &c.MsgBoxURL}, {contract.EnvXTASendURL, &c.SendURL}} {
		v, ok := req(u.name)
		if !ok {
			return nil, bad(u.name, "missing (KONFORM_XTA_MSGBOX_URL is set, so every XTA variable is needed)")
		}
		pu, err := url.Parse(v)
		if err != nil || pu.Scheme != "https" || pu.Host == "" {
			return nil, bad(u.name, "not an absolute https URL")
		}
		*u.dst = v
	}
	certPEM, ok := req(contract.EnvXTAClientCert)
	if !ok {
		return nil, bad(contract.EnvXTAClientCert, "missing")
	}
	keyPEM, ok := req(contract.EnvXTAClientKey)
	if !ok {
		return nil, bad(contract.EnvXTAClientKey, "missing")
	}
	certPEM, keyPEM = pemValue(certPEM), pemValue(keyPEM)
	if b, _ := pem.Decode([]byte(certPEM)); b == nil || b.Type != "CERTIFICATE" {
		return nil, bad(contract.EnvXTAClientCert, "not a PEM certificate")
	}
	if b, _ := pem.Decode([]byte(keyPEM)); b == nil || !strings.Contains(b.Type, "PRIVATE KEY") {
		return nil, bad(contract.EnvXTAClientKey, "not a PEM private key")
	} else if _, err := x509.ParsePKCS8PrivateKey(b.Bytes); err != nil {
		return nil, bad(contract.EnvXTAClientKey, "not a PKCS#8 private key")
	}
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return nil, bad(contract.EnvXTAClientKey, "does not belong to the certificate of "+contract.EnvXTAClientCert)
	}
	c.ClientCert = pair
	caPEM, ok := req(contract.EnvXTACA)
	if !ok {
		return nil, bad(contract.EnvXTACA, "missing")
	}
	c.CA = x509.NewCertPool()
	if !c.CA.AppendCertsFromPEM([]byte(pemValue(caPEM))) {
		return nil, bad(contract.EnvXTACA, "holds no PEM certificate")
	}
	if c.ReaderID, ok = req(contract.EnvXTAReaderID); !ok {
		return nil, bad(contract.EnvXTAReaderID, "missing")
	}
	raw, ok := req(contract.EnvXTAServices)
	if !ok {
		return nil, bad(contract.EnvXTAServices, "missing")
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c.Services); err != nil {
		return nil, bad(contract.EnvXTAServices, "not a JSON array of services: "+err.Error())
	}
	if len(c.Services) == 0 {
		return nil, bad(contract.EnvXTAServices, "names no service")
	}
	for i, s := range c.Services {
		if s.Service == "" || len(s.MessageTypes) == 0 {
			return nil, bad(contract.EnvXTAServices, fmt.Sprintf("service %d has no service URI or no messageTypes", i+1))
		}
		for _, mt := range s.MessageTypes {
			if mt.Code == "" || mt.PayloadSchema == "" {
				return nil, bad(contract.EnvXTAServices, fmt.Sprintf("a message type of service %q lacks code or payloadSchema", s.Service))
			}
		}
	}
	pi, ok := req(contract.EnvXTAPollInterval)
	if !ok {
		return nil, bad(contract.EnvXTAPollInterval, "missing")
	}
	if c.PollInterval, err = time.ParseDuration(pi); err != nil || c.PollInterval <= 0 {
		return nil, bad(contract.EnvXTAPollInterval, "not a positive Go duration such as 1s")
	}
	return c, nil
}

// pemValue takes a PEM value as an env file can carry it: with its line ends written as \n.
func pemValue(v string) string {
	if !strings.Contains(v, "\n") && strings.Contains(v, `\n`) {
		v = strings.ReplaceAll(v, `\n`, "\n")
	}
	return string(bytes.TrimSpace([]byte(v))) + "\n"
}
