package selftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/report"
)

// fakeCatalogue claims every reference defect with one check each, each failing with the cause
// "because <defect>", so that the catalogue rules hold and the tests can focus on one rule at a time.
func fakeCatalogue(t *testing.T) *catalogue.Catalogue {
	t.Helper()
	var b strings.Builder
	b.WriteString("requirements:\n")
	for i, d := range defects.Names() {
		b.WriteString(fmt.Sprintf("  - id: XX-TST-%03d\n", i) + "    level: MUST\n    basis: source\n    title: t\n    profiles: [smoke]\n")
		b.WriteString("    clause: {document: d, section: s, quote: q}\n    defects: [{defect: " + d + ", because: 'because " + d + "'}]\n")
	}
	c, err := catalogue.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// idFor returns the check that claims defect d in the fake catalogue.
func idFor(c *catalogue.Catalogue, d string) string { return c.Defects()[d][0] }

// behaviour lets a test change one check's verdict under one defect.
type behaviour func(defect, id string, v *report.Verdict)

// honest fails exactly the checks that claim the defect under test, for the declared cause,
// then applies the twists.
func honest(c *catalogue.Catalogue, twists ...behaviour) RunFunc {
	return func(_ context.Context, defect string, _, _ []string) (report.Summary, error) {
		s := report.Summary{Meta: report.Meta{Profiles: []string{"smoke"}}, Verdict: report.Passed}
		for _, id := range c.IDs() {
			v := report.Verdict{ID: id, Level: "MUST", Verdict: report.Passed}
			if defect != "" && idFor(c, defect) == id {
				v.Verdict, v.Failure, v.Message, v.Reason = report.Failed, report.FailureAssertion, "it failed because "+defect, "because "+defect
			}
			for _, tw := range twists {
				tw(defect, id, &v)
			}
			s.Verdicts = append(s.Verdicts, v)
		}
		return s, nil
	}
}

func run(t *testing.T, c *catalogue.Catalogue, r RunFunc) Result {
	t.Helper()
	return Run(context.Background(), c, NewPlan([]string{"smoke"}), r, 2, io.Discard)
}

func problems(r Result) string { return strings.Join(r.Problems, "\n") }

func TestExactKillsPass(t *testing.T) {
	c := fakeCatalogue(t)
	res := run(t, c, honest(c))
	if !res.OK() {
		t.Fatalf("problems: %v", res.Problems)
	}
	if len(res.Runs) != len(defects.All) {
		t.Fatalf("ran %d defect runs, want %d", len(res.Runs), len(defects.All))
	}
}

func TestEveryMismatchFails(t *testing.T) {
	c := fakeCatalogue(t)
	d0, d1 := defects.Names()[0], defects.Names()[1]
	cases := []struct {
		name  string
		twist behaviour
		want  string
	}{
		{"survivor", func(d, id string, v *report.Verdict) {
			if d == d0 && id == idFor(c, d0) {
				*v = report.Verdict{ID: id, Verdict: report.Passed}
			}
		}, fmt.Sprintf("defect %q survived %s", d0, idFor(c, d0))},
		{"time-out is no catch", func(d, id string, v *report.Verdict) {
			if d == d0 && id == idFor(c, d0) {
				v.Failure = report.FailureTimeout
			}
		}, "timed out instead of failing"},
		{"wrong cause", func(d, id string, v *report.Verdict) {
			if d == d0 && id == idFor(c, d0) {
				v.Message = "something else entirely"
			}
		}, "failed for another reason"},
		{"collateral", func(d, id string, v *report.Verdict) {
			if d == d0 && id == idFor(c, d1) {
				v.Verdict, v.Message = report.Failed, "also failed"
			}
		}, "collateral"},
		{"skip under a defect", func(d, id string, v *report.Verdict) {
			if d == d0 && id == idFor(c, d1) {
				v.Verdict, v.Reason = report.Skipped, "no callbacks"
			}
		}, "has no verdict (skipped)"},
		{"skip on the clean reference", func(d, id string, v *report.Verdict) {
			if d == "" && id == idFor(c, d1) {
				v.Verdict, v.Reason = report.Skipped, "no restart"
			}
		}, "the clean reference does not pass " + idFor(c, d1) + " (skipped)"},
		{"not run on the clean reference", func(d, id string, v *report.Verdict) {
			if d == "" && id == idFor(c, d1) {
				v.Verdict, v.Reason = report.NotRun, "interrupted"
			}
		}, "(not run)"},
	}
	for _, tc := range cases {
		res := run(t, c, honest(c, tc.twist))
		if res.OK() || !strings.Contains(problems(res), tc.want) {
			t.Errorf("%s: want a problem containing %q; got:\n%s", tc.name, tc.want, problems(res))
		}
	}
}

func TestCatalogueRules(t *testing.T) {
	doc := "requirements:\n" +
		"  - {id: XX-TST-001, level: MUST, basis: source, title: t, profiles: [smoke], clause: {document: d, section: s, quote: q}, defects: [no-such-defect]}\n" +
		"  - {id: XX-TST-002, level: MUST, basis: source, title: t, profiles: [smoke], clause: {document: d, section: s, quote: q}, defects: [{defect: " + defects.Names()[0] + ", because: x}]}\n" +
		"  - {id: XX-TST-003, level: MUST, basis: source, title: t, profiles: [smoke], clause: {document: d, section: s, quote: q}, defects: [{defect: " + defects.Names()[0] + ", because: x}]}\n"
	c, err := catalogue.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	broken := func(_ context.Context, defect string, _, _ []string) (report.Summary, error) {
		return report.Summary{}, errors.New("exit 3")
	}
	res := Run(context.Background(), c, NewPlan([]string{"smoke"}), broken, 1, io.Discard)
	for _, want := range []string{
		"which the reference does not have",
		"no check claims defect",
		"XX-TST-001 declares defect \"no-such-defect\" without the cause",
		"XX-TST-002 has no defect that it alone kills",
		"run (clean): exit 3",
	} {
		if !strings.Contains(problems(res), want) {
			t.Errorf("problems lack %q:\n%s", want, problems(res))
		}
	}
}

func TestDefectRunsOverItsOwnTransport(t *testing.T) {
	c := fakeCatalogue(t)
	var mu sync.Mutex
	asked := map[string][]string{}
	r := honest(c)
	res := Run(context.Background(), c, NewPlan([]string{"smoke"}), func(ctx context.Context, d string, p, tr []string) (report.Summary, error) {
		mu.Lock()
		asked[d] = tr
		mu.Unlock()
		return r(ctx, d, p, tr)
	}, 2, io.Discard)
	if !res.OK() {
		t.Fatalf("problems: %v", res.Problems)
	}
	if asked[""] != nil {
		t.Errorf("the clean run was narrowed to %v", asked[""])
	}
	if got := asked["xta-plain-soap"]; len(got) != 1 || got[0] != "xta" {
		t.Errorf("an XTA defect ran over %v", got)
	}
	if got := asked["float-arithmetic"]; len(got) != 1 || got[0] != "fitconnect" {
		t.Errorf("a FIT-Connect defect ran over %v", got)
	}
}

func TestACheckCannotDeclareADefectOfTheOtherTransport(t *testing.T) {
	var b strings.Builder
	b.WriteString("requirements:\n")
	for i, d := range defects.Names() {
		b.WriteString(fmt.Sprintf("  - id: XX-TST-%03d\n", i) + "    level: MUST\n    basis: source\n    title: t\n    profiles: [xta-reader]\n")
		b.WriteString("    clause: {document: d, section: s, quote: q}\n    defects: [{defect: " + d + ", because: 'because " + d + "'}]\n")
	}
	c, err := catalogue.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Join(catalogueProblems(c, c.IDs()), "\n")
	if !strings.Contains(p, `declares defect "float-arithmetic", which the self-test runs over fitconnect only`) {
		t.Fatalf("no problem for an xta check declaring a FIT-Connect defect:\n%s", p)
	}
}

// The runs of the smaller transport are spread among the others, not left for the end.
func TestScheduleSpreadsEachTransport(t *testing.T) {
	got := schedule([]string{"a", "b", "c", "d", "e", "f", "xta-a", "xta-b"})
	want := []string{"a", "xta-a", "b", "c", "d", "xta-b", "e", "f"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schedule (-want +got):\n%s", diff)
	}
	if got := schedule(nil); len(got) != 0 {
		t.Errorf("schedule(nil) = %q", got)
	}
}
