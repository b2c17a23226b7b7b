// Package report turns a Ginkgo run into what a vendor's CI, a procurement office and a
// municipality read: JUnit XML and JSON from Ginkgo's own reporters, a verdict summary per test
// ID, and a console summary.
package report

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/digest"
)

// File names in the output folder.
const (
	JUnitFile   = "junit.xml"
	JSONFile    = "ginkgo-report.json"
	SummaryFile = "summary.json"
)

// States of one check.
const (
	Passed   = "passed"
	Failed   = "failed"
	Skipped  = "skipped"
	NotRun   = "not run"
	KitError = "kit error" // the kit, not the SUT, failed: no verdict on the SUT
)

// Verdicts of a run (Summary.Verdict), over its MUST checks. Passed and Failed are spelled as
// the check states.
const (
	// Incomplete: no MUST check failed, but at least one was skipped or not run. Nothing is
	// certified by an incomplete run.
	Incomplete = "incomplete"
	// Error: no MUST check failed, but the kit itself faulted; the run proves nothing.
	Error = "error"
)

// Failure kinds of a failed check.
const (
	FailureAssertion = "assertion"
	FailureTimeout   = "timeout"
	FailurePanic     = "panic"
)

// NotRunPrefix starts the skip message of a check that was not run (suites/check.NotRun);
// GatedPrefix the reason of one not run because a gate check failed.
const (
	NotRunPrefix = "not run: "
	GatedPrefix  = "gated: "
)

// EntryEvidence is the report entry holding a check's exchanges (suites/check).
const EntryEvidence = "evidence"

// EntryKitFault is the report entry a check adds when the kit, not the SUT, failed
// (suites/check.KitFault).
const EntryKitFault = "kit-fault"

// Meta describes the run.
type Meta struct {
	// RunID (a UUID) is also the value of the dev.konform.run label of every Docker object the
	// run made.
	RunID           string   `json:"runId,omitempty"`
	KitVersion      string   `json:"kitVersion"`
	ContractVersion string   `json:"contractVersion"`
	Runtime         string   `json:"runtime"`
	SUT             string   `json:"sut"`
	Profiles        []string `json:"profiles"`
	// Transports are the transports the run tested: those the SUT declares, narrowed by
	// --transport.
	Transports  []string  `json:"transports,omitempty"`
	LabelFilter string    `json:"labelFilter,omitempty"`
	StartedAt   time.Time `json:"startedAt"`
	FinishedAt  time.Time `json:"finishedAt"`
	// Interrupted is set when the run was stopped (Ctrl-C, SIGTERM, a CI time-out) before every
	// selected check ran.
	Interrupted bool `json:"interrupted,omitempty"`
	// StoppedBecause says why the run ended before its checks ran (a SUT that never became ready).
	StoppedBecause string `json:"stoppedBecause,omitempty"`
	// Parallel is how many instances of the SUT the checks were spread over, each with mocks of
	// its own (--parallel).
	Parallel int `json:"parallel,omitempty"`

	// KitRevision is the kit's VCS revision ("+dirty" when built from a modified tree) or module
	// version, from the binary's build info.
	KitRevision string `json:"kitRevision,omitempty"`
	// SUTInfo is what the SUT's probe said about itself (GET /konform/v1/info).
	Product        string `json:"product,omitempty"`
	ProductVersion string `json:"productVersion,omitempty"`
	Vendor         string `json:"vendor,omitempty"`
	// SUTBinding says what the verdict is bound to: "image" (SUTImage by its content digest),
	// "binary" (the built-in reference in the process runtime: the kit binary's digest), or
	// "self-declared" (a SUT given by URL, not bound to a build).
	SUTBinding string `json:"sutBinding,omitempty"`
	SUTImage   string `json:"sutImage,omitempty"`
	// SUTDigest is "sha256:<hex>": the image's content digest (its ID) or the binary's digest.
	SUTDigest string `json:"sutDigest,omitempty"`
	// Standards are the standards the selected profiles test, with their versions.
	Standards []Standard `json:"standards,omitempty"`
	// Inputs are the digests of what the verdicts rest on besides the SUT.
	Inputs *Inputs `json:"inputs,omitempty"`
	// Certify is set for `run --certify`; NotCertifiable says why the run yields no certificate.
	Certify        bool   `json:"certify,omitempty"`
	NotCertifiable string `json:"notCertifiable,omitempty"`
}

// Standard is a standard a profile tests, with its version.
type Standard struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Inputs are the digests ("sha256:<hex>") of the kit's inputs to a run.
type Inputs struct {
	Catalogue string       `json:"catalogue"`
	Fixtures  string       `json:"fixtures"`
	Schemas   []FileDigest `json:"schemas"`
}

// FileDigest is one file's path (slash-separated, relative to its folder) and digest.
type FileDigest = digest.File

