package intake

import (
	"bytes"
	"os"
	"testing"

	"github.com/konform/konform/reference/store"
)

// The official XBau XSDs decide what the reference accepts as data: a built-in fixture passes,
// the same message with an unexpected element is a schema-violation, a cut one a syntax-violation.
func TestDataAgainstOfficialXSD(t *testing.T) {
	xsds, err := LoadDataXSDs(specsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile("../../fixtures/xoev/bg-0200-minimal/data.xml")
	if err != nil {
		t.Fatal(err)
	}
	unexpected := bytes.Replace(valid, []byte("</nachrichtenkopf>"), []byte("</nachrichtenkopf><unerwartet/>"), 1)
	cut := valid[:bytes.LastIndex(valid, []byte("</"))]
	for _, tc := range []struct {
		name, syntax string
		doc          []byte
		want         string
	}{
		{"valid", ProblemSyntaxViolation, valid, ""},
		{"unexpected element", ProblemSyntaxViolation, unexpected, ProblemSchemaViolation},
		{"cut", ProblemSyntaxViolation, cut, ProblemSyntaxViolation},
		{"cut, syntax-as-schema-violation", ProblemSchemaViolation, cut, ProblemSchemaViolation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Processor{cfg: Config{DataXSDs: xsds}, dataSyntax: tc.syntax}
			v := &verified{}
			ok := p.validXML(XBauAntrag0200, tc.doc, v)
			if tc.want == "" {
				if !ok || len(v.problems) > 0 {
					t.Fatalf("valid fixture rejected: %+v", v.problems)
				}
				return
			}
			if ok || len(v.problems) != 1 || v.problems[0] != problemOf(t, v, tc.want) {
				t.Fatalf("problems %+v, want one %s", v.problems, tc.want)
			}
		})
	}
}

func problemOf(t *testing.T, v *verified, name string) store.Problem {
	t.Helper()
	for _, p := range v.problems {
		if p.Type == problem(name, "data", "").Type && p.Instance == "data" {
			return p
		}
	}
	return store.Problem{}
}
