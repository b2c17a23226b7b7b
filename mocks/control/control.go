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
	"strings"
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
