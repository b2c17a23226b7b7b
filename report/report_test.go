package report

import (
	"path/filepath"
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

func TestSummariseCountsOnlySelectedChecks(t *testing.T) {
	r := types.Report{SpecReports: types.SpecReports{
		spec("SM-PRB-010", types.SpecStatePassed, true, ""),
		spec("SM-TOK-020", types.SpecStateFailed, true, "no token"),
		spec("SM-DST-030", types.SpecStateSkipped, true, "cannot restart a URL SUT"),
		spec("FC-RCV-010", types.SpecStateSkipped, false, ""), // filtered out by the profile
		spec("FC-RCV-020", types.SpecStatePanicked, true, "boom"),
	}}
	s := Summarise(r, Meta{})
	if s.Passed != 1 || s.Failed != 2 || s.Skipped != 1 || len(s.Verdicts) != 4 {
		t.Fatalf("passed %d failed %d skipped %d verdicts %d", s.Passed, s.Failed, s.Skipped, len(s.Verdicts))
	}
	for _, v := range s.Verdicts {
		if v.ID == "SM-DST-030" && v.Message != "cannot restart a URL SUT" {
			t.Errorf("a skip must carry its reason, got %q", v.Message)
		}
		if v.ID == "SM-PRB-010" && (v.Level != "MUST" || v.Clause == "") {
			t.Errorf("verdict lacks the catalogue's level and clause: %+v", v)
		}
	}
}

func TestWriteProducesAllReports(t *testing.T) {
	dir := t.TempDir()
	r := types.Report{SuiteDescription: "x", SpecReports: types.SpecReports{spec("SM-PRB-010", types.SpecStatePassed, true, "")}}
	s, err := Write(dir, r, Meta{Runtime: "process"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil || back.Passed != 1 || back.Meta.Runtime != "process" || len(s.Files) != 3 {
		t.Fatalf("summary round trip: %+v, %v", back, err)
	}
}
