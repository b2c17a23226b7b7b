package selftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/report"
)

// fakeCatalogue claims every reference defect with one check each, so that the "no check claims
// defect" rule is satisfied and the tests can focus on one rule at a time.
func fakeCatalogue(t *testing.T) *catalogue.Catalogue {
	t.Helper()
	var b strings.Builder
	b.WriteString("requirements:\n")
	for i, d := range defects.Names() {
		b.WriteString(fmt.Sprintf("  - id: XX-TST-%03d\n", i) + "    level: MUST\n    title: t\n    profiles: [smoke]\n")
		b.WriteString("    clause: {document: d, section: s}\n    defects: [" + d + "]\n")
	}
	c, err := catalogue.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// idFor returns the check that claims defect d in the fake catalogue.
func idFor(c *catalogue.Catalogue, d string) string { return c.Defects()[d][0] }

// honest fails exactly the checks that claim the defect under test.
func honest(c *catalogue.Catalogue, survivor string) RunFunc {
	return func(_ context.Context, defect string, _ []string) (report.Summary, error) {
		s := report.Summary{Meta: report.Meta{Profiles: []string{"smoke"}}}
		for _, id := range c.IDs() {
			v := report.Verdict{ID: id, Verdict: report.Passed}
			if defect != "" && defect != survivor && idFor(c, defect) == id {
				v.Verdict = report.Failed
				s.Failed++
			} else {
				s.Passed++
			}
			s.Verdicts = append(s.Verdicts, v)
		}
		return s, nil
	}
}

func TestAllDefectsCaught(t *testing.T) {
	c := fakeCatalogue(t)
	res := Run(context.Background(), c, NewPlan(c, []string{"smoke"}), honest(c, ""), 2, io.Discard)
	if !res.OK() {
		t.Fatalf("problems: %v", res.Problems)
	}
	if len(res.Runs) != len(defects.All) {
		t.Fatalf("ran %d defect runs, want %d", len(res.Runs), len(defects.All))
	}
}

func TestSurvivingDefectFails(t *testing.T) {
	c := fakeCatalogue(t)
	survivor := defects.Names()[0]
	res := Run(context.Background(), c, NewPlan(c, []string{"smoke"}), honest(c, survivor), 1, io.Discard)
	if res.OK() || !strings.Contains(strings.Join(res.Problems, "\n"), "defect \""+survivor+"\" survived") {
		t.Fatalf("a surviving defect must fail the self-test; problems: %v", res.Problems)
	}
}

func TestCleanFailureFails(t *testing.T) {
	c := fakeCatalogue(t)
	run := func(ctx context.Context, defect string, p []string) (report.Summary, error) {
		s, _ := honest(c, "")(ctx, defect, p)
		if defect == "" {
			s.Verdicts[0].Verdict = report.Failed
		}
		return s, nil
	}
	res := Run(context.Background(), c, NewPlan(c, []string{"smoke"}), run, 2, io.Discard)
	if res.OK() || !strings.Contains(strings.Join(res.Problems, "\n"), "the clean reference fails") {
		t.Fatalf("a failing clean run must fail the self-test; problems: %v", res.Problems)
	}
}

func TestUnclaimedDefectAndBrokenRunFail(t *testing.T) {
	c, err := catalogue.Parse([]byte("requirements:\n  - id: XX-TST-001\n    level: MUST\n    title: t\n    profiles: [smoke]\n    clause: {document: d, section: s}\n    defects: [no-such-defect]\n"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(_ context.Context, defect string, _ []string) (report.Summary, error) {
		return report.Summary{}, errors.New("exit 3")
	}
	res := Run(context.Background(), c, NewPlan(c, []string{"smoke"}), run, 1, io.Discard)
	all := strings.Join(res.Problems, "\n")
	for _, want := range []string{"which the reference does not have", "no check claims defect", "run (clean): exit 3"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
}
