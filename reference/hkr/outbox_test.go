package hkr

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"go.etcd.io/bbolt"
)

// fakeHKR answers from a script of statuses, then acknowledges every Anordnung. It stands in
// for the HKR system in the unit tests; the tests against the kit's mock live in the suites.
type fakeHKR struct {
	mu       sync.Mutex
	script   []int // 0 = acknowledge, 503 = unavailable, -1 = reset, 1 = refuse
	received []string
	booked   map[string]int
}

func (f *fakeHKR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var v aoView
	b := make([]byte, 0, 4096)
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			break
		}
	}
	v = viewBytes(b)
	f.mu.Lock()
	f.received = append(f.received, string(b))
	step := 0
	if len(f.script) > 0 {
		step, f.script = f.script[0], f.script[1:]
	}
	if step == 0 {
		f.booked[v.Nummer]++
	}
	f.mu.Unlock()
	switch step {
	case 503:
		http.Error(w, "unavailable", 503)
	case -1:
		c, _, _ := http.NewResponseController(w).Hijack()
		c.Close()
	default:
		ok, fehler := "true", ""
		if step == 1 {
			ok, fehler = "false", "<xfn:fehlertext>Kassenzeichen unbekannt</xfn:fehlertext>"
		}
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte(`<xfn:antwort.AOOhnePerson.9903 xmlns:xfn="xFinanz310"><xfn:antwortAO><xfn:anordnungsnummerExtern>` +
			v.Nummer + `</xfn:anordnungsnummerExtern><xfn:kennzeichenOK>` + ok + `</xfn:kennzeichenOK>` + fehler + `</xfn:antwortAO></xfn:antwort.AOOhnePerson.9903>`))
	}
}

func viewBytes(b []byte) aoView {
	var v aoView
	_ = xmlUnmarshal(b, &v)
	return v
}

