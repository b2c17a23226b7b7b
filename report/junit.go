package report

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// sourceRoot is the folder (or, built with -trimpath, the module path) the kit was compiled
// from: report paths are given relative to it.
var sourceRoot = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(filepath.Dir(file)) + "/"
}()

// relative rewrites every code location of the report relative to the kit's source tree, so
// that a report names suites/fitconnect/receiver.go:58, not a build machine's folder.
func relative(r types.Report) types.Report {
	rel := func(cl types.CodeLocation) types.CodeLocation {
		cl.FileName = strings.TrimPrefix(cl.FileName, sourceRoot)
		cl.FullStackTrace = strings.ReplaceAll(cl.FullStackTrace, sourceRoot, "")
		return cl
	}
	out := r
	out.SuitePath = ""
	out.SpecReports = make(types.SpecReports, len(r.SpecReports))
	for i, sr := range r.SpecReports {
		sr.LeafNodeLocation = rel(sr.LeafNodeLocation)
		locs := make([]types.CodeLocation, len(sr.ContainerHierarchyLocations))
		for j, cl := range sr.ContainerHierarchyLocations {
			locs[j] = rel(cl)
		}
		sr.ContainerHierarchyLocations = locs
		sr.Failure.Location = rel(sr.Failure.Location)
		sr.Failure.FailureNodeLocation = rel(sr.Failure.FailureNodeLocation)
		entries := make(types.ReportEntries, len(sr.ReportEntries))
		for j, e := range sr.ReportEntries {
			e.Location = rel(e.Location)
			entries[j] = e
		}
		sr.ReportEntries = entries
		events := make(types.SpecEvents, len(sr.SpecEvents))
		for j, e := range sr.SpecEvents {
			e.CodeLocation = rel(e.CodeLocation)
			events[j] = e
		}
		sr.SpecEvents = events
		out.SpecReports[i] = sr
	}
	return out
}

// writeJUnit writes the selected checks as JUnit XML with Ginkgo's reporter: one test case per
// check, classname its profile, name its test ID and title, its state as the run's summary has
// it (a check that did not run is skipped with the reason), paths relative to the kit's sources.
func writeJUnit(path string, r types.Report, s Summary) error {
	cfg := reporters.JunitReportConfig{
		OmitTimelinesForSpecState: types.SpecStatePassed | types.SpecStateSkipped,
		OmitSpecLabels:            true,
		OmitLeafNodeType:          true,
		OmitSuiteSetupNodes:       true,
	}
	// The exchanges are in the JSON report; JUnit readers get the verdict, the clause and the
	// failure. Dropped before Ginkgo writes the XML: read back, megabytes of it cost more than
	// the rest of the report.
	if err := reporters.GenerateJUnitReportWithConfig(withoutEvidence(r), path, cfg); err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var suites reporters.JUnitTestSuites
	if err := xml.Unmarshal(b, &suites); err != nil {
		return fmt.Errorf("reading back %s: %w", path, err)
	}
	byID := map[string]Verdict{}
	for _, v := range s.Verdicts {
		byID[v.ID] = v
	}
	suites.Tests, suites.Disabled, suites.Errors, suites.Failures = 0, 0, 0, 0
	seen := map[string]bool{}
	for i := range suites.TestSuites {
		ts := &suites.TestSuites[i]
		var kept []reporters.JUnitTestCase
		for _, tc := range ts.TestCases {
			id := ""
			for _, f := range strings.Fields(tc.Name) {
				if idPattern.MatchString(f) {
					id = f
				}
			}
			v, ok := byID[id]
			if !ok {
				continue // not selected: not part of this run
			}
			if len(v.Profiles) > 0 {
				tc.Classname = v.Profiles[0]
			}
			seen[v.ID] = true
			tc.Name = v.ID + " " + v.Title
			if v.Verdict == NotRun {
				tc.Status, tc.Failure, tc.Error = "not run", nil, nil
				tc.Skipped = &reporters.JUnitSkipped{Message: "not run: " + v.Reason}
			}
			kept = append(kept, tc)
		}
		if i == 0 {
			// A selected check Ginkgo never reached still gets its test case.
			for _, v := range s.Verdicts {
				if !seen[v.ID] {
					tc := reporters.JUnitTestCase{Name: v.ID + " " + v.Title, Status: "not run", Skipped: &reporters.JUnitSkipped{Message: "not run: " + v.Reason}}
					if len(v.Profiles) > 0 {
						tc.Classname = v.Profiles[0]
					}
					kept = append(kept, tc)
				}
			}
		}
		ts.TestCases = kept
		ts.Tests, ts.Disabled, ts.Skipped, ts.Errors, ts.Failures = len(kept), 0, 0, 0, 0
		for _, tc := range kept {
			switch {
			case tc.Failure != nil:
				ts.Failures++
			case tc.Error != nil:
				ts.Errors++
			case tc.Skipped != nil:
				ts.Skipped++
			}
		}
		suites.Tests += ts.Tests
		suites.Errors += ts.Errors
		suites.Failures += ts.Failures
	}
	out, err := xml.MarshalIndent(suites, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), out...), 0o644)
}

// withoutEvidence is r without the evidence entry of each check.
func withoutEvidence(r types.Report) types.Report {
	out := r
	out.SpecReports = make(types.SpecReports, len(r.SpecReports))
	for i, sr := range r.SpecReports {
		var kept types.ReportEntries
		for _, e := range sr.ReportEntries {
			if e.Name != EntryEvidence {
				kept = append(kept, e)
			}
		}
		sr.ReportEntries = kept
		out.SpecReports[i] = sr
	}
	return out
}
