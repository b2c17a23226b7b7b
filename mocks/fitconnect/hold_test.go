package fitconnect

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestHoldHidesSubmissionsUntilReleased(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	snd, sub := e.token(senderID), e.token(subscriberID)
	before := e.createAndSubmit(snd, 1, nil)
	must(t, e.ctl.Hold(ctx, e.destID))
	held := e.createAndSubmit(snd, 1, nil)

	list := e.call("GET", "/v1/submissions?destinationId="+e.destID, sub, "", nil)
	expect(t, list, 200)
	if strings.Contains(string(list.body), held.sub) || !strings.Contains(string(list.body), before.sub) {
		t.Fatalf("listing during hold shows the held submission or hides the earlier one: %s", list.body)
	}
	if tc := list.json(t)["totalCount"]; tc != float64(1) {
		t.Fatalf("totalCount %v during hold, want 1", tc)
	}
	expect(t, e.call("GET", "/v1/submissions/"+held.sub, sub, "", nil), 404)
	states, err := e.ctl.Submissions(ctx)
	must(t, err)
	if !states[1].Held || states[0].Held {
		t.Fatalf("snapshot held flags: %+v / %+v", states[0].Held, states[1].Held)
	}

	released, err := e.ctl.Release(ctx, e.destID)
	must(t, err)
	if len(released) != 1 || released[0] != held.sub {
		t.Fatalf("released %v, want [%s]", released, held.sub)
	}
	expect(t, e.call("GET", "/v1/submissions/"+held.sub, sub, "", nil), 200)
	// After the release, new submissions are visible at once again.
	after := e.createAndSubmit(snd, 0, nil)
	expect(t, e.call("GET", "/v1/submissions/"+after.sub, sub, "", nil), 200)
}

func TestHoldSuppressesCallback(t *testing.T) {
	cb, ts := newSink(t, 0)
	e := newEnv(t)
	ctx := context.Background()
	must(t, e.ctl.AddDestination(ctx, e.destination(e.destID, ts.URL)))
	must(t, e.ctl.Hold(ctx, e.destID))
	e.createAndSubmit(e.token(senderID), 0, nil)
	res, err := e.ctl.SendCallback(ctx, CallbackRequest{DestinationID: e.destID})
	must(t, err)
	cb.wait(t, 1)
	cb.mu.Lock()
	defer cb.mu.Unlock()
	// The control callback is the only one: no automatic callback announced the held submission.
	if res.Status != 200 || len(cb.got) != 1 || len(cb.got[0].SubmissionIDs) != 0 {
		t.Fatalf("callbacks during hold: %+v %+v", res, cb.got)
	}
}

func TestListingPageCap(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	snd, sub := e.token(senderID), e.token(subscriberID)
	for range 3 {
		e.createAndSubmit(snd, 0, nil)
	}
	must(t, e.ctl.SetListing(ctx, ListingConfig{MaxPageSize: 2}))
	seen := 0
	for offset := 0; offset < 3; {
		r := e.call("GET", fmt.Sprintf("/v1/submissions?limit=100&offset=%d", offset), sub, "", nil)
		expect(t, r, 200)
		m := r.json(t)
		if m["totalCount"] != float64(3) || m["count"].(float64) > 2 {
			t.Fatalf("page at %d: %s", offset, r.body)
		}
		n := int(m["count"].(float64))
		seen += n
		offset += n
	}
	if seen != 3 {
		t.Fatalf("saw %d submissions over the pages, want 3", seen)
	}
	must(t, e.ctl.SetListing(ctx, ListingConfig{}))
	if m := e.call("GET", "/v1/submissions", sub, "", nil).json(t); m["count"] != float64(3) {
		t.Fatalf("cap not lifted: %v", m)
	}
	if err := e.ctl.SetListing(ctx, ListingConfig{MaxPageSize: 501}); err == nil || !strings.Contains(err.Error(), "maxPageSize") {
		t.Fatalf("cap 501 not refused: %v", err)
	}
	if err := e.ctl.Hold(ctx, "3f1c0000-0000-4000-8000-000000000000"); err == nil || !strings.Contains(err.Error(), "no destination") {
		t.Fatalf("hold of an unknown destination not refused: %v", err)
	}
}
