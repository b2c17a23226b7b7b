package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/suites/check"
	"github.com/konform/konform/suites/drive"
)

// Fixtures the checks are about; each one's manifest lists what it exercises.
const (
	fxMinimal       = "bg-0200-minimal"
	fxNoAttachment  = "bg-0200-ohne-anhang"
	fx21Attachments = "bg-0200-21-anhaenge"
	fxLarge         = "bg-0200-grosse-anlage"
)

// largeAllowance is the time beyond a small submission's decision limit for the 50 MiB one.
const largeAllowance = 120 * time.Second

// dbColumnLimit is the classic VARCHAR(255) a free text must not be cut at.
const dbColumnLimit = 255

var _ = check.Profile(3, "Ingest", func() {
	check.It("IN-FLD-010", func(ctx SpecContext) {
		judgeAspect(ctx, runenv.Current(), aspectBase, true)
	})

	check.It("IN-FLD-020", func(ctx SpecContext) {
		env := runenv.Current()
		ids, err := smallFixtures(env)
		check.KitExpect(err == nil, "listing the built-in small fixtures: %v", err)
		judgeNormalisation(ctx, env, ids...)
	})

	check.It("IN-FLD-030", func(ctx SpecContext) {
		judgeAspect(ctx, runenv.Current(), aspectNonLatin, false)
	})

	check.It("IN-FLD-040", func(ctx SpecContext) {
		judgeAspect(ctx, runenv.Current(), aspectLong, false)
	})

	check.It("IN-FLD-050", func(ctx SpecContext) {
		judgeAspect(ctx, runenv.Current(), aspectLaterApplicant, false)
	})

	check.It("IN-FLD-060", func(ctx SpecContext) {
		// Empty optional elements may turn into fields in any fixture: all are pushed.
		judgeAspect(ctx, runenv.Current(), aspectOptional, true)
	})

	check.It("IN-FLD-070", func(ctx SpecContext) {
		env := runenv.Current()
		for _, t := range transports(env) {
			d := pushOver(ctx, env, t, fxMinimal)[0]
			Expect(d.problem()).To(BeEmpty(), "%s: a valid message must be taken in and accepted: %s", over(t), d.problem())
			rec, f := d.record, d.fixture
			AddReportEntry("stored fields "+over(t), fmt.Sprintf("fixture %s: %d fields stored, %d expected", f.Manifest.ID, len(rec.Fields), len(f.Expected.Fields)))
			Expect(rec.Fields).NotTo(BeEmpty(),
				"%s: the SUT stored no structured fields for fixture %s (it keeps %d attachments): a rendered document or the raw message is not a structured record",
				over(t), f.Manifest.ID, len(rec.Attachments))
			for p, v := range rec.Fields {
				Expect(looksLikeDocument(v)).To(BeFalse(),
					"%s: field %s holds a whole document (%s), not a business value: the SUT keeps the message as a blob", over(t), p, show(v))
			}
			root := f.Manifest.MessageType
			for _, p := range []string{
				root + "/nachrichtenkopf/identifikation.nachricht/nachrichtenUUID",
				root + "/antragsteller/natuerlichePerson/name/familienname/name",
				root + "/bauvorhaben/bezeichnungDesBauvorhabens",
			} {
				want, ok := f.Expected.Fields[p]
				Expect(ok).To(BeTrue(), "fixture %s has no field %s (corpus error)", f.Manifest.ID, p)
				got, present := rec.Fields[p]
				Expect(present).To(BeTrue(), "%s: the SUT did not store field %s as its own field (sent %s)", over(t), p, show(want))
				Expect(got).To(Equal(want), "%s: field %s", over(t), p)
			}
		}
	})

	check.It("IN-ATT-010", func(ctx SpecContext) {
		env := runenv.Current()
		ids, err := smallFixtures(env)
		check.KitExpect(err == nil, "listing the built-in small fixtures: %v", err)
		// The 21 attachments are IN-ATT-020's.
		judgeAttachments(ctx, env, without(ids, fx21Attachments)...)
	})

	check.It("IN-ATT-020", func(ctx SpecContext) {
		judgeAttachments(ctx, runenv.Current(), fx21Attachments)
	})

	check.It("IN-ATT-030", func(ctx SpecContext) {
		env := runenv.Current()
		for _, t := range transports(env) {
			d := pushOneOver(ctx, env, t, fxLarge, largeAllowance)
			Expect(d.problem()).To(BeEmpty(), "%s: a valid message must be taken in and accepted: %s", over(t), d.problem())
			if msg := attachmentFailure(t, d); msg != "" {
				Fail(msg)
			}
		}
	})

	check.It("IN-CAS-010", func(ctx SpecContext) {
		env := runenv.Current()
		f, err := drive.Fixture(env, fxMinimal)
		check.KitExpect(err == nil, "loading fixture %s: %v", fxMinimal, err)
		// The identical message, nachrichtenUUID included, as two submissions.
		msg := drive.Message(f)
		ds := []delivery{pushMessage(ctx, env, msg, drive.DecisionLimit(ctx, env)), pushMessage(ctx, env, msg, drive.DecisionLimit(ctx, env))}
		for _, d := range ds {
			Expect(d.problem()).To(BeEmpty(), "a valid submission must be taken in and accepted: %s", d.problem())
		}
		p := drive.Probe(env)
		refs := map[string]string{}
		for _, d := range ds {
			cases, err := p.CasesFor(ctx, d.sent.SubmissionID)
			Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list the cases of submission %s: %v", d.sent.SubmissionID, err)
			AddReportEntry("cases of "+d.sent.SubmissionID, cases)
			Expect(cases).To(HaveLen(1),
				"submission %s (fixture %s, pushed twice as two submissions) has %d cases in GET %s; two submissions make two cases even when their content is identical",
				d.sent.SubmissionID, fxMinimal, len(cases), contract.ProbeCasesPath)
			refs[d.sent.SubmissionID] = cases[0].Reference
		}
		Expect(refs[ds[0].sent.SubmissionID]).NotTo(Equal(refs[ds[1].sent.SubmissionID]),
			"both submissions were filed under the same case %s", refs[ds[0].sent.SubmissionID])
	})

	check.It("IN-CAS-020", func(ctx SpecContext) {
		redeliver(ctx, runenv.Current(), false)
	})

	check.It("IN-CAS-030", func(ctx SpecContext) {
		redeliver(ctx, runenv.Current(), true)
	})
})

