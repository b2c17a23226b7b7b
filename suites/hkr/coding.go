package hkr

import (
	"encoding/json"

	. "github.com/onsi/gomega"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/runenv"
)

// handedCodings returns the booking coding the run handed the SUT, per service identifier: the
// judge holds the SUT to what it was given, not to a coding it works out again.
func handedCodings(env *runenv.Env) map[string]contract.BookingCoding {
	var codings map[string]contract.BookingCoding
	Expect(json.Unmarshal(env.HKRBookingCoding, &codings)).To(Succeed(), "the run's %s", contract.EnvHKRBookingCoding)
	return codings
}
