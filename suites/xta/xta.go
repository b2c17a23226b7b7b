// Package xta is the profile xta-reader: the SUT reads its mailbox at the kit's XTA 2 (Version 3)
// server mock as the Leser (docs/sut-contract.md §7). Every check puts
// messages into the SUT's box, waits on what the SUT observably does — its getStatusList rounds as
// the mock recorded them, the messages' states at the server, its probe — and judges the requests
// it made, read from the mock's recorded exchanges with the kit's soap and xta wire packages.
package xta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/schemas"
	"github.com/konform/konform/suites/check"
	"github.com/konform/konform/suites/drive"
)

const (
	// small is a valid message without attachments: every answer of the server stays text in
	// the recorded evidence, so the checks can read what it delivered.
	small = "bg-0200-ohne-anhang"
	// withAttachment is a valid message with one PDF attachment.
	withAttachment = "bg-0200-minimal"
	// pageCap is the most items the mock lists in one answer when a check caps the pages.
	pageCap = 2
	// statePoll is how often a check looks at a message's state at the server.
	statePoll = 50 * time.Millisecond
	// switchGrace is how long after switching the server certificate a request may still
	// arrive over a connection opened before (XT-RDR-090).
	switchGrace = time.Second
	// closeHold is how long the server holds its answer to the close XT-RDR-030 judges.
	closeHold = 2 * time.Second
)

