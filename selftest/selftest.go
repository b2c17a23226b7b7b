// Package selftest proves that every conformance check can fail: it runs the suites against the
// clean reference Fachverfahren (everything must pass) and once per named defect (every check
// that claims the defect must fail), and prints the kill matrix.
package selftest

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/report"
)

// Clean names the run without defects.
const Clean = "(clean)"

// RunFunc runs the suites of the given profiles against the reference with the given defect
// ("" for none) and returns the run's summary.
type RunFunc func(ctx context.Context, defect string, profiles []string) (report.Summary, error)

// Plan is the set of runs a self-test makes.
type Plan struct {
	Profiles []string
	// Defects to run, each with the profiles of the checks that claim it.
	Defects map[string][]string
}

// NewPlan plans the self-test of the given profiles: the defects claimed by the checks of those
// profiles.
func NewPlan(cat *catalogue.Catalogue, profiles []string) Plan {
	want := map[string]bool{}
	for _, p := range profiles {
		want[p] = true
	}
	p := Plan{Profiles: profiles, Defects: map[string][]string{}}
	for _, r := range cat.Requirements {
		var hit []string
		for _, pr := range r.Profiles {
			if want[pr] {
				hit = append(hit, pr)
			}
		}
		if len(hit) == 0 {
			continue
		}
		for _, d := range r.DefectNames() {
			p.Defects[d] = union(p.Defects[d], hit)
		}
	}
	return p
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Result is the outcome of a self-test.
type Result struct {
	Clean report.Summary
	// Runs holds the summary of each defect's run.
	Runs map[string]report.Summary
	// Killed maps defect → test IDs that failed under it.
	Killed map[string][]string
	// Problems lists every reason the self-test fails.
	Problems []string
}

// OK reports whether the self-test passed.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// Run executes the plan with parallel runs at a time.
func Run(ctx context.Context, cat *catalogue.Catalogue, plan Plan, run RunFunc, parallel int, progress io.Writer) Result {
	res := Result{Runs: map[string]report.Summary{}, Killed: map[string][]string{}}
	known := map[string]bool{}
	for _, d := range defects.All {
		known[d.Name] = true
	}
	claimed := cat.Defects()
	for d := range claimed {
		if !known[d] {
			res.Problems = append(res.Problems, fmt.Sprintf("the catalogue names defect %q, which the reference does not have", d))
		}
	}
	for _, d := range defects.All {
		if len(claimed[d.Name]) == 0 {
			res.Problems = append(res.Problems, fmt.Sprintf("no check claims defect %q: nothing proves it is caught", d.Name))
		}
	}

	names := make([]string, 0, len(plan.Defects))
	for d := range plan.Defects {
		if known[d] {
			names = append(names, d)
		}
	}
	sort.Strings(names)

	type job struct {
		defect   string
		profiles []string
	}
	jobs := []job{{"", plan.Profiles}}
	for _, d := range names {
		jobs = append(jobs, job{d, plan.Defects[d]})
	}
	if parallel < 1 {
		parallel = 1
	}
	var mu sync.Mutex
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			sum, err := run(ctx, j.defect, j.profiles)
			mu.Lock()
			defer mu.Unlock()
			name := j.defect
			if name == "" {
				name = Clean
			}
			if err != nil {
				res.Problems = append(res.Problems, fmt.Sprintf("run %s: %v", name, err))
				return
			}
			fmt.Fprintf(progress, "selftest: %-40s %3d passed %3d failed %3d skipped\n", name, sum.Passed, sum.Failed, sum.Skipped)
			if j.defect == "" {
				res.Clean = sum
				return
			}
			res.Runs[j.defect] = sum
			for _, v := range sum.Verdicts {
				if v.Verdict == report.Failed {
					res.Killed[j.defect] = append(res.Killed[j.defect], v.ID)
				}
			}
		}()
	}
	wg.Wait()

	for _, v := range res.Clean.Verdicts {
		if v.Verdict == report.Failed {
			res.Problems = append(res.Problems, fmt.Sprintf("the clean reference fails %s: %s", v.ID, report.FirstLine(v.Message)))
		}
	}
	if res.Clean.Passed == 0 && len(res.Clean.Verdicts) == 0 {
		res.Problems = append(res.Problems, "the clean run executed no check")
	}
	inPlan := map[string]bool{}
	for _, id := range cat.IDs() {
		req, _ := cat.Lookup(id)
		for _, p := range req.Profiles {
			for _, want := range plan.Profiles {
				inPlan[id] = inPlan[id] || p == want
			}
		}
	}
	for _, id := range cat.IDs() {
		if !inPlan[id] {
			continue
		}
		req, _ := cat.Lookup(id)
		for _, d := range req.DefectNames() {
			if _, ran := res.Runs[d]; !ran {
				continue // its run failed to start; reported above
			}
			if !contains(res.Killed[d], id) {
				res.Problems = append(res.Problems, fmt.Sprintf("defect %q survived %s, which claims to catch it", d, id))
			}
		}
	}
	sort.Strings(res.Problems)
	return res
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// PrintMatrix writes the kill matrix: one row per defect, the checks that claim it and those
// that failed under it. "caught" means every claiming check failed.
func PrintMatrix(w io.Writer, cat *catalogue.Catalogue, res Result) {
	claimed := cat.Defects()
	names := make([]string, 0, len(res.Runs))
	for d := range res.Runs {
		names = append(names, d)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "\nkill matrix (defect × test ID): claimed by → failed under the defect")
	for _, d := range names {
		state := "caught"
		for _, id := range claimed[d] {
			if _, ok := cat.Lookup(id); ok && !contains(res.Killed[d], id) && inProfiles(cat, id, res.Runs[d]) {
				state = "SURVIVED"
			}
		}
		killed := res.Killed[d]
		sort.Strings(killed)
		fmt.Fprintf(w, "  %-36s %-8s claims: %-40s failed: %s\n", d, state, strings.Join(claimed[d], ","), strings.Join(killed, ","))
	}
	fmt.Fprintf(w, "clean reference: %d passed, %d failed, %d skipped\n", res.Clean.Passed, res.Clean.Failed, res.Clean.Skipped)
}

func inProfiles(cat *catalogue.Catalogue, id string, s report.Summary) bool {
	req, _ := cat.Lookup(id)
	for _, p := range req.Profiles {
		for _, q := range s.Meta.Profiles {
			if p == q {
				return true
			}
		}
	}
	return false
}
