// Package specstest hands tests the official specs. Where they are absent a test skips with a
// clear message on a developer's machine, and fails under CI=true: CI never passes by skipping.
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
		absent(tb, "official specs not found (set %s, or lay them out at ../shared/specs beside the source tree)", specs.EnvVar)
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
		absent(tb, "official spec %s not found (%v)", rel, err)
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

// absent fails tb under CI=true and skips it elsewhere.
func absent(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format+": CI=true, so this fails instead of skipping", args...)
	}
	tb.Skipf(format+": skipped", args...)
}
