package hkr_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/konform/konform/specs/specstest"
)

func specsDir(t *testing.T) string { return specstest.Dir(t) }

// validateXFinanz checks doc against the XFinanz 3.1.0 schema file xsd with xmllint.
func validateXFinanz(t *testing.T, xsd string, doc []byte) {
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
	if err != nil || !strings.Contains(string(out), "validates") {
		t.Errorf("not valid against %s: %v\n%s\n--- message ---\n%s", xsd, err, out, doc)
	}
}
