// Package selftest proves that every conformance check fails for the reason it names, and only
// where it should: it runs the suites against the clean reference Fachverfahren (every check
// must pass; a skip or an unrun check fails the self-test) and once per named defect against
// every profile of the plan, over the transport whose part of the reference the defect breaks
// (the clean run covers every transport). Under a defect, exactly the checks of that transport
// that name it in the catalogue must fail, each with a failure message that matches the cause it declares; a time-out is never
// a catch, and a failure no check declares (a collateral failure) fails the self-test too.
package selftest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/report"
)

// Clean names the run without defects.
const Clean = "(clean)"

// RunFunc runs the suites of the given profiles over the given transports (nil: every one the
// reference serves) against the reference with the given defect ("" for none) and returns the
// run's summary.
type RunFunc func(ctx context.Context, defect string, profiles, transports []string) (report.Summary, error)

// Plan is the set of runs a self-test makes: the clean reference and every defect, each against
// all of Profiles.
type Plan struct {
	Profiles []string
	Defects  []string
}

// NewPlan plans the self-test of the given profiles: every defect of the reference runs against
// all of them, so that a collateral failure anywhere in the selection is seen.
func NewPlan(profiles []string) Plan {
	return Plan{Profiles: profiles, Defects: defects.Names()}
}

// Outcome of one check under one defect.
const (
	OK         = "ok"         // failed for the declared cause, or passed and not declared
	Missed     = "missed"     // declared, but passed
	WrongCause = "wrong"      // declared, failed, but not for the declared cause
	TimedOut   = "timeout"    // declared, but failed by running out of time
	Collateral = "collateral" // failed without being declared
	NoVerdict  = "no-verdict" // skipped, not run or a kit error
	Gated      = "gated"      // not run because a gate check failed, as it should
	// Elsewhere marks a check of the other transport: the defect's run does not test it.
	Elsewhere = "other-transport"
)

// Cell is one check under one defect.
type Cell struct {
	Expected bool   `json:"expected"`
	Actual   string `json:"actual"` // the check's state in the defect's run
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason,omitempty"`
}

// Result is the outcome of a self-test.
type Result struct {
	Checks []string // the checks of the plan's profiles, sorted
	Clean  report.Summary
	// Runs holds the summary of each defect's run.
	Runs map[string]report.Summary
	// Matrix maps defect → test ID → cell.
	Matrix map[string]map[string]Cell
	// Problems lists every reason the self-test fails.
	Problems []string
}

// OK reports whether the self-test passed.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// Run executes the plan with parallel runs at a time.
func Run(ctx context.Context, cat *catalogue.Catalogue, plan Plan, run RunFunc, parallel int, progress io.Writer) Result {
	res := Result{Runs: map[string]report.Summary{}, Matrix: map[string]map[string]Cell{}}
	res.Checks = checksOf(cat, plan.Profiles)
	res.Problems = append(res.Problems, catalogueProblems(cat, res.Checks)...)

	jobs := append([]string{""}, schedule(plan.Defects)...)
	if parallel < 1 {
		parallel = 1
	}
	var mu sync.Mutex
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, d := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			var transports []string
			if d != "" {
				transports = []string{defects.TransportOf(d)}
			}
			sum, err := run(ctx, d, plan.Profiles, transports)
			mu.Lock()
			defer mu.Unlock()
			name := d
			if name == "" {
				name = Clean
			}
			if err != nil {
				res.Problems = append(res.Problems, fmt.Sprintf("run %s: %v", name, err))
				return
			}
			all := sum.All()
			fmt.Fprintf(progress, "selftest: %-40s %-10s %3d passed %3d failed %3d skipped %3d not run %3d kit errors\n",
				name, sum.Verdict, all.Passed, all.Failed, all.Skipped, all.NotRun, all.KitErrors)
			if d == "" {
				res.Clean = sum
				return
			}
			res.Runs[d] = sum
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		res.Problems = append(res.Problems, "interrupted: not every run finished")
	}

	res.Problems = append(res.Problems, cleanProblems(res.Clean, res.Checks)...)
	for _, d := range plan.Defects {
		sum, ran := res.Runs[d]
		if !ran {
			continue // its run failed to start; reported above
		}
		cells, problems := judgeDefect(cat, d, sum, res.Checks)
		res.Matrix[d] = cells
		res.Problems = append(res.Problems, problems...)
	}
	sort.Strings(res.Problems)
	return res
}

