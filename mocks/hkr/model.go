package hkr

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Outcomes of a received message.
const (
	OutcomeBooked    = "booked"
	OutcomeRepeat    = "repeat"
	OutcomeRejected  = "rejected"
	OutcomeMalformed = "malformed"
	outcomeFault     = "fault:"
)

// Coding is the budget coding of one position as the message carried it.
type Coding struct {
	Mandant                string `json:"mandant"`
	Bewirtschaftungsstelle string `json:"bewirtschaftungsstelle"`
	Produkt                string `json:"produkt,omitempty"`
	Sachkonto              string `json:"sachkonto,omitempty"`
	Gegenkonto             string `json:"gegenkonto,omitempty"`
	Finanzrechnungskonto   string `json:"finanzrechnungskonto,omitempty"`
	KennzeichenErAr        string `json:"kennzeichenErAr,omitempty"`
}

// Position is one Anordnungsposition (aOPosDoppisch) as received.
type Position struct {
	APNummer      int             `json:"aPNummer"`
	Kassenzeichen string          `json:"kassenzeichen"`
	Aktenzeichen  string          `json:"aktenzeichen,omitempty"`
	Amount        decimal.Decimal `json:"amount"`  // Σ geldbetrag/brutto of the position
	Amounts       []string        `json:"amounts"` // every geldbetrag/brutto, verbatim
	Faelligkeit   string          `json:"faelligkeit,omitempty"`
	Zahlungsart   string          `json:"zahlungsart,omitempty"`
	Buchungstext  string          `json:"buchungstext,omitempty"`
	Coding        Coding          `json:"coding"`
}

// Anordnung is one AO of a message.
type Anordnung struct {
	AnordnungsNummerExtern string          `json:"anordnungsNummerExtern"`
	AnordnungsDatum        string          `json:"anordnungsDatum"`
	Haushaltsjahr          string          `json:"haushaltsjahr"`
	AnzahlPositionen       int             `json:"anzahlPositionen"`
	Gesamtbetrag           decimal.Decimal `json:"gesamtbetrag"`
	GesamtbetragRaw        string          `json:"gesamtbetragRaw"` // verbatim, e.g. to see "0.30000000000000004"
	Positions              []Position      `json:"positions"`
	Outcome                string          `json:"outcome"`
}

// Message is one kasseImport message the mock received, with what it made of it. The flat
// fields repeat the first Anordnung; Anordnungen holds all of them.
type Message struct {
	Seq                    int64           `json:"seq"`
	Time                   time.Time       `json:"time"`
	Raw                    []byte          `json:"raw"`
	MessageType            string          `json:"messageType"` // root element local name, e.g. kasseImport.AODoppisch.0303
	Namespace              string          `json:"namespace"`
	Payer                  string          `json:"payer,omitempty"` // familienname of the first personNat, for AOMitPerson messages
	AnordnungsNummerExtern string          `json:"anordnungsNummerExtern"`
	Positions              []Position      `json:"positions"`
	Gesamtbetrag           decimal.Decimal `json:"gesamtbetrag"`
	AnzahlPositionen       int             `json:"anzahlPositionen"`
	Anordnungen            []Anordnung     `json:"anordnungen"`
	Outcome                string          `json:"outcome"`           // booked | repeat | rejected | malformed | fault:<kind>
	Problem                string          `json:"problem,omitempty"` // why a message was malformed
	Fehlertext             []string        `json:"fehlertext,omitempty"`
	Status                 int             `json:"status"` // HTTP status answered (0 when the connection was dropped)
}

// Booking is an Anordnung the mock booked, once per anordnungsNummerExtern.
type Booking struct {
	AnordnungsNummerExtern string          `json:"anordnungsNummerExtern"`
	MessageSeq             int64           `json:"messageSeq"`
	MessageType            string          `json:"messageType"`
	BookedAt               time.Time       `json:"bookedAt"`
	Gesamtbetrag           decimal.Decimal `json:"gesamtbetrag"`
	Positions              []Position      `json:"positions"`
	Repeats                int             `json:"repeats"` // how often the same anordnungsNummerExtern came again
}

// PaymentRecord is what the payment platform (ePayBL style) reported for one payment: the Ist.
type PaymentRecord struct {
	Kassenzeichen string          `json:"kassenzeichen"` // transactionReference
	TransactionID string          `json:"transactionId"`
	Amount        decimal.Decimal `json:"amount"`
	ValueDate     string          `json:"valueDate"` // Wertstellungsdatum, YYYY-MM-DD
	PaymentMethod string          `json:"paymentMethod,omitempty"`
}

// LedgerLine puts Soll (booked Anordnungen) and Ist (platform records) of one Kassenzeichen side
// by side. It is raw data; reconciling it is the suite's business.
type LedgerLine struct {
	Kassenzeichen string          `json:"kassenzeichen"`
	Soll          decimal.Decimal `json:"soll"`
	Ist           decimal.Decimal `json:"ist"`
	Anordnungen   []string        `json:"anordnungen"` // anordnungsNummerExtern of the booked AOs with a position on it
	Payments      []PaymentRecord `json:"payments"`
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
