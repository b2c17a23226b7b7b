package load

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/shopspring/decimal"

	"github.com/konform/konform/mocks/fitconnect"
)

// Verdicts of a load run.
const (
	Passed = "passed"
	Failed = "failed"
)

// Result is a load run: what was asked, how fast the SUT was, and the completeness proof.
// It is what load.json holds.
type Result struct {
	Options        OptionsSummary `json:"options"`
	StartedAt      time.Time      `json:"startedAt"`
	SendFinishedAt time.Time      `json:"sendFinishedAt"`
	FinishedAt     time.Time      `json:"finishedAt"`
	Disruptions    []Disruption   `json:"disruptions"`

	Throughput   Throughput   `json:"throughput"`
	Decision     Latency      `json:"submitToDecision"`
	Booking      Latency      `json:"submitToBooking"`
	Completeness Completeness `json:"completeness"`
	Kit          Usage        `json:"kit"`
	// MockDisk is the mocks' data folder (process runtime): its size at the end of the load and
	// whether it was gone after the mocks stopped.
	MockDisk *DiskUse `json:"mockDisk,omitempty"`

	Verdict string `json:"verdict"`
	// Reasons name every way the run failed the completeness proof.
	Reasons []string `json:"reasons"`

	Submissions []Outcome `json:"submissions"`
}

// OptionsSummary is what the run was asked to do.
type OptionsSummary struct {
	Submissions int      `json:"submissions"`
	Concurrency int      `json:"concurrency"`
	Rate        float64  `json:"ratePerSecond,omitempty"`
	HKROutage   string   `json:"hkrOutage,omitempty"`
	SUTRestart  bool     `json:"sutRestart,omitempty"`
	Fixtures    []string `json:"fixtures"`
}

func summarizeOptions(o Options) OptionsSummary {
	s := OptionsSummary{Submissions: o.Submissions, Concurrency: o.Concurrency, Rate: o.Rate, SUTRestart: o.RestartSUT}
	if o.HKROutage > 0 {
		s.HKROutage = o.HKROutage.String()
	}
	for _, f := range o.Fixtures {
		s.Fixtures = append(s.Fixtures, f.Manifest.ID)
	}
	return s
}

// Throughput is submissions per second: sent (the kit's sending) and decided (the SUT's
// decisions, from the first submit to the last decision).
type Throughput struct {
	SentPerSecond    float64 `json:"sentPerSecond"`
	DecidedPerSecond float64 `json:"decidedPerSecond"`
	PerHour          int     `json:"decidedPerHour"`
}

