package hkr

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/shopspring/decimal"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/fitconnect"
	mock "github.com/konform/konform/mocks/hkr"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/schemas"
	"github.com/konform/konform/suites/check"
	"github.com/konform/konform/suites/drive"
)

// Fixtures by the payment they carry (see fixtures/xoev/*/manifest.yaml).
const (
	paid435      = "bg-0200-ohne-anhang"           // BOOKED 4.35, float64 ×100 truncates to 434
	paid12345    = "bg-0200-umlaute-nfc"           // BOOKED 123.45
	paid010      = "bg-0200-nfd"                   // BOOKED 0.10
	paid99999999 = "bg-0200-langer-freitext"       // BOOKED 999999.99
	paid471100   = "bg-0200-codelisten"            // BOOKED 4711.00
	failed030    = "bg-0200-nichtlateinisch"       // FAILED 0.30
	canceled101  = "bg-0200-21-anhaenge"           // CANCELED 1.01
	initial020   = "bg-0200-mehrere-antragsteller" // INITIAL 0.20
	unpaid       = "bg-0200-minimal"               // no paymentInformation
)

// kasseImportXSD is the XFinanz 3.1.0 schema of kasseImport messages under the specs directory.
var kasseImportXSD = filepath.Join("xfinanz-3.1.0", "xfinanz-nachricht-kasse-import.xsd")

