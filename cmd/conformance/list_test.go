package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/konform/konform/catalogue"
)

func listedFromCatalogue(t *testing.T, ids ...string) []listedCheck {
	t.Helper()
	var out []listedCheck
	for _, id := range ids {
		req, ok := catalogue.Builtin().Lookup(id)
		if !ok {
			t.Fatalf("%s is not in the catalogue", id)
		}
		c := listedCheck{ID: id}
		c.withRequirement(req)
		out = append(out, c)
	}
	return out
}

func TestListTableShowsExpectedProblemAndKitDecision(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, listedFromCatalogue(t, "FC-RCV-037", "SM-TOK-020", "IN-FLD-010"))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 7 {
		t.Fatalf("want 7 lines (three checks, each with its clause, one with its expectation):\n%s", b.String())
	}
	for _, i := range []int{1, 4, 6} {
		if !strings.Contains(lines[i], "clause: ") {
			t.Errorf("line %d is no clause: %s", i+1, lines[i])
		}
	}
	exp := lines[2]
	for _, want := range []string{"expects reject-submission", catalogue.ProblemTypePrefix + "attachments-mismatch",
		`instance "attachment:<id of the attachment the metadata does not list>"`, "(kit decision)"} {
		if !strings.Contains(exp, want) {
			t.Errorf("expectation line lacks %q: %s", want, exp)
		}
	}
	if !strings.Contains(lines[3], " source ") || strings.Contains(lines[3], "kit decision") {
		t.Errorf("SM-TOK-020 rests on a source: %s", lines[3])
	}
	if !strings.Contains(lines[5], "kit decision") {
		t.Errorf("IN-FLD-010 rests on the kit's decision, unmarked: %s", lines[5])
	}
}

func TestListJSONCarriesExpectQuoteAndBasis(t *testing.T) {
	b, err := json.Marshal(listedFromCatalogue(t, "FC-RCV-050"))
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Level, Quote, Basis string
		Expect              struct{ Event, ProblemType, Instance, Basis string }
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	c := got[0]
	if c.Level != catalogue.SHOULD || !strings.Contains(c.Quote, "SOLLTE") || c.Basis != catalogue.BasisSource {
		t.Errorf("FC-RCV-050 listed as %s, basis %s, quote %q", c.Level, c.Basis, c.Quote)
	}
	e := c.Expect
	if e.Event != catalogue.EventRejectSubmission || e.ProblemType != catalogue.ProblemTypePrefix+"invalid-event-log" ||
		e.Instance != "submission" || e.Basis != catalogue.BasisKitDecision {
		t.Errorf("FC-RCV-050 expect listed as %+v", e)
	}
}
