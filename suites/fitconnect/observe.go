package fitconnect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/suites/drive"
)

// problemPrefix is the namespace of the problem types of a reject-submission event.
const problemPrefix = "https://schema.fitko.de/fit-connect/events/problems/"

// problem is one entry of a reject-submission event as the SUT posted it.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// authTags are the authenticationTags of a submit- or accept-submission event.
type authTags struct {
	Metadata    string            `json:"metadata"`
	Data        string            `json:"data,omitempty"`
	Attachments map[string]string `json:"attachments,omitempty"`
}

// submissionState returns the delivery service's view of one submission.
func submissionState(ctx context.Context, env *runenv.Env, id string) (fitconnect.SubmissionState, error) {
	return drive.Control(env).Submission(ctx, id)
}

// eventsOf returns the submission's events of the given type, in log order.
func eventsOf(s fitconnect.SubmissionState, event string) []fitconnect.EventRecord {
	var out []fitconnect.EventRecord
	for _, e := range s.Events {
		if e.Event == event {
			out = append(out, e)
		}
	}
	return out
}

// decisionsOf returns the accept- and reject-submission events the receiver posted.
func decisionsOf(s fitconnect.SubmissionState) []fitconnect.EventRecord {
	var out []fitconnect.EventRecord
	for _, e := range s.Events {
		if e.Event == fitconnect.EventAcceptSubmission || e.Event == fitconnect.EventRejectSubmission {
			out = append(out, e)
		}
	}
	return out
}

// awaitDecisionEvent waits until the receiver posted a decision for the submission to the
// delivery service, and returns the submission then.
func awaitDecisionEvent(ctx context.Context, env *runenv.Env, id string, within time.Duration) (fitconnect.SubmissionState, error) {
	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		s, err := submissionState(wctx, env, id)
		if err == nil && len(decisionsOf(s)) > 0 {
			return s, nil
		}
		select {
		case <-wctx.Done():
			if err != nil {
				return s, err
			}
			return s, fmt.Errorf("no accept- or reject-submission for submission %s within %s (state %q)", id, within, s.State)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// problemsOf decodes the problems of a reject-submission event.
func problemsOf(e fitconnect.EventRecord) ([]problem, error) {
	var p struct {
		Problems []problem `json:"problems"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("reject-submission payload is not {problems:[…]}: %v", err)
	}
	return p.Problems, nil
}

// tagsOf decodes the authenticationTags of a submit- or accept-submission event.
func tagsOf(e fitconnect.EventRecord) (authTags, error) {
	var p struct {
		AuthenticationTags *authTags `json:"authenticationTags"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil || p.AuthenticationTags == nil {
		return authTags{}, fmt.Errorf("%s carries no authenticationTags: %s", e.Event, e.Payload)
	}
	if p.AuthenticationTags.Attachments == nil {
		p.AuthenticationTags.Attachments = map[string]string{}
	}
	return *p.AuthenticationTags, nil
}

// lastSeq is the sequence number of the delivery service's latest recorded exchange.
func lastSeq(ctx context.Context, env *runenv.Env) (int64, error) {
	return drive.Control(env).LastSeq(ctx)
}

// listing is one submission listing the SUT asked for.
type listing struct {
	Seq           int64
	Offset, Limit int
	Status        int
	Time          time.Time
	// Count and Total are the count and totalCount the delivery service answered (its note on
	// the exchange); -1 when it noted none.
	Count, Total int
}

func (l listing) String() string {
	return fmt.Sprintf("{offset %d, limit %d: %d, count %d of %d}", l.Offset, l.Limit, l.Status, l.Count, l.Total)
}

// readListingNote reads the delivery service's note "listing: offset O, count C, totalCount T".
func readListingNote(note string) (count, total int) {
	var off int
	if _, err := fmt.Sscanf(note, "listing: offset %d, count %d, totalCount %d", &off, &count, &total); err != nil {
		return -1, -1
	}
	return count, total
}

// listingsSince returns the SUT's submission listings recorded after seq.
func listingsSince(ctx context.Context, env *runenv.Env, seq int64) ([]listing, error) {
	ex, err := drive.Control(env).Exchanges(ctx, seq)
	if err != nil {
		return nil, err
	}
	return listingsIn(ex), nil
}

// listingsIn returns the SUT's submission listings among ex.
func listingsIn(ex []recorder.Exchange) []listing {
	var out []listing
	for _, e := range ex {
		if e.Method != "GET" || e.Direction != "inbound" {
			continue
		}
		u, err := url.Parse(e.URL)
		if err != nil || u.Path != "/v1/submissions" {
			continue
		}
		l := listing{Seq: e.Seq, Status: e.Status, Time: e.Time, Limit: 100}
		l.Count, l.Total = readListingNote(e.Note)
		if v := u.Query().Get("offset"); v != "" {
			l.Offset, _ = strconv.Atoi(v)
		}
		if v := u.Query().Get("limit"); v != "" {
			l.Limit, _ = strconv.Atoi(v)
		}
		out = append(out, l)
	}
	return out
}

// fetchesOf returns the SUT's requests for the submission (or its attachments) after seq.
func fetchesOf(ctx context.Context, env *runenv.Env, seq int64, submissionID string) ([]recorder.Exchange, error) {
	ex, err := drive.Control(env).Exchanges(ctx, seq)
	if err != nil {
		return nil, err
	}
	var out []recorder.Exchange
	for _, e := range ex {
		if e.Method == "GET" && e.Direction == "inbound" && strings.HasPrefix(e.URL, "/v1/submissions/"+submissionID) {
			out = append(out, e)
		}
	}
	return out, nil
}

// resetEventPosts returns the event posts the delivery service dropped by a reset fault after seq.
func resetEventPosts(ctx context.Context, env *runenv.Env, seq int64, caseID string) (int, error) {
	ex, err := drive.Control(env).Exchanges(ctx, seq)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ex {
		if e.Method == "POST" && e.URL == "/v1/cases/"+caseID+"/events" && strings.HasPrefix(e.Note, "fault: connection reset") {
			n++
		}
	}
	return n, nil
}

// pagingVerdict judges the SUT's listing pages ("" when it read them right): within a round
// (a page at offset 0 and the pages after it), every page must start at the previous page's
// offset + count, and at least one round that needed more than one page must read on until
// totalCount. Pages that were not answered 200 are left out.
func pagingVerdict(ls []listing) string {
	var rounds [][]listing
	for _, l := range ls {
		if l.Status != 200 {
			continue
		}
		if l.Offset == 0 {
			rounds = append(rounds, nil)
		}
		if len(rounds) > 0 {
			rounds[len(rounds)-1] = append(rounds[len(rounds)-1], l)
		}
	}
	paged, widest := false, 0
	for _, r := range rounds {
		for i := 1; i < len(r); i++ {
			prev := r[i-1]
			if want := prev.Offset + prev.Count; r[i].Offset != want {
				return fmt.Sprintf("the SUT asked for the page at offset %d right after the page at offset %d, which answered count %d of totalCount %d: the next page starts at offset + count = %d; its pager skips or repeats submissions",
					r[i].Offset, prev.Offset, prev.Count, prev.Total, want)
			}
		}
		first, last := r[0], r[len(r)-1]
		widest = max(widest, first.Total)
		if first.Count < first.Total && last.Offset+last.Count >= last.Total {
			paged = true
		}
	}
	if !paged {
		return fmt.Sprintf("the listing answered fewer submissions per page than totalCount (up to %d waiting), and the SUT never read on from offset + count to totalCount: it reads only the first page", widest)
	}
	return ""
}