var _ = check.Profile(4, "HKR payment", func() {
	check.It("HK-PAY-010", func(ctx SpecContext) {
		env := runenv.Current()
		codings := handedCodings(env)
		sent := sendAll(ctx, env, paid435, paid99999999)
		for _, p := range sent {
			rec, err := awaitSettled(ctx, env, p, true)
			Expect(err).NotTo(HaveOccurred(), "the SUT did not settle the BOOKED payment %s (%s): %v", p.Kassenzeichen, p.Fixture, err)
			bookings, msgs := hkrState(ctx, env)
			mine := relatedBookings(bookings, p.keys()...)
			AddReportEntry("anordnungen "+p.Kassenzeichen, summarize(relatedMessages(msgs, p.keys()...)))
			Expect(mine).To(HaveLen(1), "a BOOKED payment of %s (%s) must reach the HKR system as exactly one Anordnung; booked: %v", p.Amount, p.Fixture, numbers(mine))
			ao, ok := bookedAnordnung(msgs, mine[0])
			check.KitExpect(ok, "the HKR mock booked %s but holds no message it was booked from", mine[0].AnordnungsNummerExtern)
			coding, ok := codings[p.Service]
			check.KitExpect(ok, "the run configured no booking coding for service %s", p.Service)
			Expect(judgeAnordnung(ao, p, coding)).To(BeEmpty(), "Anordnung %s for fixture %s", ao.AnordnungsNummerExtern, p.Fixture)

			want := []contract.Booking{{AnordnungsNummerExtern: ao.AnordnungsNummerExtern, Kassenzeichen: p.Kassenzeichen,
				Amount: p.Amount.StringFixed(2), State: contract.BookingBooked}}
			got := append([]contract.Booking(nil), rec.Bookings...)
			for i := range got {
				got[i].Attempts, got[i].Fehlertext = 0, nil
			}
			if d := cmp.Diff(want, got); d != "" {
				AddReportEntry("probe bookings "+p.Kassenzeichen+" (-want +got)", d)
				Fail("the probe does not show the booking as sent and acknowledged (-want +got):\n" + d)
			}
		}
	})

	check.It("HK-PAY-020", func(ctx SpecContext) {
		env := runenv.Current()
		xsd := filepath.Join(env.SchemasDir, kasseImportXSD)
		if env.SchemasDir == "" {
			check.KitFault("no official schemas directory for this run (--schemas): the XFinanz XSD check cannot run")
		}
		if _, err := os.Stat(xsd); err != nil {
			check.KitFault("XFinanz 3.1.0 schema %s not found: the XSD check cannot run", xsd)
		}
		sent := sendAll(ctx, env, paid12345, paid99999999)
		for _, p := range sent {
			_, err := awaitSettled(ctx, env, p, true)
			Expect(err).NotTo(HaveOccurred(), "the SUT did not settle the BOOKED payment %s (%s): %v", p.Kassenzeichen, p.Fixture, err)
		}
		_, msgs := hkrState(ctx, env)
		for _, p := range sent {
			mine := relatedMessages(msgs, p.keys()...)
			Expect(mine).NotTo(BeEmpty(), "no message for the BOOKED payment of %s (%s) reached the HKR system", p.Kassenzeichen, p.Fixture)
			for _, m := range mine {
				errs, err := schemas.ValidateXML(xsd, m.Raw)
				check.KitExpect(err == nil, "validating message %d against %s: %v", m.Seq, kasseImportXSD, err)
				if len(errs) > 0 {
					texts := make([]string, 0, len(errs))
					for _, e := range errs {
						texts = append(texts, e.String())
					}
					AddReportEntry("xsd errors message "+itoa(m.Seq), strings.Join(texts, "\n"))
					Fail("message " + itoa(m.Seq) + " (" + m.MessageType + ", " + p.Fixture + ") is not valid against XFinanz 3.1.0 " + kasseImportXSD + ":\n" + strings.Join(texts, "\n"))
				}
			}
		}
	})

	check.It("HK-PAY-030", func(ctx SpecContext) {
		env := runenv.Current()
		sent := sendAll(ctx, env, failed030, canceled101, initial020)
		for _, p := range sent {
			_, err := awaitSettled(ctx, env, p, false)
			Expect(err).NotTo(HaveOccurred(), "the SUT did not decide the submission with payment status %s (%s): %v", p.Status, p.Fixture, err)
		}
		// A paid fee sent after them is the marker: once it is booked and the SUT has had a
		// full poll cycle more, it has had its chance to book the unpaid ones too.
		marker := sendAll(ctx, env, paid010)[0]
		_, err := awaitSettled(ctx, env, marker, true)
		Expect(err).NotTo(HaveOccurred(), "the SUT did not settle the BOOKED marker payment %s (%s): %v", marker.Kassenzeichen, marker.Fixture, err)
		awaitFullPollCycle(ctx, env)
		_, msgs := hkrState(ctx, env)
		for _, p := range sent {
			rec, found, err := drive.Probe(env).Record(ctx, p.SubmissionID)
			Expect(err).NotTo(HaveOccurred(), "the SUT's probe failed to answer for submission %s: %v", p.SubmissionID, err)
			Expect(found).To(BeTrue(), "the SUT's probe does not know the decided submission %s", p.SubmissionID)
			mine := relatedMessages(msgs, p.keys()...)
			AddReportEntry("anordnungen "+p.Status+" "+p.Kassenzeichen, summarize(mine))
			Expect(mine).To(BeEmpty(), "payment status %s (%s, %s): no paid booking may reach the HKR system", p.Status, p.Fixture, p.Amount.StringFixed(2))
			Expect(rec.Bookings).To(BeEmpty(), "payment status %s (%s): the probe shows bookings", p.Status, p.Fixture)
		}
	})

	check.It("HK-PAY-040", func(ctx SpecContext) {
		env := runenv.Current()
		// The paid submission joins an existing case so the fault on the decision post can be
		// scoped to that case before the SUT sees the submission.
		f, err := drive.Fixture(env, unpaid)
		check.KitExpect(err == nil, "loading fixture %s: %v", unpaid, err)
		first, err := drive.Send(ctx, env, f)
		check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
		wctx, cancel := context.WithTimeout(ctx, settleLimit(ctx, env))
		defer cancel()
		_, decided, err := drive.AwaitDecision(wctx, env, first.SubmissionID)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe failed while the kit awaited its decision on submission %s: %v", first.SubmissionID, err)
		Expect(decided).To(BeTrue(), "the SUT never decided submission %s", first.SubmissionID)
		// A decision the probe shows may not be posted yet; the fault is armed only once the
		// first submission's decision is in the event log, so that it hits the paid one's post.
		Eventually(func(g Gomega) {
			sub, err := drive.Control(env).Submission(ctx, first.SubmissionID)
			g.Expect(err).NotTo(HaveOccurred(), "reading submission %s at the delivery service mock: %v", first.SubmissionID, err)
			g.Expect(sub.State).NotTo(Equal("submitted"), "the SUT has not posted its decision on submission %s", first.SubmissionID)
		}).WithContext(ctx).WithTimeout(settleLimit(ctx, env)).WithPolling(200 * time.Millisecond).Should(Succeed())
		eventsPath := "/v1/cases/" + first.CaseID + "/events"
		if err := drive.Control(env).AddFault(ctx, fitconnect.Fault{Method: "POST", PathPattern: eventsPath, Kind: fitconnect.FaultReset, Count: 1}); err != nil {
			check.KitFault("arming the connection reset at the delivery service mock: %v", err)
		}

		p, err := sendPaid(ctx, env, paid010, func(s *sender.Submission) { s.CaseID = first.CaseID })
		check.KitExpect(err == nil, "sending the paid submission through the delivery service mock: %v", err)
		_, err = awaitSettled(ctx, env, p, true)
		Expect(err).NotTo(HaveOccurred(), "the SUT did not settle the BOOKED payment %s (%s): %v", p.Kassenzeichen, p.Fixture, err)
		Eventually(func(g Gomega) {
			sub, err := drive.Control(env).Submission(ctx, p.SubmissionID)
			g.Expect(err).NotTo(HaveOccurred(), "reading submission %s at the delivery service mock: %v", p.SubmissionID, err)
			g.Expect(sub.State).NotTo(Equal("submitted"), "the SUT has not yet posted its decision again after the reset")
		}).WithContext(ctx).WithTimeout(settleLimit(ctx, env)).WithPolling(500 * time.Millisecond).Should(Succeed())
		ex, err := drive.Control(env).Exchanges(ctx, 0)
		check.KitExpect(err == nil, "reading the delivery service mock's exchanges: %v", err)
		resets := 0
		for _, e := range ex {
			if e.Method == "POST" && e.URL == eventsPath && strings.Contains(e.Note, "reset") {
				resets++
			}
		}
		check.KitExpect(resets == 1, "the delivery service mock cut off %d decision posts for case %s, armed for one: the redelivery this check is about did not happen as set up", resets, first.CaseID)
		awaitFullPollCycle(ctx, env)

		bookings, msgs := hkrState(ctx, env)
		mine := relatedBookings(bookings, p.keys()...)
		AddReportEntry("anordnungen "+p.Kassenzeichen, summarize(relatedMessages(msgs, p.keys()...)))
		Expect(mine).To(HaveLen(1), "after the decision post was cut off and the submission came round again, the paid fee must still be booked exactly once; booked: %v", numbers(mine))
		rec, _, err := drive.Probe(env).Record(ctx, p.SubmissionID)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe failed to answer for submission %s: %v", p.SubmissionID, err)
		Expect(rec.Bookings).To(HaveLen(1), "the probe shows %d Anordnungen for one paid fee", len(rec.Bookings))
	})

	check.It("HK-PAY-050", func(ctx SpecContext) {
		env := runenv.Current()
		p, err := sendPaidWithFaults(ctx, env, paid471100,
			// Not booked: 503 twice, a reset connection, a time-out.
			mock.Fault{Kind: mock.FaultUnavailable, Count: 2},
			mock.Fault{Kind: mock.FaultReset, Count: 1},
			mock.Fault{Kind: mock.FaultTimeout, Count: 1, DelayMS: 1000},
			// Booked, then the connection is reset: the answer is lost whatever the SUT's
			// time-out. The SUT must try again, and its retry must not book a second time.
			mock.Fault{Kind: mock.FaultBookedReset, Count: 1},
		)
		check.KitExpect(err == nil, "arming the HKR faults and sending the paid submission: %v", err)
		rec, err := awaitSettled(ctx, env, p, true)
		Expect(err).NotTo(HaveOccurred(), "the SUT did not settle the BOOKED payment %s (%s): %v", p.Kassenzeichen, p.Fixture, err)
		awaitFullPollCycle(ctx, env)
		bookings, msgs := hkrState(ctx, env)
		mine := relatedBookings(bookings, p.keys()...)
		related := relatedMessages(msgs, p.keys()...)
		AddReportEntry("anordnungen "+p.Kassenzeichen, summarize(related))
		AddReportEntry("probe bookings "+p.Kassenzeichen, rec.Bookings)
		Expect(len(related)).To(BeNumerically(">=", 6), "the HKR system answered 503, 503, reset, time-out and, having booked, reset: the SUT must have tried again after each; it sent %d messages", len(related))
		check.KitExpect(hasOutcome(related, "fault:"+mock.FaultBookedReset), "the HKR mock never booked-and-reset a message of %s: the lost acknowledgement this check is about was not set up", p.Kassenzeichen)
		Expect(mine).To(HaveLen(1), "through 503, reset, time-out and a lost acknowledgement the fee must be booked exactly once — nothing lost, nothing doubled; booked: %v", numbers(mine))
		Expect(mine[0].Gesamtbetrag.Equal(p.Amount)).To(BeTrue(), "booked %s, paid %s", mine[0].Gesamtbetrag, p.Amount)
		Expect(rec.Bookings).To(HaveLen(1), "the probe shows %d Anordnungen for one paid fee", len(rec.Bookings))
		Expect(rec.Bookings[0].State).To(Equal(contract.BookingBooked), "the probe shows the booking %s after the HKR system booked it", rec.Bookings[0].State)
	})

	check.It("HK-PAY-060", func(ctx SpecContext) {
		env := runenv.Current()
		text := "Kassenzeichen gesperrt: Konform-Prüfung " + strings.ToUpper(time.Now().UTC().Format("150405.000"))
		p, err := sendPaidWithFaults(ctx, env, paid12345, mock.Fault{Kind: mock.FaultReject, Count: 1, Fehlertext: text})
		check.KitExpect(err == nil, "arming the HKR fault and sending the paid submission: %v", err)
		rec, err := awaitSettled(ctx, env, p, true)
		Expect(err).NotTo(HaveOccurred(), "the SUT did not settle the BOOKED payment %s (%s): %v", p.Kassenzeichen, p.Fixture, err)
		bookings, msgs := hkrState(ctx, env)
		AddReportEntry("anordnungen "+p.Kassenzeichen, summarize(relatedMessages(msgs, p.keys()...)))
		AddReportEntry("probe bookings "+p.Kassenzeichen, rec.Bookings)
		Expect(relatedMessages(msgs, p.keys()...)).NotTo(BeEmpty(), "no Anordnung for the BOOKED payment reached the HKR system")
		check.KitExpect(len(relatedBookings(bookings, p.keys()...)) == 0, "the HKR mock booked %s although armed to refuse it", p.Kassenzeichen)
		Expect(rec.Bookings).To(HaveLen(1), "the probe must show the refused Anordnung")
		b := rec.Bookings[0]
		Expect(b.State).To(Equal(contract.BookingFailed), "the HKR system refused the Anordnung with kennzeichenOK=false; the probe shows it %q", b.State)
		Expect(strings.Join(b.Fehlertext, "\n")).To(ContainSubstring(text), "the HKR system's fehlertext must be kept and shown")
	})

	check.It("HK-PAY-080", func(ctx SpecContext) {
		env := runenv.Current()
		sent := sendAll(ctx, env, paid435, paid010, paid99999999, paid12345)
		total := decimal.Zero
		for _, p := range sent {
			_, err := awaitSettled(ctx, env, p, true)
			Expect(err).NotTo(HaveOccurred(), "the SUT did not settle the BOOKED payment %s (%s): %v", p.Kassenzeichen, p.Fixture, err)
			total = total.Add(p.Amount)
		}
		bookings, msgs := hkrState(ctx, env)
		booked := decimal.Zero
		for _, p := range sent {
			mine := relatedBookings(bookings, p.keys()...)
			AddReportEntry("anordnungen "+p.Kassenzeichen, summarize(relatedMessages(msgs, p.keys()...)))
			Expect(mine).To(HaveLen(1), "fee %s (%s): booked %v", p.Amount, p.Fixture, numbers(mine))
			ao, ok := bookedAnordnung(msgs, mine[0])
			check.KitExpect(ok, "the HKR mock booked %s but holds no message it was booked from", mine[0].AnordnungsNummerExtern)
			want := p.Amount.StringFixed(2)
			var raw []string
			for _, pos := range ao.Positions {
				raw = append(raw, pos.Amounts...)
			}
			Expect(ao.GesamtbetragRaw).To(Equal(want), "gesamtbetrag of the fee %s (%s) as written", want, p.Fixture)
			Expect(raw).To(Equal([]string{want}), "brutto of the fee %s (%s) as written", want, p.Fixture)
			booked = booked.Add(ao.Gesamtbetrag)
		}
		Expect(booked.Equal(total)).To(BeTrue(), "the fees sum to %s, the Anordnungen to %s", total.StringFixed(2), booked.StringFixed(2))
	})
})