var _ = check.Profile(5, "XTA reader", func() {
	// XT-RDR-100 runs first: before any other check leaves a message in the box, the box is
	// empty and the SUT's rounds are answered NoMatch.
	check.It("XT-RDR-100", func(ctx SpecContext) {
		env, x, mb := setup()
		mark := markNow(ctx, env)
		err := drive.AwaitXTARounds(ctx, env, mark, 2)
		calls := callsSince(ctx, env, mark)
		if v := cadenceVerdict(calls, drive.XTARoundGapLimit(env), time.Now()); len(v) > 0 {
			Fail(strings.Join(v, "\n"))
		}
		Expect(err).NotTo(HaveOccurred(), "the SUT did not keep polling its empty mailbox")
		AddReportEntry("answers to the SUT's rounds on the empty box", noMessageSummary(calls))

		// An iterator the server has lost: RequestIdInvalid to the SUT's next getNextStatusList.
		capPages(ctx, mb)
		armFault(ctx, mb, OpGetNextStatusList, FaultRequestIDInvalid, "", 1)
		mark = markNow(ctx, env)
		var ids []string
		for range 3 {
			ids = append(ids, put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone)))
		}
		// Wait until the SUT met the lost iterator, or took all three without paging (then
		// XT-RDR-010 judges its paging and this part is not exercised).
		var hit *Call
		limit := drive.XTADecisionLimit(ctx, env)
		Eventually(func() bool {
			for _, c := range callsSince(ctx, env, mark) {
				if c.NoMessage == ReasonRequestIDInvalid {
					hit = &c
					return true
				}
			}
			return allDecided(ctx, env, ids)
		}).WithContext(ctx).WithTimeout(limit).WithPolling(200*time.Millisecond).Should(BeTrue(),
			"within %s the SUT neither paged into the lost iterator nor took the three messages %v", limit, ids)
		if hit == nil {
			AddReportEntry("RequestIdInvalid", "the SUT took the messages without getNextStatusList; the lost iterator was not exercised")
			return
		}
		gap := drive.XTARoundGapLimit(env)
		Eventually(func() bool {
			for _, c := range callsSince(ctx, env, drive.XTAMark(hit.Seq)) {
				if c.Op == OpGetStatusList {
					return true
				}
			}
			return time.Since(hit.Time) > gap+time.Second
		}).WithContext(ctx).WithTimeout(gap + 5*time.Second).WithPolling(200 * time.Millisecond).Should(BeTrue())
		if v := cadenceVerdict(callsSince(ctx, env, mark), gap, time.Now()); len(v) > 0 {
			Fail(strings.Join(v, "\n"))
		}
		for _, id := range ids {
			awaitTaken(ctx, env, id, "one of three messages listed across a lost iterator")
		}
	})

	check.It("XT-RDR-010", func(ctx SpecContext) {
		env, x, mb := setup()
		const n = 5
		capPages(ctx, mb)
		mark := markNow(ctx, env)
		var ids []string
		for range n {
			ids = append(ids, put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone)))
		}
		limit := drive.XTADecisionLimit(ctx, env)
		wctx, cancel := context.WithTimeout(ctx, limit)
		var missing []string
		for _, id := range ids {
			if _, ok, _ := drive.AwaitXTARecord(wctx, env, id, drive.Decided); !ok {
				missing = append(missing, id)
			}
		}
		cancel()
		// The last listing round is over once the next one started.
		_ = drive.AwaitXTARounds(ctx, env, markNow(ctx, env), 0)
		calls := callsSince(ctx, env, mark)
		expectReadable(calls, []string{OpGetStatusList, OpGetNextStatusList}, []string{OpGetStatusList, OpGetNextStatusList})
		AddReportEntry("listing answers", listingSummary(calls))
		check.KitExpect(anyPending(calls), "no listing answer after the %d messages were put had ItemsPending > 0: the mock did not cap its pages at %d", n, pageCap)
		if v := pagingVerdict(calls); len(v) > 0 {
			Fail(strings.Join(v, "\n"))
		}
		Expect(missing).To(BeEmpty(), "with %d messages waiting over pages of at most %d, the SUT did not take %v within %s", n, pageCap, missing, limit)
	})

	check.It("XT-RDR-020", func(ctx SpecContext) {
		env, x, mb := setup()
		id := put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone))
		awaitTaken(ctx, env, id, "a valid message")
		awaitRounds(ctx, env, 1)
		calls := callsSince(ctx, env, 0)
		expectReadable(calls, []string{OpGetMessage}, []string{OpGetStatusList, OpGetNextStatusList})
		if v := guessedFetchVerdict(calls); len(v) > 0 {
			Fail(strings.Join(v, "\n"))
		}
	})

	check.It("XT-RDR-030", func(ctx SpecContext) {
		env, x, mb := setup()
		mark := markNow(ctx, env)
		o := offer(x, mustFixture(env, small), sender.XTABreakNone)
		// The server holds its answer to the close: a SUT that stores only once its close is
		// answered shows its record closeHold after the close arrived, a SUT that stored first
		// before it.
		if err := mb.AddDelay(ctx, OpClose, o.MessageID, closeHold); err != nil {
			check.KitFault("arming the held close answer at the XTA mock: %v", err)
		}
		DeferCleanup(func(ctx SpecContext) { _ = mb.ClearFaults(ctx) })
		id := put(ctx, env, mb, o)
		limit := drive.XTADecisionLimit(ctx, env) + closeHold
		var firstSeen time.Time
		var rec contract.Record
		Eventually(func() string {
			r, found, err := drive.XTARecord(ctx, env, id)
			check.KitExpect(err == nil, "reading the SUT's probe record of %s: %v", id, err)
			if found && firstSeen.IsZero() {
				firstSeen = time.Now()
			}
			if found {
				rec = r
			}
			st, err := mb.State(ctx, id)
			check.KitExpect(err == nil, "reading the state of message %s at the XTA mock: %v", id, err)
			return st
		}).WithContext(ctx).WithTimeout(limit).WithPolling(statePoll).Should(Equal(stateClosed),
			"the SUT did not close the valid message %s within %s", id, limit)
		tc, err := mb.Calls(ctx)
		check.KitExpect(err == nil, "reading the XTA mock's record of the SOAP requests: %v", err)
		closes := closesOf(tc, id)
		check.KitExpect(len(closes) > 0, "the XTA mock shows message %s closed, but recorded no close naming it", id)
		AddReportEntry("close and storing", fmt.Sprintf("first close of %s arrived at %s (answer held %s); the probe first showed the record at %s",
			id, stamp(closes[0].Time), closeHold, stampOrNone(firstSeen)))
		if v := storeOrderVerdict(id, closes[0].Time, firstSeen, closeHold/2); v != "" {
			Fail(v)
		}
		calls := callsSince(ctx, env, mark)
		expectReadable(calls, []string{OpClose}, []string{OpGetMessage})
		if v := closeRequestIDVerdict(calls, id); len(v) > 0 {
			Fail(strings.Join(v, "\n"))
		}
		if _, found, _ := drive.AwaitXTARecord(ctx, env, id, drive.Decided); found {
			rec, _, _ = drive.XTARecord(ctx, env, id)
		}
		Expect(rec.Status).To(Equal(contract.StatusAccepted), "the probe shows the valid message %s as %q, not accepted", id, rec.Status)
	})

	check.It("XT-RDR-040", func(ctx SpecContext) {
		env, x, mb := setup()
		mark := markNow(ctx, env)
		foreign := offer(x, mustFixture(env, small), sender.BreakXTAOtherReader)
		fid := put(ctx, env, mb, foreign)
		companion := put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone))
		awaitTaken(ctx, env, companion, "the valid message offered with it")
		awaitRounds(ctx, env, 1)
		st, err := mb.State(ctx, fid)
		check.KitExpect(err == nil, "reading the state of message %s at the XTA mock: %v", fid, err)
		closes := closesOf(callsSince(ctx, env, mark), fid)
		AddReportEntry("message for another reader", fmt.Sprintf("%s (reader %s): %s at the server; closes naming it: %v", fid, foreign.Reader.Identifier, st, closes))
		if len(closes) == 0 && st != stateClosed {
			return
		}
		cases, err := drive.XTACasesFor(ctx, env, fid)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list its cases: %v", err)
		if len(cases) == 0 {
			Fail(fmt.Sprintf("the SUT closed message %s, whose metadata name reader %q (not its own %q), without taking it as a case: the other reader will never get it",
				fid, foreign.Reader.Identifier, x.ReaderID))
		}
	})

	check.It("XT-RDR-050", func(ctx SpecContext) {
		env, x, mb := setup()
		first := offer(x, mustFixture(env, small), sender.XTABreakNone)
		id := put(ctx, env, mb, first)
		awaitTaken(ctx, env, id, "a valid message")
		awaitState(ctx, mb, id, stateClosed, "the valid message")
		// A second XÖV message (its own nachrichtenUUID) under the same MessageID.
		again := offer(x, mustFixture(env, small), sender.BreakXTAReuseMessageID, func(m *sender.XTAMessage) { m.ReuseMessageID = id })
		check.KitExpect(again.MessageID == id && again.NachrichtenUUID != first.NachrichtenUUID, "the offer again has MessageID %s and nachrichtenUUID %s (first: %s, %s)", again.MessageID, again.NachrichtenUUID, id, first.NachrichtenUUID)
		put(ctx, env, mb, again)
		awaitLeftOrTaken(ctx, env, mb, id)
		awaitRounds(ctx, env, 1)
		cases, err := drive.XTACasesFor(ctx, env, id)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list its cases: %v", err)
		AddReportEntry("cases for the MessageID", fmt.Sprint(cases))
		Expect(len(cases)).To(Equal(1), "message %s, offered again under the same MessageID, became %d cases", id, len(cases))
	})

	check.It("XT-RDR-051", func(ctx SpecContext) {
		env, x, mb := setup()
		msg := drive.Message(mustFixture(env, small))
		first := offer(x, msg, sender.XTABreakNone)
		id1 := put(ctx, env, mb, first)
		awaitTaken(ctx, env, id1, "a valid message")
		awaitState(ctx, mb, id1, stateClosed, "the valid message")
		again := offer(x, msg, sender.BreakXTASameNachrichtenUUID)
		check.KitExpect(again.MessageID != id1 && again.NachrichtenUUID == first.NachrichtenUUID, "the offer again has MessageID %s and nachrichtenUUID %s (first: %s, %s)", again.MessageID, again.NachrichtenUUID, id1, first.NachrichtenUUID)
		id2 := put(ctx, env, mb, again)
		awaitLeftOrTaken(ctx, env, mb, id2)
		awaitRounds(ctx, env, 1)
		cases, err := drive.XTACasesFor(ctx, env, id1, id2)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list its cases: %v", err)
		AddReportEntry("cases for both MessageIDs", fmt.Sprint(cases))
		Expect(len(cases)).To(Equal(1), "the XÖV message with nachrichtenUUID %s, offered under MessageIDs %s and %s, became %d cases", first.NachrichtenUUID, id1, id2, len(cases))
	})

	check.It("XT-RDR-060", func(ctx SpecContext) {
		env, x, mb := setup()
		mark := markNow(ctx, env)
		foreign := offer(x, mustFixture(env, small), sender.BreakXTAOtherReader)
		fid := put(ctx, env, mb, foreign)
		companion := put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone))
		awaitTaken(ctx, env, companion, "the valid message offered with it")
		awaitRounds(ctx, env, 1)
		calls := callsSince(ctx, env, mark)
		if f := fetchesOf(calls, fid); len(f) > 0 {
			Fail(fmt.Sprintf("the SUT fetched message %s, whose metadata name reader %q, not its own %q (%s)", fid, foreign.Reader.Identifier, x.ReaderID, f[0]))
		}
		cases, err := drive.XTACasesFor(ctx, env, fid)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list its cases: %v", err)
		Expect(cases).To(BeEmpty(), "the SUT made a case of message %s, whose metadata name reader %q, not its own %q", fid, foreign.Reader.Identifier, x.ReaderID)
	})

	check.It("XT-RDR-061", func(ctx SpecContext) {
		env, x, mb := setup()
		odd := offer(x, mustFixture(env, small), sender.BreakXTAUnsupportedMessageType)
		oid := put(ctx, env, mb, odd)
		companion := put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone))
		awaitTaken(ctx, env, companion, "the valid message offered with it")
		awaitRounds(ctx, env, 1)
		rec, found, err := drive.XTARecord(ctx, env, oid)
		check.KitExpect(err == nil, "reading the SUT's probe record of %s: %v", oid, err)
		cases, err := drive.XTACasesFor(ctx, env, oid)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list its cases: %v", err)
		AddReportEntry("message of an unsupported type", fmt.Sprintf("%s: record found %v, status %q; cases %v", oid, found, rec.Status, cases))
		if len(cases) > 0 || (found && rec.Case != nil) {
			Fail(fmt.Sprintf("the SUT made a case of message %s, whose MessageType %q is not among its services", oid, odd.MessageType.Code))
		}
	})

	check.It("XT-RDR-070", func(ctx SpecContext) {
		env, x, mb := setup()
		id := put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone))
		awaitTaken(ctx, env, id, "a valid message")
		awaitState(ctx, mb, id, stateClosed, "the valid message")
		calls := soapCalls(callsSince(ctx, env, 0))
		check.KitExpect(len(calls) > 0, "the XTA mock recorded no SOAP request of the SUT")
		AddReportEntry("requests judged", fmt.Sprintf("%d SOAP requests since the run started", len(calls)))
		if v := addressingVerdict(calls, nil); len(v) > 0 {
			Fail(summarise(v))
		}
	})

	check.It("XT-RDR-071", func(ctx SpecContext) {
		env, x, mb := setup()
		id := put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone))
		awaitTaken(ctx, env, id, "a valid message")
		awaitState(ctx, mb, id, stateClosed, "the valid message")
		calls := soapCalls(callsSince(ctx, env, 0))
		check.KitExpect(len(calls) > 0, "the XTA mock recorded no SOAP request of the SUT")
		AddReportEntry("requests judged", fmt.Sprintf("%d SOAP requests since the run started", len(calls)))
		if v := mtomVerdict(calls); len(v) > 0 {
			Fail(summarise(v))
		}
	})

	check.It("XT-RDR-080", func(ctx SpecContext) {
		env, x, mb := setup()
		id := put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone))
		awaitTaken(ctx, env, id, "a valid message")
		// The TLS side of each request only the server saw: its own record of the calls.
		calls, err := mb.Calls(ctx)
		check.KitExpect(err == nil, "reading the XTA mock's record of the SOAP requests: %v", err)
		calls = soapCalls(calls)
		check.KitExpect(len(calls) > 0, "the XTA mock recorded no SOAP request of the SUT")
		AddReportEntry("requests judged", fmt.Sprintf("%d SOAP requests since the run started", len(calls)))
		if v := certVerdict(calls, clientCertFingerprint(x), x.ReaderID); len(v) > 0 {
			Fail(summarise(v))
		}
	})

	check.It("XT-RDR-090", func(ctx SpecContext) {
		env, x, mb := setup()
		if err := mb.UseForeignCert(ctx, true); err != nil {
			check.KitFault("switching the XTA mock to the certificate of another CA: %v", err)
		}
		DeferCleanup(func(ctx SpecContext) { _ = mb.UseForeignCert(ctx, false) })
		// A request already under way on a connection opened before the switch is no verdict:
		// only requests arriving switchGrace after it count.
		since := time.Now().Add(switchGrace)
		id := put(ctx, env, mb, offer(x, mustFixture(env, small), sender.XTABreakNone))
		// The SUT had its chance once it tried to connect twice, or once a request reached the
		// server after all.
		limit := 2 * drive.XTARoundGapLimit(env)
		var tries []Handshake
		var after []Call
		Eventually(func() bool {
			hs, err := mb.Handshakes(ctx)
			check.KitExpect(err == nil, "reading the TLS handshakes at the XTA mock: %v", err)
			cs, err := mb.Calls(ctx)
			check.KitExpect(err == nil, "reading the XTA mock's record of the SOAP requests: %v", err)
			tries, after = handshakesAfter(hs, since), soapCalls(callsAfter(cs, since))
			return len(tries) >= 2 || len(after) > 0
		}).WithContext(ctx).WithTimeout(limit).WithPolling(200*time.Millisecond).Should(BeTrue(),
			"the SUT opened no TLS connection within %s after the server certificate was switched", limit)
		AddReportEntry("after the switch", fmt.Sprintf("%d failed TLS handshakes (%s), %d SOAP requests", len(tries), handshakeSummary(tries), len(after)))
		if v := trustVerdict(after); v != "" {
			Fail(v)
		}
		// Back to the run's certificate: the SUT takes the message as usual.
		Expect(mb.UseForeignCert(ctx, false)).To(Succeed())
		awaitTaken(ctx, env, id, "the message offered while the server's certificate was foreign, once it was the run's again")
	})

	check.It("XT-RDR-110", func(ctx SpecContext) {
		env, x, mb := setup()
		mark := markNow(ctx, env)
		o := offer(x, mustFixture(env, small), sender.XTABreakNone)
		armFault(ctx, mb, OpGetMessage, FaultTechnical, o.MessageID, 1)
		id := put(ctx, env, mb, o)
		limit := drive.XTADecisionLimit(ctx, env) + drive.XTARoundGapLimit(env)
		wctx, cancel := context.WithTimeout(ctx, limit)
		_, taken, _ := drive.AwaitXTARecord(wctx, env, id, drive.Decided)
		cancel()
		calls := callsSince(ctx, env, mark)
		fetches := fetchesOf(calls, id)
		check.KitExpect(len(fetches) > 0 && fetches[0].Fault == FaultTechnical, "the XTA mock did not answer the SUT's first getMessage(%s) with XTAWSTechnicalProblem (%d fetches)", id, len(fetches))
		AddReportEntry("getMessage of the message", fmt.Sprint(fetches))
		if !taken {
			Fail(fmt.Sprintf("after XTAWSTechnicalProblem on getMessage(%s) the SUT made no case of it within %s: it fetched it %d more time(s)", id, limit, len(fetches)-1))
		}
		awaitRounds(ctx, env, 1)
		cases, err := drive.XTACasesFor(ctx, env, id)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list its cases: %v", err)
		Expect(len(cases)).To(Equal(1), "after XTAWSTechnicalProblem on getMessage(%s) the SUT made %d cases of it", id, len(cases))
	})

	check.It("XT-RDR-111", func(ctx SpecContext) {
		env, x, mb := setup()
		var failures []string
		for _, kind := range []string{FaultPermission, FaultInvalidID} {
			mark := markNow(ctx, env)
			o := offer(x, mustFixture(env, small), sender.XTABreakNone)
			armFault(ctx, mb, OpGetMessage, kind, o.MessageID, 1)
			id := put(ctx, env, mb, o)
			// The SUT had its chance once it took the message, or two rounds after the fault.
			limit := drive.XTADecisionLimit(ctx, env) + drive.XTARoundGapLimit(env)
			var hit *Call
			Eventually(func() bool {
				if _, found, _ := drive.XTARecord(ctx, env, id); found {
					return true
				}
				for _, c := range fetchesOf(callsSince(ctx, env, mark), id) {
					if c.Fault == kind {
						hit = &c
						return drive.AwaitXTARounds(ctx, env, drive.XTAMark(c.Seq), 1) == nil
					}
				}
				return false
			}).WithContext(ctx).WithTimeout(limit).WithPolling(200*time.Millisecond).Should(BeTrue(),
				"within %s the SUT neither took message %s nor completed a round after %s on getMessage", limit, id, faultName(kind))
			calls := callsSince(ctx, env, mark)
			check.KitExpect(hit != nil || len(fetchesOf(calls, id)) > 0 && fetchesOf(calls, id)[0].Fault == kind,
				"the XTA mock did not answer the SUT's first getMessage(%s) with %s", id, faultName(kind))
			AddReportEntry("getMessage after "+faultName(kind), fmt.Sprint(fetchesOf(calls, id)))
			failures = append(failures, sameRoundRetryVerdict(calls, id)...)
		}
		if len(failures) > 0 {
			Fail(strings.Join(failures, "\n"))
		}
	})

	check.It("XT-RDR-120", func(ctx SpecContext) {
		env, x, mb := setup()
		f := mustFixture(env, withAttachment)
		o := offer(x, f, sender.BreakXTAPayloadInvalid)
		confirmInvalid(env, f, o)
		start := time.Now()
		id := put(ctx, env, mb, o)
		limit := drive.XTADecisionLimit(ctx, env)
		var st string
		var sent []Sent
		readSent := func() {
			all, err := mb.Sent(ctx)
			check.KitExpect(err == nil, "reading what the SUT sent at the XTA mock: %v", err)
			sent = sentAfter(all, start)
		}
		// Wait for all three parts of the answer (or the limit): a record, a Rückweisung, the close.
		_ = wait(ctx, limit, func() bool {
			var err error
			st, err = mb.State(ctx, id)
			check.KitExpect(err == nil, "reading the state of message %s at the XTA mock: %v", id, err)
			readSent()
			_, found, _ := drive.XTARecord(ctx, env, id)
			return found && st == stateClosed && rueckweisungVerdict(sent, id, o.Author.Identifier, o.NachrichtenUUID) == ""
		})
		rec, found, err := drive.XTARecord(ctx, env, id)
		check.KitExpect(err == nil, "reading the SUT's probe record of %s: %v", id, err)
		cases, err := drive.XTACasesFor(ctx, env, id)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list its cases: %v", err)
		readSent()
		AddReportEntry("schema-invalid message", fmt.Sprintf("%s: record found %v, status %q; cases %v; state at the server %s; %d message(s) sent", id, found, rec.Status, cases, st, len(sent)))
		if len(cases) > 0 || (found && rec.Case != nil) {
			Fail(fmt.Sprintf("the SUT made a case of the schema-invalid message %s (record %q)", id, rec.Status))
		}
		if v := rueckweisungVerdict(sent, id, o.Author.Identifier, o.NachrichtenUUID); v != "" {
			Fail(v)
		}
		Expect(st).To(Equal(stateClosed), "the SUT left the schema-invalid message %s open: %s at the server %s after it was offered", id, st, limit)
	})

	check.It("XT-RDR-130", func(ctx SpecContext) {
		env, x, mb := setup()
		mark := markNow(ctx, env)
		o := offer(x, mustFixture(env, small), sender.XTABreakNone)
		// Every close of the message breaks off until the SUT was restarted.
		armFault(ctx, mb, OpClose, FaultReset, o.MessageID, -1)
		DeferCleanup(func(ctx SpecContext) { _ = mb.ClearFaults(ctx) })
		id := put(ctx, env, mb, o)
		limit := drive.XTADecisionLimit(ctx, env)
		Eventually(func() int {
			return len(closesOf(callsSince(ctx, env, mark), id))
		}).WithContext(ctx).WithTimeout(limit).WithPolling(200*time.Millisecond).Should(BeNumerically(">", 0),
			"the SUT did not try to close message %s within %s", id, limit)
		_, stored, err := drive.XTARecord(ctx, env, id)
		check.KitExpect(err == nil, "reading the SUT's probe record of %s: %v", id, err)
		AddReportEntry("before the crash", fmt.Sprintf("close of %s broken off; the probe shows it stored: %v", id, stored))
		switch err := env.SUT.Restart(ctx); {
		case errors.Is(err, runenv.ErrNotSupported):
			check.NotRun("the SUT cannot be restarted in this mode: %v", err)
		case err != nil:
			Fail(fmt.Sprintf("restarting the SUT: %v", err))
		}
		Expect(mb.ClearFaults(ctx)).To(Succeed(), "removing the close fault at the XTA mock")
		awaitStateWithin(ctx, mb, id, stateClosed, drive.XTADecisionLimit(ctx, env)+10*time.Second, "the message offered again after the crash")
		awaitRounds(ctx, env, 1)
		cases, err := drive.XTACasesFor(ctx, env, id)
		Expect(err).NotTo(HaveOccurred(), "the SUT's probe did not list its cases: %v", err)
		AddReportEntry("cases after the crash", fmt.Sprint(cases))
		Expect(len(cases)).To(Equal(1), "after a crash between fetch and close, message %s became %d cases", id, len(cases))
	})
})

