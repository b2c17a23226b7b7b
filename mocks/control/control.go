// Package control is the JSON-over-HTTP call that every mock's control client makes: the kit and
// the suites talk to their own actors below /_konform/ this way.
package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/konform/konform/mocks/recorder"
)

// maxAnswer bounds a control answer; exchange logs of a long run are the largest.
const maxAnswer = 256 << 20

// Do sends in (if not nil) as JSON to base+path and decodes the answer into out (if not nil).
// Errors name the actor, the call and, for a non-2xx answer, the mock's own message.
func Do(ctx context.Context, hc *http.Client, actor, base, method, path string, in, out any) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s control %s %s: %s", actor, method, path, fmt.Sprintf(format, args...))
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fail("encoding request: %v", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, body)
	if err != nil {
		return fail("%v", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fail("%v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fail("reading answer: %v", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return fail("%d: %s", resp.StatusCode, msg)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fail("decoding answer: %v", err)
		}
	}
	return nil
}

// HealthPath is where every mock answers that it is up.
const HealthPath = recorder.ControlPrefix + "health"

// Client is the part every mock's control client shares: where the mock is, how to call it,
// and the calls every mock answers (health, recorded exchanges). Each mock's Control embeds it
// and adds the calls of its own.
type Client struct {
	Actor   string
	BaseURL string
	HTTP    *http.Client
}

// NewClient returns the shared client for the named actor's mock at baseURL.
func NewClient(actor, baseURL string, timeout time.Duration) Client {
	return Client{Actor: actor, BaseURL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{Timeout: timeout}}
}

// Do makes one control call (see the package function Do).
func (c Client) Do(ctx context.Context, method, path string, in, out any) error {
	return Do(ctx, c.HTTP, c.Actor, c.BaseURL, method, path, in, out)
}

// Health reports whether the mock is up and ready.
func (c Client) Health(ctx context.Context) error {
	return c.Do(ctx, http.MethodGet, HealthPath, nil, nil)
}

// Exchanges returns the recorded exchanges with a sequence number above since, without their
// bodies: what a judge reads. Evidence reads the bodies with recorder.Fetch.
func (c Client) Exchanges(ctx context.Context, since int64) ([]recorder.Exchange, error) {
	var out []recorder.Exchange
	err := c.Do(ctx, http.MethodGet, recorder.ExchangesPath+"?since="+strconv.FormatInt(since, 10)+recorder.Heads, nil, &out)
	return out, err
}

// LastSeq returns the sequence number of the latest recorded exchange (0 when none).
func (c Client) LastSeq(ctx context.Context) (int64, error) {
	var out struct {
		Seq int64 `json:"seq"`
	}
	err := c.Do(ctx, http.MethodGet, recorder.LastPath, nil, &out)
	return out.Seq, err
}

// SetRetention tells the mock's recorder how much to keep from now on (recorder.Retention).
func (c Client) SetRetention(ctx context.Context, ret recorder.Retention) error {
	return c.Do(ctx, http.MethodPut, recorder.RetentionPath, ret, nil)
}
