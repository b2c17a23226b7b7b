package hkr_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/mocks/hkr"
	"github.com/shopspring/decimal"
)

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func start(t *testing.T, opts ...hkr.Option) (*httptest.Server, *hkr.Control) {
	t.Helper()
	srv := httptest.NewServer(hkr.New(opts...))
	t.Cleanup(srv.Close)
	c := hkr.NewControl(srv.URL)
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	return srv, c
}

type answer struct {
	status int
	body   []byte
	err    error
}

func post(t *testing.T, url string, body []byte, timeout time.Duration) answer {
	t.Helper()
	c := &http.Client{Timeout: timeout}
	resp, err := c.Post(url+"/xfinanz", "application/xml; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: b}
}

type antwortView struct {
	XMLName xml.Name
	AO      []struct {
		Nummer     string   `xml:"anordnungsnummerExtern"`
		OK         bool     `xml:"kennzeichenOK"`
		Fehlertext []string `xml:"fehlertext"`
		Pos        []struct {
			APNummer int  `xml:"aPNummer"`
			OK       bool `xml:"kennzeichenOK"`
		} `xml:"antwortAnordnungsposition"`
	} `xml:"antwortAO"`
	Fehlertext []string `xml:"fehlertext"`
}

func parseAntwort(t *testing.T, b []byte) antwortView {
	t.Helper()
	var v antwortView
	if err := xml.Unmarshal(b, &v); err != nil {
		t.Fatalf("antwort is not XML: %v\n%s", err, b)
	}
	validateXFinanz(t, "xfinanz-nachricht-antwort.xsd", b)
	return v
}

func TestBookAndAnswer(t *testing.T) {
	srv, c := start(t)
	ctx := context.Background()
	for _, tc := range []struct{ file, answerType string }{
		{"ao-0303.xml", hkr.TypeAntwortAOOhnePerson},
		{"ao-0313.xml", hkr.TypeAntwortAOMitPerson},
	} {
		a := post(t, srv.URL, testdata(t, tc.file), 5*time.Second)
		if a.err != nil || a.status != 200 {
			t.Fatalf("%s: %v %d %s", tc.file, a.err, a.status, a.body)
		}
		v := parseAntwort(t, a.body)
		if v.XMLName.Local != tc.answerType || len(v.AO) != 1 || !v.AO[0].OK || v.AO[0].Nummer == "" {
			t.Fatalf("%s: antwort %+v", tc.file, v)
		}
		for _, p := range v.AO[0].Pos {
			if !p.OK {
				t.Errorf("position %d not OK", p.APNummer)
			}
		}
	}
	msgs, err := c.Messages(ctx)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("messages %d %v", len(msgs), err)
	}
	m := msgs[0]
	if m.MessageType != hkr.TypeAODoppisch || m.Outcome != hkr.OutcomeBooked || m.AnordnungsNummerExtern != "BG-2026-000123-1" ||
		m.AnzahlPositionen != 2 || !m.Gesamtbetrag.Equal(decimal.RequireFromString("0.30")) || len(m.Positions) != 2 ||
		m.Positions[1].APNummer != 2 || m.Positions[1].Kassenzeichen != "5000.1234.5678" || !m.Positions[1].Amount.Equal(decimal.RequireFromString("0.20")) ||
		m.Positions[0].Coding.Sachkonto != "43110000" || m.Positions[0].Coding.Mandant != "001" || !bytes.Equal(m.Raw, testdata(t, "ao-0303.xml")) {
		t.Fatalf("message recorded as %+v", m)
	}
	// 0313 carries the same anordnungsNummerExtern: it is a repeat.
	if msgs[1].Outcome != hkr.OutcomeRepeat || msgs[1].Payer != "Zoë Øvergaard" {
		t.Errorf("second message outcome %q payer %q", msgs[1].Outcome, msgs[1].Payer)
	}
	bookings, _ := c.Bookings(ctx)
	if len(bookings) != 1 || bookings[0].Repeats != 1 {
		t.Fatalf("bookings %+v", bookings)
	}
	ex, _ := c.Exchanges(ctx, 0)
	if len(ex) != 2 || !strings.Contains(ex[0].Note, "booked") || !strings.Contains(ex[1].Note, "repeat") {
		t.Errorf("exchanges %+v", ex)
	}
}