// setup returns the run's environment, its XTA part and the mailbox; a run without them is the
// kit's fault (the profile runs only when the run tests XTA).
func setup() (*runenv.Env, *runenv.XTA, mailbox) {
	GinkgoHelper()
	env := runenv.Current()
	x, err := drive.XTA(env)
	check.KitExpect(err == nil, "%v", err)
	mb, err := newMailbox(env)
	check.KitExpect(err == nil, "%v", err)
	return env, x, mb
}

func mustFixture(env *runenv.Env, id string) fixtures.Fixture {
	GinkgoHelper()
	f, err := drive.Fixture(env, id)
	check.KitExpect(err == nil, "loading fixture %s: %v", id, err)
	return f
}

func offer(x *runenv.XTA, f fixtures.Fixture, b sender.XTABreakage, change ...func(*sender.XTAMessage)) sender.XTAOffer {
	GinkgoHelper()
	o, err := drive.XTAOffer(x, f, b, change...)
	check.KitExpect(err == nil, "%v", err)
	return o
}

func put(ctx context.Context, env *runenv.Env, mb mailbox, o sender.XTAOffer) string {
	GinkgoHelper()
	id, err := mb.Put(ctx, o)
	check.KitExpect(err == nil, "putting message %s (%s) into the SUT's mailbox at the XTA mock: %v", o.MessageID, o.Break, err)
	check.KitExpect(id == o.MessageID, "the XTA mock filed message %s as %s", o.MessageID, id)
	AddReportEntry("offered", fmt.Sprintf("%s (%s, %s, reader %s, nachrichtenUUID %s)", id, o.Break, o.MessageType.Code, o.Reader.Identifier, o.NachrichtenUUID))
	return id
}

