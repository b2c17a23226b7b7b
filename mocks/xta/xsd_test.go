package xta_test

import (
	"bytes"
	"testing"

	"github.com/konform/konform/soap"
	"github.com/konform/konform/xta/xsdtest"
)

// validateCaptured validates every SOAP request the test clients sent and every SOAP body the
// mock sent back against the XTA 2 Version 3 schemas. Answers that are no SOAP (403, 415) are
// skipped; they are not XTA messages.
func validateCaptured(t *testing.T, e *env) {
	t.Helper()
	e.capture.mu.Lock()
	items := append([]captured(nil), e.capture.items...)
	e.capture.mu.Unlock()
	n := 0
	for _, c := range items {
		m, err := soap.Read(c.contentType, bytes.NewReader(c.body), soap.ReadOptions{Dir: t.TempDir()})
		if err != nil {
			continue
		}
		n++
		xsdtest.RequireValidMessage(t, c.what, m)
		m.Close()
	}
	if n == 0 {
		t.Error("no SOAP message captured")
	}
}
