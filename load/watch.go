package load

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/konform/konform/mocks/fitconnect"
)

// watcher follows the delivery service mock's event feed: when each submission was submitted
// and every decision the SUT logged for it.
type watcher struct {
	ctl *fitconnect.Control

	mu        sync.Mutex
	seq       int64
	submitted map[string]time.Time
	decisions map[string][]fitconnect.FeedEntry
	decided   int
}

func newWatcher(ctl *fitconnect.Control) *watcher {
	return &watcher{ctl: ctl, submitted: map[string]time.Time{}, decisions: map[string][]fitconnect.FeedEntry{}}
}

// feedInterval is how often the feed is read: it bounds how late the kit learns of a decision,
// not the latency measured (that is the mock's own clock).
const feedInterval = 200 * time.Millisecond

func (w *watcher) run(ctx context.Context) error {
	t := time.NewTicker(feedInterval)
	defer t.Stop()
	for {
		if err := w.poll(ctx); err != nil {
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
				w.submitted[e.SubmissionID] = e.LoggedAt
			case fitconnect.EventAcceptSubmission, fitconnect.EventRejectSubmission:
				if len(w.decisions[e.SubmissionID]) == 0 {
					w.decided++
				}
				w.decisions[e.SubmissionID] = append(w.decisions[e.SubmissionID], e)
			}
		}
		w.mu.Unlock()
	}
}

func (w *watcher) decidedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.decided
}

func (w *watcher) decisionsOf(id string) []fitconnect.FeedEntry {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.decisions[id]
}

func (w *watcher) submittedAt(id string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.submitted[id]
	return t, ok
}

// awaitDecisions returns once every submission in want has a decision, or ctx ends.
func (w *watcher) awaitDecisions(ctx context.Context, want map[string]bool, progress io.Writer) {
	last := time.Now()
	for {
		missing := 0
		w.mu.Lock()
		for id := range want {
			if len(w.decisions[id]) == 0 {
				missing++
			}
		}
		w.mu.Unlock()
		if missing == 0 {
			return
		}
		if progress != nil && time.Since(last) >= 5*time.Second {
			fmt.Fprintf(progress, "  %d of %d still undecided\n", missing, len(want))
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(feedInterval):
		}
	}
}