func TestRepeatIsBookedOnce(t *testing.T) {
	srv, c := start(t)
	for i := 0; i < 3; i++ {
		if a := post(t, srv.URL, testdata(t, "ao-0303.xml"), 5*time.Second); a.status != 200 || !parseAntwort(t, a.body).AO[0].OK {
			t.Fatalf("attempt %d: %d %s", i, a.status, a.body)
		}
	}
	b, _ := c.Bookings(context.Background())
	if len(b) != 1 || b[0].Repeats != 2 {
		t.Fatalf("bookings %+v", b)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	body := func(t *testing.T) []byte { return testdata(t, "ao-0303.xml") }
	t.Run("unavailable", func(t *testing.T) {
		srv, c := start(t, hkr.WithFaults(hkr.Fault{Kind: hkr.FaultUnavailable, Count: 2}))
		for i := 0; i < 2; i++ {
			if a := post(t, srv.URL, body(t), 5*time.Second); a.status != 503 {
				t.Fatalf("attempt %d: %d", i, a.status)
			}
		}
		if a := post(t, srv.URL, body(t), 5*time.Second); a.status != 200 {
			t.Fatalf("after the faults: %d", a.status)
		}
		msgs, _ := c.Messages(ctx)
		if msgs[0].Outcome != "fault:unavailable" || msgs[2].Outcome != hkr.OutcomeBooked {
			t.Errorf("outcomes %q %q", msgs[0].Outcome, msgs[2].Outcome)
		}
		ex, _ := c.Exchanges(ctx, 0)
		if ex[0].Status != 503 || !strings.Contains(ex[0].Note, "fault: unavailable") {
			t.Errorf("exchange %+v", ex[0])
		}
	})
	t.Run("reset", func(t *testing.T) {
		srv, c := start(t)
		if err := c.AddFault(ctx, hkr.Fault{Kind: hkr.FaultReset, Count: 1}); err != nil {
			t.Fatal(err)
		}
		if a := post(t, srv.URL, body(t), 5*time.Second); a.err == nil {
			t.Fatalf("want a broken connection, got %d", a.status)
		}
		b, _ := c.Bookings(ctx)
		ex, _ := c.Exchanges(ctx, 0)
		if len(b) != 0 || len(ex) != 1 || !strings.Contains(ex[0].Note, "fault: reset") || ex[0].Error == "" {
			t.Errorf("bookings %d exchanges %+v", len(b), ex)
		}
	})
	t.Run("booked-reset", func(t *testing.T) {
		srv, c := start(t, hkr.WithFaults(hkr.Fault{Kind: hkr.FaultBookedReset, Count: 1}))
		if a := post(t, srv.URL, body(t), 5*time.Second); a.err == nil {
			t.Fatalf("want a broken connection, got %d", a.status)
		}
		b, _ := c.Bookings(ctx)
		ex, _ := c.Exchanges(ctx, 0)
		msgs, _ := c.Messages(ctx)
		if len(b) != 1 || len(ex) != 1 || !strings.Contains(ex[0].Note, "fault: booked-reset (booked: ") || ex[0].Error == "" {
			t.Fatalf("bookings %d exchanges %+v", len(b), ex)
		}
		if len(msgs) != 1 || msgs[0].Outcome != "fault:booked-reset" || msgs[0].Status != 0 || msgs[0].Anordnungen[0].Outcome != hkr.OutcomeBooked || b[0].MessageSeq != msgs[0].Seq {
			t.Errorf("message %+v", msgs)
		}
		// The retry with the same anordnungsNummerExtern is answered OK and books nothing more.
		if a := post(t, srv.URL, body(t), 5*time.Second); a.status != 200 {
			t.Fatalf("retry: %d", a.status)
		}
		b, _ = c.Bookings(ctx)
		if len(b) != 1 || b[0].Repeats != 1 {
			t.Errorf("retry booked again: %+v", b)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv, c := start(t)
		_ = c.AddFault(ctx, hkr.Fault{Kind: hkr.FaultTimeout, Count: 1})
		t0 := time.Now()
		if a := post(t, srv.URL, body(t), 200*time.Millisecond); a.err == nil {
			t.Fatalf("want a client time-out, got %d", a.status)
		}
		if time.Since(t0) > 2*time.Second {
			t.Error("client waited too long")
		}
		if a := post(t, srv.URL, body(t), 5*time.Second); a.status != 200 {
			t.Fatalf("after the fault: %d", a.status)
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			msgs, _ := c.Messages(ctx)
			if len(msgs) == 2 {
				if msgs[0].Outcome != "fault:timeout" && msgs[1].Outcome != "fault:timeout" {
					t.Errorf("outcomes %q %q", msgs[0].Outcome, msgs[1].Outcome)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("held request not recorded: %d messages", len(msgs))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("slow", func(t *testing.T) {
		srv, c := start(t, hkr.WithFaults(hkr.Fault{Kind: hkr.FaultSlow, Count: 1, DelayMS: 150}))
		t0 := time.Now()
		a := post(t, srv.URL, body(t), 5*time.Second)
		if a.status != 200 || time.Since(t0) < 150*time.Millisecond {
			t.Fatalf("status %d after %v", a.status, time.Since(t0))
		}
		b, _ := c.Bookings(ctx)
		if len(b) != 1 {
			t.Errorf("slow answer must still book: %d", len(b))
		}
	})
	t.Run("reject", func(t *testing.T) {
		srv, c := start(t, hkr.WithFaults(hkr.Fault{Kind: hkr.FaultReject, Count: 1, Fehlertext: "Kassenzeichen gesperrt"}))
		a := post(t, srv.URL, body(t), 5*time.Second)
		v := parseAntwort(t, a.body)
		if a.status != 200 || v.AO[0].OK || len(v.AO[0].Fehlertext) != 1 || v.AO[0].Fehlertext[0] != "Kassenzeichen gesperrt" || v.AO[0].Pos[0].OK {
			t.Fatalf("%d %+v", a.status, v)
		}
		b, _ := c.Bookings(ctx)
		msgs, _ := c.Messages(ctx)
		if len(b) != 0 || msgs[0].Outcome != hkr.OutcomeRejected {
			t.Errorf("bookings %d outcome %q", len(b), msgs[0].Outcome)
		}
	})
	t.Run("match", func(t *testing.T) {
		srv, c := start(t, hkr.WithFaults(hkr.Fault{Kind: hkr.FaultUnavailable, Count: 1, Match: "9999.0000.0000"}))
		if a := post(t, srv.URL, body(t), 5*time.Second); a.status != 200 {
			t.Fatalf("fault for another Kassenzeichen applied: %d", a.status)
		}
		f, _ := c.Faults(ctx)
		if len(f) != 1 {
			t.Errorf("unmatched fault consumed: %+v", f)
		}
		_ = c.AddFault(ctx, hkr.Fault{Kind: hkr.FaultReset, Count: 1, Match: "5000.0000.0001"})
		if err := c.ClearFaultsMatching(ctx, "9999.0000.0000"); err != nil {
			t.Fatal(err)
		}
		if f, _ := c.Faults(ctx); len(f) != 1 || f[0].Match != "5000.0000.0001" {
			t.Errorf("faults after clearing one match: %+v", f)
		}
		if err := c.ClearFaultsMatching(ctx, " "); err == nil {
			t.Error("an empty match was taken")
		}
		_ = c.ClearFaults(ctx)
		if f, _ := c.Faults(ctx); len(f) != 0 {
			t.Errorf("faults after clear: %+v", f)
		}
	})
	t.Run("probability", func(t *testing.T) {
		count := func() int {
			srv, _ := start(t, hkr.WithFaults(hkr.Fault{Kind: hkr.FaultUnavailable, Probability: 0.5, Seed: 42}))
			n := 0
			for i := 0; i < 20; i++ {
				if post(t, srv.URL, body(t), 5*time.Second).status == 503 {
					n++
				}
			}
			return n
		}
		a, b := count(), count()
		if a != b || a == 0 || a == 20 {
			t.Errorf("seeded probability not reproducible or degenerate: %d, %d", a, b)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		_, c := start(t)
		for _, f := range []hkr.Fault{{Kind: "explode", Count: 1}, {Kind: hkr.FaultUnavailable}, {Kind: hkr.FaultSlow, Count: 1}, {Kind: hkr.FaultReject, Probability: 2}} {
			if err := c.AddFault(ctx, f); err == nil {
				t.Errorf("fault %+v accepted", f)
			}
		}
	})
}

func TestMalformed(t *testing.T) {
	good := string(testdata(t, "ao-0303.xml"))
	cases := map[string]struct{ body, want string }{
		"empty":          {"", "empty body"},
		"garbage":        {"this is not xml", "not well-formed"},
		"truncated":      {good[:len(good)/2], "not well-formed"},
		"namespace":      {strings.Replace(good, `xmlns:xfn="xFinanz310"`, `xmlns:xfn="xFinanz320"`, 1), "namespace"},
		"unsupported":    {strings.ReplaceAll(good, "kasseImport.AODoppisch.0303", "kasseImport.AOKameral.0312"), "not supported"},
		"no nummer":      {strings.Replace(good, "<xfn:anordnungsNummerExtern>BG-2026-000123-1</xfn:anordnungsNummerExtern>", "", 1), "anordnungsNummerExtern"},
		"brutto":         {strings.Replace(good, "<xfn:brutto>0.10</xfn:brutto>", "<xfn:brutto>zehn Cent</xfn:brutto>", 1), "brutto"},
		"second root":    {good + "<x/>", "second root"},
		"person missing": {strings.ReplaceAll(good, "kasseImport.AODoppisch.0303", "kasseImport.AOMitPersonDoppisch.0313"), "personKomplett"},
	}
	srv, c := start(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := post(t, srv.URL, []byte(tc.body), 5*time.Second)
			if a.status != 400 {
				t.Fatalf("status %d", a.status)
			}
			v := parseAntwort(t, a.body)
			if v.XMLName.Local != hkr.TypeAntwortAnnahmeVerweigert || len(v.Fehlertext) != 1 || !strings.Contains(v.Fehlertext[0], tc.want) {
				t.Errorf("antwort %+v, want fehlertext naming %q", v, tc.want)
			}
		})
	}
	if b, _ := c.Bookings(context.Background()); len(b) != 0 {
		t.Errorf("malformed messages booked: %+v", b)
	}
	msgs, _ := c.Messages(context.Background())
	if len(msgs) != len(cases) || msgs[0].Outcome != hkr.OutcomeMalformed || msgs[0].Problem == "" {
		t.Errorf("malformed messages not all recorded: %d", len(msgs))
	}
	resp, err := http.Get(srv.URL + "/xfinanz")
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", err, resp)
	}
}

func TestLedger(t *testing.T) {
	srv, c := start(t)
	ctx := context.Background()
	post(t, srv.URL, testdata(t, "ao-0303.xml"), 5*time.Second)
	rec := hkr.PaymentRecord{Kassenzeichen: "5000.1234.5678", TransactionID: "TX-1", Amount: decimal.RequireFromString("0.30"), ValueDate: "2026-11-30", PaymentMethod: "CREDITCARD"}
	if err := c.AddPaymentRecord(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := c.AddPaymentRecord(ctx, rec); err != nil {
		t.Errorf("identical report again: %v", err)
	}
	other := rec
	other.Amount = decimal.RequireFromString("0.31")
	if err := c.AddPaymentRecord(ctx, other); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("conflicting report accepted: %v", err)
	}
	orphan := hkr.PaymentRecord{Kassenzeichen: "7000.0000.0001", TransactionID: "TX-2", Amount: decimal.RequireFromString("999999.99"), ValueDate: "2026-12-01"}
	if err := c.AddPaymentRecord(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []hkr.PaymentRecord{{TransactionID: "TX-3", Amount: decimal.NewFromInt(1), ValueDate: "2026-12-01"}, {Kassenzeichen: "K", TransactionID: "TX-4", Amount: decimal.RequireFromString("1.001"), ValueDate: "2026-12-01"}, {Kassenzeichen: "K", TransactionID: "TX-5", Amount: decimal.NewFromInt(1), ValueDate: "1.12.2026"}} {
		if err := c.AddPaymentRecord(ctx, bad); err == nil {
			t.Errorf("bad record accepted: %+v", bad)
		}
	}
	l, err := c.Ledger(ctx)
	if err != nil || len(l) != 2 {
		t.Fatalf("ledger %+v %v", l, err)
	}
	if l[0].Kassenzeichen != "5000.1234.5678" || !l[0].Soll.Equal(decimal.RequireFromString("0.30")) || !l[0].Ist.Equal(decimal.RequireFromString("0.30")) || len(l[0].Anordnungen) != 1 {
		t.Errorf("line 1 %+v", l[0])
	}
	if !l[1].Soll.IsZero() || !l[1].Ist.Equal(decimal.RequireFromString("999999.99")) {
		t.Errorf("line 2 %+v", l[1])
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := hkr.New()
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx, "127.0.0.1:0") }()
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
}