func markNow(ctx context.Context, env *runenv.Env) drive.XTAMark {
	GinkgoHelper()
	m, err := drive.XTAMarkNow(ctx, env)
	check.KitExpect(err == nil, "reading the XTA mock's exchanges: %v", err)
	return m
}

func capPages(ctx context.Context, mb mailbox) {
	GinkgoHelper()
	if err := mb.SetPageCap(ctx, pageCap); err != nil {
		check.KitFault("capping the XTA mock's listing pages at %d: %v", pageCap, err)
	}
	DeferCleanup(func(ctx SpecContext) { _ = mb.SetPageCap(ctx, 0) })
}

func armFault(ctx context.Context, mb mailbox, op, kind, messageID string, count int) {
	GinkgoHelper()
	if err := mb.AddFault(ctx, op, kind, messageID, count); err != nil {
		check.KitFault("arming fault %s on %s at the XTA mock: %v", kind, op, err)
	}
	DeferCleanup(func(ctx SpecContext) { _ = mb.ClearFaults(ctx) })
}

// callsSince reads the SUT's calls the XTA mock recorded after m.
func callsSince(ctx context.Context, env *runenv.Env, m drive.XTAMark) []Call {
	GinkgoHelper()
	ex, err := drive.XTAExchanges(ctx, env, int64(m))
	check.KitExpect(err == nil, "reading the XTA mock's exchanges: %v", err)
	return callsOf(ex)
}

