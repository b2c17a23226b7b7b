package hkr

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/konform/konform/contract"
	mock "github.com/konform/konform/mocks/hkr"
)

// Paid is one submission a check sent, with the payment it carried. Kassenzeichen and
// TransactionID are unique per check so that checks do not see each other's bookings.
type Paid struct {
	Fixture       string
	SubmissionID  string
	CaseID        string
	Service       string
	Status        string
	Kassenzeichen string
	TransactionID string
	Amount        decimal.Decimal
}

// keys are the values under which the SUT might have booked p, rightly or wrongly.
func (p Paid) keys() []string { return []string{p.Kassenzeichen, p.TransactionID, p.SubmissionID} }

// twoDigits matches an XFinanz amount as the contract wants it: a decimal with exactly two
// fraction digits.
var twoDigits = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)

// mentions reports whether the Anordnung carries one of keys as Kassenzeichen, Aktenzeichen or
// anordnungsNummerExtern.
func mentions(ao mock.Anordnung, keys []string) bool {
	if slices.Contains(keys, ao.AnordnungsNummerExtern) {
		return true
	}
	for _, p := range ao.Positions {
		if slices.Contains(keys, p.Kassenzeichen) || slices.Contains(keys, p.Aktenzeichen) {
			return true
		}
	}
	return false
}

// relatedMessages returns the messages with an Anordnung that mentions one of keys.
func relatedMessages(msgs []mock.Message, keys ...string) []mock.Message {
	var out []mock.Message
	for _, m := range msgs {
		for _, ao := range m.Anordnungen {
			if mentions(ao, keys) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// relatedBookings returns the bookings with a position that mentions one of keys.
func relatedBookings(bs []mock.Booking, keys ...string) []mock.Booking {
	var out []mock.Booking
	for _, b := range bs {
		if mentions(mock.Anordnung{AnordnungsNummerExtern: b.AnordnungsNummerExtern, Positions: b.Positions}, keys) {
			out = append(out, b)
		}
	}
	return out
}

// bookedAnordnung finds the Anordnung b was booked from in msgs.
func bookedAnordnung(msgs []mock.Message, b mock.Booking) (mock.Anordnung, bool) {
	for _, m := range msgs {
		if m.Seq != b.MessageSeq {
			continue
		}
		for _, ao := range m.Anordnungen {
			if ao.AnordnungsNummerExtern == b.AnordnungsNummerExtern {
				return ao, true
			}
		}
	}
	return mock.Anordnung{}, false
}

// judgeAnordnung names every way ao falls short of a paid booking of p under coding.
func judgeAnordnung(ao mock.Anordnung, p Paid, coding contract.BookingCoding) []string {
	var probs []string
	bad := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	if len(ao.Positions) == 0 {
		return []string{"the Anordnung has no position"}
	}
	if ao.AnzahlPositionen != len(ao.Positions) {
		bad("anzahlPositionen is %d, the Anordnung has %d positions", ao.AnzahlPositionen, len(ao.Positions))
	}
	if !twoDigits.MatchString(ao.GesamtbetragRaw) {
		bad("gesamtbetrag %q is not a decimal with two fraction digits", ao.GesamtbetragRaw)
	}
	sum := decimal.Zero
	for i, pos := range ao.Positions {
		if pos.APNummer != i+1 {
			bad("position %d has aPNummer %d: aPNummer must run gaplessly from 1", i+1, pos.APNummer)
		}
		if pos.Kassenzeichen != p.Kassenzeichen {
			bad("position %d has kassenzeichen %q, the payment's transactionReference is %q", i+1, pos.Kassenzeichen, p.Kassenzeichen)
		}
		for _, raw := range pos.Amounts {
			if !twoDigits.MatchString(raw) {
				bad("position %d: brutto %q is not a decimal with two fraction digits", i+1, raw)
			}
		}
		got := mock.Coding{Mandant: pos.Coding.Mandant, Bewirtschaftungsstelle: pos.Coding.Bewirtschaftungsstelle,
			Produkt: pos.Coding.Produkt, Sachkonto: pos.Coding.Sachkonto}
		want := mock.Coding{Mandant: coding.Mandant, Bewirtschaftungsstelle: coding.Bewirtschaftungsstelle,
			Produkt: coding.Produkt, Sachkonto: coding.Sachkonto}
		if got != want {
			bad("position %d is coded %+v, the service %s is configured as %+v", i+1, got, p.Service, want)
		}
		sum = sum.Add(pos.Amount)
	}
	if !ao.Gesamtbetrag.Equal(sum) {
		bad("gesamtbetrag %s is not the sum of the positions' brutto %s", ao.GesamtbetragRaw, sum.StringFixed(2))
	}
	if !sum.Equal(p.Amount) {
		bad("the positions sum to %s, the payment's grossAmount is %s", sum.StringFixed(2), p.Amount.StringFixed(2))
	}
	return probs
}
