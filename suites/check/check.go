// Package check turns a catalogue entry into a Ginkgo spec: a conformance check is a small named
// unit with a stable test ID, its level and profiles as labels, the clause it enforces, and the
// evidence every mock recorded while it ran.
package check

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/runenv"
)

// DefaultTimeout bounds every check that does not set its own SpecTimeout: a backstop above
// the checks' own limits, which follow the SUT's cadence up to its ceiling
// (docs/sut-contract.md §2, time limits).
const DefaultTimeout = 10 * time.Minute

// Report entry names.
const (
	EntryClause   = "clause"
	EntryEvidence = "evidence"
	// EntryKitDecision notes, on a failed check, an expectation that rests on the kit's decision.
	EntryKitDecision = "kit decision"
)

// It registers the conformance check with test ID id. The spec's text is the ID and the
// catalogue title; its labels are the ID, the level and the profiles. A spec whose ID has no
// catalogue entry fails.
func It(id string, body func(ctx ginkgo.SpecContext), decorators ...any) bool {
	req, ok := catalogue.Builtin().Lookup(id)
	if !ok {
		return ginkgo.It(id+" (no catalogue entry)", func(ctx ginkgo.SpecContext) {
			ginkgo.Fail(fmt.Sprintf("test ID %s has no entry in the requirement catalogue", id))
		}, ginkgo.Label(id))
	}
	labels := ginkgo.Labels(req.Labels())
	// The report points at the check's own line in its suite, not at this function.
	args := []any{types.NewCodeLocation(1), labels, ginkgo.SpecTimeout(DefaultTimeout)}
	args = append(args, decorators...)
	args = append(args, func(ctx ginkgo.SpecContext) {
		if g := closedGate(); g != "" && !req.Gate {
			NotRun("%s%s", GatedPrefix, g)
		}
		ginkgo.AddReportEntry(EntryClause, clauseText(req), ginkgo.ReportEntryVisibilityFailureOrVerbose)
		noteKitDecisions(req)
		cursor := startEvidence(ctx)
		ginkgo.DeferCleanup(func(ctx ginkgo.SpecContext) {
			ginkgo.AddReportEntry(EntryEvidence, cursor.collect(ctx), ginkgo.ReportEntryVisibilityNever)
		}, ginkgo.NodeTimeout(30*time.Second))
		body(ctx)
	})
	return ginkgo.It(req.ID+" "+req.Title, args...)
}

func clauseText(r catalogue.Requirement) string {
	s := fmt.Sprintf("%s [%s] %s — %s", r.ID, r.Level, r.Clause.Document, r.Clause.Section)
	if r.Clause.Source != "" {
		s += " (" + r.Clause.Source + ")"
	}
	if r.Clause.Quote != "" {
		s += "; the source says: \"" + r.Clause.Quote + "\""
	}
	if e := r.Expect; e != nil {
		s += fmt.Sprintf("; expects %s with problem type %s, instance %q", e.Event, e.ProblemType, e.Instance)
		if e.Basis == catalogue.BasisKitDecision {
			s += " [" + kitDecision + ": " + e.Decision + "]"
		}
	}
	switch {
	case r.Basis == catalogue.BasisKitDecision:
		s += "; " + kitDecision + ": " + r.Decision
	case r.Decision != "":
		s += "; decision: " + r.Decision
	}
	return s
}

const kitDecision = "the kit's decision (no public source fixes it)"

// noteKitDecisions adds to a failed check what of its expectation no public source fixes, so
// that a vendor can tell a failure against the kit's decision from one against a standard.
func noteKitDecisions(r catalogue.Requirement) {
	ds := r.KitDecisions()
	if len(ds) == 0 {
		return
	}
	ginkgo.DeferCleanup(func() {
		if !ginkgo.CurrentSpecReport().Failed() {
			return
		}
		for _, d := range ds {
			ginkgo.AddReportEntry(EntryKitDecision, "this expectation is "+kitDecision+": "+d, ginkgo.ReportEntryVisibilityFailureOrVerbose)
		}
	})
}

// Evidence is what the mocks recorded during one check.
type Evidence struct {
	Exchanges []recorder.Exchange `json:"exchanges"`
	Errors    []string            `json:"errors,omitempty"`
}

// String counts the exchanges per actor: it is the entry's text in Ginkgo's reports, beside
// the exchanges themselves as JSON. (Without it Ginkgo prints the whole evidence with %+v into
// every report it writes.)
func (e Evidence) String() string {
	var actors []string
	count := map[string]int{}
	for _, x := range e.Exchanges {
		if count[x.Actor] == 0 {
			actors = append(actors, x.Actor)
		}
		count[x.Actor]++
	}
	sort.Strings(actors)
	parts := make([]string, len(actors))
	for i, a := range actors {
		parts[i] = fmt.Sprintf("%s %d", a, count[a])
	}
	s := fmt.Sprintf("%d exchanges", len(e.Exchanges))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if len(e.Errors) > 0 {
		s += "; not collected: " + strings.Join(e.Errors, "; ")
	}
	return s
}

type evidenceCursor struct {
	env   *runenv.Env
	since map[string]int64
}

// lastSeq tracks, per actor, the highest sequence number already attributed to a spec, so each
// spec's evidence holds what happened while it ran.
var (
	lastMu  sync.Mutex
	lastSeq = map[string]int64{}
)

func startEvidence(ctx context.Context) *evidenceCursor {
	env := runenv.Current()
	c := &evidenceCursor{env: env, since: map[string]int64{}}
	lastMu.Lock()
	defer lastMu.Unlock()
	for _, src := range env.Evidence {
		if last, err := src.Last(ctx); err == nil && last > lastSeq[src.Actor] {
			lastSeq[src.Actor] = last
		}
		c.since[src.Actor] = lastSeq[src.Actor]
	}
	return c
}

func (c *evidenceCursor) collect(ctx context.Context) Evidence {
	var ev Evidence
	lastMu.Lock()
	defer lastMu.Unlock()
	for _, src := range c.env.Evidence {
		ex, err := src.Exchanges(ctx, c.since[src.Actor])
		if err != nil {
			ev.Errors = append(ev.Errors, fmt.Sprintf("%s: %v", src.Actor, err))
			continue
		}
		ev.Exchanges = append(ev.Exchanges, ex...)
		if len(ex) > 0 && ex[len(ex)-1].Seq > lastSeq[src.Actor] {
			lastSeq[src.Actor] = ex[len(ex)-1].Seq
		}
	}
	if ev.Exchanges == nil {
		ev.Exchanges = []recorder.Exchange{}
	}
	return ev
}

// EntryKitFault marks a failure as the kit's own: a mock, the sender or the kit's set-up did
// not do what the check relies on. It is no verdict on the SUT; the run ends with exit 3.
const EntryKitFault = "kit-fault"

// KitFault fails the running check as a fault of the kit, not of the SUT.
func KitFault(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	ginkgo.AddReportEntry(EntryKitFault, msg, ginkgo.ReportEntryVisibilityFailureOrVerbose)
	ginkgo.Fail("kit fault (not a verdict on the SUT): "+msg, 1)
}

// KitExpect fails the running check as a kit fault unless ok: for assertions about the kit's own
// actors, such as "the delivery service logged what the sender sent".
func KitExpect(ok bool, format string, args ...any) {
	if !ok {
		ginkgo.GinkgoHelper()
		KitFault(format, args...)
	}
}
