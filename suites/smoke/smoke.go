// Package smoke holds the first checks every SUT meets: it speaks the contract, it can log in
// to the delivery service, and it keeps to its own destination.
package smoke

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/suites/check"
	"github.com/konform/konform/suites/drive"
)

// smokeFixture is a small, complete submission every SUT must be able to take in.
const smokeFixture = "bg-0200-minimal"

var _ = check.Profile(1, "Smoke", func() {
	check.It("SM-PRB-010", func(ctx SpecContext) {
		env := runenv.Current()
		info, err := drive.Probe(env).Info(ctx)
		Expect(err).NotTo(HaveOccurred(), "GET %s", contract.ProbeInfoPath)
		Expect(contract.Supported).To(ContainElement(info.ContractVersion), "the SUT speaks contract version %q; this kit speaks %s", info.ContractVersion, strings.Join(contract.Supported, " and "))
		Expect(info.Product).NotTo(BeEmpty(), "the probe names no product")
	})

	check.It("SM-TOK-020", func(ctx SpecContext) {
		env := runenv.Current()
		// The SUT logs in on its own schedule. The delivery service answers a submission listing
		// 200 only to a valid subscriber token, so one such answer proves the SUT obtained a
		// token with the subscriber credentials it was given.
		// A refused token request ends the wait at once: the SUT logged in with credentials the
		// delivery service does not know.
		Eventually(func(g Gomega) {
			all, err := drive.Control(env).Exchanges(ctx, 0)
			g.Expect(err).NotTo(HaveOccurred(), "reading the delivery service mock's exchanges: %v", err)
			if listed := listingStatuses(all); !slices.Contains(listed, 200) {
				if refused := tokenRefusals(all); len(refused) > 0 {
					StopTrying(fmt.Sprintf("the delivery service refused the SUT's token request (%s) and answered none of its submission listings 200: the SUT did not obtain a working token with the credentials it was given", refused[0])).Now()
				}
			}
			g.Expect(listingStatuses(all)).To(ContainElement(200),
				"no submission listing of the SUT was answered 200: the SUT did not obtain a working token")
		}).WithContext(ctx).WithTimeout(drive.FirstPollLimit(env)).WithPolling(500 * time.Millisecond).Should(Succeed())
	})

	check.It("SM-DST-030", func(ctx SpecContext) {
		env := runenv.Current()
		f, err := drive.Fixture(env, smokeFixture)
		check.KitExpect(err == nil, "loading fixture %s: %v", smokeFixture, err)
		foreign, err := drive.Send(ctx, env, f, func(s *sender.Submission) { s.DestinationID = env.FitConnect.ForeignDestinationID })
		check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
		// A submission to the SUT's own destination, sent after the foreign one: once the SUT
		// decided it, the SUT has polled since the foreign one was waiting.
		own, err := drive.Send(ctx, env, f)
		check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
		wctx, cancel := context.WithTimeout(ctx, drive.DecisionLimit(ctx, env))
		defer cancel()
		_, decided, err := drive.AwaitDecision(wctx, env, own.SubmissionID)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe failed while the kit awaited its decision on submission %s: %v", own.SubmissionID, err)
		Expect(decided).To(BeTrue(), "the SUT never decided submission %s to its own destination", own.SubmissionID)
		// One full poll cycle more for a SUT that handles destinations one after the other.
		m, err := drive.MarkNow(ctx, env)
		check.KitExpect(err == nil, "reading the delivery service's exchanges: %v", err)
		err = drive.AwaitPollCycles(ctx, env, m, 1)
		Expect(err).NotTo(HaveOccurred(), "the SUT did not complete a poll cycle after its decision: %v", err)

		_, found, err := drive.Probe(env).Record(ctx, foreign.SubmissionID)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe failed to answer for submission %s: %v", foreign.SubmissionID, err)
		Expect(found).To(BeFalse(), "the SUT took in submission %s, addressed to destination %s, which is not its own", foreign.SubmissionID, env.FitConnect.ForeignDestinationID)
		subs, err := drive.Control(env).Submissions(ctx)
		check.KitExpect(err == nil, "reading the submissions at the delivery service mock: %v", err)
		for _, s := range subs {
			if s.ID == foreign.SubmissionID {
				Expect(s.State).To(Equal("submitted"), "the SUT changed the state of a submission to another destination")
			}
		}
	})
})

// tokenRefusals describes the token requests the delivery service refused.
func tokenRefusals(all []recorder.Exchange) []string {
	var out []string
	for _, e := range all {
		if e.Method == "POST" && e.Direction == "inbound" && strings.HasSuffix(strings.SplitN(e.URL, "?", 2)[0], "/token") && e.Status >= 400 {
			out = append(out, fmt.Sprintf("POST %s answered %d", e.URL, e.Status))
		}
	}
	return out
}

// listingStatuses returns the statuses of the submission listings the mock answered.
func listingStatuses(all []recorder.Exchange) []int {
	var out []int
	for _, e := range all {
		if e.Method == "GET" && (e.URL == "/v1/submissions" || strings.HasPrefix(e.URL, "/v1/submissions?")) {
			out = append(out, e.Status)
		}
	}
	return out
}
