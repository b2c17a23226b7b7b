package fitconnect

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/schemas"
	"github.com/konform/konform/suites/check"
	"github.com/konform/konform/suites/drive"
)

const (
	// withAttachment is a small valid submission with one PDF attachment.
	withAttachment = "bg-0200-minimal"
	// probeLag bounds how long the probe may lag behind a decision event in the log.
	probeLag = 10 * time.Second
)

var _ = check.Profile(2, "FIT-Connect receiver", func() {
	check.It("FC-RCV-010", func(ctx SpecContext) {
		env := runenv.Current()
		ctl := drive.Control(env)
		f := mustFixture(env, withAttachment)
		const n, pageCap = 5, 2
		// Hold the submissions back so that all of them wait at once; cap the page so that
		// they span three pages whatever limit the SUT asks for.
		holdDestination(ctx, env)
		if err := ctl.SetListing(ctx, fitconnect.ListingConfig{MaxPageSize: pageCap}); err != nil {
			check.KitFault("capping the delivery service's pages at %d: %v", pageCap, err)
		}
		DeferCleanup(func(ctx SpecContext) { _ = ctl.SetListing(ctx, fitconnect.ListingConfig{}) })
		var ids []string
		for range n {
			res, err := drive.Send(ctx, env, f)
			check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
			ids = append(ids, res.SubmissionID)
		}
		seq, err := lastSeq(ctx, env)
		check.KitExpect(err == nil, "reading the delivery service mock's exchanges: %v", err)
		released, err := release(ctx, env)
		check.KitExpect(err == nil, "releasing the held submissions at the delivery service mock: %v", err)
		check.KitExpect(allIn(ids, released), "the delivery service mock released %v, not every held submission %v", released, ids)

		for _, id := range ids {
			s, err := awaitDecisionEvent(ctx, env, id, drive.DecisionLimit(ctx, env))
			Expect(err).NotTo(HaveOccurred(), "with %d submissions waiting over pages of at most %d", n, pageCap)
			Expect(decisionsOf(s)[0].Event).To(Equal(fitconnect.EventAcceptSubmission), "submission %s is valid: %s", id, describe(decisionsOf(s)))
		}
		ls, err := listingsSince(ctx, env, seq)
		check.KitExpect(err == nil, "reading the delivery service mock's listings: %v", err)
		AddReportEntry("listings after release", fmt.Sprint(ls))
		for _, l := range ls {
			check.KitExpect(l.Status != 200 || l.Count >= 0, "the delivery service noted no count/totalCount for the listing at exchange %d", l.Seq)
		}
		if v := pagingVerdict(ls); v != "" {
			Fail(v)
		}
	})

	check.It("FC-RCV-020", func(ctx SpecContext) {
		env := runenv.Current()
		res, err := drive.Send(ctx, env, mustFixture(env, withAttachment))
		check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
		s, err := awaitDecisionEvent(ctx, env, res.SubmissionID, drive.DecisionLimit(ctx, env))
		Expect(err).NotTo(HaveOccurred(), "the SUT posted no decision on the valid submission %s: %v", res.SubmissionID, err)
		accepts := eventsOf(s, fitconnect.EventAcceptSubmission)
		Expect(accepts).To(HaveLen(1), "decisions posted for a valid submission: %s", describe(decisionsOf(s)))
		got, err := tagsOf(accepts[0])
		Expect(err).NotTo(HaveOccurred(), "the SUT's accept-submission for %s carries no readable authenticationTags: %v", res.SubmissionID, err)
		sent := authTags{Metadata: res.AuthenticationTags.Metadata, Data: res.AuthenticationTags.Data, Attachments: res.AuthenticationTags.Attachments}
		if sent.Attachments == nil {
			sent.Attachments = map[string]string{}
		}
		submits := eventsOf(s, fitconnect.EventSubmitSubmission)
		check.KitExpect(len(submits) == 1, "the case log holds %d submit-submission events, want 1", len(submits))
		logged, err := tagsOf(submits[0])
		check.KitExpect(err == nil, "reading the authentication tags of the delivery service's submit-submission event: %v", err)
		if d := cmp.Diff(sent, logged); d != "" {
			check.KitFault("the delivery service's submit-submission disagrees with the sender (-sender +submit-submission):\n%s", d)
		}
		if d := cmp.Diff(sent, got); d != "" {
			AddReportEntry("authenticationTags (-sender +accept-submission)", d)
			Fail("accept-submission carries other authenticationTags than the sender's JWEs (-sender +accept-submission):\n" + d)
		}
		rec := awaitProbeDecision(ctx, env, res.SubmissionID)
		Expect(rec.Status).To(Equal(contract.StatusAccepted), "the probe shows the valid submission %s as %q, not accepted", res.SubmissionID, rec.Status)
		Expect(rec.Case).NotTo(BeNil(), "an accepted submission becomes a case")
	})

	rejections := []struct {
		id       string
		brk      sender.Breakage
		problem  string
		instance func(sender.Result) string
		change   func(*sender.Submission)
	}{
		{"FC-RCV-030", sender.BreakDataHash, "hash-mismatch", fixed("data"), nil},
		{"FC-RCV-031", sender.BreakAttachmentHash, "hash-mismatch", firstAttachment, nil},
		{"FC-RCV-032", sender.BreakMetadataSchema, "schema-violation", fixed("metadata"), nil},
		{"FC-RCV-034", sender.BreakCiphertext, "encryption-issue", fixed("data"), nil},
		{"FC-RCV-035", sender.BreakWrongKey, "encryption-issue", fixed("data"), nil},
		{"FC-RCV-036", sender.BreakAttachmentMissing, "attachments-mismatch", func(r sender.Result) string { return "attachment:" + r.MetadataOnlyAttachmentID }, nil},
		{"FC-RCV-037", sender.BreakAttachmentExtra, "attachments-mismatch", func(r sender.Result) string { return "attachment:" + r.ExtraAttachmentID }, nil},
		{"FC-RCV-038", sender.BreakSchemaURI, "unsupported-schema", fixed("data"), nil},
		{"FC-RCV-039", sender.BreakMetadataVersion, "unsupported-schema", fixed("metadata"), nil},
		{"FC-RCV-040", sender.BreakServiceType, "unsupported-service", fixed("metadata"), nil},
		{"FC-RCV-043", sender.BreakDataMalformed, "syntax-violation", fixed("data"), nil},
	}
	for _, rj := range rejections {
		check.It(rj.id, func(ctx SpecContext) {
			env := runenv.Current()
			res := sendBroken(ctx, env, rj.brk, rj.change)
			expectRejected(ctx, env, res, rj.problem, rj.instance(res))
		})
	}

	check.It("FC-RCV-033", func(ctx SpecContext) {
		env := runenv.Current()
		// Right root, invalid against the XSD: only a receiver that validates catches it. A
		// foreign root: only one that validates against the declared schema, not the one the
		// data's root names, catches it.
		invalid := sendBroken(ctx, env, sender.BreakDataInvalid, nil)
		foreign := sendBroken(ctx, env, sender.BreakDataSchema, foreignRoot)
		expectRejected(ctx, env, invalid, "schema-violation", "data")
		expectRejected(ctx, env, foreign, "schema-violation", "data")
	})

	check.It("FC-RCV-042", func(ctx SpecContext) {
		env := runenv.Current()
		ctl := drive.Control(env)
		// The submit-submission must state the wrong tag before the SUT first looks: hold the
		// submission back until it does.
		holdDestination(ctx, env)
		res, err := drive.Send(ctx, env, mustFixture(env, withAttachment))
		check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
		if err := ctl.TamperSubmitTags(ctx, res.SubmissionID, "data"); err != nil {
			check.KitFault("altering the submit-submission's authentication tag at the delivery service mock: %v", err)
		}
		s, err := submissionState(ctx, env, res.SubmissionID)
		check.KitExpect(err == nil, "reading the submission at the delivery service mock: %v", err)
		submits := eventsOf(s, fitconnect.EventSubmitSubmission)
		check.KitExpect(len(submits) == 1, "the case log holds %d submit-submission events, want 1", len(submits))
		logged, err := tagsOf(submits[0])
		check.KitExpect(err == nil, "reading the authentication tags of the delivery service's submit-submission event: %v", err)
		check.KitExpect(logged.Data != "" && logged.Data != res.AuthenticationTags.Data,
			"the submit-submission still states the data JWE's authentication tag %q", res.AuthenticationTags.Data)
		AddReportEntry("authentication tag of the data", fmt.Sprintf("JWE %s, submit-submission %s", res.AuthenticationTags.Data, logged.Data))
		_, err = release(ctx, env)
		check.KitExpect(err == nil, "releasing the held submissions at the delivery service mock: %v", err)
		expectRejected(ctx, env, res, "incorrect-authentication-tag", "data")
	})

	check.It("FC-RCV-041", func(ctx SpecContext) {
		env := runenv.Current()
		p := drive.Probe(env)
		res := sendBroken(ctx, env, sender.BreakDataHash, nil)
		_, err := awaitDecisionEvent(ctx, env, res.SubmissionID, drive.DecisionLimit(ctx, env))
		Expect(err).NotTo(HaveOccurred(), "the SUT posted no decision on submission %s, whose data hash is broken: %v", res.SubmissionID, err)
		rec := awaitProbeDecision(ctx, env, res.SubmissionID)
		Expect(rec.Status).To(Equal(contract.StatusRejected), "the probe shows submission %s, whose data hash is broken, as %q, not rejected", res.SubmissionID, rec.Status)
		Expect(rec.Case).To(BeNil(), "the rejected submission %s was stored as case %+v", res.SubmissionID, rec.Case)
		cases, err := p.CasesFor(ctx, res.SubmissionID)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list the cases of submission %s: %v", res.SubmissionID, err)
		Expect(cases).To(BeEmpty(), "the case list holds the rejected submission %s", res.SubmissionID)
	})

	check.It("FC-RCV-050", func(ctx SpecContext) {
		env := runenv.Current()
		ctl := drive.Control(env)
		// The forged SET must be in the log before the SUT first looks: hold the submission
		// back until it is there.
		holdDestination(ctx, env)
		res, err := drive.Send(ctx, env, mustFixture(env, withAttachment))
		check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
		s, err := submissionState(ctx, env, res.SubmissionID)
		check.KitExpect(err == nil, "reading the submission at the delivery service mock: %v", err)
		submits := eventsOf(s, fitconnect.EventSubmitSubmission)
		check.KitExpect(len(submits) == 1, "the case log holds %d submit-submission events, want 1", len(submits))
		forged, err := forgeSET(submits[0].Raw)
		check.KitExpect(err == nil, "forging a submit-submission event: %v", err)
		if err := ctl.InjectEvent(ctx, res.CaseID, forged); err != nil {
			check.KitFault("adding the forged event to the case log at the delivery service mock: %v", err)
		}
		AddReportEntry("forged submit-submission (signed with a key not in /.well-known/jwks.json)", forged)
		_, err = release(ctx, env)
		check.KitExpect(err == nil, "releasing the held submissions at the delivery service mock: %v", err)
		expectRejected(ctx, env, res, "invalid-event-log", "submission")
	})

	check.It("FC-RCV-061", func(ctx SpecContext) {
		expectCallbackIgnored(ctx, runenv.Current(), fitconnect.CallbackRequest{Secret: "not-the-callback-secret-" + strings.Repeat("x", 24)},
			"whose callback-authentication does not match the callback secret")
	})

	check.It("FC-RCV-062", func(ctx SpecContext) {
		stale := time.Now().UTC().Add(-6 * time.Minute)
		expectCallbackIgnored(ctx, runenv.Current(), fitconnect.CallbackRequest{Timestamp: &stale},
			"signed correctly for a callback-timestamp 6 minutes old")
	})

	check.It("FC-RCV-063", func(ctx SpecContext) {
		env := runenv.Current()
		notRunWithoutCallbacks(env)
		res, cad := heldCadence(ctx, env)
		cb, seq, at := releaseAndCall(ctx, env, res, cad, fitconnect.CallbackRequest{})
		Expect(cb.Status).To(BeNumerically("<", 300), "the SUT answered %d to a valid new-submissions callback: %s", cb.Status, cb.Body)
		fetched, err := firstFetch(ctx, env, seq, res.SubmissionID, cad.window()+time.Second)
		check.KitExpect(err == nil, "reading the SUT's fetches from the delivery service mock's exchanges: %v", err)
		seen := "none within the window"
		if fetched != nil {
			seen = "+" + fetched.Sub(at).Round(time.Millisecond).String()
		}
		AddReportEntry("callback and fetch", fmt.Sprintf("callback at %s (+%s after the last round, answered %d); fetch of %s: %s; next scheduled round due +%s",
			stamp(at), at.Sub(cad.Last).Round(time.Millisecond), cb.Status, res.SubmissionID, seen, cad.NextDue().Sub(at).Round(time.Millisecond)))
		if v := reactionVerdict(cad, at, fetched); v != "" {
			Fail(v)
		}
		_, err = awaitDecisionEvent(ctx, env, res.SubmissionID, drive.DecisionLimit(ctx, env))
		Expect(err).NotTo(HaveOccurred(), "the SUT posted no decision on the announced submission %s: %v", res.SubmissionID, err)
	})

	check.It("FC-RCV-070", func(ctx SpecContext) {
		env := runenv.Current()
		ctl := drive.Control(env)
		seq, err := lastSeq(ctx, env)
		check.KitExpect(err == nil, "reading the delivery service mock's exchanges: %v", err)
		// Hold the submission until the fault is armed, so the fault hits its decision.
		holdDestination(ctx, env)
		res, err := drive.Send(ctx, env, mustFixture(env, withAttachment))
		check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
		if err := ctl.AddFault(ctx, fitconnect.Fault{Method: "POST", PathPattern: "/v1/cases/" + res.CaseID + "/events", Kind: fitconnect.FaultReset, Count: 1}); err != nil {
			check.KitFault("arming the connection reset at the delivery service mock: %v", err)
		}
		_, err = release(ctx, env)
		check.KitExpect(err == nil, "releasing the held submissions at the delivery service mock: %v", err)
		Eventually(func(g Gomega) {
			n, err := resetEventPosts(ctx, env, seq, res.CaseID)
			g.Expect(err).NotTo(HaveOccurred(), "reading the delivery service mock's exchanges: %v", err)
			g.Expect(n).To(BeNumerically(">=", 1), "the SUT has not tried to post its decision yet")
		}).WithContext(ctx).WithTimeout(drive.DecisionLimit(ctx, env)).WithPolling(200 * time.Millisecond).Should(Succeed())

		// The SUT stored its decision but the delivery service never got it: crash it now.
		switch err := env.SUT.Restart(ctx); {
		case errors.Is(err, runenv.ErrNotSupported):
			check.NotRun("the SUT cannot be restarted in this mode: %v", err)
		case err != nil:
			Fail(fmt.Sprintf("restarting the SUT: %v", err))
		}
		s, err := awaitDecisionEvent(ctx, env, res.SubmissionID, drive.DecisionLimit(ctx, env))
		Expect(err).NotTo(HaveOccurred(), "after the restart the SUT never posted its decision again")
		Expect(decisionsOf(s)[0].Event).To(Equal(fitconnect.EventAcceptSubmission), "the submission is valid: %s", describe(decisionsOf(s)))
		// A SUT that takes the redelivered submission for a new one makes its second case in
		// the round that lists it again: give it a full poll cycle after its decision.
		mark, err := drive.MarkNow(ctx, env)
		check.KitExpect(err == nil, "reading the delivery service mock's exchanges: %v", err)
		err = drive.AwaitPollCycles(ctx, env, mark, 1)
		Expect(err).NotTo(HaveOccurred(), "the SUT did not complete a poll cycle after its decision: %v", err)
		cases, err := drive.Probe(env).CasesFor(ctx, res.SubmissionID)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list the cases of submission %s: %v", res.SubmissionID, err)
		AddReportEntry("cases for the redelivered submission", fmt.Sprint(cases))
		Expect(cases).To(HaveLen(1), "the submission was listed again after the crash and became %d cases", len(cases))
	})

	check.It("FC-RCV-080", func(ctx SpecContext) {
		env := runenv.Current()
		notRunWithoutCallbacks(env)
		ctl := drive.Control(env)
		// The foreign submission is held back: no listing shows it, so only the callback can
		// lead the SUT to it.
		foreignDest := env.FitConnect.ForeignDestinationID
		if err := ctl.Hold(ctx, foreignDest); err != nil {
			check.KitFault("holding back destination %s at the delivery service mock: %v", foreignDest, err)
		}
		DeferCleanup(func(ctx SpecContext) { _, _ = ctl.Release(ctx, foreignDest) })
		foreign, err := drive.Send(ctx, env, mustFixture(env, withAttachment), func(s *sender.Submission) { s.DestinationID = foreignDest })
		check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
		seq, err := lastSeq(ctx, env)
		check.KitExpect(err == nil, "reading the delivery service mock's exchanges: %v", err)
		// A correctly signed callback to the SUT that names the foreign submission.
		body := fmt.Sprintf(`{"type":%q,"submissionIds":[%q],"submissions":[{"destinationId":%q,"submissionId":%q,"caseId":%q}]}`,
			fitconnect.CallbackNewSubmissions, foreign.SubmissionID, foreign.DestinationID, foreign.SubmissionID, foreign.CaseID)
		cb, err := ctl.SendCallback(ctx, fitconnect.CallbackRequest{DestinationID: env.FitConnect.DestinationID, Body: []byte(body)})
		check.KitExpect(err == nil, "sending the callback through the delivery service mock: %v", err)
		Expect(cb.Error).To(BeEmpty(), "the callback did not reach the SUT")
		AddReportEntry("callback naming a submission of another destination", fmt.Sprintf("answered %d", cb.Status))
		// Whatever the SUT makes of the callback, it has done it once it had a full poll cycle.
		err = drive.AwaitPollCycles(ctx, env, drive.Mark(seq), 1)
		Expect(err).NotTo(HaveOccurred(), "the SUT did not complete a poll cycle after the callback: %v", err)
		fetched, err := fetchesOf(ctx, env, seq, foreign.SubmissionID)
		check.KitExpect(err == nil, "reading the SUT's fetches from the delivery service mock's exchanges: %v", err)
		Expect(fetched).To(BeEmpty(), "after a callback naming it, the SUT asked for submission %s of destination %s, which is not its own", foreign.SubmissionID, foreign.DestinationID)
	})
})

