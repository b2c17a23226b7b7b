// Package hkr is the reference Fachverfahren's booking module: it turns paid fees into XFinanz
// 3.1.0 Annahmeanordnungen, keeps them in a persistent outbox and delivers each to the HKR system
// exactly once, retrying with the same anordnungsNummerExtern until it is acknowledged or refused.
package hkr

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Defects implemented in this package.
const (
	DefectFloatArithmetic      = "float-arithmetic"
	DefectDoubleBookingOnRetry = "double-booking-on-retry"
	DefectDropBookingOn503     = "drop-booking-on-503"
	DefectWrongKassenzeichen   = "wrong-kassenzeichen"
	DefectBookFailedPayment    = "book-failed-payment"
	DefectGapInAPNummer        = "gap-in-apnummer"
	DefectRebookOnRedelivery   = "rebook-on-redelivery"
	DefectSwallowRejection     = "swallow-hkr-rejection"
	DefectDateTimeDates        = "anordnungsdatum-as-datetime"
)

// Payment states of FIT-Connect paymentInformation.status.
const (
	PaymentInitial  = "INITIAL"
	PaymentBooked   = "BOOKED"
	PaymentFailed   = "FAILED"
	PaymentCanceled = "CANCELED"
)

// Order is an accepted submission as far as booking is concerned. PaymentStatus is empty when
// the submission carried no paymentInformation. Kassenzeichen is the payment's
// transactionReference.
type Order struct {
	SubmissionID, CaseReference, ServiceIdentifier, TransactionID, Kassenzeichen, PaymentStatus, PaymentMethod string
	Amount                                                                                                     decimal.Decimal
	PayerName                                                                                                  string
	AcceptedAt                                                                                                 time.Time
	// Items splits Amount into fee positions (optional; without items the whole Amount is one
	// position). Their sum must equal Amount.
	Items []Item
}

// Item is one fee position of an order.
type Item struct {
	Text   string
	Amount decimal.Decimal
}

// bookingDue decides by the payment status whether the order needs a paid booking (contract §4).
func bookingDue(o Order, failedCountsAsPaid bool) (bool, error) {
	switch o.PaymentStatus {
	case PaymentBooked:
		return true, nil
	case PaymentFailed:
		return failedCountsAsPaid, nil
	case "", PaymentInitial, PaymentCanceled:
		return false, nil
	default:
		return false, fmt.Errorf("order %s: unknown payment status %q (known: INITIAL, BOOKED, FAILED, CANCELED)", o.SubmissionID, o.PaymentStatus)
	}
}

// validate names every problem that keeps a due order from becoming an Anordnung.
func (o Order) validate() error {
	var probs []string
	if strings.TrimSpace(o.Kassenzeichen) == "" && strings.TrimSpace(o.TransactionID) == "" {
		probs = append(probs, "kassenzeichen (transactionReference) is empty")
	}
	if !o.Amount.IsPositive() {
		probs = append(probs, "amount "+o.Amount.String()+" is not positive")
	} else if !o.Amount.Equal(o.Amount.Round(2)) {
		probs = append(probs, "amount "+o.Amount.String()+" has more than two fraction digits")
	}
	if len(o.Items) > 0 {
		sum := decimal.Zero
		for i, it := range o.Items {
			if !it.Amount.IsPositive() || !it.Amount.Equal(it.Amount.Round(2)) {
				probs = append(probs, fmt.Sprintf("item %d amount %s is not a positive amount in cents", i+1, it.Amount))
			}
			sum = sum.Add(it.Amount)
		}
		if !sum.Equal(o.Amount) {
			probs = append(probs, fmt.Sprintf("items sum to %s, amount is %s", sum.StringFixed(2), o.Amount.StringFixed(2)))
		}
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	return nil
}

func (o Order) items() []Item {
	if len(o.Items) > 0 {
		return o.Items
	}
	return []Item{{Amount: o.Amount}}
}
