package hkr

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/konform/konform/contract"
	mock "github.com/konform/konform/mocks/hkr"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/suites/drive"
)

// bookingAllowance is the time beyond the decision for the SUT's bookings to leave "pending",
// retries through the HKR mock's faults included.
const bookingAllowance = 60 * time.Second

// settleLimit bounds the wait for a decision and for the SUT's bookings to leave "pending".
func settleLimit(ctx context.Context, env *runenv.Env) time.Duration {
	return drive.DecisionLimit(ctx, env) + bookingAllowance
}

func hkrControl(env *runenv.Env) *mock.Control { return mock.NewControl(env.HKR.External) }

// sendPaid sends the fixture with its payment made unique to this check: the Kassenzeichen
// (transactionReference) and transactionId get a random suffix, status and amount stay.
func sendPaid(ctx context.Context, env *runenv.Env, fixtureID string, change ...func(*sender.Submission)) (Paid, error) {
	f, err := drive.Fixture(env, fixtureID)
	if err != nil {
		return Paid{}, err
	}
	m := f.Manifest
	if m.Payment == nil {
		return Paid{}, fmt.Errorf("fixture %s carries no payment", fixtureID)
	}
	sfx := uuid.NewString()[:8]
	p := Paid{Fixture: fixtureID, Service: m.Service.Identifier, Status: m.Payment.Status,
		Kassenzeichen: m.Payment.TransactionReference + "." + sfx, TransactionID: m.Payment.TransactionID + "-" + sfx,
		Amount: m.Payment.GrossAmount.Decimal}
	unique := func(s *sender.Submission) {
		s.Payment.TransactionReference, s.Payment.TransactionID = p.Kassenzeichen, p.TransactionID
	}
	res, err := drive.Send(ctx, env, f, append([]func(*sender.Submission){unique}, change...)...)
	if err != nil {
		return p, err
	}
	p.SubmissionID, p.CaseID = res.SubmissionID, res.CaseID
	return p, nil
}

// awaitSettled waits until the SUT decided the submission and none of its bookings is still
// pending; with wantBooking also until at least one booking exists.
func awaitSettled(ctx context.Context, env *runenv.Env, p Paid, wantBooking bool) (contract.Record, error) {
	limit := settleLimit(ctx, env)
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	rec, done, err := drive.AwaitRecord(wctx, env, p.SubmissionID, func(r contract.Record) bool {
		if r.Status == contract.StatusRejected {
			return true
		}
		if r.Status != contract.StatusAccepted || (wantBooking && len(r.Bookings) == 0) {
			return false
		}
		for _, b := range r.Bookings {
			if b.State == contract.BookingPending {
				return false
			}
		}
		return true
	})
	if err != nil {
		return rec, fmt.Errorf("probe for %s (%s): %w", p.SubmissionID, p.Fixture, err)
	}
	if !done {
		return rec, fmt.Errorf("submission %s (%s) not settled within %s: status %q, bookings %+v", p.SubmissionID, p.Fixture, limit.Round(time.Second), rec.Status, rec.Bookings)
	}
	if rec.Status != contract.StatusAccepted {
		return rec, fmt.Errorf("the SUT rejected submission %s (%s), a valid fixture: %+v", p.SubmissionID, p.Fixture, rec.Problems)
	}
	return rec, nil
}

// anordnungSummary is the evidence of one received Anordnung, small enough for a report entry.
type anordnungSummary struct {
	Seq                    int64    `json:"seq"`
	Outcome                string   `json:"outcome"`
	AnordnungsNummerExtern string   `json:"anordnungsNummerExtern"`
	Gesamtbetrag           string   `json:"gesamtbetrag"`
	AnzahlPositionen       int      `json:"anzahlPositionen"`
	APNummern              []int    `json:"aPNummern"`
	Kassenzeichen          []string `json:"kassenzeichen"`
	Brutto                 []string `json:"brutto"`
}

func summarize(msgs []mock.Message) []anordnungSummary {
	out := []anordnungSummary{}
	for _, m := range msgs {
		for _, ao := range m.Anordnungen {
			s := anordnungSummary{Seq: m.Seq, Outcome: m.Outcome, AnordnungsNummerExtern: ao.AnordnungsNummerExtern,
				Gesamtbetrag: ao.GesamtbetragRaw, AnzahlPositionen: ao.AnzahlPositionen}
			for _, p := range ao.Positions {
				s.APNummern = append(s.APNummern, p.APNummer)
				s.Kassenzeichen = append(s.Kassenzeichen, p.Kassenzeichen)
				s.Brutto = append(s.Brutto, p.Amounts...)
			}
			out = append(out, s)
		}
	}
	return out
}