// Verdict is one check's outcome.
type Verdict struct {
	ID       string   `json:"id"`
	Level    string   `json:"level"`
	Title    string   `json:"title"`
	Profiles []string `json:"profiles"`
	Clause   string   `json:"clause"`
	// Verdict is the check's state: passed, failed, skipped, not run or kit error.
	Verdict string `json:"verdict"`
	// Reason says in one line why the check did not pass.
	Reason string `json:"reason,omitempty"`
	// Failure is the kind of a failure: assertion, timeout or panic.
	Failure  string  `json:"failure,omitempty"`
	Message  string  `json:"message,omitempty"`
	Location string  `json:"location,omitempty"`
	Seconds  float64 `json:"seconds"`
	// EvidenceSHA256 is the SHA-256 (hex) of the check's evidence as Ginkgo's JSON report holds
	// it (the AsJSON of its "evidence" report entry); "" when it has none.
	EvidenceSHA256 string `json:"evidenceSha256,omitempty"`
}

// Counts tallies check states.
type Counts struct {
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	NotRun    int `json:"notRun"`
	KitErrors int `json:"kitErrors"`
}

// Total is the number of checks counted.
func (c Counts) Total() int { return c.Passed + c.Failed + c.Skipped + c.NotRun + c.KitErrors }

func (c *Counts) add(state string) {
	switch state {
	case Passed:
		c.Passed++
	case Failed:
		c.Failed++
	case Skipped:
		c.Skipped++
	case NotRun:
		c.NotRun++
	case KitError:
		c.KitErrors++
	}
}

// Summary is the run's outcome (summary.json).
type Summary struct {
	Meta Meta `json:"meta"`
	// Verdict is the run's verdict over its MUST checks: passed, failed, incomplete or error.
	Verdict string `json:"verdict"`
	// Must counts the MUST checks, which the verdict rests on; Should the SHOULD checks,
	// reported beside it.
	Must   Counts `json:"must"`
	Should Counts `json:"should"`
	// SuiteErrors are failures outside any check (set-up and tear-down of the suites).
	SuiteErrors []string  `json:"suiteErrors,omitempty"`
	Verdicts    []Verdict `json:"verdicts"`
	Files       []string  `json:"files"`
}

// All counts every check, MUST and SHOULD.
func (s Summary) All() Counts {
	m, sh := s.Must, s.Should
	return Counts{m.Passed + sh.Passed, m.Failed + sh.Failed, m.Skipped + sh.Skipped, m.NotRun + sh.NotRun, m.KitErrors + sh.KitErrors}
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

// Summarise reads the verdicts of the selected checks out of a Ginkgo report. Every selected
// check gets a verdict: one Ginkgo never attempted is "not run".
func Summarise(r types.Report, meta Meta, selected []string) Summary {
	return SummariseDigested(r, meta, selected, EvidenceDigest)
}

// SummariseDigested is Summarise with the evidence digests taken from digest: a summary
// rewritten after every check hashes each check's evidence once, not once per rewrite.
func SummariseDigested(r types.Report, meta Meta, selected []string, digest func(types.SpecReport) string) Summary {
	s := Summary{Meta: meta}
	cat := catalogue.Builtin()
	byID := map[string]Verdict{}
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			if sr.State.Is(types.SpecStateFailureStates) {
				s.SuiteErrors = append(s.SuiteErrors, fmt.Sprintf("%s: %s (%s)", sr.LeafNodeType, FirstLine(sr.Failure.Message), sr.Failure.Location))
			}
			continue
		}
		if sr.NumAttempts == 0 {
			continue // not selected, or never reached: decided below from the selection
		}
		id := TestID(sr.Labels())
		v := Verdict{ID: id, Title: sr.LeafNodeText, Seconds: sr.RunTime.Seconds(), EvidenceSHA256: digest(sr)}
		switch {
		case sr.State == types.SpecStatePassed:
			v.Verdict = Passed
		case sr.State == types.SpecStateSkipped && strings.HasPrefix(sr.Failure.Message, NotRunPrefix):
			v.Verdict, v.Message = NotRun, strings.TrimPrefix(sr.Failure.Message, NotRunPrefix)
			v.Reason = FirstLine(v.Message)
		case sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending:
			v.Verdict, v.Reason, v.Message = Skipped, FirstLine(sr.Failure.Message), sr.Failure.Message
		case sr.State == types.SpecStateInterrupted || sr.State == types.SpecStateAborted:
			v.Verdict, v.Reason = NotRun, "the run was stopped while this check ran"
			v.Message = sr.Failure.Message
		default:
			v.Verdict, v.Message, v.Location = Failed, sr.Failure.Message, sr.Failure.Location.String()
			v.Reason = reasonOf(sr.Failure.Message)
			switch sr.State {
			case types.SpecStateTimedout:
				v.Failure = FailureTimeout
			case types.SpecStatePanicked:
				v.Failure = FailurePanic
			default:
				v.Failure = FailureAssertion
			}
			for _, e := range sr.ReportEntries {
				if e.Name == EntryKitFault {
					v.Verdict, v.Failure = KitError, ""
				}
			}
		}
		byID[id] = v
	}
	reason := "the run ended before this check ran"
	switch {
	case meta.StoppedBecause != "":
		reason = GatedPrefix + FirstLine(meta.StoppedBecause)
	case meta.Interrupted:
		reason = "the run was stopped before this check ran"
	}
	for _, id := range selected {
		if _, ok := byID[id]; !ok {
			byID[id] = Verdict{ID: id, Verdict: NotRun, Reason: reason}
		}
	}
	for id, v := range byID {
		if req, ok := cat.Lookup(id); ok {
			v.Level, v.Title, v.Profiles = req.Level, req.Title, req.Profiles
			v.Clause = req.Clause.Document + " — " + req.Clause.Section
		}
		if v.Level == catalogue.SHOULD {
			s.Should.add(v.Verdict)
		} else {
			s.Must.add(v.Verdict)
		}
		s.Verdicts = append(s.Verdicts, v)
	}
	sort.Slice(s.Verdicts, func(i, j int) bool { return s.Verdicts[i].ID < s.Verdicts[j].ID })
	s.Verdict = overall(s)
	return s
}

