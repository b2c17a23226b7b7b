package load

import (
	"context"
	"sync"
	"time"

	"github.com/konform/konform/mocks/hkr"
)

// Disruption is one fault the run injected while the load ran.
type Disruption struct {
	Kind   string    `json:"kind"` // "hkr-outage" or "sut-restart"
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Detail string    `json:"detail"`
	Error  string    `json:"error,omitempty"` // the fault could not be injected
}

// Disruption kinds.
const (
	KindHKROutage  = "hkr-outage"
	KindSUTRestart = "sut-restart"
)

// disruptions fires each configured fault once, when the nth submission has been sent.
type disruptions struct {
	o    Options
	mu   sync.Mutex
	done []Disruption
	once struct{ outage, restart sync.Once }
	wg   sync.WaitGroup
}

func newDisruptions(o Options) *disruptions { return &disruptions{o: o} }

// at is told that n submissions are sent.
func (d *disruptions) at(ctx context.Context, n int) {
	if d.o.HKROutage > 0 && n >= max(d.o.Submissions/3, 1) {
		d.once.outage.Do(func() { d.start(func() Disruption { return d.outage(ctx) }) })
	}
	if d.o.RestartSUT && n >= max(d.o.Submissions/2, 1) {
		d.once.restart.Do(func() { d.start(func() Disruption { return d.restart(ctx) }) })
	}
}

func (d *disruptions) start(f func() Disruption) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		r := f()
		d.mu.Lock()
		d.done = append(d.done, r)
		d.mu.Unlock()
	}()
}

// outage makes the HKR mock answer every message with 503 for the configured time. The wait is
// the fault's length, which the user chose; it waits on nothing the SUT does.
func (d *disruptions) outage(ctx context.Context) Disruption {
	r := Disruption{Kind: KindHKROutage, Start: time.Now().UTC(), Detail: "the HKR mock answers every message with 503 for " + d.o.HKROutage.String()}
	if err := d.o.HKR.AddFault(ctx, hkr.Fault{Kind: hkr.FaultUnavailable, Probability: 1}); err != nil {
		r.Error, r.End = err.Error(), time.Now().UTC()
		return r
	}
	t := time.NewTimer(d.o.HKROutage)
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	t.Stop()
	// Cleared also when the run is interrupted, so that a shared HKR mock is left working.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.o.HKR.ClearFaults(cctx); err != nil {
		r.Error = "clearing the outage: " + err.Error()
	}
	r.End = time.Now().UTC()
	return r
}

// restart stops the SUT hard and starts it again with its state, then waits for its probe.
func (d *disruptions) restart(ctx context.Context) Disruption {
	r := Disruption{Kind: KindSUTRestart, Start: time.Now().UTC(), Detail: "the SUT is stopped hard and started again with its state"}
	if err := d.o.SUT.Restart(ctx); err != nil {
		r.Error = err.Error()
	}
	r.End = time.Now().UTC()
	return r
}

// wait returns once every fault fired is over.
func (d *disruptions) wait() { d.wg.Wait() }

func (d *disruptions) list() []Disruption {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Disruption{}, d.done...)
}
