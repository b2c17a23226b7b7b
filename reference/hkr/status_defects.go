package hkr

import "github.com/konform/konform/reference/defects"

// Defects that take one unpaid payment status for paid.
const (
	DefectBookInitialPayment  = "book-initial-payment"
	DefectBookCanceledPayment = "book-canceled-payment"
)

// bookingDueUnder is bookingDue as the reference decides it with the defects d switched on:
// book-failed-payment, book-initial-payment and book-canceled-payment each count one status
// that is not BOOKED as paid.
func bookingDueUnder(o Order, d defects.Set) (bool, error) {
	due, err := bookingDue(o, d.On(DefectBookFailedPayment))
	if err != nil || due {
		return due, err
	}
	switch {
	case o.PaymentStatus == PaymentInitial && d.On(DefectBookInitialPayment),
		o.PaymentStatus == PaymentCanceled && d.On(DefectBookCanceledPayment):
		return true, nil
	}
	return false, nil
}