func newOutbox(t *testing.T, url string, d defects.Set) *Outbox {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ref.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o, err := NewOutbox(db, url, map[string]contract.BookingCoding{testOrder().ServiceIdentifier: testCoding}, d, nil,
		WithHTTPClient(&http.Client{Timeout: 500 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func runUntil(t *testing.T, o *Outbox, id string, state string) contract.Booking {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := o.Bookings(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 1 && b[0].State == state {
			return b[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("booking of %s did not reach %s: %+v", id, state, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOutboxRetriesUntilBooked(t *testing.T) {
	f := &fakeHKR{script: []int{503, -1, 503}, booked: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	o := newOutbox(t, srv.URL, nil)
	ord := testOrder()
	if err := o.Enqueue(ord); err != nil {
		t.Fatal(err)
	}
	if err := o.Enqueue(ord); err != nil {
		t.Fatalf("second Enqueue: %v", err)
	}
	t0 := time.Now()
	b := runUntil(t, o, ord.SubmissionID, contract.BookingBooked)
	if b.Attempts != 4 || b.AnordnungsNummerExtern != "BG-2026-000123-1" || b.Kassenzeichen != "5000.1234.5678" || b.Amount != "123.45" {
		t.Errorf("booking %+v", b)
	}
	if time.Since(t0) > 3*time.Second {
		t.Errorf("three retries took %v", time.Since(t0))
	}
	for _, r := range f.received[1:] {
		if r != f.received[0] {
			t.Fatal("a retry differs from the first attempt")
		}
	}
	if len(f.booked) != 1 {
		t.Errorf("booked %v", f.booked)
	}
}

func TestOutboxRefusal(t *testing.T) {
	f := &fakeHKR{script: []int{1}, booked: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	o := newOutbox(t, srv.URL, nil)
	_ = o.Enqueue(testOrder())
	b := runUntil(t, o, testOrder().SubmissionID, contract.BookingFailed)
	if len(b.Fehlertext) != 1 || b.Fehlertext[0] != "Kassenzeichen unbekannt" {
		t.Errorf("fehlertext %q", b.Fehlertext)
	}
}

func TestOutboxNoBookingDue(t *testing.T) {
	o := newOutbox(t, "http://127.0.0.1:1", nil)
	for i, s := range []string{PaymentInitial, PaymentFailed, PaymentCanceled, ""} {
		ord := testOrder()
		ord.SubmissionID = "s" + strings.Repeat("x", i)
		ord.PaymentStatus = s
		if err := o.Enqueue(ord); err != nil {
			t.Fatal(err)
		}
		if b, err := o.Bookings(ord.SubmissionID); err != nil || b == nil || len(b) != 0 {
			t.Errorf("%q: bookings %+v %v", s, b, err)
		}
	}
	if err := o.Enqueue(Order{}); err == nil {
		t.Error("order without submission ID accepted")
	}
}

func TestOutboxMissingCoding(t *testing.T) {
	o := newOutbox(t, "http://127.0.0.1:1", nil)
	ord := testOrder()
	ord.ServiceIdentifier = "urn:de:fim:leika:leistung:00000000000000"
	if err := o.Enqueue(ord); err != nil {
		t.Fatal(err)
	}
	b, _ := o.Bookings(ord.SubmissionID)
	if len(b) != 1 || b[0].State != contract.BookingFailed || !strings.Contains(b[0].Fehlertext[0], "keine Kontierung") {
		t.Errorf("bookings %+v", b)
	}
}

func TestOutboxDefects(t *testing.T) {
	t.Run(DefectDoubleBookingOnRetry, func(t *testing.T) {
		f := &fakeHKR{script: []int{503}, booked: map[string]int{}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		o := newOutbox(t, srv.URL, defects.Set{DefectDoubleBookingOnRetry: true})
		_ = o.Enqueue(testOrder())
		runUntil(t, o, testOrder().SubmissionID, contract.BookingBooked)
		if len(f.received) != 2 || viewBytes([]byte(f.received[0])).Nummer == viewBytes([]byte(f.received[1])).Nummer {
			t.Errorf("retry kept its anordnungsNummerExtern")
		}
	})
	t.Run(DefectDropBookingOn503, func(t *testing.T) {
		f := &fakeHKR{script: []int{503}, booked: map[string]int{}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		o := newOutbox(t, srv.URL, defects.Set{DefectDropBookingOn503: true})
		_ = o.Enqueue(testOrder())
		runUntil(t, o, testOrder().SubmissionID, contract.BookingFailed)
		if len(f.booked) != 0 || len(f.received) != 1 {
			t.Errorf("received %d booked %v", len(f.received), f.booked)
		}
	})
	t.Run(DefectWrongKassenzeichen, func(t *testing.T) {
		f := &fakeHKR{booked: map[string]int{}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		o := newOutbox(t, srv.URL, defects.Set{DefectWrongKassenzeichen: true})
		_ = o.Enqueue(testOrder())
		b := runUntil(t, o, testOrder().SubmissionID, contract.BookingBooked)
		if b.Kassenzeichen != "TX-20261130-0001" || viewBytes([]byte(f.received[0])).Pos[0].KZ != "TX-20261130-0001" {
			t.Errorf("kassenzeichen %q", b.Kassenzeichen)
		}
	})
	t.Run(DefectRebookOnRedelivery, func(t *testing.T) {
		for _, d := range []defects.Set{nil, {DefectRebookOnRedelivery: true}} {
			o := newOutbox(t, "http://127.0.0.1:1", d)
			for range 2 {
				if err := o.Enqueue(testOrder()); err != nil {
					t.Fatal(err)
				}
			}
			b, _ := o.Bookings(testOrder().SubmissionID)
			want := 1
			if d.On(DefectRebookOnRedelivery) {
				want = 2
			}
			if len(b) != want || (want == 2 && b[0].AnordnungsNummerExtern == b[1].AnordnungsNummerExtern) {
				t.Errorf("defect %v: bookings %+v", d, b)
			}
		}
	})
	// The second Anordnung is added while the first is on its way to the HKR system: sending
	// the first must not overwrite it (seen in a self-test under load: HK-PAY-040 passed).
	t.Run(DefectRebookOnRedelivery+" while sending", func(t *testing.T) {
		f := &fakeHKR{booked: map[string]int{}}
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(entered); <-release })
			f.ServeHTTP(w, r)
		}))
		defer srv.Close()
		o := newOutbox(t, srv.URL, defects.Set{DefectRebookOnRedelivery: true})
		id := testOrder().SubmissionID
		if err := o.Enqueue(testOrder()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { o.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		<-entered
		if err := o.Enqueue(testOrder()); err != nil {
			t.Fatal(err)
		}
		close(release)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			b, err := o.Bookings(id)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) == 2 && b[0].State == contract.BookingBooked && b[1].State == contract.BookingBooked {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("want both Anordnungen booked, got %+v", b)
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.booked) != 2 {
			t.Errorf("the HKR system booked %v, want two Anordnungen", f.booked)
		}
	})
	t.Run(DefectSwallowRejection, func(t *testing.T) {
		f := &fakeHKR{script: []int{1}, booked: map[string]int{}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		o := newOutbox(t, srv.URL, defects.Set{DefectSwallowRejection: true})
		_ = o.Enqueue(testOrder())
		b := runUntil(t, o, testOrder().SubmissionID, contract.BookingBooked)
		if len(b.Fehlertext) != 0 || len(f.booked) != 0 {
			t.Errorf("fehlertext %q booked %v", b.Fehlertext, f.booked)
		}
	})
	t.Run(DefectBookFailedPayment, func(t *testing.T) {
		for _, d := range []defects.Set{nil, {DefectBookFailedPayment: true}} {
			o := newOutbox(t, "http://127.0.0.1:1", d)
			ord := testOrder()
			ord.PaymentStatus = PaymentFailed
			_ = o.Enqueue(ord)
			b, _ := o.Bookings(ord.SubmissionID)
			if want := d.On(DefectBookFailedPayment); (len(b) == 1) != want {
				t.Errorf("defect %v: bookings %+v", want, b)
			}
		}
	})
}

func TestDefectsRegistered(t *testing.T) {
	for _, n := range []string{DefectFloatArithmetic, DefectDoubleBookingOnRetry, DefectDropBookingOn503, DefectWrongKassenzeichen,
		DefectBookFailedPayment, DefectGapInAPNummer, DefectRebookOnRedelivery, DefectSwallowRejection, DefectDateTimeDates} {
		if !defects.Known(n) {
			t.Errorf("defect %s not in reference/defects", n)
		}
	}
}
