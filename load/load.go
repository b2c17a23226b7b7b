// Package load drives many submissions through the delivery service mock into a SUT, measures
// how long the SUT takes to decide them and to book their fees, and then proves that nothing
// was lost or done twice: every submission decided exactly once (the delivery service's event
// log), one case per accepted submission (the probe), every BOOKED fee booked exactly once and
// to the cent (the HKR mock's ledger), nothing left pending (the probe).
//
// Like the suites, it only acts as the online service and reads what the mocks recorded and what
// the SUT reports; the mocks decide nothing.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/hkr"
	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/probe"
	"github.com/konform/konform/runenv"
)

// Options is one load run.
type Options struct {
	Submissions int
	// Concurrency bounds the submissions being sent at once.
	Concurrency int
	// Rate, when > 0, paces the sends at this many submissions per second (still at most
	// Concurrency at once); 0 sends as fast as Concurrency allows.
	Rate float64
	// Fixtures are cycled; each must carry a payment.
	Fixtures []fixtures.Fixture
	// Build turns a fixture into a submission (a fresh message of the online service).
	Build func(fixtures.Fixture) sender.Submission
	// RunTag makes this run's Kassenzeichen its own (three characters).
	RunTag string

	Sender   *sender.Sender
	Delivery *fitconnect.Control
	HKR      *hkr.Control
	SUT      runenv.SUT

	// HKROutage, when > 0, makes the HKR mock answer 503 for this long, starting once a third
	// of the submissions are sent.
	HKROutage time.Duration
	// RestartSUT restarts the SUT (hard stop, state kept) once half of the submissions are sent.
	RestartSUT bool
	// SettleTimeout ends the wait for decisions and bookings once the SUT has made no progress
	// (no new decision, booking or settled booking) for this long.
	SettleTimeout time.Duration
	// Progress receives a line now and then; nil: none.
	Progress io.Writer
}

// Validate names what is wrong with o.
func (o Options) Validate() error {
	switch {
	case o.Submissions < 1:
		return fmt.Errorf("--submissions must be at least 1, not %d", o.Submissions)
	case o.Submissions > maxSubmissions:
		return fmt.Errorf("--submissions must be at most %d, not %d", maxSubmissions, o.Submissions)
	case o.Concurrency < 1:
		return fmt.Errorf("--concurrency must be at least 1, not %d", o.Concurrency)
	case o.Rate < 0:
		return fmt.Errorf("--rate must not be negative, not %v", o.Rate)
	case len(o.Fixtures) == 0:
		return errors.New("no fixture with a payment to send")
	case o.HKROutage < 0:
		return fmt.Errorf("--hkr-outage must not be negative, not %s", o.HKROutage)
	case len(o.RunTag) != 3:
		return fmt.Errorf("run tag %q must have three characters", o.RunTag)
	}
	for _, f := range o.Fixtures {
		if f.Manifest.Payment == nil {
			return fmt.Errorf("fixture %s carries no payment", f.Manifest.ID)
		}
	}
	return nil
}

// maxSubmissions keeps the Kassenzeichen suffix (run tag + five base-36 digits) unique.
const maxSubmissions = 36 * 36 * 36 * 36 * 36

// planned is one submission of the run, as the kit sends it.
type planned struct {
	index         int
	fixture       fixtures.Fixture
	kassenzeichen string
	transactionID string
}

func (o Options) plan(i int) planned {
	f := o.Fixtures[i%len(o.Fixtures)]
	p := f.Manifest.Payment
	sfx := o.RunTag + fmt.Sprintf("%05s", strconv.FormatInt(int64(i), 36))
	return planned{index: i, fixture: f, kassenzeichen: p.TransactionReference + "." + sfx, transactionID: p.TransactionID + "-" + sfx}
}

// sent is what the kit knows of one submission after sending it.
type sent struct {
	planned
	submissionID, caseID string
	sentAt, returnedAt   time.Time
	err                  error
}

