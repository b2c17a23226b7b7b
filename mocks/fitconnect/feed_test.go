package fitconnect

import (
	"context"
	"strings"
	"testing"
)

func TestFeedListsEventsInLogOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.createAndSubmit(e.token(senderID), 0, nil)
	expect(t, e.call("POST", "/v1/cases/"+c.caseID+"/events", e.token(subscriberID), "application/jose",
		strings.NewReader(e.receiverSET(c.sub, c.caseID, EventAcceptSubmission, nil))), 204)
	all, err := e.ctl.Feed(ctx, 0)
	must(t, err)
	var got []string
	for i, f := range all {
		if f.Seq != int64(i+1) {
			t.Errorf("entry %d has seq %d", i, f.Seq)
		}
		if f.SubmissionID != c.sub || f.CaseID != c.caseID || f.LoggedAt.IsZero() || f.LoggedAt.Location().String() != "UTC" {
			t.Errorf("entry %+v: want submission %s, case %s, a UTC time", f, c.sub, c.caseID)
		}
		got = append(got, f.Event)
	}
	if len(got) != 3 || got[0] != EventCreateSubmission || got[1] != EventSubmitSubmission || got[2] != EventAcceptSubmission {
		t.Fatalf("feed events %v, want create, submit, accept", got)
	}
	if all[2].LoggedAt.Before(all[1].LoggedAt) {
		t.Errorf("accept logged at %s before submit at %s", all[2].LoggedAt, all[1].LoggedAt)
	}
	rest, err := e.ctl.Feed(ctx, 2)
	must(t, err)
	if len(rest) != 1 || rest[0].Seq != 3 {
		t.Errorf("feed since 2: %+v, want entry 3 only", rest)
	}
	past, err := e.ctl.Feed(ctx, 99)
	must(t, err)
	if len(past) != 0 {
		t.Errorf("feed since 99: %+v, want none", past)
	}
	if r := e.call("GET", FeedPath+"?since=-1", "", "", nil); r.status != 400 {
		t.Errorf("feed since -1: status %d, want 400", r.status)
	}
}

func TestConfiguredSigningKeySignsTheSETs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	raw, err := destSigKey.JWK.MarshalJSON()
	must(t, err)
	must(t, e.ctl.Configure(ctx, Config{SigningKey: raw}))
	got, err := e.ctl.SigningKey(ctx)
	must(t, err)
	if got.KeyID != destSigKey.JWK.KeyID {
		t.Errorf("signing key %q after configuring %q", got.KeyID, destSigKey.JWK.KeyID)
	}
	encRaw, err := destEncKey.JWK.MarshalJSON()
	must(t, err)
	if err := e.ctl.Configure(ctx, Config{SigningKey: encRaw}); err == nil || !strings.Contains(err.Error(), "PS512") {
		t.Errorf("an RSA-OAEP-256 key as signing key: %v, want a refusal naming PS512", err)
	}
	pubRaw, err := destSigKey.Public.MarshalJSON()
	must(t, err)
	if err := e.ctl.Configure(ctx, Config{SigningKey: pubRaw}); err == nil || !strings.Contains(err.Error(), "private") {
		t.Errorf("a public key as signing key: %v, want a refusal naming it", err)
	}
}
