package check

import (
	"strings"
	"testing"

	"github.com/konform/konform/catalogue"
)

func TestClauseTextShowsQuoteExpectAndKitDecision(t *testing.T) {
	req, ok := catalogue.Builtin().Lookup("FC-RCV-036")
	if !ok {
		t.Fatal("FC-RCV-036 is not in the catalogue")
	}
	s := clauseText(req)
	for _, want := range []string{req.Clause.Quote, req.Expect.ProblemType, req.Expect.Instance, kitDecision + ": " + req.Expect.Decision} {
		if !strings.Contains(s, want) {
			t.Errorf("clause text lacks %q:\n%s", want, s)
		}
	}
	r := catalogue.Requirement{ID: "XX-ABC-010", Level: catalogue.MUST, Basis: catalogue.BasisKitDecision, Decision: "the contract says so"}
	if s := clauseText(r); !strings.Contains(s, kitDecision+": the contract says so") {
		t.Errorf("a kit decision is not marked: %s", s)
	}
}
