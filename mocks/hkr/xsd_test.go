package hkr_test

import (
	"testing"

	"github.com/konform/konform/specs/specstest"
)

// validateXFinanz checks doc against the XFinanz 3.1.0 schema file xsd.
func validateXFinanz(t *testing.T, xsd string, doc []byte) {
	t.Helper()
	specstest.RequireValidXML(t, "xfinanz-3.1.0/"+xsd, doc)
}
