package xtareader

import (
	"crypto/tls"
	"encoding/base64"
)

// withClientDefects switches the client's wire variants of the defects switched on; each breaks
// one duty of the wire and nothing else.
func withClientDefects(c *client, cfg Config, tlsCfg *tls.Config) {
	d := cfg.Defects
	if d.On("xta-no-wsa-to") {
		c.to = false
	}
	if d.On("xta-plain-soap") {
		c.mtom = false
	}
	if d.On("xta-trust-any-server") {
		tlsCfg.InsecureSkipVerify = true
	}
	if d.On("xta-no-cert-on-management") {
		// checkAccountActive goes out without the client certificate; createMessageId (the
		// Rückweisung's) keeps it, so the defect breaks only the authentication duty.
		noCert := tlsCfg.Clone()
		noCert.Certificates = nil
		c.account = httpClient(noCert)
	}
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
