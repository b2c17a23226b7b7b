package fitconnect

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FeedPath is the control endpoint of the event feed.
const FeedPath = "/_konform/feed"

// FeedEntry is one event as it entered a case's log, in the order the mock logged them: what a
// load run reads to learn, cheaply and incrementally, when each submission was submitted and
// decided. LoggedAt is the mock's clock, so that latencies compare two readings of one clock.
type FeedEntry struct {
	Seq          int64     `json:"seq"`
	SubmissionID string    `json:"submissionId,omitempty"`
	CaseID       string    `json:"caseId"`
	Event        string    `json:"event"`
	Issuer       string    `json:"issuer"`
	LoggedAt     time.Time `json:"loggedAt"`
	Injected     bool      `json:"injected,omitempty"`
}

// feedLimit caps one page of the feed.
const feedLimit = 5000

// logEvent appends e to the case's log and to the feed; s.mu is held.
func (s *Server) logEvent(c *caseLog, e storedEvent) {
	c.events = append(c.events, e)
	s.feedSeq++
	s.feed = append(s.feed, FeedEntry{Seq: s.feedSeq, SubmissionID: strings.TrimPrefix(e.Subject, "submission:"),
		CaseID: c.id, Event: e.Event, Issuer: e.Issuer, LoggedAt: s.clock().UTC(), Injected: e.Injected})
}

// ctlFeed answers GET /_konform/feed?since=N: the entries after sequence number N, at most
// feedLimit of them.
func (s *Server) ctlFeed(w http.ResponseWriter, r *http.Request) {
	var since int64
	var err error
	if v := r.URL.Query().Get("since"); v != "" {
		since, err = strconv.ParseInt(v, 10, 64)
	}
	if err != nil || since < 0 {
		controlFail(w, http.StatusBadRequest, "since must be a sequence number ≥ 0")
		return
	}
	s.mu.Lock()
	// Sequence numbers start at 1 and have no gaps, so entry N sits at index N-1.
	start := min(int(since), len(s.feed))
	page := s.feed[start:min(start+feedLimit, len(s.feed))]
	out := append([]FeedEntry{}, page...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// Feed returns the feed entries after sequence number since (one page; call again with the
// last Seq until it returns none).
func (c *Control) Feed(ctx context.Context, since int64) ([]FeedEntry, error) {
	var out []FeedEntry
	err := c.do(ctx, http.MethodGet, FeedPath+"?since="+strconv.FormatInt(since, 10), nil, &out)
	return out, err
}
