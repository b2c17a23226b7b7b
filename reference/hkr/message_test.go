package hkr

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"github.com/shopspring/decimal"
)

var testCoding = contract.BookingCoding{Mandant: "001", Bewirtschaftungsstelle: "63", Produkt: "51.10.01", Sachkonto: "43110000", Haushaltsstelle: "6300.11000"}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func testOrder() Order {
	return Order{
		SubmissionID: "5e2b1a3c-0d4f-4a8e-9c61-2f7d3b9a1e04", CaseReference: "BG-2026-000123",
		ServiceIdentifier: "urn:de:fim:leika:leistung:99010003001006", TransactionID: "TX-20261130-0001",
		Kassenzeichen: "5000.1234.5678", PaymentStatus: PaymentBooked, PaymentMethod: "CREDITCARD",
		Amount: dec("123.45"), AcceptedAt: time.Date(2026, 11, 30, 9, 15, 3, 0, time.UTC),
	}
}

func build(t *testing.T, ord Order, d defects.Set) ([]byte, string) {
	t.Helper()
	b, typ, err := buildMessage(anordnung{nummerExtern: ord.CaseReference + "-1", uebertragungsID: 7,
		created: ord.AcceptedAt, ord: ord, items: ord.items(), kassenzeichen: ord.Kassenzeichen, coding: testCoding}, d)
	if err != nil {
		t.Fatal(err)
	}
	return b, typ
}

type aoView struct {
	Nummer string `xml:"aODoppisch>anordnungsNummerExtern"`
	Anzahl int    `xml:"aODoppisch>anzahlPositionen"`
	Total  string `xml:"aODoppisch>gesamtbetrag"`
	Pos    []struct {
		APNummer int    `xml:"aPNummer"`
		KZ       string `xml:"gemeinsameBuchungsdaten>kassenzeichen"`
		Brutto   string `xml:"geldbetrag>brutto"`
	} `xml:"aODoppisch>aOPosDoppisch"`
}

