package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

func spec(id string, state types.SpecState, started bool, msg string) types.SpecReport {
	sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: id, LeafNodeLabels: []string{id, "MUST", "smoke"}, State: state}
	sr.StartTime = time.Now() // Ginkgo stamps even the specs it does not run
	if started {
		sr.NumAttempts = 1
	}
	sr.Failure.Message = msg
	return sr
}

func TestSummariseGivesEverySelectedCheckAVerdict(t *testing.T) {
	r := types.Report{SpecReports: types.SpecReports{
		spec("SM-PRB-010", types.SpecStatePassed, true, ""),
		spec("SM-TOK-020", types.SpecStateFailed, true, "no token"),
		spec("SM-DST-030", types.SpecStateSkipped, true, "cannot restart a URL SUT"),
		spec("FC-RCV-010", types.SpecStateSkipped, false, ""), // filtered out by the profile
		spec("FC-RCV-020", types.SpecStatePanicked, true, "boom"),
	}}
	s := Summarise(r, Meta{}, []string{"SM-PRB-010", "SM-TOK-020", "SM-DST-030", "FC-RCV-020", "FC-RCV-030"})
	all := s.All()
	if all.Passed != 1 || all.Failed != 2 || all.Skipped != 1 || all.NotRun != 1 || len(s.Verdicts) != 5 {
		t.Fatalf("counts %+v, verdicts %d", all, len(s.Verdicts))
	}
	if s.Verdict != Failed {
		t.Errorf("verdict %q, want failed", s.Verdict)
	}
	for _, v := range s.Verdicts {
		if v.ID == "SM-DST-030" && v.Reason != "cannot restart a URL SUT" {
			t.Errorf("a skip must carry its reason, got %q", v.Reason)
		}
		if v.ID == "FC-RCV-030" && (v.Verdict != NotRun || v.Reason == "") {
			t.Errorf("a selected check Ginkgo never reached is not run, with a reason: %+v", v)
		}
		if v.ID == "FC-RCV-020" && v.Failure != FailurePanic {
			t.Errorf("panic not named: %+v", v)
		}
		if v.ID == "SM-PRB-010" && (v.Level != "MUST" || v.Clause == "") {
			t.Errorf("verdict lacks the catalogue's level and clause: %+v", v)
		}
	}
}

func TestVerdictNeverPassesWithoutEveryMustCheckPassing(t *testing.T) {
	pass := spec("SM-PRB-010", types.SpecStatePassed, true, "")
	skip := spec("SM-TOK-020", types.SpecStateSkipped, true, "no restart command")
	timeout := spec("SM-TOK-020", types.SpecStateTimedout, true, "timed out")
	kit := spec("SM-TOK-020", types.SpecStateFailed, true, "kit fault")
	kit.ReportEntries = types.ReportEntries{{Name: EntryKitFault}}
	cases := []struct {
		name     string
		specs    types.SpecReports
		selected []string
		want     string
	}{
		{"all passed", types.SpecReports{pass}, []string{"SM-PRB-010"}, Passed},
		{"a skip", types.SpecReports{pass, skip}, []string{"SM-PRB-010", "SM-TOK-020"}, Incomplete},
		{"not run (interrupted)", types.SpecReports{pass}, []string{"SM-PRB-010", "SM-TOK-020"}, Incomplete},
		{"a time-out is a failure", types.SpecReports{pass, timeout}, []string{"SM-PRB-010", "SM-TOK-020"}, Failed},
		{"a kit fault is no verdict", types.SpecReports{pass, kit}, []string{"SM-PRB-010", "SM-TOK-020"}, Error},
		{"nothing selected", nil, nil, Incomplete},
	}
	for _, c := range cases {
		s := Summarise(types.Report{SpecReports: c.specs}, Meta{}, c.selected)
		if s.Verdict != c.want {
			t.Errorf("%s: verdict %q, want %q (%+v)", c.name, s.Verdict, c.want, s.All())
		}
	}
}

func TestShouldChecksAreReportedBesideTheVerdict(t *testing.T) {
	should := spec("FC-RCV-050", types.SpecStateFailed, true, "forged SET accepted")
	pass := spec("SM-PRB-010", types.SpecStatePassed, true, "")
	s := Summarise(types.Report{SpecReports: types.SpecReports{pass, should}}, Meta{}, []string{"SM-PRB-010", "FC-RCV-050"})
	v := s.Verdicts[0]
	if v.Level != "SHOULD" {
		t.Skipf("FC-RCV-050 is %s in the catalogue; this test needs a SHOULD check", v.Level)
	}
	if s.Verdict != Passed || s.Should.Failed != 1 || s.Must.Passed != 1 {
		t.Fatalf("verdict %q must, should = %+v, %+v", s.Verdict, s.Must, s.Should)
	}
}

func TestWriteProducesAllReports(t *testing.T) {
	dir := t.TempDir()
	r := types.Report{SuiteDescription: "x", SpecReports: types.SpecReports{spec("SM-PRB-010", types.SpecStatePassed, true, "")}}
	s, _, err := Write(dir, r, Meta{Runtime: "process"}, []string{"SM-PRB-010"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil || back.Must.Passed != 1 || back.Verdict != Passed || back.Meta.Runtime != "process" || len(s.Files) != 3 {
		t.Fatalf("summary round trip: %+v, %v", back, err)
	}
}

func TestJUnitNamesChecksByProfileAndIDWithRelativePaths(t *testing.T) {
	dir := t.TempDir()
	sr := spec("SM-PRB-010", types.SpecStateFailed, true, "the SUT speaks contract version \"0\"")
	sr.LeafNodeText = "SM-PRB-010 the SUT answers the probe with the contract version"
	sr.LeafNodeLocation = types.CodeLocation{FileName: sourceRoot + "suites/smoke/smoke.go", LineNumber: 26}
	sr.Failure.Location = sr.LeafNodeLocation
	sr.ReportEntries = types.ReportEntries{{Name: EntryEvidence, Location: sr.LeafNodeLocation, Value: types.WrapEntryValue("GET /v1/exchange-of-the-evidence")}}
	unselected := spec("FC-RCV-010", types.SpecStateSkipped, false, "")
	r := types.Report{SuiteDescription: "Konform conformance", SpecReports: types.SpecReports{sr, unselected}}
	if _, _, err := Write(dir, r, Meta{}, []string{"SM-PRB-010", "SM-TOK-020"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	x := string(b)
	for _, want := range []string{`classname="smoke"`, `name="SM-PRB-010 the SUT answers the probe with the contract version"`, "suites/smoke/smoke.go:26", `name="SM-TOK-020`, "not run: "} {
		if !strings.Contains(x, want) {
			t.Errorf("JUnit lacks %q", want)
		}
	}
	// The exchanges are the JSON report's: neither a property nor the failed check's timeline.
	for _, not := range []string{sourceRoot, "FC-RCV-010", `name="evidence"`, "exchange-of-the-evidence"} {
		if strings.Contains(x, not) {
			t.Errorf("JUnit holds %q", not)
		}
	}
}
