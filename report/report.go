// Package report turns a Ginkgo run into what a vendor's CI, a procurement office and a
// municipality read: JUnit XML and JSON from Ginkgo's own reporters, a verdict summary per test
// ID, and a console summary.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/catalogue"
)

// File names in the output folder.
const (
	JUnitFile   = "junit.xml"
	JSONFile    = "ginkgo-report.json"
	SummaryFile = "summary.json"
)

// Verdicts per check.
const (
	Passed  = "passed"
	Failed  = "failed"
	Skipped = "skipped"
)

// Meta describes the run.
type Meta struct {
	KitVersion      string    `json:"kitVersion"`
	ContractVersion string    `json:"contractVersion"`
	Runtime         string    `json:"runtime"`
	SUT             string    `json:"sut"`
	Profiles        []string  `json:"profiles"`
	LabelFilter     string    `json:"labelFilter,omitempty"`
	StartedAt       time.Time `json:"startedAt"`
	FinishedAt      time.Time `json:"finishedAt"`
}

// Verdict is one check's outcome.
type Verdict struct {
	ID       string   `json:"id"`
	Level    string   `json:"level"`
	Title    string   `json:"title"`
	Profiles []string `json:"profiles"`
	Clause   string   `json:"clause"`
	Verdict  string   `json:"verdict"`
	Message  string   `json:"message,omitempty"`
	Location string   `json:"location,omitempty"`
	Seconds  float64  `json:"seconds"`
}

// Summary is the run's outcome (summary.json).
type Summary struct {
	Meta     Meta      `json:"meta"`
	Passed   int       `json:"passed"`
	Failed   int       `json:"failed"`
	Skipped  int       `json:"skipped"`
	Verdicts []Verdict `json:"verdicts"`
	Files    []string  `json:"files"`
}

var idPattern = regexp.MustCompile(`^[A-Z]{2}-[A-Z]{3}-[0-9]{3}$`)

// TestID returns the test ID among a spec's labels.
func TestID(labels []string) string {
	for _, l := range labels {
		if idPattern.MatchString(l) {
			return l
		}
	}
	return ""
}

// Summarise reads the verdicts out of a Ginkgo report.
func Summarise(r types.Report, meta Meta) Summary {
	s := Summary{Meta: meta}
	cat := catalogue.Builtin()
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			if sr.State.Is(types.SpecStateFailureStates) {
				s.Failed++
				s.Verdicts = append(s.Verdicts, Verdict{ID: "(suite)", Title: sr.LeafNodeType.String(), Verdict: Failed, Message: sr.Failure.Message, Location: sr.Failure.Location.String()})
			}
			continue
		}
		if sr.State == types.SpecStateSkipped && sr.NumAttempts == 0 {
			continue // not selected by the profiles or the label filter: not part of this run
		}
		id := TestID(sr.Labels())
		v := Verdict{ID: id, Title: sr.LeafNodeText, Seconds: sr.RunTime.Seconds()}
		if req, ok := cat.Lookup(id); ok {
			v.Level, v.Title, v.Profiles = req.Level, req.Title, req.Profiles
			v.Clause = req.Clause.Document + " — " + req.Clause.Section
		}
		switch {
		case sr.State == types.SpecStatePassed:
			v.Verdict = Passed
			s.Passed++
		case sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending:
			v.Verdict = Skipped
			v.Message = sr.Failure.Message
			s.Skipped++
		default:
			v.Verdict = Failed
			v.Message = sr.Failure.Message
			v.Location = sr.Failure.Location.String()
			s.Failed++
		}
		s.Verdicts = append(s.Verdicts, v)
	}
	sort.Slice(s.Verdicts, func(i, j int) bool { return s.Verdicts[i].ID < s.Verdicts[j].ID })
	return s
}

// Write writes JUnit XML, Ginkgo's JSON and the summary into dir and returns the summary.
func Write(dir string, r types.Report, meta Meta) (Summary, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("creating report folder: %w", err)
	}
	s := Summarise(r, meta)
	junit := filepath.Join(dir, JUnitFile)
	if err := reporters.GenerateJUnitReportWithConfig(r, junit, reporters.JunitReportConfig{OmitLeafNodeType: true}); err != nil {
		return s, fmt.Errorf("writing JUnit report: %w", err)
	}
	js := filepath.Join(dir, JSONFile)
	if err := reporters.GenerateJSONReport(r, js); err != nil {
		return s, fmt.Errorf("writing JSON report: %w", err)
	}
	sum := filepath.Join(dir, SummaryFile)
	s.Files = []string{junit, js, sum}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return s, err
	}
	if err := os.WriteFile(sum, b, 0o644); err != nil {
		return s, fmt.Errorf("writing summary: %w", err)
	}
	return s, nil
}

// ReadSummary reads a summary.json.
func ReadSummary(path string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Print writes the console summary.
func Print(w io.Writer, s Summary) {
	fmt.Fprintf(w, "\nKonform %s — contract v%s — runtime %s — SUT %s\n", s.Meta.KitVersion, s.Meta.ContractVersion, s.Meta.Runtime, s.Meta.SUT)
	fmt.Fprintf(w, "profiles: %s\n", strings.Join(s.Meta.Profiles, ", "))
	for _, v := range s.Verdicts {
		if v.Verdict == Passed {
			continue
		}
		msg := FirstLine(v.Message)
		fmt.Fprintf(w, "  %-7s %-11s %s: %s\n", strings.ToUpper(v.Verdict), v.ID, v.Title, msg)
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", s.Passed, s.Failed, s.Skipped)
	for _, f := range s.Files {
		fmt.Fprintf(w, "report: %s\n", f)
	}
}

// FirstLine shortens a failure message to its first line for console listings.
func FirstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