// sendAll sends each fixture with a unique payment and fails the check if one cannot be sent.
func sendAll(ctx context.Context, env *runenv.Env, fixtureIDs ...string) []Paid {
	out := make([]Paid, 0, len(fixtureIDs))
	for _, id := range fixtureIDs {
		p, err := sendPaid(ctx, env, id)
		check.KitExpect(err == nil, "sending the paid fixture %s through the delivery service mock: %v", id, err)
		out = append(out, p)
	}
	return out
}

// sendPaidWithFaults arms faults at the HKR mock for the fixture's (unique) Kassenzeichen, and a
// second set for its transactionId, then sends it: a SUT that books under the wrong key (HK-PAY-010's
// business) still meets the faults. The faults are disarmed when the check ends.
func sendPaidWithFaults(ctx context.Context, env *runenv.Env, fixtureID string, faults ...mock.Fault) (Paid, error) {
	hc := hkrControl(env)
	p, err := sendPaid(ctx, env, fixtureID, func(s *sender.Submission) {
		for _, key := range []string{s.Payment.TransactionReference, s.Payment.TransactionID} {
			for _, f := range faults {
				f.Match = key
				if err := hc.AddFault(ctx, f); err != nil {
					check.KitFault("arming a fault at the HKR mock: %v", err)
				}
			}
			DeferCleanup(func(ctx SpecContext) { _ = hc.ClearFaultsMatching(ctx, key) })
		}
	})
	return p, err
}