// Run drives the load and proves completeness. An error means the run could not be carried
// out (the kit's environment); what the SUT did wrong is in the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = 2 * time.Minute
	}
	restore, err := leanRecording(ctx, o)
	if err != nil {
		return nil, err
	}
	defer restore()
	r := &Result{Options: summarizeOptions(o), StartedAt: time.Now().UTC()}
	usage0 := sampleUsage()

	watch := newWatcher(o.Delivery)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watchDone := make(chan error, 1)
	go func() { watchDone <- watch.run(wctx) }()

	subs := make([]sent, o.Submissions)
	disruptions := newDisruptions(o)
	var count atomic.Int64
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				subs[i] = send(ctx, o, o.plan(i))
				n := int(count.Add(1))
				disruptions.at(ctx, n)
				if o.Progress != nil && n%progressEvery(o.Submissions) == 0 {
					fmt.Fprintf(o.Progress, "  sent %d/%d, decided %d\n", n, o.Submissions, watch.decidedCount())
				}
			}
		}()
	}
	pace := pacer(o.Rate)
	for i := 0; i < o.Submissions && ctx.Err() == nil; i++ {
		if err := pace(ctx); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	r.SendFinishedAt = time.Now().UTC()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load interrupted: %w", err)
	}

	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "  all %d sent in %s; waiting for the SUT's decisions and bookings\n", o.Submissions, r.SendFinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	}
	disruptions.wait()
	r.Disruptions = disruptions.list()
	end, snap, err := settle(ctx, o, subs, watch)
	if err != nil {
		return nil, err
	}
	stopWatch()
	if err := <-watchDone; err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	r.FinishedAt = time.Now().UTC()
	usage1 := sampleUsage()
	r.Kit = usage1.since(usage0, o.Submissions)
	r.judge(subs, snap, end)
	return r, nil
}

// loadRetention is what the mocks keep while the load runs: heads of the latest exchanges, so
// that their memory stays flat over thousands of submissions. The load's evidence is its own
// per-submission record (load.json).
var loadRetention = recorder.Retention{HeadsOnly: true, MaxExchanges: 2000}

// leanRecording sets loadRetention at the delivery service and HKR mocks and returns the
// function that restores full recording (mocks of `mocks up` outlive the load).
func leanRecording(ctx context.Context, o Options) (func(), error) {
	if err := o.Delivery.SetRetention(ctx, loadRetention); err != nil {
		return nil, fmt.Errorf("delivery service mock: %w", err)
	}
	if err := o.HKR.SetRetention(ctx, loadRetention); err != nil {
		return nil, fmt.Errorf("HKR mock: %w", err)
	}
	return func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = o.Delivery.SetRetention(cctx, recorder.Retention{})
		_ = o.HKR.SetRetention(cctx, recorder.Retention{})
	}, nil
}

func progressEvery(n int) int { return max(n/10, 1) }

// send sends one planned submission with its payment made this run's own; a send that fails
// for a reason of the kit's side (a dropped connection) is tried again, twice.
func send(ctx context.Context, o Options, p planned) sent {
	s := sent{planned: p}
	for attempt := 0; attempt < 3; attempt++ {
		sub := o.Build(p.fixture)
		sub.Payment.TransactionReference, sub.Payment.TransactionID = p.kassenzeichen, p.transactionID
		s.sentAt = time.Now().UTC()
		res, err := o.Sender.Send(ctx, sub)
		s.returnedAt = time.Now().UTC()
		if err == nil {
			s.submissionID, s.caseID, s.err = res.SubmissionID, res.CaseID, nil
			return s
		}
		s.err = err
		if ctx.Err() != nil {
			break
		}
	}
	return s
}

