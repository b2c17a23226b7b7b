package load

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/konform/konform/mocks/fitconnect"
)

// seen is what the feed told so far: when each submission was submitted, and every decision
// logged for it.
type seen struct {
	submitted map[string]time.Time
	decisions map[string][]fitconnect.FeedEntry
}

func (v seen) decisionsOf(id string) []fitconnect.FeedEntry { return v.decisions[id] }

func (v seen) submittedAt(id string) (time.Time, bool) {
	t, ok := v.submitted[id]
	return t, ok
}

// watcher follows the delivery service mock's event feed.
type watcher struct {
	ctl *fitconnect.Control

	mu      sync.Mutex
	seq     int64
	seen    seen
	decided int
	err     error // why the feed could not be read; the watcher has stopped
}

func newWatcher(ctl *fitconnect.Control) *watcher {
	return &watcher{ctl: ctl, seen: seen{submitted: map[string]time.Time{}, decisions: map[string][]fitconnect.FeedEntry{}}}
}

// snapshot copies what the feed told so far. Judging reads a snapshot taken before it reads the
// SUT's cases and the HKR ledger: a decision logged after that read would otherwise look like an
// accepted submission without its case.
func (w *watcher) snapshot() seen {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := seen{submitted: make(map[string]time.Time, len(w.seen.submitted)), decisions: make(map[string][]fitconnect.FeedEntry, len(w.seen.decisions))}
	for k, t := range w.seen.submitted {
		v.submitted[k] = t
	}
	for k, d := range w.seen.decisions {
		v.decisions[k] = d[:len(d):len(d)]
	}
	return v
}

// feedInterval is how often the feed is read: it bounds how late the kit learns of a decision,
// not the latency measured (that is the mock's own clock).
const feedInterval = 200 * time.Millisecond

func (w *watcher) run(ctx context.Context) error {
	t := time.NewTicker(feedInterval)
	defer t.Stop()
	for {
		if err := w.poll(ctx); err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// poll reads the feed up to its end.
func (w *watcher) poll(ctx context.Context) error {
	for {
		w.mu.Lock()
		since := w.seq
		w.mu.Unlock()
		page, err := w.ctl.Feed(ctx, since)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading the delivery service mock's event feed: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		w.mu.Lock()
		for _, e := range page {
			w.seq = e.Seq
			switch e.Event {
			case fitconnect.EventSubmitSubmission:
				w.seen.submitted[e.SubmissionID] = e.LoggedAt
			case fitconnect.EventAcceptSubmission, fitconnect.EventRejectSubmission:
				if len(w.seen.decisions[e.SubmissionID]) == 0 {
					w.decided++
				}
				w.seen.decisions[e.SubmissionID] = append(w.seen.decisions[e.SubmissionID], e)
			}
		}
		w.mu.Unlock()
	}
}

// failed returns why the watcher stopped reading the feed, if it did.
func (w *watcher) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *watcher) decidedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.decided
}