// judgeAspect pushes the small fixtures that hold sent fields of the aspect (with all, every
// small fixture) and judges those fields and the stored fields of the aspect the message lacks.
func judgeAspect(ctx context.Context, env *runenv.Env, a aspect, all bool) {
	ids, err := smallFixtures(env)
	check.KitExpect(err == nil, "listing the built-in small fixtures: %v", err)
	if !all {
		var with []string
		for _, id := range ids {
			f, err := drive.Fixture(env, id)
			check.KitExpect(err == nil, "loading fixture %s: %v", id, err)
			if holds(f, a) {
				with = append(with, id)
			}
		}
		ids = with
	}
	Expect(ids).NotTo(BeEmpty(), "no fixture holds a field this check is about: the corpus no longer exercises it")
	judgeFields(ctx, env, ids,
		func(p, v string) bool { return sentAspect(p, v) == a },
		func(p, v string) bool { return storedAspect(p, v) == a })
}

// judgeFields pushes the fixtures over every transport tested and compares the sent fields keep
// selects, per fixture, with the expected record; stored fields the message lacks fail when
// extra selects them.
func judgeFields(ctx context.Context, env *runenv.Env, ids []string, keep, extra fieldFilter) {
	var failures []string
	checked := 0
	for _, t := range transports(env) {
		for _, d := range pushOver(ctx, env, t, ids...) {
			if msg := d.problem(); msg != "" {
				failures = append(failures, over(t)+": "+msg)
				continue
			}
			id := d.fixture.Manifest.ID
			c := compareFields(d.fixture.Expected.Fields, d.record.Fields, keep, extra)
			checked += c.Checked
			if c.ok() {
				AddReportEntry("fields "+id+" "+over(t), fmt.Sprintf("%d fields compared, all stored as sent", c.Checked))
				continue
			}
			AddReportEntry("fields -want +got "+id+" "+over(t), c.Diff)
			failures = append(failures, over(t)+": "+c.summary(id))
		}
	}
	if len(failures) > 0 {
		Fail(strings.Join(failures, "\n\n"))
	}
	Expect(checked).To(BeNumerically(">", 0),
		"fixtures %s hold no field this check is about: the corpus no longer exercises it", strings.Join(ids, ", "))
}

