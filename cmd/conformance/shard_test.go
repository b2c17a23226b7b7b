package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/report"
)

func TestShardPlanDealsEveryCheckOnceAndTheGatesToAll(t *testing.T) {
	cat := catalogue.Builtin()
	all := cat.IDs()
	var gates []string
	for _, id := range all {
		if req, _ := cat.Lookup(id); req.Gate {
			gates = append(gates, id)
		}
	}
	if len(gates) == 0 {
		t.Fatal("the catalogue names no gate check")
	}
	for _, n := range []int{1, 2, 4, 8, 1000} {
		plan := shardPlan(all, n)
		if want := min(n, len(all)-len(gates)); len(plan) != want {
			t.Fatalf("n=%d: %d shards, want %d", n, len(plan), want)
		}
		seen := map[string]int{}
		for i, shard := range plan {
			if !slices.Equal(shard[:len(gates)], gates) {
				t.Errorf("n=%d: shard %d does not start with the gate checks %v: %v", n, i, gates, shard)
			}
			for _, id := range shard[len(gates):] {
				seen[id]++
			}
		}
		for _, id := range all {
			if slices.Contains(gates, id) {
				continue
			}
			if seen[id] != 1 {
				t.Errorf("n=%d: %s is in %d shards, want 1", n, id, seen[id])
			}
		}
	}
	if plan := shardPlan(gates, 4); len(plan) != 1 {
		t.Errorf("a selection of gate checks only makes %d shards, want 1", len(plan))
	}
}

func spec(id string, state types.SpecState, attempts int) types.SpecReport {
	return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: id, LeafNodeLabels: []string{id}, State: state, NumAttempts: attempts}
}

// A gate check runs in every shard: a shard where it failed must not be hidden behind one
// where it passed, in whichever order they arrive.
func TestLiveSummaryKeepsAGateFailureOfAnyShard(t *testing.T) {
	gate := catalogue.Builtin().IDs()[0]
	for _, order := range [][]types.SpecState{
		{types.SpecStatePassed, types.SpecStateFailed},
		{types.SpecStateFailed, types.SpecStatePassed},
	} {
		l := newLiveSummary(filepath.Join(t.TempDir(), report.SummaryFile), report.Meta{}, []string{gate}, nil)
		for _, st := range order {
			l.add(spec(gate, st, 1))
		}
		got := l.checks()
		if len(got) != 1 || got[0].State != types.SpecStateFailed {
			t.Errorf("arrival %v: the summary holds %d reports of %s, the first %v; want the failure only", order, len(got), gate, got[0].State)
		}
		if s := l.write(); s.Verdict == report.Passed {
			t.Errorf("arrival %v: verdict %s", order, s.Verdict)
		}
	}
}

func TestMergeShardsReplacesTheParentsUnrunEntries(t *testing.T) {
	own := types.Report{SpecReports: types.SpecReports{
		spec("SM-PRB-010", types.SpecStatePassed, 1),
		spec("FC-RCV-010", types.SpecStatePassed, 1),
		spec("XT-RDR-010", types.SpecStateSkipped, 0), // another shard's: filtered out here
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
	}}
	children := types.SpecReports{spec("SM-PRB-010", types.SpecStatePassed, 1), spec("FC-RCV-010", types.SpecStatePassed, 1), spec("XT-RDR-010", types.SpecStateFailed, 1)}
	failedSuite := types.SpecReports{{LeafNodeType: types.NodeTypeAfterSuite, State: types.SpecStateFailed}}
	r := mergeShards(own, children, failedSuite)
	ids := map[string]int{}
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType == types.NodeTypeIt {
			ids[report.TestID(sr.Labels())]++
			if report.TestID(sr.Labels()) == "XT-RDR-010" && sr.State != types.SpecStateFailed {
				t.Errorf("XT-RDR-010 kept the parent's unrun entry: %v", sr.State)
			}
		}
	}
	for _, id := range []string{"SM-PRB-010", "FC-RCV-010", "XT-RDR-010"} {
		if ids[id] != 1 {
			t.Errorf("%s appears %d times in the merged report, want 1", id, ids[id])
		}
	}
	if n := len(r.SpecReports); n != 5 {
		t.Errorf("merged report holds %d reports, want 5 (3 checks, the parent's suite node, the child's failed one)", n)
	}
}

// A child's check reaches the parent as JSON; the parent's reports must carry its evidence
// byte for byte, so that the attestation's evidence digests hold for every shard's checks.
func TestRelayedCheckKeepsItsEvidence(t *testing.T) {
	sr := spec("HK-PAY-020", types.SpecStatePassed, 1)
	sr.ReportEntries = types.ReportEntries{
		// Fields out of alphabetical order and a number beyond float64's precision, as a
		// generic decode would not write them back.
		{Name: report.EntryEvidence, Value: types.WrapEntryValue(struct {
			Exchanges []string `json:"exchanges"`
			Bytes     int64    `json:"bytes"`
		}{[]string{"http://hkr/<kasse>&x"}, 1<<62 + 1})},
		{Name: "note", Value: types.WrapEntryValue("a plain note")},
	}
	sr = withEvidenceJSON(sr)
	want := report.EvidenceDigest(sr)
	line, err := json.Marshal(sr)
	if err != nil {
		t.Fatal(err)
	}
	var back types.SpecReport
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatal(err)
	}
	back = relayed(back)
	if got := report.EvidenceDigest(back); got != want {
		t.Fatalf("evidence digest of the relayed check %s, want %s", got, want)
	}
	// As the parent writes it into ginkgo-report.json and verify reads it back.
	written, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	var reread types.SpecReport
	if err := json.Unmarshal(written, &reread); err != nil {
		t.Fatal(err)
	}
	if got := report.EvidenceDigest(reread); got != want {
		t.Fatalf("evidence digest after the parent wrote the check %s, want %s (%s)", got, want, reread.ReportEntries[0].Value.AsJSON)
	}
	if got := reread.ReportEntries[1].Value.Representation; got != "a plain note" {
		t.Errorf("a relayed note reads %q", got)
	}
}

// The live summary hashes each check's evidence once; its digests must still be those a summary
// of the same reports computes afresh, also after a failure in another shard replaced a check.
func TestLiveSummaryDigestsMatchAFreshSummary(t *testing.T) {
	ids := catalogue.Builtin().IDs()[:3]
	withEvidence := func(id string, state types.SpecState, note string) types.SpecReport {
		sr := spec(id, state, 1)
		sr.ReportEntries = types.ReportEntries{{Name: report.EntryEvidence, Value: types.WrapEntryValue(map[string]string{"note": note})}}
		return sr
	}
	l := newLiveSummary(filepath.Join(t.TempDir(), report.SummaryFile), report.Meta{}, ids, nil)
	for _, id := range ids {
		l.add(withEvidence(id, types.SpecStatePassed, "first "+id))
	}
	l.add(withEvidence(ids[0], types.SpecStateFailed, "another shard"))
	got := l.write()
	want := report.Summarise(types.Report{SpecReports: l.checks()}, report.Meta{}, ids)
	for i := range want.Verdicts {
		if got.Verdicts[i].EvidenceSHA256 != want.Verdicts[i].EvidenceSHA256 || want.Verdicts[i].EvidenceSHA256 == "" {
			t.Errorf("%s: live digest %q, afresh %q", want.Verdicts[i].ID, got.Verdicts[i].EvidenceSHA256, want.Verdicts[i].EvidenceSHA256)
		}
	}
}