// expectReadable makes sure the kit could read the recorded requests of the operations in
// requests and the answers of those in answers, as far as the checks judge them (a body is cut or
// kept only as digest when it is binary or the evidence budget is spent).
func expectReadable(calls []Call, requests, answers []string) {
	GinkgoHelper()
	for _, c := range calls {
		if c.Fault == FaultReset {
			continue
		}
		reqProblem := c.Unparsed
		if c.AnswerUnparsed != "" && reqProblem == "answer: "+c.AnswerUnparsed {
			reqProblem = ""
		}
		if slices.Contains(requests, c.Op) && reqProblem != "" {
			check.KitFault("the kit cannot read the recorded request %s: %s", c, c.Unparsed)
		}
		if slices.Contains(answers, c.Op) && c.AnswerUnparsed != "" && c.Fault == "" {
			check.KitFault("the kit cannot read the recorded answer to %s: %s", c, c.AnswerUnparsed)
		}
	}
}

// awaitTaken waits until the SUT's probe shows a decision on the message.
func awaitTaken(ctx context.Context, env *runenv.Env, id, what string) contract.Record {
	GinkgoHelper()
	limit := drive.XTADecisionLimit(ctx, env)
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	rec, ok, err := drive.AwaitXTARecord(wctx, env, id, drive.Decided)
	Expect(ok).To(BeTrue(), "the SUT did not take %s (%s) within %s: probe record %q (%v)", what, id, limit, rec.Status, err)
	return rec
}

