package fitconnect

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

type callbackSink struct {
	mu       sync.Mutex
	failures int
	got      []callbackBody
	macOK    []bool
	hits     chan struct{}
}

func newSink(t *testing.T, failures int) (*callbackSink, *httptest.Server) {
	s := &callbackSink{failures: failures, hits: make(chan struct{}, 100)}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("callback-timestamp"), 10, 64)
		ok := hmac.Equal([]byte(r.Header.Get("callback-authentication")), []byte(CallbackMAC(cbSecret, ts, body)))
		var b callbackBody
		_ = json.Unmarshal(body, &b)
		s.mu.Lock()
		s.got = append(s.got, b)
		s.macOK = append(s.macOK, ok)
		fail := s.failures > 0
		s.failures--
		s.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable)
		} else if !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
		s.hits <- struct{}{}
	}))
	t.Cleanup(ts.Close)
	return s, ts
}

func (s *callbackSink) wait(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-s.hits:
		case <-time.After(5 * time.Second):
			t.Fatalf("callback %d of %d did not arrive", i+1, n)
		}
	}
}

func TestCallbackMACKnownValue(t *testing.T) {
	// HMAC-SHA512("secret", "1700000000.{}") computed independently.
	got := CallbackMAC("secret", 1700000000, []byte("{}"))
	if len(got) != 128 || strings.ToLower(got) != got {
		t.Fatalf("MAC %q is not 128 lower-case hex digits", got)
	}
	if CallbackMAC("secret", 1700000001, []byte("{}")) == got || CallbackMAC("other", 1700000000, []byte("{}")) == got {
		t.Error("MAC does not depend on timestamp and secret")
	}
}

func TestNewSubmissionCallbackWithRetry(t *testing.T) {
	sink, cb := newSink(t, 2)
	e := newEnv(t)
	must(t, e.ctl.AddDestination(context.Background(), e.destination(e.destID, cb.URL+"/callbacks/fit-connect")))
	c := e.createAndSubmit(e.token(senderID), 0, nil)
	sink.wait(t, 3)
	must(t, e.srv.Close()) // waits for the retry loop to finish recording
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.got) != 3 {
		t.Fatalf("%d callbacks, want 3 (two failures, one success)", len(sink.got))
	}
	b := sink.got[2]
	if b.Type != CallbackNewSubmissions || len(b.Submissions) != 1 || b.Submissions[0].SubmissionID != c.sub ||
		b.Submissions[0].CaseID != c.caseID || b.Submissions[0].DestinationID != e.destID || b.SubmissionIDs[0] != c.sub {
		t.Errorf("callback body %+v", b)
	}
	for i, ok := range sink.macOK {
		if !ok {
			t.Errorf("callback %d: HMAC does not verify", i)
		}
	}
	ex := e.srv.Recorder().Since(0)
	out := 0
	for _, x := range ex {
		if x.Direction == "outbound" {
			out++
			if x.ReqHeaders["Callback-Authentication"][0] != "[redacted]" {
				t.Errorf("callback MAC not redacted in evidence")
			}
		}
	}
	if out != 3 {
		t.Errorf("%d outbound exchanges recorded, want 3", out)
	}
}

func TestNewEventsCallbackToSender(t *testing.T) {
	sink, cb := newSink(t, 0)
	e := newEnv(t)
	c := e.createAndSubmit(e.token(senderID), 0, map[string]any{"callback": map[string]any{"url": cb.URL, "secret": cbSecret}})
	expect(t, e.call("POST", "/v1/cases/"+c.caseID+"/events", e.token(subscriberID), "application/jose",
		strings.NewReader(e.receiverSET(c.sub, c.caseID, EventAcceptSubmission, nil))), 204)
	sink.wait(t, 1)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.got[0].Type != CallbackNewEvents || sink.got[0].Submissions[0].SubmissionID != c.sub {
		t.Errorf("new-events callback %+v", sink.got[0])
	}
}

