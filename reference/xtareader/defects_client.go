package xtareader

import (
	"crypto/tls"
	"encoding/base64"

	"github.com/konform/konform/xta"
)

// withClientDefects switches the client's wire variants of the defects switched on; each breaks
// one duty of the wire and nothing else.
func withClientDefects(c *client, cfg Config, tlsCfg *tls.Config) {
	d := cfg.Defects
	if d.On("xta-no-wsa-to") {
		// checkAccountActive goes out without wsa:To. A server that demands it refuses the call,
		// which costs the reader nothing (it polls on and asks again next round); without To on
		// every request it could not read its box at all and would fail every check.
		c.to = func(op xta.Operation) bool { return op != xta.OpCheckAccountActive }
	}
	if d.On("xta-plain-soap") {
		c.mtom = false
	}
	if d.On("xta-trust-any-server") {
		tlsCfg.InsecureSkipVerify = true
	}
	if d.On("xta-no-cert-on-management") {
		// checkAccountActive goes out without the client certificate; createMessageId (the
		// Rückweisung's) keeps it, so the defect breaks only the authentication duty: the server
		// refuses the call (PermissionDenied), the reader polls on and asks again next round.
		noCert := tlsCfg.Clone()
		noCert.Certificates = nil
		c.account = httpClient(noCert)
	}
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