func awaitState(ctx context.Context, mb mailbox, id, want, what string) {
	GinkgoHelper()
	awaitStateWithin(ctx, mb, id, want, drive.XTADecisionLimit(ctx, runenv.Current()), what)
}

func awaitStateWithin(ctx context.Context, mb mailbox, id, want string, limit time.Duration, what string) {
	GinkgoHelper()
	Eventually(func() string {
		st, err := mb.State(ctx, id)
		check.KitExpect(err == nil, "reading the state of message %s at the XTA mock: %v", id, err)
		return st
	}).WithContext(ctx).WithTimeout(limit).WithPolling(200*time.Millisecond).Should(Equal(want),
		"%s (%s) is not %s at the server within %s", what, id, want, limit)
}

// awaitLeftOrTaken waits until the message offered again is no longer pending, or the SUT
// had its decision limit: a SUT may also leave a message it knows in the box.
func awaitLeftOrTaken(ctx context.Context, env *runenv.Env, mb mailbox, id string) {
	GinkgoHelper()
	_ = wait(ctx, drive.XTADecisionLimit(ctx, env), func() bool {
		st, err := mb.State(ctx, id)
		check.KitExpect(err == nil, "reading the state of message %s at the XTA mock: %v", id, err)
		return st != statePending
	})
}

