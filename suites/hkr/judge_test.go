package hkr

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/konform/konform/contract"
	mock "github.com/konform/konform/mocks/hkr"
)

var coding = contract.BookingCoding{Mandant: "001", Bewirtschaftungsstelle: "63", Produkt: "51.10.01", Sachkonto: "43110001"}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func paid() Paid {
	return Paid{Fixture: "f", SubmissionID: "sub", Service: "svc", Status: "BOOKED", Kassenzeichen: "5000.1.abc",
		TransactionID: "TX-1-abc", Amount: d("4.35")}
}

func ao(kz string, amounts ...string) mock.Anordnung {
	a := mock.Anordnung{AnordnungsNummerExtern: "BG-1-1", AnzahlPositionen: len(amounts)}
	sum := decimal.Zero
	for i, s := range amounts {
		a.Positions = append(a.Positions, mock.Position{APNummer: i + 1, Kassenzeichen: kz, Amount: d(s), Amounts: []string{s},
			Coding: mock.Coding{Mandant: "001", Bewirtschaftungsstelle: "63", Produkt: "51.10.01", Sachkonto: "43110001"}})
		sum = sum.Add(d(s))
	}
	a.Gesamtbetrag, a.GesamtbetragRaw = sum, sum.StringFixed(2)
	return a
}

func TestJudgeAnordnung(t *testing.T) {
	if p := judgeAnordnung(ao("5000.1.abc", "4.35"), paid(), coding); len(p) != 0 {
		t.Fatalf("clean Anordnung judged: %v", p)
	}
	if p := judgeAnordnung(ao("5000.1.abc", "1.35", "3.00"), paid(), coding); len(p) != 0 {
		t.Fatalf("two positions judged: %v", p)
	}
	cases := map[string]struct {
		a    func() mock.Anordnung
		want string
	}{
		"truncated cents":     {func() mock.Anordnung { return ao("5000.1.abc", "4.34") }, "grossAmount is 4.35"},
		"wrong kassenzeichen": {func() mock.Anordnung { return ao("TX-1-abc", "4.35") }, "kassenzeichen \"TX-1-abc\""},
		"gap": {func() mock.Anordnung {
			a := ao("5000.1.abc", "1.35", "3.00")
			a.Positions[1].APNummer = 3
			return a
		}, "gaplessly"},
		"float total": {func() mock.Anordnung {
			a := ao("5000.1.abc", "0.10", "0.20")
			a.GesamtbetragRaw, a.Gesamtbetrag = "0.30000000000000004", d("0.30000000000000004")
			return a
		}, "two fraction digits"},
		"anzahl": {func() mock.Anordnung { a := ao("5000.1.abc", "4.35"); a.AnzahlPositionen = 2; return a }, "anzahlPositionen is 2"},
		"coding": {func() mock.Anordnung {
			a := ao("5000.1.abc", "4.35")
			a.Positions[0].Coding.Sachkonto = "43110002"
			return a
		}, "is coded"},
		"no positions": {func() mock.Anordnung { return mock.Anordnung{} }, "no position"},
	}
	for name, c := range cases {
		probs := judgeAnordnung(c.a(), paid(), coding)
		if !strings.Contains(strings.Join(probs, "\n"), c.want) {
			t.Errorf("%s: problems %q lack %q", name, probs, c.want)
		}
	}
}

func TestRelated(t *testing.T) {
	msgs := []mock.Message{
		{Seq: 1, Anordnungen: []mock.Anordnung{ao("other", "1.00")}},
		{Seq: 2, Anordnungen: []mock.Anordnung{ao("TX-1-abc", "4.35")}},
		{Seq: 3, Anordnungen: []mock.Anordnung{ao("5000.1.abc", "4.35")}},
	}
	got := relatedMessages(msgs, paid().keys()...)
	if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 3 {
		t.Fatalf("related %+v", got)
	}
	b := mock.Booking{AnordnungsNummerExtern: "BG-1-1", MessageSeq: 3, Positions: msgs[2].Anordnungen[0].Positions}
	if len(relatedBookings([]mock.Booking{b}, "nothing")) != 0 || len(relatedBookings([]mock.Booking{b}, "5000.1.abc")) != 1 {
		t.Error("relatedBookings")
	}
	if a, ok := bookedAnordnung(msgs, b); !ok || a.Positions[0].Kassenzeichen != "5000.1.abc" {
		t.Error("bookedAnordnung")
	}
	if _, ok := bookedAnordnung(msgs[:1], b); ok {
		t.Error("bookedAnordnung found a message that is not there")
	}
}