// schedule orders the defect runs so that each transport's runs are spread evenly over the
// self-test, the clean run (over every transport) going first. A run over FIT-Connect mostly
// computes (RSA, its 50 MiB attachment) while a run over XTA mostly waits on the reader's poll
// cadence; in name order the xta- runs came last and the machine idled through their minutes.
func schedule(names []string) []string {
	type job struct {
		name  string
		at    float64 // the run's place within its transport's runs, from 0 to 1
		group int     // the size of its transport's share
	}
	byTransport := map[string][]string{}
	for _, d := range names {
		t := defects.TransportOf(d)
		byTransport[t] = append(byTransport[t], d)
	}
	var jobs []job
	for _, group := range byTransport {
		for i, d := range group {
			jobs = append(jobs, job{d, (float64(i) + 0.5) / float64(len(group)), len(group)})
		}
	}
	sort.Slice(jobs, func(i, j int) bool {
		a, b := jobs[i], jobs[j]
		if a.at != b.at {
			return a.at < b.at
		}
		if a.group != b.group {
			return a.group < b.group
		}
		return a.name < b.name
	})
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.name
	}
	return out
}

// checksOf returns the test IDs of the catalogue that belong to any of the profiles.
func checksOf(cat *catalogue.Catalogue, profiles []string) []string {
	want := map[string]bool{}
	for _, p := range profiles {
		want[p] = true
	}
	var out []string
	for _, id := range cat.IDs() {
		req, _ := cat.Lookup(id)
		for _, p := range req.Profiles {
			if want[p] {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// catalogueProblems are the rules the catalogue itself must keep: every named defect exists,
// every defect is claimed, every kill declares its cause, and every check has a defect that it
// alone kills.
func catalogueProblems(cat *catalogue.Catalogue, checks []string) []string {
	var out []string
	claimed := cat.Defects()
	for d := range claimed {
		if !defects.Known(d) {
			out = append(out, fmt.Sprintf("the catalogue names defect %q, which the reference does not have", d))
		}
	}
	for _, d := range defects.Names() {
		if len(claimed[d]) == 0 {
			out = append(out, fmt.Sprintf("no check claims defect %q: nothing proves it is caught", d))
		}
	}
	for _, id := range checks {
		req, _ := cat.Lookup(id)
		alone := false
		for _, k := range req.Defects {
			if k.Because == "" {
				out = append(out, fmt.Sprintf("%s declares defect %q without the cause its failure must show (because)", id, k.Defect))
			}
			if len(claimed[k.Defect]) == 1 {
				alone = true
			}
			if need := req.Needs(); need != "" && need != defects.TransportOf(k.Defect) {
				out = append(out, fmt.Sprintf("%s (a %s check) declares defect %q, which the self-test runs over %s only", id, need, k.Defect, defects.TransportOf(k.Defect)))
			}
		}
		if !alone {
			out = append(out, fmt.Sprintf("%s has no defect that it alone kills", id))
		}
	}
	return out
}

// cleanProblems: against the clean reference every check of the plan must run and pass.
func cleanProblems(clean report.Summary, checks []string) []string {
	var out []string
	if len(clean.Verdicts) == 0 {
		return []string{"the clean run executed no check"}
	}
	got := map[string]report.Verdict{}
	for _, v := range clean.Verdicts {
		got[v.ID] = v
	}
	for _, id := range checks {
		v, ok := got[id]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("the clean run has no verdict for %s", id))
		case v.Verdict != report.Passed:
			out = append(out, fmt.Sprintf("the clean reference does not pass %s (%s): %s", id, v.Verdict, v.Reason))
		}
	}
	for _, e := range clean.SuiteErrors {
		out = append(out, "the clean run has a suite error: "+e)
	}
	return out
}

// judgeDefect compares the defect's run with what the catalogue declares for it.
func judgeDefect(cat *catalogue.Catalogue, d string, sum report.Summary, checks []string) (map[string]Cell, []string) {
	got := map[string]report.Verdict{}
	for _, v := range sum.Verdicts {
		got[v.ID] = v
	}
	cells := map[string]Cell{}
	var problems []string
	for _, id := range checks {
		req, _ := cat.Lookup(id)
		kill, expected := req.Kill(d)
		if need := req.Needs(); need != "" && need != defects.TransportOf(d) {
			cells[id] = Cell{Expected: expected, Outcome: Elsewhere}
			continue
		}
		v, ok := got[id]
		if !ok {
			v = report.Verdict{ID: id, Verdict: report.NotRun, Reason: "no verdict in the run"}
		}
		c := Cell{Expected: expected, Actual: v.Verdict}
		switch {
		case !expected && v.Verdict == report.NotRun && strings.HasPrefix(v.Reason, report.GatedPrefix) && gateFailed(cat, sum):
			c.Outcome, c.Reason = Gated, v.Reason
		case v.Verdict == report.Skipped || v.Verdict == report.NotRun || v.Verdict == report.KitError:
			c.Outcome, c.Reason = NoVerdict, v.Reason
		case expected && v.Verdict == report.Passed:
			c.Outcome = Missed
		case expected && v.Failure == report.FailureTimeout:
			c.Outcome, c.Reason = TimedOut, v.Reason
		case expected && !causeMatches(kill.Because, v.Message):
			c.Outcome, c.Reason = WrongCause, v.Reason
		case !expected && v.Verdict == report.Failed:
			c.Outcome, c.Reason = Collateral, v.Reason
		default:
			c.Outcome = OK
		}
		cells[id] = c
		switch c.Outcome {
		case Missed:
			problems = append(problems, fmt.Sprintf("defect %q survived %s, which declares it must fail", d, id))
		case TimedOut:
			problems = append(problems, fmt.Sprintf("defect %q: %s timed out instead of failing for its cause %q: %s", d, id, kill.Because, c.Reason))
		case WrongCause:
			problems = append(problems, fmt.Sprintf("defect %q: %s failed for another reason than %q: %s", d, id, kill.Because, c.Reason))
		case Collateral:
			problems = append(problems, fmt.Sprintf("defect %q: %s failed without declaring the defect (collateral): %s", d, id, c.Reason))
		case NoVerdict:
			problems = append(problems, fmt.Sprintf("defect %q: %s has no verdict (%s): %s", d, id, c.Actual, c.Reason))
		}
	}
	for _, e := range sum.SuiteErrors {
		problems = append(problems, fmt.Sprintf("defect %q: suite error: %s", d, e))
	}
	return cells, problems
}

// gateFailed reports whether a gate check failed in the run: then the checks after it are not
// run, and rightly so.
func gateFailed(cat *catalogue.Catalogue, sum report.Summary) bool {
	for _, v := range sum.Verdicts {
		if req, ok := cat.Lookup(v.ID); ok && req.Gate && v.Verdict == report.Failed {
			return true
		}
	}
	return false
}

func causeMatches(because, message string) bool {
	if because == "" {
		return false
	}
	re, err := regexp.Compile(because)
	return err == nil && re.MatchString(message)
}

// matrixMark is the one-character cell of the printed kill matrix.
var matrixMark = map[string]string{OK: "", Gated: "-", Elsewhere: " ", Missed: "M", WrongCause: "W", TimedOut: "T", Collateral: "C", NoVerdict: "?"}

// PrintMatrix writes the kill matrix: one row per defect, one column per check. "X" is a
// declared failure that happened for its cause, "." a check that passed and was not declared;
// every other letter is a problem.
func PrintMatrix(w io.Writer, res Result) {
	names := make([]string, 0, len(res.Matrix))
	for d := range res.Matrix {
		names = append(names, d)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "\nkill matrix (defect × check): X failed for its declared cause, . passed, not declared, - not run after a failed gate check,")
	fmt.Fprintln(w, "  blank: a check of the other transport (a defect runs against every check of its own transport; the clean run against all)")
	fmt.Fprintln(w, "  problems: M declared but passed, W failed for another cause, T timed out, C collateral failure, ? no verdict")
	for i, id := range res.Checks {
		fmt.Fprintf(w, "  c%02d %s", i+1, id)
		if (i+1)%6 == 0 || i == len(res.Checks)-1 {
			fmt.Fprintln(w)
		}
	}
	var head strings.Builder
	for i := range res.Checks {
		fmt.Fprintf(&head, "%d", (i+1)/10)
	}
	var head2 strings.Builder
	for i := range res.Checks {
		fmt.Fprintf(&head2, "%d", (i+1)%10)
	}
	fmt.Fprintf(w, "  %-36s %s\n  %-36s %s\n", "", head.String(), "", head2.String())
	for _, d := range names {
		var row strings.Builder
		state := "exact"
		for _, id := range res.Checks {
			c := res.Matrix[d][id]
			mark := matrixMark[c.Outcome]
			if mark == "" {
				mark = "."
				if c.Expected {
					mark = "X"
				}
			} else if mark != "-" && mark != " " {
				state = "MISMATCH"
			}
			row.WriteString(mark)
		}
		fmt.Fprintf(w, "  %-36s %s %s\n", d, row.String(), state)
	}
	all := res.Clean.All()
	fmt.Fprintf(w, "clean reference: verdict %s, %d passed, %d failed, %d skipped, %d not run, %d kit errors\n",
		res.Clean.Verdict, all.Passed, all.Failed, all.Skipped, all.NotRun, all.KitErrors)
}
