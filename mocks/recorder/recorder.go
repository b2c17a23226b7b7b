// Package recorder keeps every HTTP exchange a mock takes part in, inbound and outbound, as
// evidence: method, path, status, headers with secrets redacted, and body digests. Mocks record;
// they never judge.
package recorder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Exchange is one request and its response as a mock saw it.
type Exchange struct {
	Seq          int64               `json:"seq"`
	Actor        string              `json:"actor"`
	Direction    string              `json:"direction"` // "inbound" (served by the mock) or "outbound" (sent by the mock)
	Time         time.Time           `json:"time"`
	DurationMS   int64               `json:"durationMs"`
	Method       string              `json:"method"`
	URL          string              `json:"url"` // path and query for inbound, full URL for outbound
	Status       int                 `json:"status"`
	Error        string              `json:"error,omitempty"`
	ReqHeaders   map[string][]string `json:"requestHeaders"`
	RespHeaders  map[string][]string `json:"responseHeaders"`
	ReqBodySize  int64               `json:"requestBodySize"`
	ReqBodySHA   string              `json:"requestBodySha256"`
	RespBodySize int64               `json:"responseBodySize"`
	RespBodySHA  string              `json:"responseBodySha256"`
	Note         string              `json:"note,omitempty"` // what the mock made of it, e.g. "fault: 503"
}

// secretHeaders are replaced by "[redacted]" in evidence.
var secretHeaders = map[string]bool{
	"authorization":           true,
	"proxy-authorization":     true,
	"cookie":                  true,
	"set-cookie":              true,
	"callback-authentication": true,
}

// Redact returns a copy of h with secret header values replaced.
func Redact(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		if secretHeaders[strings.ToLower(k)] {
			out[k] = []string{"[redacted]"}
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}

// Recorder is a concurrency-safe, append-only log of exchanges.
type Recorder struct {
	actor string
	mu    sync.Mutex
	seq   int64
	log   []Exchange
}

// New returns a recorder for the named actor.
func New(actor string) *Recorder { return &Recorder{actor: actor} }

// Add appends an exchange and returns its sequence number.
func (r *Recorder) Add(e Exchange) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	e.Seq = r.seq
	e.Actor = r.actor
	r.log = append(r.log, e)
	return e.Seq
}

// Annotate sets the note of the exchange with sequence number seq.
func (r *Recorder) Annotate(seq int64, note string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.log {
		if r.log[i].Seq == seq {
			r.log[i].Note = note
			return
		}
	}
}

// Since returns the exchanges with a sequence number greater than seq.
func (r *Recorder) Since(seq int64) []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Exchange
	for _, e := range r.log {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out
}

// Last returns the highest sequence number handed out so far.
func (r *Recorder) Last() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

type digestReader struct {
	r io.ReadCloser
	h hash.Hash
	n int64
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

func (d *digestReader) Close() error { return d.r.Close() }

type digestWriter struct {
	http.ResponseWriter
	h      hash.Hash
	n      int64
	status int
}

func (w *digestWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *digestWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

func (w *digestWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// noteKey lets a handler attach a note to the exchange being recorded.
type noteKey struct{}

// Note attaches a note to the inbound exchange that r belongs to (no-op outside Middleware).
func Note(r *http.Request, note string) {
	if p, ok := r.Context().Value(noteKey{}).(*string); ok {
		if *p != "" {
			*p += "; "
		}
		*p += note
	}
}

// Middleware records every request that next serves, except the control paths below
// ControlPrefix, which are the kit's own traffic.
func (r *Recorder) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, ControlPrefix) {
			next.ServeHTTP(w, req)
			return
		}
		start := time.Now()
		var note string
		req = req.WithContext(contextWithNote(req, &note))
		body := &digestReader{r: req.Body, h: sha256.New()}
		req.Body = body
		dw := &digestWriter{ResponseWriter: w, h: sha256.New()}
		next.ServeHTTP(dw, req)
		// Drain what the handler left unread so the digest covers the whole request.
		_, _ = io.Copy(io.Discard, body)
		status := dw.status
		if status == 0 {
			status = http.StatusOK
		}
		r.Add(Exchange{
			Direction:    "inbound",
			Time:         start.UTC(),
			DurationMS:   time.Since(start).Milliseconds(),
			Method:       req.Method,
			URL:          req.URL.RequestURI(),
			Status:       status,
			ReqHeaders:   Redact(req.Header),
			RespHeaders:  Redact(w.Header()),
			ReqBodySize:  body.n,
			ReqBodySHA:   hex.EncodeToString(body.h.Sum(nil)),
			RespBodySize: dw.n,
			RespBodySHA:  hex.EncodeToString(dw.h.Sum(nil)),
			Note:         note,
		})
	})
}

// Transport records outbound requests (for example callbacks) sent through base.
func (r *Recorder) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		e := Exchange{
			Direction:  "outbound",
			Time:       start.UTC(),
			Method:     req.Method,
			URL:        req.URL.String(),
			ReqHeaders: Redact(req.Header),
		}
		if req.GetBody != nil {
			if b, err := req.GetBody(); err == nil {
				h := sha256.New()
				n, _ := io.Copy(h, b)
				b.Close()
				e.ReqBodySize, e.ReqBodySHA = n, hex.EncodeToString(h.Sum(nil))
			}
		}
		resp, err := base.RoundTrip(req)
		e.DurationMS = time.Since(start).Milliseconds()
		if err != nil {
			e.Error = err.Error()
			r.Add(e)
			return nil, err
		}
		e.Status = resp.StatusCode
		e.RespHeaders = Redact(resp.Header)
		seq := r.Add(e)
		resp.Body = &respDigest{digestReader: digestReader{r: resp.Body, h: sha256.New()}, rec: r, seq: seq}
		return resp, nil
	})
}

type respDigest struct {
	digestReader
	rec  *Recorder
	seq  int64
	once sync.Once
}

func (d *respDigest) Close() error {
	d.once.Do(func() {
		d.rec.mu.Lock()
		defer d.rec.mu.Unlock()
		for i := range d.rec.log {
			if d.rec.log[i].Seq == d.seq {
				d.rec.log[i].RespBodySize = d.n
				d.rec.log[i].RespBodySHA = hex.EncodeToString(d.h.Sum(nil))
			}
		}
	})
	return d.digestReader.Close()
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ControlPrefix is where every mock serves the kit's control API. Traffic below it is not
// recorded: it is the kit talking to its own actor, not part of the exchange under test.
const ControlPrefix = "/_konform/"

// ExchangesPath serves the log: GET /_konform/exchanges?since=N.
const ExchangesPath = ControlPrefix + "exchanges"

// Handler serves the log as JSON.
func (r *Recorder) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var since int64
		if s := req.URL.Query().Get("since"); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				http.Error(w, "since: not an integer: "+s, http.StatusBadRequest)
				return
			}
			since = v
		}
		w.Header().Set("Content-Type", "application/json")
		ex := r.Since(since)
		if ex == nil {
			ex = []Exchange{}
		}
		_ = json.NewEncoder(w).Encode(ex)
	})
}

// Fetch reads the exchanges a mock recorded after seq from its control API at baseURL.
func Fetch(ctx context.Context, client *http.Client, baseURL string, since int64) ([]Exchange, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+ExchangesPath+"?since="+strconv.FormatInt(since, 10), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading exchanges from %s: %w", baseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading exchanges from %s: status %d", baseURL, resp.StatusCode)
	}
	var out []Exchange
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("reading exchanges from %s: %w", baseURL, err)
	}
	return out, nil
}