func fixed(instance string) func(sender.Result) string {
	return func(sender.Result) string { return instance }
}

func firstAttachment(r sender.Result) string {
	if len(r.AttachmentIDs) == 0 {
		return "attachment:(none sent)"
	}
	return "attachment:" + r.AttachmentIDs[0]
}

// foreignRoot replaces the Fachdaten by well-formed XML whose root element is not the one of
// the declared submission schema.
func foreignRoot(s *sender.Submission) {
	const doc = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<gewerbeanzeige xmlns="urn:konform:not-xbau"><name>Muster</name></gewerbeanzeige>` + "\n"
	s.Data.Open = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(doc)), nil }
	s.Data.Size = int64(len(doc))
}

func mustFixture(env *runenv.Env, id string) fixtures.Fixture {
	GinkgoHelper()
	f, err := drive.Fixture(env, id)
	check.KitExpect(err == nil, "loading fixture %s: %v", id, err)
	return f
}

// sendBroken sends the fixture with one deliberate defect.
func sendBroken(ctx context.Context, env *runenv.Env, b sender.Breakage, change func(*sender.Submission)) sender.Result {
	GinkgoHelper()
	f := mustFixture(env, withAttachment)
	sub := drive.Submission(env, f)
	sub.Break = b
	confirmBrokenData(env, f, sub.Data, b)
	if change != nil {
		change(&sub)
	}
	var opts []sender.Option
	if b == sender.BreakWrongKey {
		if k, ok := env.FitConnect.OtherEncryptionKey.Key.(*rsa.PublicKey); ok {
			opts = append(opts, sender.WithWrongKey(k))
		}
	}
	res, err := drive.Sender(env, opts...).Send(ctx, sub)
	Expect(err).NotTo(HaveOccurred(), "sending a submission with breakage %s", b)
	AddReportEntry("breakage", b.String())
	return res
}

// confirmBrokenData makes sure with the kit's own XSD validation that the data a breakage of the
// data's content sends is what the check claims: invalid against the fixture's XSD, and
// well-formed (BreakDataInvalid) or not (BreakDataMalformed).
func confirmBrokenData(env *runenv.Env, f fixtures.Fixture, data sender.Part, b sender.Breakage) {
	GinkgoHelper()
	var broken sender.Part
	var err error
	switch b {
	case sender.BreakDataInvalid:
		broken, err = sender.WithUnexpectedElement(data)
	case sender.BreakDataMalformed:
		broken, err = sender.Malformed(data)
	default:
		return
	}
	check.KitExpect(err == nil, "breaking the data of fixture %s: %v", f.Manifest.ID, err)
	check.KitExpect(env.SchemasDir != "", "no official schemas directory for this run (--schemas): the kit cannot confirm that the %s data is invalid", b)
	rc, err := broken.Open()
	check.KitExpect(err == nil, "reading the %s data: %v", b, err)
	doc, err := io.ReadAll(rc)
	rc.Close()
	check.KitExpect(err == nil, "reading the %s data: %v", b, err)
	xsd := filepath.Join(env.SchemasDir, f.Manifest.XSD)
	errs, err := schemas.ValidateXML(xsd, doc)
	check.KitExpect(err == nil, "validating the %s data against %s: %v", b, xsd, err)
	check.KitExpect(len(errs) > 0, "the %s data is valid against %s", b, xsd)
	malformed := strings.HasPrefix(errs[0].Message, "not well-formed XML")
	check.KitExpect(malformed == (b == sender.BreakDataMalformed), "the %s data is not broken as claimed: %v", b, errs)
	check.KitExpect(!strings.Contains(fmt.Sprint(errs), "validation root"), "the %s data lost its root element: %v", b, errs)
	AddReportEntry("what the kit's validation finds in the sent data", fmt.Sprint(errs))
}

// expectRejected judges the SUT's decision on a broken submission: one reject-submission
// naming the problem type and instance, a probe record "rejected", and no case.
func expectRejected(ctx context.Context, env *runenv.Env, res sender.Result, problemType, instance string) {
	GinkgoHelper()
	s, err := awaitDecisionEvent(ctx, env, res.SubmissionID, drive.DecisionLimit(ctx, env))
	Expect(err).NotTo(HaveOccurred(), "the SUT posted no decision on submission %s (%s), which must be rejected with problem %s: %v", res.SubmissionID, res.Break, problemType, err)
	ds := decisionsOf(s)
	Expect(eventNames(ds)).To(Equal([]string{fitconnect.EventRejectSubmission}),
		"submission %s (%s) must be rejected with problem %s, instance %q", res.SubmissionID, res.Break, problemType, instance)
	ps, err := problemsOf(ds[0])
	Expect(err).NotTo(HaveOccurred(), "the SUT's reject-submission for %s carries no readable problems: %v", res.SubmissionID, err)
	AddReportEntry("reject-submission problems", fmt.Sprintf("%+v", ps))
	want := problem{Type: problemPrefix + problemType, Instance: instance}
	var got []problem
	for _, p := range ps {
		got = append(got, problem{Type: p.Type, Instance: p.Instance})
	}
	Expect(got).To(ContainElement(want), "reject-submission must name problem type %s with instance %q", want.Type, want.Instance)
	rec := awaitProbeDecision(ctx, env, res.SubmissionID)
	Expect(rec.Status).To(Equal(contract.StatusRejected), "the probe shows submission %s (%s) as %q, not rejected", res.SubmissionID, res.Break, rec.Status)
	Expect(rec.Case).To(BeNil(), "the rejected submission was stored as case %+v", rec.Case)
}

// awaitProbeDecision returns the probe record of a submission whose decision event is in the
// log: the event can be there a moment before the SUT has stored that it posted it.
func awaitProbeDecision(ctx context.Context, env *runenv.Env, submissionID string) contract.Record {
	GinkgoHelper()
	pctx, cancel := context.WithTimeout(ctx, probeLag)
	defer cancel()
	rec, _, err := drive.AwaitDecision(pctx, env, submissionID)
	Expect(err).NotTo(HaveOccurred(), "the SUT's probe shows no decision on submission %s within %s of its decision event: %v", submissionID, probeLag, err)
	Expect(rec.SubmissionID).NotTo(BeEmpty(), "the probe does not know the decided submission %s", submissionID)
	return rec
}

// describe names decision events with the problems of rejections, for failure messages.
func describe(es []fitconnect.EventRecord) string {
	var parts []string
	for _, e := range es {
		name := strings.TrimPrefix(e.Event, fitconnect.EventBase)
		if ps, err := problemsOf(e); err == nil && len(ps) > 0 {
			name += fmt.Sprintf(" %+v", ps)
		}
		parts = append(parts, name)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func eventNames(es []fitconnect.EventRecord) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Event)
	}
	return out
}

func notRunWithoutCallbacks(env *runenv.Env) {
	if ok, why := env.SUT.CallbacksReachable(); !ok {
		check.NotRun("the delivery service cannot call the SUT back: %s", why)
	}
}

// allIn reports whether every one of want is in got.
func allIn(want, got []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}