func TestSendCallbackControl(t *testing.T) {
	sink, cb := newSink(t, 0)
	e := newEnv(t, WithCallbackRetry(1, time.Millisecond))
	ctx := context.Background()
	must(t, e.ctl.AddDestination(ctx, e.destination(e.destID, cb.URL)))
	c := e.createAndSubmit(e.token(senderID), 0, nil)
	sink.wait(t, 1)

	res, err := e.ctl.SendCallback(ctx, CallbackRequest{DestinationID: e.destID})
	must(t, err)
	if res.Status != 200 {
		t.Errorf("registered secret: %+v", res)
	}
	sink.wait(t, 1)
	sink.mu.Lock()
	if last := sink.got[len(sink.got)-1]; last.Submissions[0].SubmissionID != c.sub {
		t.Errorf("waiting submissions callback %+v", last)
	}
	sink.mu.Unlock()
	res, err = e.ctl.SendCallback(ctx, CallbackRequest{DestinationID: e.destID, Secret: "wrong-wrong-wrong-wrong-wrong-wrong"})
	must(t, err)
	if res.Status != 401 {
		t.Errorf("wrong secret answered %+v", res)
	}
	sink.wait(t, 1)
	old := time.Now().Add(-time.Hour)
	res, err = e.ctl.SendCallback(ctx, CallbackRequest{DestinationID: e.destID, Timestamp: &old, Body: json.RawMessage(`{"type":"x"}`)})
	must(t, err)
	if res.Status != 200 {
		t.Errorf("custom body %+v", res)
	}
	sink.wait(t, 1)
	if _, err := e.ctl.SendCallback(ctx, CallbackRequest{DestinationID: e.dest2}); err == nil || !strings.Contains(err.Error(), "no callback URL") {
		t.Errorf("destination without callback: %v", err)
	}
	cb.Close()
	res, err = e.ctl.SendCallback(ctx, CallbackRequest{DestinationID: e.destID})
	must(t, err)
	if res.Error == "" {
		t.Errorf("unreachable receiver: %+v", res)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := e.token(subscriberID)
	must(t, e.ctl.AddFault(ctx, Fault{Method: "GET", PathPattern: "/v1/submissions", Kind: FaultStatus, Status: 503, Count: 2}))
	expect(t, e.call("GET", "/v1/submissions", sub, "", nil), 503)
	expect(t, e.call("GET", "/v1/submissions", sub, "", nil), 503)
	expect(t, e.call("GET", "/v1/submissions", sub, "", nil), 200)

	must(t, e.ctl.AddFault(ctx, Fault{PathPattern: "/v1/cases/*/events", Kind: FaultReset}))
	c := e.createAndSubmit(e.token(senderID), 0, nil)
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/cases/"+c.caseID+"/events", strings.NewReader(e.receiverSET(c.sub, c.caseID, EventAcceptSubmission, nil)))
	req.Header.Set("Authorization", "Bearer "+sub)
	req.Header.Set("Content-Type", "application/jose")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("reset fault answered %d", resp.StatusCode)
	}
	states, _ := e.ctl.Submissions(ctx)
	if states[0].State != StateSubmitted {
		t.Errorf("reset request changed state to %s", states[0].State)
	}
	must(t, e.ctl.AddFault(ctx, Fault{Method: "get", PathPattern: "/v1/info", Kind: FaultDelay, DelayMS: 150}))
	start := time.Now()
	expect(t, e.call("GET", "/v1/info", "", "", nil), 200)
	if time.Since(start) < 150*time.Millisecond {
		t.Error("delay fault did not delay")
	}
	ex, err := e.ctl.Exchanges(ctx, 0)
	must(t, err)
	var notes []string
	for _, x := range ex {
		if strings.HasPrefix(x.Note, "fault") || strings.Contains(x.Note, "fault:") {
			notes = append(notes, x.Note)
		}
	}
	if len(notes) != 4 {
		t.Errorf("fault notes %q, want 4", notes)
	}
	for _, bad := range []Fault{{PathPattern: "/x", Kind: "explode"}, {Kind: FaultReset}, {PathPattern: "/x", Kind: FaultStatus, Status: 42}, {PathPattern: "[", Kind: FaultReset}} {
		if err := e.ctl.AddFault(ctx, bad); err == nil {
			t.Errorf("fault %+v accepted", bad)
		}
	}
}

func TestControlErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := e.destination(uuid.NewString(), "")
	d.ID = "not-a-uuid"
	err := e.ctl.AddDestination(ctx, d)
	if err == nil || !strings.Contains(err.Error(), "not a UUID") {
		t.Errorf("bad destination: %v", err)
	}
	d = e.destination(uuid.NewString(), "https://x.example/cb")
	d.CallbackSecret = "short"
	if err := e.ctl.AddDestination(ctx, d); err == nil || !strings.Contains(err.Error(), "callbackSecret") {
		t.Errorf("short secret: %v", err)
	}
	d = e.destination(uuid.NewString(), "")
	d.SigningKey = destEncKey.Public
	if err := e.ctl.AddDestination(ctx, d); err == nil {
		t.Error("encryption key accepted as signing key")
	}
	if err := e.ctl.AddClient(ctx, Client{ID: "x", Secret: "y", Role: "admin"}); err == nil || !strings.Contains(err.Error(), "role") {
		t.Errorf("bad role: %v", err)
	}
	if err := e.ctl.AddClient(ctx, Client{ID: "x", Secret: "y", Role: RoleSubscriber}); err == nil {
		t.Error("subscriber without destination accepted")
	}
	if err := e.ctl.SetDestinationStatus(ctx, uuid.NewString(), DestinationActive); err == nil {
		t.Error("status of unknown destination set")
	}
	if err := e.ctl.SetDestinationStatus(ctx, e.destID, "sleeping"); err == nil {
		t.Error("unknown status accepted")
	}
	if err := e.ctl.Configure(ctx, Config{PublicBaseURL: "nope"}); err == nil {
		t.Error("relative base URL accepted")
	}
	if err := e.ctl.InjectEvent(ctx, uuid.NewString(), "a.b.c"); err == nil {
		t.Error("event injected into unknown case")
	}
	c := e.createAndSubmit(e.token(senderID), 0, nil)
	must(t, e.ctl.InjectEvent(ctx, c.caseID, e.receiverSET(c.sub, c.caseID, EventAcceptSubmission, nil)))
	states, err := e.ctl.Submissions(ctx)
	must(t, err)
	if n := len(states[0].Events); n != 3 || !states[0].Events[2].Injected || states[0].State != StateSubmitted {
		t.Errorf("injected event: %+v", states[0])
	}
	bad := NewControl("http://127.0.0.1:1")
	if err := bad.Health(ctx); err == nil || !strings.Contains(err.Error(), "health") {
		t.Errorf("unreachable control: %v", err)
	}
	var herr error = e.ctl.do(ctx, "GET", "/_konform/nothing", nil, nil)
	if herr == nil || !strings.Contains(herr.Error(), "404") {
		t.Errorf("unknown control path: %v", herr)
	}
}
