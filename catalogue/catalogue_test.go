package catalogue

import (
	"strings"
	"testing"

	"github.com/konform/konform/reference/defects"
)

const entry = `
  - id: XX-ABC-010
    level: MUST
    title: a title
    profiles: [smoke]
    clause: {document: doc, section: "§1"}
    defects: [d]
`

func TestParseRejectsBrokenEntries(t *testing.T) {
	cases := map[string]string{
		"appears twice":      entry + entry,
		"neither MUST":       strings.Replace(entry, "MUST", "MAY", 1),
		"AA-BBB-000":         strings.Replace(entry, "XX-ABC-010", "X-1", 1),
		"names no defect":    strings.Replace(entry, "defects: [d]", "defects: []", 1),
		"unknown profile":    strings.Replace(entry, "[smoke]", "[nightly]", 1),
		"needs document":     strings.Replace(entry, "document: doc, ", "", 1),
		"field unknownField": entry + "    unknownField: 1\n",
	}
	for want, body := range cases {
		_, err := Parse([]byte("requirements:" + body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want error containing %q, got %v", want, err)
		}
	}
	if _, err := Parse([]byte("requirements:" + entry)); err != nil {
		t.Fatalf("valid entry refused: %v", err)
	}
}

func TestBuiltinNamesOnlyKnownDefects(t *testing.T) {
	c := Builtin()
	if len(c.IDs()) == 0 {
		t.Fatal("the built-in catalogue is empty")
	}
	for d, ids := range c.Defects() {
		if !defects.Known(d) {
			t.Errorf("%v claim defect %q, which the reference does not have", ids, d)
		}
	}
}