// awaitRounds waits for n full getStatusList rounds of the SUT from now.
func awaitRounds(ctx context.Context, env *runenv.Env, n int) {
	GinkgoHelper()
	err := drive.AwaitXTARounds(ctx, env, markNow(ctx, env), n)
	Expect(err).NotTo(HaveOccurred(), "the SUT did not complete %d getStatusList round(s): %v", n, err)
}

// wait polls done until it holds or limit passes; it reports whether it held.
func wait(ctx context.Context, limit time.Duration, done func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if done() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func allDecided(ctx context.Context, env *runenv.Env, ids []string) bool {
	for _, id := range ids {
		if r, found, err := drive.XTARecord(ctx, env, id); err != nil || !found || !drive.Decided(r) {
			return false
		}
	}
	return true
}

func anyPending(calls []Call) bool {
	for _, c := range calls {
		if c.HasItemsPending && c.ItemsPending > 0 {
			return true
		}
	}
	return false
}

func listingSummary(calls []Call) string {
	var b strings.Builder
	for _, c := range calls {
		switch c.Op {
		case OpGetStatusList, OpGetNextStatusList:
			fmt.Fprintf(&b, "%s: %d listed, ItemsPending %d, MsgBoxRequestID %q", c, len(c.Listed), c.ItemsPending, c.AnswerRequestID)
			if c.RequestID != "" {
				fmt.Fprintf(&b, " (asked for %q)", c.RequestID)
			}
			if c.NoMessage != "" {
				fmt.Fprintf(&b, " NoMessageAvailable %s", strings.TrimPrefix(c.NoMessage, ReasonPrefix))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func noMessageSummary(calls []Call) string {
	n := map[string]int{}
	for _, c := range calls {
		if c.Op == OpGetStatusList {
			n[or(strings.TrimPrefix(c.NoMessage, ReasonPrefix), "messages listed")]++
		}
	}
	return fmt.Sprint(n)
}

func sentAfter(ss []Sent, t time.Time) []Sent {
	var out []Sent
	for _, s := range ss {
		if s.Time.After(t) {
			out = append(out, s)
		}
	}
	return out
}

func handshakesAfter(hs []Handshake, t time.Time) []Handshake {
	var out []Handshake
	for _, h := range hs {
		if h.Time.After(t) {
			out = append(out, h)
		}
	}
	return out
}

func callsAfter(cs []Call, t time.Time) []Call {
	var out []Call
	for _, c := range cs {
		if c.Time.After(t) {
			out = append(out, c)
		}
	}
	return out
}

func stampOrNone(t time.Time) string {
	if t.IsZero() {
		return "(never before the close)"
	}
	return stamp(t)
}

func handshakeSummary(hs []Handshake) string {
	var parts []string
	for _, h := range hs {
		parts = append(parts, stamp(h.Time)+" "+or(h.Error, "completed"))
	}
	return strings.Join(parts, "; ")
}

// summarise keeps a failure message readable when every request of a long run fails alike.
func summarise(v []string) string {
	const keep = 20
	if len(v) <= keep {
		return strings.Join(v, "\n")
	}
	return strings.Join(v[:keep], "\n") + fmt.Sprintf("\n… and %d more", len(v)-keep)
}

// clientCertFingerprint is the SHA-256 of the client certificate the SUT was given, "" when the
// run does not say it (then the certificate must be the one the server knows as the SUT's
// reader account, which provisioning registered from KONFORM_XTA_CLIENT_CERT).
func clientCertFingerprint(x *runenv.XTA) string { return "" }

// confirmInvalid makes sure with the kit's own XSD validation that the payload the check sends
// is well-formed and invalid against the fixture's XSD.
func confirmInvalid(env *runenv.Env, f fixtures.Fixture, o sender.XTAOffer) {
	GinkgoHelper()
	check.KitExpect(env.SchemasDir != "", "no official schemas directory for this run (--schemas): the kit cannot confirm that the payload is invalid")
	rc, err := o.Message.Open()
	check.KitExpect(err == nil, "reading the payload: %v", err)
	doc, err := io.ReadAll(rc)
	rc.Close()
	check.KitExpect(err == nil, "reading the payload: %v", err)
	xsd := filepath.Join(env.SchemasDir, f.Manifest.XSD)
	errs, err := schemas.ValidateXML(xsd, doc)
	check.KitExpect(err == nil, "validating the payload against %s: %v", xsd, err)
	check.KitExpect(len(errs) > 0, "the payload meant to be invalid is valid against %s", xsd)
	check.KitExpect(!strings.HasPrefix(errs[0].Message, "not well-formed XML"), "the payload is not well-formed: %v", errs)
	AddReportEntry("what the kit's validation finds in the payload", fmt.Sprint(errs))
}