// pacer returns a function that blocks until the next send is due.
func pacer(rate float64) func(context.Context) error {
	if rate <= 0 {
		return func(ctx context.Context) error { return ctx.Err() }
	}
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	n := 0
	return func(ctx context.Context) error {
		due := start.Add(time.Duration(n) * interval)
		n++
		t := time.NewTimer(time.Until(due))
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
}

// end is what the SUT and the HKR mock report once the run settled (or the wait ended).
type end struct {
	cases    map[string]int // submission ID → cases the probe lists for it
	ledger   map[string]hkr.LedgerLine
	bookedAt map[string]time.Time // anordnungsNummerExtern → when the HKR mock booked it
	pending  map[string]bool      // submission ID → a booking is still pending at the probe
	probeErr map[string]string    // submission ID → why its probe record could not be read
	timedOut bool
}

// settle waits until every sent submission is decided, every BOOKED fee of an accepted one is in
// the HKR ledger and the probe lists no pending booking — as long as the SUT makes progress: it
// gives up once nothing changed for o.SettleTimeout. It returns the final state and the decisions
// known before it was read.
func settle(ctx context.Context, o Options, subs []sent, w *watcher) (end, seen, error) {
	var lastMark string
	lastChange, lastPrint := time.Now(), time.Now()
	for {
		// Without the feed no decision can be seen: that is the kit's failure, not the SUT's.
		if err := w.failed(); err != nil && ctx.Err() == nil {
			return end{}, seen{}, err
		}
		snap := w.snapshot()
		undecided := 0
		for _, s := range subs {
			if s.err == nil && len(snap.decisionsOf(s.submissionID)) == 0 {
				undecided++
			}
		}
		mark := fmt.Sprint(undecided)
		if undecided == 0 {
			e, err := readEnd(ctx, o, subs, snap, false)
			if err != nil {
				return e, snap, err
			}
			if e.complete(subs, snap) {
				// Only now ask the probe about every accepted submission: once per round of
				// 10 000 would be a load of its own.
				if e, err = readEnd(ctx, o, subs, snap, true); err != nil || e.complete(subs, snap) {
					return e, snap, err
				}
			}
			mark += fmt.Sprintf("/%d/%d", len(e.ledger), len(e.pending))
		}
		if mark != lastMark {
			lastMark, lastChange = mark, time.Now()
		}
		if time.Since(lastChange) > o.SettleTimeout {
			snap = w.snapshot()
			e, err := readEnd(ctx, o, subs, snap, true)
			e.timedOut = true
			return e, snap, err
		}
		if o.Progress != nil && time.Since(lastPrint) >= 5*time.Second {
			fmt.Fprintf(o.Progress, "  %d of %d still undecided\n", undecided, len(subs))
			lastPrint = time.Now()
		}
		select {
		case <-ctx.Done():
			return end{}, snap, fmt.Errorf("load interrupted: %w", ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// complete says whether nothing is left to wait for: every sent submission decided, every BOOKED
// fee of an accepted one in the ledger, no booking pending at the probe.
func (e end) complete(subs []sent, w seen) bool {
	if len(e.pending) > 0 || len(e.probeErr) > 0 {
		return false
	}
	for _, s := range subs {
		if s.err != nil {
			continue
		}
		d := w.decisionsOf(s.submissionID)
		if len(d) == 0 {
			return false
		}
		if d[0].Event == fitconnect.EventAcceptSubmission && s.fixture.Manifest.Payment.Status == "BOOKED" {
			if _, ok := e.ledger[s.kassenzeichen]; !ok {
				return false
			}
		}
	}
	return true
}

func readEnd(ctx context.Context, o Options, subs []sent, w seen, records bool) (end, error) {
	e := end{cases: map[string]int{}, ledger: map[string]hkr.LedgerLine{}, bookedAt: map[string]time.Time{},
		pending: map[string]bool{}, probeErr: map[string]string{}}
	lines, err := o.HKR.Ledger(ctx)
	if err != nil {
		return e, fmt.Errorf("reading the HKR mock's ledger: %w", err)
	}
	for _, l := range lines {
		e.ledger[l.Kassenzeichen] = l
	}
	bookings, err := o.HKR.Bookings(ctx)
	if err != nil {
		return e, fmt.Errorf("reading the HKR mock's bookings: %w", err)
	}
	for _, b := range bookings {
		e.bookedAt[b.AnordnungsNummerExtern] = b.BookedAt
	}
	// The probe's address is asked anew: a restarted container may answer on another port.
	probeClient := probe.New(o.SUT.ProbeURL())
	cases, err := probeClient.Cases(ctx)
	if err != nil {
		e.probeErr["*"] = err.Error()
	}
	for _, c := range cases {
		e.cases[c.SubmissionID]++
	}
	if !records {
		return e, nil
	}
	// The probe record of every accepted submission tells whether a booking is still pending.
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				rec, found, err := probeClient.Record(ctx, id)
				mu.Lock()
				switch {
				case err != nil:
					e.probeErr[id] = err.Error()
				case !found:
					e.probeErr[id] = "the probe has no record of it"
				default:
					for _, b := range rec.Bookings {
						if b.State == contract.BookingPending {
							e.pending[id] = true
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, s := range subs {
		if s.err != nil {
			continue
		}
		if d := w.decisionsOf(s.submissionID); len(d) > 0 && d[0].Event == fitconnect.EventAcceptSubmission {
			work <- s.submissionID
		}
	}
	close(work)
	wg.Wait()
	return e, nil
}

// amountOf is the fee of a planned submission.
func (p planned) amount() decimal.Decimal { return p.fixture.Manifest.Payment.GrossAmount.Decimal }