func view(t *testing.T, b []byte) aoView {
	t.Helper()
	var v aoView
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func multiItem() Order {
	o := testOrder()
	o.Amount = dec("0.30")
	o.Items = []Item{{Text: "Grundgebühr", Amount: dec("0.10")}, {Text: "Zuschlag", Amount: dec("0.20")}}
	return o
}

func TestMessagesValidateAgainstXSD(t *testing.T) {
	big := testOrder()
	big.Amount = dec("2999999.97")
	big.Items = []Item{{Amount: dec("999999.99")}, {Amount: dec("999999.99")}, {Amount: dec("999999.99")}}
	payer := testOrder()
	payer.PayerName = "Zoë Øvergaard-Müller"
	noMethod := testOrder()
	noMethod.PaymentMethod = "OTHER"
	noMethod.CaseReference = ""
	cases := map[string]Order{"single": testOrder(), "two items": multiItem(), "big": big, "payer": payer, "other method": noMethod}
	// Every payment method and every amount the fixtures carry.
	for _, m := range []string{"GIROPAY", "PAYDIRECT", "CREDITCARD", "PAYPAL", "INVOICE", "OTHER"} {
		for _, a := range []string{"0.01", "0.10", "0.20", "0.30", "1.01", "4.35", "123.45", "250.00", "4711.00", "999999.99"} {
			o := testOrder()
			o.PaymentMethod, o.Amount = m, dec(a)
			cases[m+" "+a] = o
		}
	}
	for name, ord := range cases {
		t.Run(name, func(t *testing.T) {
			b, typ := build(t, ord, nil)
			want := TypeAODoppisch
			if ord.PayerName != "" {
				want = TypeAOMitPersonDoppisch
			}
			if typ != want || !bytes.Contains(b, []byte("<xfn:"+want)) {
				t.Fatalf("message type %s, want %s", typ, want)
			}
			validateXFinanz(t, "xfinanz-nachricht-kasse-import.xsd", b)
		})
	}
}

func TestMessageContent(t *testing.T) {
	b, _ := build(t, multiItem(), nil)
	v := view(t, b)
	if v.Total != "0.30" || v.Anzahl != 2 || len(v.Pos) != 2 {
		t.Fatalf("gesamtbetrag %q anzahl %d positions %d", v.Total, v.Anzahl, len(v.Pos))
	}
	for i, p := range v.Pos {
		if p.APNummer != i+1 || p.KZ != "5000.1234.5678" {
			t.Errorf("position %d: aPNummer %d kassenzeichen %q", i, p.APNummer, p.KZ)
		}
	}
	if v.Pos[0].Brutto != "0.10" || v.Pos[1].Brutto != "0.20" {
		t.Errorf("brutto %q %q", v.Pos[0].Brutto, v.Pos[1].Brutto)
	}
	one := testOrder()
	one.Amount = dec("12.3")
	if v := view(t, mustBuild(t, one)); v.Pos[0].Brutto != "12.30" || v.Total != "12.30" {
		t.Errorf("two fraction digits: brutto %q total %q", v.Pos[0].Brutto, v.Total)
	}
}

func mustBuild(t *testing.T, o Order) []byte { b, _ := build(t, o, nil); return b }

func TestDefectFloatArithmetic(t *testing.T) {
	clean := view(t, mustBuild(t, multiItem())).Total
	b, _ := build(t, multiItem(), defects.Set{DefectFloatArithmetic: true})
	bad := view(t, b).Total
	if clean != "0.30" || bad == clean || !strings.HasPrefix(bad, "0.3000000") {
		t.Fatalf("clean %q, defect %q", clean, bad)
	}
}

func TestDefectFloatArithmeticTruncatesCents(t *testing.T) {
	for amount, want := range map[string]string{"4.35": "4.34", "0.29": "0.28", "123.45": "123.45"} {
		o := testOrder()
		o.Amount = dec(amount)
		if got := view(t, mustBuild(t, o)).Pos[0].Brutto; got != amount {
			t.Errorf("clean brutto of %s: %q", amount, got)
		}
		b, _ := build(t, o, defects.Set{DefectFloatArithmetic: true})
		if got := view(t, b).Pos[0].Brutto; got != want {
			t.Errorf("defect brutto of %s: %q, want %q", amount, got, want)
		}
	}
}

func TestDefectDateTimeDatesBreaksXSD(t *testing.T) {
	b, _ := build(t, testOrder(), defects.Set{DefectDateTimeDates: true})
	if !bytes.Contains(b, []byte("<xfn:anordnungsDatum>2026-11-30T09:15:03Z<")) {
		t.Fatalf("anordnungsDatum not a date-time:\n%s", b)
	}
	if ok, _ := xsdValid(t, "xfinanz-nachricht-kasse-import.xsd", b); ok {
		t.Error("a date-time anordnungsDatum passed the XSD")
	}
}

func TestDefectGapInAPNummer(t *testing.T) {
	b, _ := build(t, multiItem(), defects.Set{DefectGapInAPNummer: true})
	v := view(t, b)
	if v.Pos[0].APNummer != 7 || v.Pos[1].APNummer != 8 {
		t.Fatalf("aPNummer %d, %d", v.Pos[0].APNummer, v.Pos[1].APNummer)
	}
}

func TestBookingDue(t *testing.T) {
	for status, want := range map[string]bool{PaymentBooked: true, PaymentInitial: false, PaymentFailed: false, PaymentCanceled: false, "": false} {
		o := testOrder()
		o.PaymentStatus = status
		if got, err := bookingDue(o, false); err != nil || got != want {
			t.Errorf("%q: due %v err %v, want %v", status, got, err, want)
		}
	}
	o := testOrder()
	o.PaymentStatus = PaymentFailed
	if got, _ := bookingDue(o, true); !got {
		t.Error("book-failed-payment: FAILED should be due")
	}
	o.PaymentStatus = "PAID?"
	if _, err := bookingDue(o, false); err == nil || !strings.Contains(err.Error(), "PAID?") {
		t.Errorf("unknown status: %v", err)
	}
}

func TestBookingDueUnderDefects(t *testing.T) {
	cases := []struct {
		defect, status string
	}{
		{DefectBookFailedPayment, PaymentFailed},
		{DefectBookInitialPayment, PaymentInitial},
		{DefectBookCanceledPayment, PaymentCanceled},
	}
	for _, c := range cases {
		d := defects.Set{c.defect: true}
		for _, status := range []string{PaymentBooked, PaymentInitial, PaymentFailed, PaymentCanceled, ""} {
			o := testOrder()
			o.PaymentStatus = status
			want := status == PaymentBooked || status == c.status
			if got, err := bookingDueUnder(o, d); err != nil || got != want {
				t.Errorf("%s, %q: due %v err %v, want %v", c.defect, status, got, err, want)
			}
		}
	}
}

func TestOrderValidate(t *testing.T) {
	o := multiItem()
	o.Amount = dec("0.31")
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "items sum to 0.30") {
		t.Errorf("items mismatch: %v", err)
	}
	o = testOrder()
	o.Amount = dec("1.005")
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "fraction digits") {
		t.Errorf("sub-cent: %v", err)
	}
}

func xmlUnmarshal(b []byte, v any) error { return xml.Unmarshal(b, v) }
