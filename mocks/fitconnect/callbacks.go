package fitconnect

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Callback types.
const (
	CallbackNewSubmissions = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"
	CallbackNewEvents      = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-events"
)

type callbackBody struct {
	Type          string          `json:"type"`
	SubmissionIDs []string        `json:"submissionIds"`
	Submissions   []SubmissionRef `json:"submissions"`
}

func newSubmissionsCallback(refs []SubmissionRef) callbackBody {
	return callbackFor(CallbackNewSubmissions, refs)
}

func newEventsCallback(refs []SubmissionRef) callbackBody {
	return callbackFor(CallbackNewEvents, refs)
}

func callbackFor(typ string, refs []SubmissionRef) callbackBody {
	b := callbackBody{Type: typ, Submissions: refs}
	for _, r := range refs {
		b.SubmissionIDs = append(b.SubmissionIDs, r.SubmissionID)
	}
	return b
}

// CallbackMAC is the callback-authentication value: hex HMAC-SHA512 over
// "<timestamp>.<body>" keyed with the callback secret.
func CallbackMAC(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// checkCallbackURL accepts absolute http and https URLs. Production demands https; the run's
// network is plain HTTP, so the mock also accepts http.
func checkCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// deliver sends one callback and reports how the receiver answered.
func (s *Server) deliver(ctx context.Context, target, secret string, body []byte, ts time.Time) CallbackResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return CallbackResult{Error: "building callback request: " + err.Error()}
	}
	unix := ts.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("callback-timestamp", strconv.FormatInt(unix, 10))
	req.Header.Set("callback-authentication", CallbackMAC(secret, unix, body))
	resp, err := s.cbClient.Do(req)
	if err != nil {
		return CallbackResult{Error: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, _ = io.Copy(io.Discard, resp.Body)
	return CallbackResult{Status: resp.StatusCode, Body: string(b)}
}

// notify sends a callback in the background, retrying with doubling back-off until the
// receiver answers 2xx or the attempts are used up. Each try is signed afresh.
func (s *Server) notify(target, secret string, body []byte) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		backoff := s.cbBackoff
		for attempt := 1; attempt <= s.cbAttempts; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			res := s.deliver(ctx, target, secret, body, s.clock())
			cancel()
			if res.Error == "" && res.Status >= 200 && res.Status < 300 {
				return
			}
			if attempt == s.cbAttempts {
				return
			}
			select {
			case <-s.stop:
				return
			case <-time.After(backoff):
			}
			backoff *= 2
		}
	}()
}

// sendCallback serves the control API's one-shot callback.
func (s *Server) sendCallback(ctx context.Context, cr CallbackRequest) (CallbackResult, error) {
	s.mu.Lock()
	d, ok := s.destinations[cr.DestinationID]
	if !ok {
		s.mu.Unlock()
		return CallbackResult{}, errors.New("no destination " + cr.DestinationID)
	}
	target, secret := d.CallbackURL, d.CallbackSecret
	var refs []SubmissionRef
	for _, id := range s.order {
		sub := s.submissions[id]
		if sub.destinationID == d.ID && sub.state == StateSubmitted && !sub.held {
			refs = append(refs, SubmissionRef{DestinationID: d.ID, SubmissionID: sub.id, CaseID: sub.caseID})
		}
	}
	s.mu.Unlock()
	if target == "" {
		return CallbackResult{}, errors.New("destination " + cr.DestinationID + " has no callback URL")
	}
	body := []byte(cr.Body)
	if len(body) == 0 {
		var err error
		if body, err = jsonMarshal(newSubmissionsCallback(refs)); err != nil {
			return CallbackResult{}, err
		}
	}
	if cr.Secret != "" {
		secret = cr.Secret
	}
	ts := s.clock()
	if cr.Timestamp != nil {
		ts = *cr.Timestamp
	}
	return s.deliver(ctx, target, secret, body, ts), nil
}