// judgeAttachments pushes the fixtures over every transport tested and compares stored with
// sent attachments.
func judgeAttachments(ctx context.Context, env *runenv.Env, ids ...string) {
	var failures []string
	for _, t := range transports(env) {
		for _, d := range pushOver(ctx, env, t, ids...) {
			if msg := d.problem(); msg != "" {
				failures = append(failures, over(t)+": "+msg)
				continue
			}
			if msg := attachmentFailure(t, d); msg != "" {
				failures = append(failures, msg)
			}
		}
	}
	if len(failures) > 0 {
		Fail(strings.Join(failures, "\n\n"))
	}
}

func attachmentFailure(t string, d delivery) string {
	id := d.fixture.Manifest.ID
	want := d.fixture.Expected.Attachments
	c := compareAttachments(want, d.record.Attachments)
	if c.ok() {
		AddReportEntry("attachments "+id+" "+over(t), fmt.Sprintf("%d attachments stored with the SHA-512 and size sent", len(want)))
		return ""
	}
	AddReportEntry("attachments -want +got "+id+" "+over(t), c.Diff)
	return over(t) + ": " + c.summary(id, len(want), len(d.record.Attachments))
}

func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}

// looksLikeDocument reports whether a stored value is a whole message or a rendered file
// rather than one business value.
func looksLikeDocument(v string) bool {
	t := strings.TrimSpace(v)
	return strings.HasPrefix(t, "<?xml") || strings.HasPrefix(t, "%PDF-") ||
		(strings.HasPrefix(t, "<") && strings.Contains(t, "antragsteller"))
}

// redeliver makes the SUT see one submission twice: its accept-submission post for it fails
// once (status 503) or, with restart, hangs until the SUT is restarted, so the submission is
// listed again. The SUT must still hold exactly one case for it.
func redeliver(ctx context.Context, env *runenv.Env, restart bool) {
	ctl := drive.Control(env)
	// The fault is bound to a case of this check alone: an opener submission creates the case,
	// the redelivered one joins it.
	opener := pushOne(ctx, env, fxNoAttachment, drive.DecisionLimit(ctx, env))
	Expect(opener.problem()).To(BeEmpty(), "a valid submission must be taken in and accepted: %s", opener.problem())
	Expect(awaitAcceptEvent(ctx, env, opener.sent.SubmissionID)).To(Succeed(), "the SUT did not post accept-submission for the valid submission %s", opener.sent.SubmissionID)

	eventsPath := "/v1/cases/" + opener.sent.CaseID + "/events"
	fault := fitconnect.Fault{Method: "POST", PathPattern: eventsPath, Kind: fitconnect.FaultStatus, Status: 503, Count: 1}
	if restart {
		fault = fitconnect.Fault{Method: "POST", PathPattern: eventsPath, Kind: fitconnect.FaultDelay, DelayMS: restartHoldMS, Count: 1}
	}
	if err := ctl.AddFault(ctx, fault); err != nil {
		check.KitFault("arming the fault on the decision post at the delivery service mock: %v", err)
	}
	AddReportEntry("fault", fault)

	f, err := drive.Fixture(env, fxMinimal)
	check.KitExpect(err == nil, "loading fixture %s: %v", fxMinimal, err)
	sent, err := drive.Send(ctx, env, f, func(s *sender.Submission) { s.CaseID = opener.sent.CaseID })
	check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)

	if restart {
		// Taken in, and its decision post is held by the delivery service: the SUT goes down
		// before it learns whether the post arrived.
		wctx, cancel := context.WithTimeout(ctx, drive.DecisionLimit(ctx, env))
		_, found, err := drive.AwaitRecord(wctx, env, sent.SubmissionID, func(contract.Record) bool { return true })
		cancel()
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe failed while the kit awaited submission %s: %v", sent.SubmissionID, err)
		Expect(found).To(BeTrue(), "the SUT never took in submission %s", sent.SubmissionID)
		// The SUT posts its decision after it shows the submission; the delivery service holds
		// that post. The restart comes once the post is held, and the recorded traffic below
		// confirms that it was in flight across the restart.
		Eventually(func(g Gomega) {
			held, err := ctl.Held(ctx)
			g.Expect(err).NotTo(HaveOccurred(), "reading the held posts at the delivery service mock: %v", err)
			g.Expect(held).To(ContainElement(HaveField("Path", eventsPath)), "the SUT has not posted its decision on %s yet", sent.SubmissionID)
		}).WithContext(ctx).WithTimeout(drive.DecisionLimit(ctx, env)).WithPolling(100 * time.Millisecond).Should(Succeed())
		restartAt := time.Now().UTC()
		if err := env.SUT.Restart(ctx); err != nil {
			if errors.Is(err, runenv.ErrNotSupported) {
				check.NotRun("redelivery across a restart needs a SUT the kit can restart: %v", err)
			}
			Fail(fmt.Sprintf("restarting the SUT: %v", err))
		}
		// The held post is recorded when it ends: cut by the restart, or at the end of the hold
		// when the restart leaves the connection open.
		held := awaitHeldAcross(ctx, env, eventsPath, restartAt, time.Duration(restartHoldMS)*time.Millisecond+10*time.Second)
		AddReportEntry("decision post held across the restart", held)
		check.KitExpect(len(held) > 0,
			"no decision post to %s was held by the delivery service across the SUT's restart at %s: the restart came while no post was in flight, so this check's precondition did not hold",
			eventsPath, restartAt.Format(time.RFC3339Nano))
	}

	Expect(awaitAcceptEvent(ctx, env, sent.SubmissionID)).To(Succeed(), "the SUT did not post accept-submission for the redelivered submission %s", sent.SubmissionID)
	if !restart {
		ex, err := ctl.Exchanges(ctx, 0)
		check.KitExpect(err == nil, "reading the delivery service mock's exchanges: %v", err)
		Expect(failedPosts(ex, eventsPath)).To(BeNumerically(">=", 1),
			"the delivery service never refused a decision post to %s, so the submission was not redelivered", eventsPath)
	}

	// The SUT may need a poll round after its successful post to show a second case.
	m, err := drive.MarkNow(ctx, env)
	check.KitExpect(err == nil, "reading the delivery service's exchanges: %v", err)
	err = drive.AwaitPollCycles(ctx, env, m, 1)
	Expect(err).NotTo(HaveOccurred(), "the SUT did not complete a poll cycle after its decision: %v", err)
	cases, err := drive.Probe(env).CasesFor(ctx, sent.SubmissionID)
	Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list the cases of submission %s: %v", sent.SubmissionID, err)
	AddReportEntry("cases of "+sent.SubmissionID, cases)
	Expect(cases).To(HaveLen(1),
		"submission %s, delivered once and listed again after its decision post failed, has %d cases in GET %s: %+v",
		sent.SubmissionID, len(cases), contract.ProbeCasesPath, cases)
}