// Latency is the distribution of one latency over the submissions that reached it, in
// milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50Ms"`
	P95   float64 `json:"p95Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

// Completeness is the proof that nothing was lost or done twice.
type Completeness struct {
	Sent     int `json:"sent"`
	SendFail int `json:"sendFailed"` // the kit could not send (not the SUT's doing; the proof does not cover them)
	Decided  int `json:"decided"`
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	// Lost: sent but never decided; accepted without a case; a BOOKED fee never booked.
	Lost int `json:"lost"`
	// Duplicated: decided more than once, or more than one case for one submission.
	Duplicated int `json:"duplicated"`
	// DoubleBooked: a Kassenzeichen booked by more than one Anordnung.
	DoubleBooked int `json:"doubleBooked"`
	// WrongAmount: a Kassenzeichen whose booked Soll is not the fee, to the cent.
	WrongAmount int `json:"wrongAmount"`
	// BookedUnpaid: a fee booked although its payment was not BOOKED.
	BookedUnpaid int `json:"bookedUnpaid"`
	// Pending: a booking the probe still reports as pending at the end.
	Pending int `json:"pending"`
	// FeesBooked is the sum the HKR mock booked for this run's BOOKED fees; FeesDue what they add up to.
	FeesBooked decimal.Decimal `json:"feesBooked"`
	FeesDue    decimal.Decimal `json:"feesDue"`
}

// DiskUse is what the mocks kept on disk.
type DiskUse struct {
	Path        string  `json:"path"`
	MiBAtEnd    float64 `json:"mibAtEnd"`
	FreedAtExit bool    `json:"freedAtExit"`
}

// Usage is the kit process's own cost: CPU time and peak resident memory.
type Usage struct {
	CPUSeconds     float64 `json:"cpuSeconds"`
	CPUMsPerSubmit float64 `json:"cpuMsPerSubmission"`
	MaxRSSMiB      float64 `json:"maxRssMiB"`
	WallSeconds    float64 `json:"wallSeconds"`
}

type usageSample struct {
	cpu    time.Duration
	maxRSS int64 // KiB
	at     time.Time
}

func sampleUsage() usageSample {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return usageSample{cpu: cpu, maxRSS: ru.Maxrss, at: time.Now()}
}

func (u usageSample) since(before usageSample, n int) Usage {
	cpu := (u.cpu - before.cpu).Seconds()
	return Usage{CPUSeconds: round3(cpu), CPUMsPerSubmit: round3(cpu * 1000 / float64(max(n, 1))),
		MaxRSSMiB: round3(float64(u.maxRSS) / 1024), WallSeconds: round3(u.at.Sub(before.at).Seconds())}
}

// Outcome is one submission's path through the SUT.
type Outcome struct {
	Index         int             `json:"index"`
	Fixture       string          `json:"fixture"`
	SubmissionID  string          `json:"submissionId,omitempty"`
	Kassenzeichen string          `json:"kassenzeichen"`
	PaymentStatus string          `json:"paymentStatus"`
	Fee           decimal.Decimal `json:"fee"`
	SubmittedAt   *time.Time      `json:"submittedAt,omitempty"` // the delivery service's clock
	Decision      string          `json:"decision,omitempty"`    // accepted | rejected
	DecidedAt     *time.Time      `json:"decidedAt,omitempty"`   // the delivery service's clock
	Decisions     int             `json:"decisions"`
	Cases         int             `json:"cases"`
	Anordnungen   []string        `json:"anordnungen,omitempty"`
	Booked        decimal.Decimal `json:"booked"`
	BookedAt      *time.Time      `json:"bookedAt,omitempty"` // the HKR mock's clock, first Anordnung
	Problems      []string        `json:"problems,omitempty"`
	DecisionMs    float64         `json:"decisionMs,omitempty"`
	BookingMs     float64         `json:"bookingMs,omitempty"`
}

// judge builds the outcomes and the completeness proof from what the mocks and the probe report.
func (r *Result) judge(subs []sent, w seen, e end) {
	c := &r.Completeness
	c.FeesBooked, c.FeesDue = decimal.Zero, decimal.Zero
	var decisionMs, bookingMs []float64
	var firstSubmit, lastDecision time.Time
	for _, s := range subs {
		o := Outcome{Index: s.index, Fixture: s.fixture.Manifest.ID, SubmissionID: s.submissionID, Kassenzeichen: s.kassenzeichen,
			PaymentStatus: s.fixture.Manifest.Payment.Status, Fee: s.amount(), Booked: decimal.Zero}
		problem := func(format string, a ...any) { o.Problems = append(o.Problems, fmt.Sprintf(format, a...)) }
		if s.err != nil {
			c.SendFail++
			problem("the kit could not send it: %v", s.err)
			r.Submissions = append(r.Submissions, o)
			continue
		}
		c.Sent++
		if t, ok := w.submittedAt(s.submissionID); ok {
			o.SubmittedAt = &t
			if firstSubmit.IsZero() || t.Before(firstSubmit) {
				firstSubmit = t
			}
		}
		ds := w.decisionsOf(s.submissionID)
		o.Decisions = len(ds)
		o.Cases = e.cases[s.submissionID]
		switch {
		case len(ds) == 0:
			c.Lost++
			problem("never decided")
		case len(ds) > 1:
			c.Duplicated++
			problem("decided %d times", len(ds))
		}
		if len(ds) > 0 {
			c.Decided++
			d := ds[0]
			o.DecidedAt = &d.LoggedAt
			if d.LoggedAt.After(lastDecision) {
				lastDecision = d.LoggedAt
			}
			if o.SubmittedAt != nil {
				o.DecisionMs = ms(d.LoggedAt.Sub(*o.SubmittedAt))
				decisionMs = append(decisionMs, o.DecisionMs)
			}
			if d.Event == fitconnect.EventAcceptSubmission {
				o.Decision = "accepted"
				c.Accepted++
			} else {
				o.Decision = "rejected"
				c.Rejected++
				problem("rejected, although the fixture is valid")
			}
		}
		if o.Decision == "accepted" {
			switch {
			case o.Cases == 0:
				c.Lost++
				problem("accepted, but the probe lists no case for it")
			case o.Cases > 1:
				c.Duplicated++
				problem("%d cases for one submission", o.Cases)
			}
		}
		if e.pending[s.submissionID] {
			c.Pending++
			problem("a booking is still pending")
		}
		if msg, ok := e.probeErr[s.submissionID]; ok {
			problem("probe: %s", msg)
		}
		line, booked := e.ledger[s.kassenzeichen]
		if booked {
			o.Anordnungen, o.Booked = line.Anordnungen, line.Soll
			for _, a := range line.Anordnungen {
				if t, ok := e.bookedAt[a]; ok && (o.BookedAt == nil || t.Before(*o.BookedAt)) {
					o.BookedAt = &t
				}
			}
			booked = len(line.Anordnungen) > 0
		}
		if o.PaymentStatus == "BOOKED" {
			c.FeesDue = c.FeesDue.Add(o.Fee)
			c.FeesBooked = c.FeesBooked.Add(o.Booked)
			switch {
			case o.Decision == "accepted" && !booked:
				c.Lost++
				problem("its BOOKED fee of %s never reached the HKR system", o.Fee.StringFixed(2))
			case len(o.Anordnungen) > 1:
				c.DoubleBooked++
				problem("booked by %d Anordnungen: %s", len(o.Anordnungen), strings.Join(o.Anordnungen, ", "))
			case booked && !o.Booked.Equal(o.Fee):
				c.WrongAmount++
				problem("booked %s, the fee is %s", o.Booked.StringFixed(2), o.Fee.StringFixed(2))
			}
			if o.BookedAt != nil && o.SubmittedAt != nil {
				o.BookingMs = ms(o.BookedAt.Sub(*o.SubmittedAt))
				bookingMs = append(bookingMs, o.BookingMs)
			}
		} else if booked {
			c.BookedUnpaid++
			problem("booked %s although the payment is %s", o.Booked.StringFixed(2), o.PaymentStatus)
		}
		r.Submissions = append(r.Submissions, o)
	}
	if msg, ok := e.probeErr["*"]; ok {
		r.Reasons = append(r.Reasons, "the probe's case list could not be read: "+msg)
	}
	r.Decision, r.Booking = latencyOf(decisionMs), latencyOf(bookingMs)
	if d := r.SendFinishedAt.Sub(r.StartedAt).Seconds(); d > 0 {
		r.Throughput.SentPerSecond = round3(float64(c.Sent) / d)
	}
	if d := lastDecision.Sub(firstSubmit).Seconds(); d > 0 && c.Decided > 0 {
		r.Throughput.DecidedPerSecond = round3(float64(c.Decided) / d)
		r.Throughput.PerHour = int(float64(c.Decided) / d * 3600)
	}
	r.verdict(e)
}

func (r *Result) verdict(e end) {
	c := r.Completeness
	add := func(n int, what string) {
		if n > 0 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(c.SendFail, "submissions the kit could not send (not proven either way)")
	add(c.Lost, "lost (never decided, accepted without a case, or a BOOKED fee never booked)")
	add(c.Duplicated, "duplicated (decided more than once or more than one case)")
	add(c.DoubleBooked, "double-booked fees")
	add(c.WrongAmount, "fees booked with a wrong amount")
	add(c.BookedUnpaid, "fees booked although not paid")
	add(c.Pending, "bookings still pending")
	add(c.Rejected, "valid submissions rejected")
	for _, d := range r.Disruptions {
		if d.Error != "" {
			r.Reasons = append(r.Reasons, fmt.Sprintf("the %s could not be injected: %s", d.Kind, d.Error))
		}
	}
	if e.timedOut {
		r.Reasons = append(r.Reasons, "the SUT had not settled: nothing changed for --settle-timeout")
	}
	if !c.FeesBooked.Equal(c.FeesDue) {
		r.Reasons = append(r.Reasons, fmt.Sprintf("booked %s of %s in BOOKED fees", c.FeesBooked.StringFixed(2), c.FeesDue.StringFixed(2)))
	}
	r.Reasons = slices.Compact(r.Reasons)
	if len(r.Reasons) == 0 {
		r.Verdict = Passed
		r.Reasons = []string{}
		return
	}
	r.Verdict = Failed
}

// latencyOf is the nearest-rank percentiles of xs.
func latencyOf(xs []float64) Latency {
	if len(xs) == 0 {
		return Latency{}
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return Latency{Count: len(s), P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: s[len(s)-1]}
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
