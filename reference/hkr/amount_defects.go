package hkr

import (
	"github.com/shopspring/decimal"

	"github.com/konform/konform/reference/defects"
)

// DefectShortAmounts writes amounts in their shortest decimal form.
const DefectShortAmounts = "amounts-without-trailing-zeros"

// amountText is how an amount of two fraction digits goes into the message. With
// amounts-without-trailing-zeros it loses its trailing zeros (0.10 → 0.1, 4711.00 → 4711), as
// a decimal type's plain String does.
func amountText(twoDigits string, d defects.Set) string {
	if !d.On(DefectShortAmounts) {
		return twoDigits
	}
	v, err := decimal.NewFromString(twoDigits)
	if err != nil {
		return twoDigits
	}
	return v.String()
}
