package load

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/hkr"
)

func fixture(id, status, amount string) fixtures.Fixture {
	var f fixtures.Fixture
	f.Manifest.ID = id
	f.Manifest.Payment = &fixtures.Payment{TransactionID: "TX-1", TransactionReference: "5000.1234.0001", Status: status,
		GrossAmount: fixtures.Money{Decimal: decimal.RequireFromString(amount)}}
	return f
}

// world is three submissions the SUT handled well: two BOOKED fees, one CANCELED.
type world struct {
	subs []sent
	w    seen
	e    end
}

func newWorld() *world {
	o := Options{RunTag: "abc", Fixtures: []fixtures.Fixture{fixture("a", "BOOKED", "12.34"), fixture("b", "CANCELED", "1.01"), fixture("c", "BOOKED", "0.01")}}
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	wd := &world{w: newWatcher(nil).snapshot(), e: end{cases: map[string]int{}, ledger: map[string]hkr.LedgerLine{}, bookedAt: map[string]time.Time{},
		pending: map[string]bool{}, probeErr: map[string]string{}}}
	for i := range 3 {
		p := o.plan(i)
		id := "sub-" + string(rune('0'+i))
		wd.subs = append(wd.subs, sent{planned: p, submissionID: id})
		at := t0.Add(time.Duration(i) * time.Second)
		wd.w.submitted[id] = at
		wd.w.decisions[id] = []fitconnect.FeedEntry{{SubmissionID: id, Event: fitconnect.EventAcceptSubmission, LoggedAt: at.Add(500 * time.Millisecond)}}
		wd.e.cases[id] = 1
		if p.fixture.Manifest.Payment.Status == "BOOKED" {
			ao := "AO-" + id
			wd.e.ledger[p.kassenzeichen] = hkr.LedgerLine{Kassenzeichen: p.kassenzeichen, Soll: p.amount(), Anordnungen: []string{ao}}
			wd.e.bookedAt[ao] = at.Add(800 * time.Millisecond)
		}
	}
	return wd
}

func (wd *world) judge() *Result {
	r := &Result{}
	r.judge(wd.subs, wd.w, wd.e)
	return r
}

func TestCleanRunPasses(t *testing.T) {
	r := newWorld().judge()
	if r.Verdict != Passed || len(r.Reasons) != 0 {
		t.Fatalf("verdict %s, reasons %v", r.Verdict, r.Reasons)
	}
	c := r.Completeness
	if c.Sent != 3 || c.Decided != 3 || c.Accepted != 3 || !c.FeesDue.Equal(decimal.RequireFromString("12.35")) || !c.FeesBooked.Equal(c.FeesDue) {
		t.Errorf("completeness %+v", c)
	}
	if r.Decision.Count != 3 || r.Decision.P50 != 500 || r.Booking.Count != 2 || r.Booking.Max != 800 {
		t.Errorf("latencies %+v %+v", r.Decision, r.Booking)
	}
}

func TestEachDefectIsNamed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(wd *world)
		reason string
	}{
		{"never decided", func(wd *world) { delete(wd.w.decisions, "sub-0") }, "1 lost"},
		{"no case", func(wd *world) { wd.e.cases["sub-1"] = 0 }, "1 lost"},
		{"two cases", func(wd *world) { wd.e.cases["sub-1"] = 2 }, "1 duplicated"},
		{"decided twice", func(wd *world) {
			wd.w.decisions["sub-2"] = append(wd.w.decisions["sub-2"], wd.w.decisions["sub-2"][0])
		}, "1 duplicated"},
		{"fee never booked", func(wd *world) { delete(wd.e.ledger, wd.subs[2].kassenzeichen) }, "1 lost"},
		{"booked twice", func(wd *world) {
			l := wd.e.ledger[wd.subs[0].kassenzeichen]
			l.Anordnungen = append(l.Anordnungen, "AO-again")
			l.Soll = l.Soll.Add(l.Soll)
			wd.e.ledger[wd.subs[0].kassenzeichen] = l
		}, "1 double-booked"},
		{"a cent off", func(wd *world) {
			l := wd.e.ledger[wd.subs[0].kassenzeichen]
			l.Soll = decimal.RequireFromString("12.33")
			wd.e.ledger[wd.subs[0].kassenzeichen] = l
		}, "1 fees booked with a wrong amount"},
		{"unpaid fee booked", func(wd *world) {
			k := wd.subs[1].kassenzeichen
			wd.e.ledger[k] = hkr.LedgerLine{Kassenzeichen: k, Soll: decimal.RequireFromString("1.01"), Anordnungen: []string{"AO-x"}}
		}, "1 fees booked although not paid"},
		{"pending", func(wd *world) { wd.e.pending["sub-0"] = true }, "1 bookings still pending"},
		{"rejected", func(wd *world) { wd.w.decisions["sub-1"][0].Event = fitconnect.EventRejectSubmission }, "1 valid submissions rejected"},
		{"timed out", func(wd *world) { wd.e.timedOut = true }, "had not settled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wd := newWorld()
			tc.break_(wd)
			r := wd.judge()
			if r.Verdict != Failed {
				t.Fatalf("verdict %s, want failed", r.Verdict)
			}
			if !slices.ContainsFunc(r.Reasons, func(s string) bool { return strings.Contains(s, tc.reason) }) {
				t.Errorf("reasons %q do not name %q", r.Reasons, tc.reason)
			}
		})
	}
}

func TestLatencyPercentilesAreNearestRank(t *testing.T) {
	var xs []float64
	for i := 1; i <= 100; i++ {
		xs = append(xs, float64(i))
	}
	l := latencyOf(xs)
	if l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || l.Max != 100 || l.Count != 100 {
		t.Errorf("%+v", l)
	}
	if l := latencyOf(nil); l.Count != 0 {
		t.Errorf("empty: %+v", l)
	}
}

func TestKassenzeichenAreUniquePerSubmission(t *testing.T) {
	o := Options{RunTag: "f3a", Fixtures: []fixtures.Fixture{fixture("a", "BOOKED", "1.00")}}
	seen := map[string]bool{}
	for i := range 20000 {
		k := o.plan(i).kassenzeichen
		if seen[k] {
			t.Fatalf("Kassenzeichen %s twice", k)
		}
		seen[k] = true
	}
	if k := o.plan(35).kassenzeichen; k != "5000.1234.0001.f3a0000z" {
		t.Errorf("plan 35: %s", k)
	}
}

func TestPlotsAreSelfContainedSVG(t *testing.T) {
	r := newWorld().judge()
	r.Disruptions = []Disruption{{Kind: KindHKROutage, Start: *r.Submissions[0].SubmittedAt, End: r.Submissions[0].SubmittedAt.Add(time.Second)}}
	for name, svg := range map[string]string{"timeline": r.TimelineSVG(), "histogram": r.HistogramSVG()} {
		if !strings.HasPrefix(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"") || !strings.HasSuffix(svg, "</svg>\n") {
			t.Errorf("%s is not one SVG element", name)
		}
		if strings.Contains(svg, "href") || strings.Count(svg, "http") != 1 {
			t.Errorf("%s refers to something outside itself", name)
		}
	}
}