// restartHoldMS is how long the delivery service holds the decision post IN-CAS-030 restarts
// the SUT during: longer than any restart takes.
const restartHoldMS = 20000

// awaitHeldAcross waits up to limit for the posts to path that the delivery service held under
// a delay fault and that were in flight at at: begun before it, ended no earlier.
func awaitHeldAcross(ctx context.Context, env *runenv.Env, path string, at time.Time, limit time.Duration) []recorder.Exchange {
	deadline := time.Now().Add(limit)
	for {
		ex, err := drive.Control(env).Exchanges(ctx, 0)
		check.KitExpect(err == nil, "reading the delivery service's exchanges: %v", err)
		if held := heldAcross(ex, path, at); len(held) > 0 || time.Now().After(deadline) {
			return held
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// heldAcross returns the posts to path the delivery service held under a delay fault that began
// before at and ended no earlier than at.
func heldAcross(ex []recorder.Exchange, path string, at time.Time) []recorder.Exchange {
	var out []recorder.Exchange
	for _, e := range ex {
		if e.Method != "POST" || e.URL != path || !strings.Contains(e.Note, "fault: delayed") {
			continue
		}
		end := e.Time.Add(time.Duration(e.DurationMS) * time.Millisecond)
		if e.Time.Before(at) && !end.Before(at) {
			out = append(out, e)
		}
	}
	return out
}

// awaitAcceptEvent waits until the delivery service holds the SUT's accept-submission event for
// the submission.
func awaitAcceptEvent(ctx context.Context, env *runenv.Env, submissionID string) error {
	ctl := drive.Control(env)
	limit := drive.DecisionLimit(ctx, env)
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		subs, err := ctl.Submissions(wctx)
		if err == nil {
			for _, s := range subs {
				if s.ID != submissionID {
					continue
				}
				for _, e := range s.Events {
					if strings.HasSuffix(e.Event, "/accept-submission") {
						return nil
					}
				}
			}
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("no accept-submission event for submission %s at the delivery service within %s", submissionID, limit.Round(time.Second))
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// failedPosts counts the posts to path the delivery service answered with a server error.
func failedPosts(ex []recorder.Exchange, path string) int {
	n := 0
	for _, e := range ex {
		if e.Method == "POST" && e.URL == path && e.Status >= 500 {
			n++
		}
	}
	return n
}
