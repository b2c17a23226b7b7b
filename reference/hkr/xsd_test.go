package hkr

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// specsDir finds the official specs: $KONFORM_SPECS or <module root>/../shared/specs.
func specsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("KONFORM_SPECS"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "specs")
}

// validateXFinanz checks doc against the XFinanz 3.1.0 schema file xsd with xmllint.
func validateXFinanz(t *testing.T, xsd string, doc []byte) {
	t.Helper()
	if ok, out := xsdValid(t, xsd, doc); !ok {
		t.Errorf("not valid against %s:\n%s\n--- message ---\n%s", xsd, out, doc)
	}
}

// xsdValid reports whether doc is valid against the XFinanz 3.1.0 schema file xsd, with
// xmllint's output; it skips the test when the schema or xmllint is missing.
func xsdValid(t *testing.T, xsd string, doc []byte) (bool, string) {
	t.Helper()
	schema := filepath.Join(specsDir(t), "xfinanz-3.1.0", xsd)
	if _, err := os.Stat(schema); err != nil {
		t.Skipf("XFinanz 3.1.0 schemas not found at %s (set KONFORM_SPECS): %v", schema, err)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (apt-get install libxml2-utils); XSD validation skipped")
	}
	f := filepath.Join(t.TempDir(), "msg.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", schema, f).CombinedOutput()
	return err == nil && strings.Contains(string(out), "validates"), string(out)
}
