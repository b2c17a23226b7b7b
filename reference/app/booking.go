package app

import (
	"context"
	"log/slog"

	"go.etcd.io/bbolt"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/hkr"
	"github.com/konform/konform/reference/intake"
)

// outboxBooking adapts the HKR outbox to the intake's Booker.
type outboxBooking struct{ *hkr.Outbox }

func (b outboxBooking) Enqueue(o intake.PaymentOrder) error {
	return b.Outbox.Enqueue(hkr.Order{SubmissionID: o.SubmissionID, CaseReference: o.CaseReference,
		ServiceIdentifier: o.ServiceIdentifier, TransactionID: o.TransactionID, Kassenzeichen: o.Kassenzeichen,
		PaymentStatus: o.PaymentStatus, PaymentMethod: o.PaymentMethod, Amount: o.Amount, PayerName: o.PayerName,
		AcceptedAt: o.AcceptedAt})
}

func (b outboxBooking) Run(ctx context.Context) { b.Outbox.Run(ctx) }

func newOutboxBooking(db *bbolt.DB, hkrURL string, coding map[string]contract.BookingCoding, d defects.Set, log *slog.Logger) (BookingModule, error) {
	o, err := hkr.NewOutbox(db, hkrURL, coding, d, log)
	if err != nil {
		return nil, err
	}
	return outboxBooking{o}, nil
}