// hkrState reads the HKR mock's bookings and messages.
func hkrState(ctx context.Context, env *runenv.Env) ([]mock.Booking, []mock.Message) {
	hc := hkrControl(env)
	bookings, err := hc.Bookings(ctx)
	check.KitExpect(err == nil, "reading the HKR mock's bookings: %v", err)
	msgs, err := hc.Messages(ctx)
	check.KitExpect(err == nil, "reading the HKR mock's messages: %v", err)
	return bookings, msgs
}

// awaitFullPollCycle waits until the SUT has had one full poll cycle after now: the point by
// which it has had its chance to act on what it has seen.
func awaitFullPollCycle(ctx context.Context, env *runenv.Env) {
	m, err := drive.MarkNow(ctx, env)
	check.KitExpect(err == nil, "reading the delivery service's exchanges: %v", err)
	err = drive.AwaitPollCycles(ctx, env, m, 1)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "the SUT did not complete a poll cycle: %v", err)
}

// hasOutcome reports whether one of msgs has the outcome.
func hasOutcome(msgs []mock.Message, outcome string) bool {
	for _, m := range msgs {
		if m.Outcome == outcome {
			return true
		}
	}
	return false
}

func numbers(bs []mock.Booking) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, b.AnordnungsNummerExtern)
	}
	return out
}

func itoa(n int64) string { return decimal.NewFromInt(n).String() }
