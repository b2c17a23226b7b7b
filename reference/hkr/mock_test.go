package hkr_test

// The outbox against the kit's HKR mock. Only this test file imports the mock; the reference
// binary does not.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/konform/konform/contract"
	mock "github.com/konform/konform/mocks/hkr"
	"github.com/konform/konform/reference/hkr"
	"github.com/konform/konform/specs/specstest"
	"github.com/shopspring/decimal"
	"go.etcd.io/bbolt"
)

func TestOutboxAgainstMockFaults(t *testing.T) {
	for _, f := range []mock.Fault{
		{Kind: mock.FaultUnavailable, Count: 2},
		{Kind: mock.FaultReset, Count: 2},
		{Kind: mock.FaultTimeout, Count: 1},
		{Kind: mock.FaultSlow, Count: 1, DelayMS: 100},
		{Kind: mock.FaultReject, Count: 1, Fehlertext: "Haushaltsstelle gesperrt"},
	} {
		t.Run(f.Kind, func(t *testing.T) {
			m := mock.New(mock.WithFaults(f), mock.WithHoldLimit(5*time.Second))
			srv := httptest.NewServer(m)
			defer srv.Close()
			db, err := bbolt.Open(filepath.Join(t.TempDir(), "ref.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			svc := "urn:de:fim:leika:leistung:99010003001006"
			o, err := hkr.NewOutbox(db, srv.URL+"/xfinanz", map[string]contract.BookingCoding{svc: {Mandant: "001", Bewirtschaftungsstelle: "63", Produkt: "51.10.01", Sachkonto: "43110000"}}, nil, nil,
				hkr.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
			if err != nil {
				t.Fatal(err)
			}
			ord := hkr.Order{SubmissionID: "sub-1", CaseReference: "BG-2026-000777", ServiceIdentifier: svc, TransactionID: "TX-1",
				Kassenzeichen: "5000.0000.0777", PaymentStatus: hkr.PaymentBooked, PaymentMethod: "PAYPAL", PayerName: "Erika Mustermann",
				Amount: decimal.RequireFromString("0.30"), AcceptedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
				Items: []hkr.Item{{Amount: decimal.RequireFromString("0.10")}, {Amount: decimal.RequireFromString("0.20")}}}
			if err := o.Enqueue(ord); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { o.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			want := contract.BookingBooked
			if f.Kind == mock.FaultReject {
				want = contract.BookingFailed
			}
			var b []contract.Booking
			for deadline := time.Now().Add(8 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				b, _ = o.Bookings(ord.SubmissionID)
				if len(b) == 1 && b[0].State == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("booking %+v did not reach %s", b, want)
				}
			}
			c := mock.NewControl(srv.URL)
			booked, _ := c.Bookings(context.Background())
			msgs, _ := c.Messages(context.Background())
			switch f.Kind {
			case mock.FaultReject:
				if len(booked) != 0 || b[0].Fehlertext[0] != "Haushaltsstelle gesperrt" {
					t.Errorf("booked %d fehlertext %q", len(booked), b[0].Fehlertext)
				}
			default:
				if len(booked) != 1 || !booked[0].Gesamtbetrag.Equal(decimal.RequireFromString("0.30")) {
					t.Errorf("exactly once: %+v", booked)
				}
				if f.Count > 0 && f.Kind != mock.FaultSlow && b[0].Attempts != f.Count+1 {
					t.Errorf("attempts %d, want %d", b[0].Attempts, f.Count+1)
				}
			}
			for _, msg := range msgs {
				if msg.AnordnungsNummerExtern != "BG-2026-000777-1" {
					t.Errorf("a retry changed anordnungsNummerExtern: %q", msg.AnordnungsNummerExtern)
				}
				validate(t, msg.Raw)
			}
		})
	}
}

func validate(t *testing.T, doc []byte) {
	t.Helper()
	specstest.RequireValidXML(t, "xfinanz-3.1.0/xfinanz-nachricht-kasse-import.xsd", doc)
}
