package fitconnect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/konform/konform/mocks/recorder"
)

type faultKey struct{}

func validateFault(f *Fault) error {
	if f.PathPattern == "" {
		return errors.New("fault: pathPattern is required")
	}
	if _, err := path.Match(f.PathPattern, "/"); err != nil {
		return fmt.Errorf("fault: pathPattern %q: %v", f.PathPattern, err)
	}
	switch f.Kind {
	case FaultReset:
	case FaultStatus:
		if f.Status < 100 || f.Status > 599 {
			return fmt.Errorf("fault: status %d is not an HTTP status", f.Status)
		}
	case FaultDelay:
		if f.DelayMS <= 0 || f.DelayMS > 600000 {
			return fmt.Errorf("fault: delayMs %d must be 1 to 600000", f.DelayMS)
		}
	default:
		return fmt.Errorf("fault: kind %q is not reset, status or delay", f.Kind)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault: count %d is negative", f.Count)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	f.Method = strings.ToUpper(f.Method)
	return nil
}

// takeFault consumes one use of the first fault matching r.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if ok, _ := path.Match(f.PathPattern, r.URL.Path); !ok {
			continue
		}
		cp := *f
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return &cp
	}
	return nil
}

// reset drops the connection without reading or storing anything.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	s.rec.Add(recorder.Exchange{Direction: "inbound", Time: time.Now().UTC(), Method: r.Method,
		URL: r.URL.RequestURI(), ReqHeaders: recorder.Redact(r.Header), Note: "fault: connection reset"})
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Hijacking is impossible (HTTP/2): the closest is an empty 502.
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	_ = conn.Close()
}

// applyFault performs a status or delay fault; it reports whether the request is answered.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	switch f.Kind {
	case FaultStatus:
		s.problem(w, r, f.Status, probInjectedFault, http.StatusText(f.Status), fmt.Sprintf("fault: injected status %d", f.Status))
		return true
	case FaultDelay:
		recorder.Note(r, fmt.Sprintf("fault: delayed %d ms", f.DelayMS))
		readAhead(r)
		defer s.hold(r)()
		select {
		case <-time.After(time.Duration(f.DelayMS) * time.Millisecond):
		case <-r.Context().Done():
			return true
		}
	}
	return false
}

// readAheadLimit bounds the request body a delay fault reads ahead.
const readAheadLimit = 1 << 20

// readAhead reads a small request body ahead and hands it back to the handler. Only once a
// body is read does the server watch the connection, so that a client that goes away (a SUT
// killed while its post is held) ends the request's context at once instead of at the end of
// the delay.
func readAhead(r *http.Request) {
	head, err := io.ReadAll(io.LimitReader(r.Body, readAheadLimit+1))
	rest := r.Body
	if err != nil || len(head) <= readAheadLimit {
		rest = http.NoBody
	}
	r.Body = readCloser{io.MultiReader(bytes.NewReader(head), rest), r.Body}
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }

// HeldRequest is a request a delay fault holds right now.
type HeldRequest struct {
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Since  time.Time `json:"since"`
}

// hold records r as held until the returned func is called.
func (s *Server) hold(r *http.Request) func() {
	s.mu.Lock()
	if s.held == nil {
		s.held = map[*http.Request]HeldRequest{}
	}
	s.held[r] = HeldRequest{Method: r.Method, Path: r.URL.Path, Since: time.Now().UTC()}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.held, r)
		s.mu.Unlock()
	}
}

// ctlHeld answers the requests a delay fault holds right now: a judge waits on a SUT's post
// being in flight instead of guessing when it is.
func (s *Server) ctlHeld(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := []HeldRequest{}
	for _, h := range s.held {
		out = append(out, h)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// Held returns the requests a delay fault holds right now.
func (c *Control) Held(ctx context.Context) ([]HeldRequest, error) {
	var out []HeldRequest
	err := c.do(ctx, http.MethodGet, HeldPath, nil, &out)
	return out, err
}