// EvidenceDigest is the SHA-256 (hex) of a check's evidence entry as Ginkgo's JSON report
// holds it, or "".
func EvidenceDigest(sr types.SpecReport) string {
	for _, e := range sr.ReportEntries {
		if e.Name != EntryEvidence {
			continue
		}
		// Read back from ginkgo-report.json, AsJSON is what the file holds; in memory it is
		// still empty and Ginkgo will write json.Marshal of the raw value.
		js := []byte(e.Value.AsJSON)
		if raw := e.Value.GetRawValue(); len(js) == 0 && raw != nil {
			b, err := json.Marshal(raw)
			if err != nil {
				return ""
			}
			js = b
		}
		sum := sha256.Sum256(js)
		return hex.EncodeToString(sum[:])
	}
	return ""
}

// overall is the run's verdict: failed when a MUST check failed; error when the kit faulted;
// incomplete when a MUST check was skipped or not run, or nothing ran; passed otherwise.
func overall(s Summary) string {
	all := s.All()
	switch {
	case s.Must.Failed > 0:
		return Failed
	case all.KitErrors > 0 || len(s.SuiteErrors) > 0:
		return Error
	case s.Must.Skipped > 0 || s.Must.NotRun > 0 || s.Must.Total() == 0:
		return Incomplete
	}
	return Passed
}

// Write writes JUnit XML, Ginkgo's JSON and the summary of the selected checks into dir and
// returns the summary and the report as written (code locations relative to the kit's source).
func Write(dir string, r types.Report, meta Meta, selected []string) (Summary, types.Report, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, r, fmt.Errorf("creating report folder: %w", err)
	}
	s := Summarise(r, meta, selected)
	r = relative(r)
	junit := filepath.Join(dir, JUnitFile)
	if err := writeJUnit(junit, r, s); err != nil {
		return s, r, fmt.Errorf("writing JUnit report: %w", err)
	}
	js := filepath.Join(dir, JSONFile)
	if err := writeGinkgoJSON(js, r); err != nil {
		return s, r, fmt.Errorf("writing JSON report: %w", err)
	}
	sum := filepath.Join(dir, SummaryFile)
	s.Files = []string{junit, js, sum}
	return s, r, WriteSummary(sum, s)
}

// writeGinkgoJSON writes r as Ginkgo's JSON report does (an array of one report), without its
// indentation: the evidence makes the file megabytes long, and indenting it cost a third of
// the writing.
func writeGinkgoJSON(path string, r types.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := json.NewEncoder(w).Encode([]types.Report{r}); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteSummary writes s to path atomically: a reader (or a run killed mid-write) sees the old
// summary or the new one, never half of one.
func WriteSummary(path string, s Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	return nil
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

func (c Counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped, %d not run, %d kit errors", c.Passed, c.Failed, c.Skipped, c.NotRun, c.KitErrors)
}

// gomegaPreamble starts the lines Gomega puts before the failure of an Eventually.
var gomegaPreamble = regexp.MustCompile(`^(Told to stop trying after|Timed out after|The function passed to Eventually (failed|returned))`)

// reasonOf is the first line of a failure message that says what went wrong, past Gomega's
// preamble.
func reasonOf(msg string) string {
	for _, line := range strings.Split(strings.TrimSpace(msg), "\n") {
		if line = strings.TrimSpace(line); line != "" && !gomegaPreamble.MatchString(line) {
			return FirstLine(line)
		}
	}
	return FirstLine(msg)
}

// FirstLine shortens a failure message to its first line for console listings.
func FirstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		cut := 160
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut-- // never split a character
		}
		s = s[:cut] + "…"
	}
	return strings.TrimRight(s, "\r")
}
