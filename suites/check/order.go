package check

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/catalogue"
)

// NotRunPrefix starts the skip message of a check that was not run; the report counts such a
// check as "not run", never as passed.
const NotRunPrefix = "not run: "

// GatedPrefix starts the reason of a check not run because a gate check failed.
const GatedPrefix = "gated: "

type profileSpecs struct {
	order int
	name  string
	body  func()
}

var registered []profileSpecs

// Profile registers the specs of one profile under the given order; Register builds them.
// Use it at package level in place of ginkgo.Describe: var _ = check.Profile(1, "Smoke", …).
func Profile(order int, name string, body func()) bool {
	registered = append(registered, profileSpecs{order, name, body})
	return true
}

// Register builds the Ginkgo tree: one top-level container holding every profile in its order.
// The container is Ordered (Ginkgo would otherwise sort by file name) and continues on failure,
// so the checks run in profile order, the gate checks of the smoke profile first;
// when one of them fails, every check after it is not run.
func Register() {
	sort.SliceStable(registered, func(i, j int) bool { return registered[i].order < registered[j].order })
	ginkgo.Describe("Konform", ginkgo.Ordered, ginkgo.ContinueOnFailure, func() {
		ginkgo.ReportAfterEach(func(r ginkgo.SpecReport) {
			if r.LeafNodeType != types.NodeTypeIt || !r.State.Is(types.SpecStateFailureStates) {
				return
			}
			for _, l := range r.Labels() {
				if req, ok := catalogue.Builtin().Lookup(l); ok && req.Gate {
					closeGate(req.ID, r.Failure.Message)
				}
			}
		})
		for _, p := range registered {
			ginkgo.Describe(p.name, p.body)
		}
	})
}

var gate struct {
	sync.Mutex
	closed string
}

func closeGate(id, message string) {
	gate.Lock()
	defer gate.Unlock()
	if gate.closed == "" {
		line := ""
		for _, l := range strings.Split(strings.TrimSpace(message), "\n") {
			// Gomega's "Timed out after …" and "Told to stop trying after …" say when, not why.
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Timed out after") && !strings.HasPrefix(l, "Told to stop trying") && !strings.HasPrefix(l, "The function passed to Eventually") {
				line = l
				break
			}
		}
		gate.closed = fmt.Sprintf("%s failed (%s), so the SUT cannot be judged further", id, line)
	}
}

func closedGate() string {
	gate.Lock()
	defer gate.Unlock()
	return gate.closed
}

// NotRun ends the running check unrun, with the reason: the run cannot carry it out (e.g. no
// way to restart a SUT given by URL). It makes the run's verdict at best incomplete.
func NotRun(format string, args ...any) {
	ginkgo.Skip(NotRunPrefix + fmt.Sprintf(format, args...))
}
