// Package specstest hands tests the official specs, and skips a test with a clear message where
// they are absent.
package specstest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/konform/konform/schemas"
	"github.com/konform/konform/specs"
)

// Dir returns the specs folder, or skips tb.
func Dir(tb testing.TB) string {
	tb.Helper()
	d, ok := specs.Dir()
	if !ok {
		tb.Skipf("official specs not found (set %s, or lay them out at ../shared/specs beside the source tree): skipped", specs.EnvVar)
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		tb.Fatal(err)
	}
	return abs
}

// File returns the path of rel inside the specs folder, or skips tb when it is absent.
func File(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("official spec %s not found (%v): skipped", rel, err)
	}
	return p
}

// XSDErrors validates doc against the XSD at rel inside the specs folder (libxml2) and returns
// its errors; it skips tb when the schema is absent.
func XSDErrors(tb testing.TB, rel string, doc []byte) []schemas.Error {
	tb.Helper()
	errs, err := schemas.ValidateXML(File(tb, rel), doc)
	if err != nil {
		tb.Fatalf("validating against %s: %v", rel, err)
	}
	return errs
}

// RequireValidXML fails tb when doc is not valid against the XSD at rel.
func RequireValidXML(tb testing.TB, rel string, doc []byte) {
	tb.Helper()
	if errs := XSDErrors(tb, rel, doc); len(errs) > 0 {
		tb.Errorf("not valid against %s: %v\n--- document ---\n%s", rel, errs, doc)
	}
}
