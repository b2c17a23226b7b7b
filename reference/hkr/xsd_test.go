package hkr

import (
	"fmt"
	"testing"

	"github.com/konform/konform/specs/specstest"
)

// validateXFinanz checks doc against the XFinanz 3.1.0 schema file xsd.
func validateXFinanz(t *testing.T, xsd string, doc []byte) {
	t.Helper()
	specstest.RequireValidXML(t, "xfinanz-3.1.0/"+xsd, doc)
}

// xsdValid reports whether doc is valid against the XFinanz 3.1.0 schema file xsd, with the
// validator's errors; it skips the test when the schema is missing.
func xsdValid(t *testing.T, xsd string, doc []byte) (bool, string) {
	t.Helper()
	errs := specstest.XSDErrors(t, "xfinanz-3.1.0/"+xsd, doc)
	return len(errs) == 0, fmt.Sprint(errs)
}
