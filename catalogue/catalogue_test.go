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
    clause: {document: doc, section: "§1", quote: "MUSS"}
    basis: source
    defects: [d]
`

const expect = `    expect:
      event: reject-submission
      problemType: https://schema.fitko.de/fit-connect/events/problems/hash-mismatch
      instance: "attachment:<id>"
      basis: kit-decision
      decision: the list is unreadable
`

func TestParseRejectsBrokenEntries(t *testing.T) {
	cases := map[string]string{
		"appears twice":                   entry + entry,
		"neither MUST":                    strings.Replace(entry, "MUST", "MAY", 1),
		"AA-BBB-000":                      strings.Replace(entry, "XX-ABC-010", "X-1", 1),
		"names no defect":                 strings.Replace(entry, "defects: [d]", "defects: []", 1),
		"unknown profile":                 strings.Replace(entry, "[smoke]", "[nightly]", 1),
		"needs document":                  strings.Replace(entry, "document: doc, ", "", 1),
		"field unknownField":              entry + "    unknownField: 1\n",
		"neither source nor kit-decision": strings.Replace(entry, "basis: source", "basis: maybe", 1),
		"needs clause.quote":              strings.Replace(entry, `, quote: "MUSS"`, "", 1),
		"kit-decision needs a decision":   strings.Replace(entry, "basis: source", "basis: kit-decision", 1),
		"expect: event":                   entry + strings.Replace(expect, "reject-submission", "accept-submission", 1),
		"not a full URI":                  entry + strings.Replace(expect, "https://schema.fitko.de/fit-connect/events/problems/", "", 1),
		"expect: no instance":             entry + strings.Replace(expect, `"attachment:<id>"`, `""`, 1),
		"expect: basis kit-decision":      entry + strings.Replace(expect, "      decision: the list is unreadable\n", "", 1),
		"field problemTyp":                entry + strings.Replace(expect, "problemType:", "problemTyp:", 1),
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

func TestParseReadsExpectAndBasis(t *testing.T) {
	c, err := Parse([]byte("requirements:" + strings.Replace(entry, "basis: source", "basis: kit-decision\n    decision: the kit's", 1) + expect))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.Lookup("XX-ABC-010")
	e := r.Expect
	if e == nil || e.Event != EventRejectSubmission || e.Short() != "hash-mismatch" || e.Instance != "attachment:<id>" || e.Basis != BasisKitDecision {
		t.Fatalf("expect read as %+v", e)
	}
	if r.Clause.Quote != "MUSS" || r.Basis != BasisKitDecision {
		t.Errorf("quote %q, basis %q", r.Clause.Quote, r.Basis)
	}
	if got := r.KitDecisions(); len(got) != 2 || got[0] != "the kit's" || !strings.Contains(got[1], "hash-mismatch") {
		t.Errorf("kit decisions: %q", got)
	}
}

// The rejection checks' expectations are catalogue data; every one names its problem.
func TestBuiltinRejectionsExpectAProblem(t *testing.T) {
	c := Builtin()
	for _, id := range []string{"FC-RCV-030", "FC-RCV-031", "FC-RCV-032", "FC-RCV-033", "FC-RCV-034", "FC-RCV-035",
		"FC-RCV-036", "FC-RCV-037", "FC-RCV-038", "FC-RCV-039", "FC-RCV-040", "FC-RCV-050"} {
		r, ok := c.Lookup(id)
		if !ok || r.Expect == nil {
			t.Errorf("%s: no expect", id)
		}
	}
	if r, _ := c.Lookup("FC-RCV-050"); r.Level != SHOULD {
		t.Errorf("FC-RCV-050 is %s; the docs say the event log SOLLTE be verified", r.Level)
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
