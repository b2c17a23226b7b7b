// Package recorder keeps every HTTP exchange a mock takes part in, inbound and outbound, as
// evidence: method, path, status, headers, body digests and the bodies themselves (the first
// BodyCap bytes, with readable forms beside them; see Body). Mocks record; they never judge.
//
// Secrets never reach the evidence. Redacted are the values of the headers Authorization,
// Proxy-Authorization, Cookie, Set-Cookie and Callback-Authentication, and in bodies:
//   - those header values wherever a body of the same exchange repeats them,
//   - OAuth and callback secrets as JSON members or form fields: client_secret, secret,
//     callbackSecret, access_token, refresh_token, id_token, password (and their camelCase
//     forms), so a token request shows no client secret and a token response no token,
//   - the private members d, p, q, dp, dq, qi and k of a JWK in any JSON that carries one,
//     also inside decoded JWS headers and payloads.
//
// Redaction works on the text, so truncated and malformed bodies are covered as well. Digests
// and sizes are those of the bodies as sent.
package recorder

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
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
	ReqBody      *Body               `json:"requestBody,omitempty"`  // nil when the body is empty
	RespBody     *Body               `json:"responseBody,omitempty"` // nil when the body is empty
	Note         string              `json:"note,omitempty"`         // what the mock made of it, e.g. "fault: 503"
}

// Budget bounds the body evidence one recorder keeps over a run. Once it is spent, bodies keep
// content type, size and digest only (Body.Omitted says so).
const Budget = 128 << 20

// Recorder is a concurrency-safe, append-only log of exchanges.
type Recorder struct {
	actor string
	mu    sync.Mutex
	seq   int64
	log   []Exchange // in sequence order
	kept  int        // body evidence held
	max   int        // Budget, smaller in tests
	ret   Retention
}

// New returns a recorder for the named actor.
func New(actor string) *Recorder { return &Recorder{actor: actor, max: Budget} }

// Add appends an exchange and returns its sequence number.
func (r *Recorder) Add(e Exchange) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	e.Seq = r.seq
	e.Actor = r.actor
	e.ReqBody = r.budget(e.ReqBody)
	e.RespBody = r.budget(e.RespBody)
	r.log = append(r.log, e)
	if m := r.ret.MaxExchanges; m > 0 && len(r.log) >= m+m/4 {
		// Drop the oldest in one step, not one per Add.
		r.log = append([]Exchange(nil), r.log[len(r.log)-m:]...)
	}
	return e.Seq
}

// budget charges b against the recorder's budget, stripping it when the budget is spent. r.mu is held.
func (r *Recorder) budget(b *Body) *Body {
	if b == nil {
		return nil
	}
	if r.kept+b.cost() > r.max {
		cp := *b
		cp.strip(fmt.Sprintf("evidence budget exhausted (%d KiB of bodies kept)", r.kept>>10))
		return &cp
	}
	r.kept += b.cost()
	return b
}

// index returns the position of seq in the log, or -1. r.mu is held.
func (r *Recorder) index(seq int64) int {
	i := sort.Search(len(r.log), func(i int) bool { return r.log[i].Seq >= seq })
	if i < len(r.log) && r.log[i].Seq == seq {
		return i
	}
	return -1
}

// Annotate sets the note of the exchange with sequence number seq.
func (r *Recorder) Annotate(seq int64, note string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := r.index(seq); i >= 0 {
		r.log[i].Note = note
	}
}

// Since returns the exchanges with a sequence number greater than seq.
func (r *Recorder) Since(seq int64) []Exchange { return r.SinceN(seq, 0) }

// SinceN returns at most limit exchanges (all when limit ≤ 0) with a sequence number greater
// than seq, oldest first.
func (r *Recorder) SinceN(seq int64, limit int) []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := sort.Search(len(r.log), func(i int) bool { return r.log[i].Seq > seq })
	rest := r.log[i:]
	if limit > 0 && len(rest) > limit {
		rest = rest[:limit]
	}
	if len(rest) == 0 {
		return nil
	}
	return append([]Exchange(nil), rest...)
}

// Last returns the highest sequence number handed out so far.
func (r *Recorder) Last() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// bodyReader tees a body it reads into a capture.
type bodyReader struct {
	r io.ReadCloser
	c *capture
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	_, _ = b.c.Write(p[:n])
	return n, err
}

func (b *bodyReader) Close() error { return b.r.Close() }

// bodyWriter tees a response into a capture, made at the first write when the handler has set
// its headers, so a binary response is recognised by its declared type before any byte is kept.
type bodyWriter struct {
	http.ResponseWriter
	c      *capture
	status int
	rec    *Recorder
}

func (w *bodyWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *bodyWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.c == nil {
		w.c = w.rec.newCapture(w.Header().Get("Content-Type"))
	}
	n, err := w.ResponseWriter.Write(p)
	_, _ = w.c.Write(p[:n])
	return n, err
}

func (w *bodyWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (hijacking, deadlines).
func (w *bodyWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
		reqType := req.Header.Get("Content-Type")
		body := &bodyReader{r: req.Body, c: r.newCapture(reqType)}
		req.Body = body
		bw := &bodyWriter{ResponseWriter: w, rec: r}
		next.ServeHTTP(bw, req)
		// Drain what the handler left unread so the digest covers the whole request.
		_, _ = io.Copy(io.Discard, body)
		status := bw.status
		if status == 0 {
			status = http.StatusOK
		}
		respType := w.Header().Get("Content-Type")
		if bw.c == nil {
			bw.c = r.newCapture(respType)
		}
		red := newRedactor(req.Header, w.Header())
		r.Add(Exchange{
			Direction:    "inbound",
			Time:         start.UTC(),
			DurationMS:   time.Since(start).Milliseconds(),
			Method:       req.Method,
			URL:          req.URL.RequestURI(),
			Status:       status,
			ReqHeaders:   Redact(req.Header),
			RespHeaders:  Redact(w.Header()),
			ReqBodySize:  body.c.n,
			ReqBodySHA:   body.c.sum(),
			RespBodySize: bw.c.n,
			RespBodySHA:  bw.c.sum(),
			ReqBody:      body.c.body(reqType, red),
			RespBody:     bw.c.body(respType, red),
			Note:         note,
		})
	})
}

// Transport records outbound requests (for example callbacks) sent through base. The request
// body is recorded when the request can replay it (GetBody); the response body as the caller
// reads it, complete at EOF or Close.
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
		reqType := req.Header.Get("Content-Type")
		reqCapture := r.newCapture(reqType)
		if req.GetBody != nil {
			if b, err := req.GetBody(); err == nil {
				_, _ = io.Copy(reqCapture, b)
				b.Close()
				e.ReqBodySize, e.ReqBodySHA = reqCapture.n, reqCapture.sum()
			}
		} else if req.Body == nil || req.Body == http.NoBody {
			e.ReqBodySHA = reqCapture.sum()
		}
		resp, err := base.RoundTrip(req)
		e.DurationMS = time.Since(start).Milliseconds()
		if err != nil {
			e.Error = err.Error()
			e.ReqBody = reqCapture.body(reqType, newRedactor(req.Header))
			r.Add(e)
			return nil, err
		}
		red := newRedactor(req.Header, resp.Header)
		e.ReqBody = reqCapture.body(reqType, red)
		e.Status = resp.StatusCode
		e.RespHeaders = Redact(resp.Header)
		seq := r.Add(e)
		respType := resp.Header.Get("Content-Type")
		resp.Body = &respRecorder{bodyReader: bodyReader{r: resp.Body, c: r.newCapture(respType)}, rec: r, seq: seq, contentType: respType, red: red}
		return resp, nil
	})
}

// respRecorder completes an outbound exchange with its response body.
type respRecorder struct {
	bodyReader
	rec         *Recorder
	seq         int64
	contentType string
	red         *redactor
	once        sync.Once
}

func (d *respRecorder) Read(p []byte) (int, error) {
	n, err := d.bodyReader.Read(p)
	if err == io.EOF {
		d.finish()
	}
	return n, err
}

func (d *respRecorder) Close() error {
	d.finish()
	return d.bodyReader.Close()
}

func (d *respRecorder) finish() {
	d.once.Do(func() {
		b := d.c.body(d.contentType, d.red)
		d.rec.mu.Lock()
		defer d.rec.mu.Unlock()
		if i := d.rec.index(d.seq); i >= 0 {
			e := &d.rec.log[i]
			e.RespBodySize, e.RespBodySHA, e.RespBody = d.c.n, d.c.sum(), d.rec.budget(b)
		}
		d.c = &capture{h: d.c.h, n: d.c.n} // release the kept bytes; reads after EOF still count
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ControlPrefix is where every mock serves the kit's control API. Traffic below it is not
// recorded: it is the kit talking to its own actor, not part of the exchange under test.
const ControlPrefix = "/_konform/"

// ExchangesPath serves the log: GET /_konform/exchanges?since=N[&limit=M][&bodies=0].
const ExchangesPath = ControlPrefix + "exchanges"

// LastPath serves the sequence number of the latest exchange: GET /_konform/exchanges/last
// answers {"seq": N}. A judge marks a point in the traffic with it without reading the log.
const LastPath = ExchangesPath + "/last"

// FetchPage is how many exchanges Fetch asks for at a time: bodies make exchanges large, so a
// whole run's log in one answer could be hundreds of megabytes.
const FetchPage = 50

// Handler serves the log as JSON: the exchanges after since, oldest first, at most limit of
// them when limit is given. A client pages on by asking again since the last Seq it got.
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
		limit := 0
		if s := req.URL.Query().Get("limit"); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 1 {
				http.Error(w, "limit: not a positive integer: "+s, http.StatusBadRequest)
				return
			}
			limit = v
		}
		w.Header().Set("Content-Type", "application/json")
		if req.URL.Path == LastPath {
			_ = json.NewEncoder(w).Encode(map[string]int64{"seq": r.Last()})
			return
		}
		ex := r.SinceN(since, limit)
		if ex == nil {
			ex = []Exchange{}
		}
		if req.URL.Query().Get("bodies") == "0" {
			// Judges read what happened (method, URL, status, time, note); only evidence
			// needs the bodies, which make a log large.
			heads := make([]Exchange, len(ex))
			for i, e := range ex {
				e.ReqBody, e.RespBody = nil, nil
				heads[i] = e
			}
			ex = heads
		}
		_ = json.NewEncoder(w).Encode(ex)
	})
}

// Heads is the query that leaves the bodies out of the exchanges answered.
const Heads = "&bodies=0"

// Fetch reads the exchanges a mock recorded after seq from its control API at baseURL, page by
// page, with their bodies.
func Fetch(ctx context.Context, client *http.Client, baseURL string, since int64) ([]Exchange, error) {
	var out []Exchange
	for {
		page, err := fetchPage(ctx, client, baseURL, since, FetchPage)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < FetchPage {
			return out, nil
		}
		since = page[len(page)-1].Seq
	}
}

// FetchLast reads the sequence number of the latest exchange a mock recorded.
func FetchLast(ctx context.Context, client *http.Client, baseURL string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+LastPath, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("reading the last exchange from %s: %w", baseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("reading the last exchange from %s: status %d", baseURL, resp.StatusCode)
	}
	var out struct {
		Seq int64 `json:"seq"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("reading the last exchange from %s: %w", baseURL, err)
	}
	return out.Seq, nil
}

func fetchPage(ctx context.Context, client *http.Client, baseURL string, since int64, limit int) ([]Exchange, error) {
	u := strings.TrimRight(baseURL, "/") + ExchangesPath + "?since=" + strconv.FormatInt(since, 10) + "&limit=" + strconv.Itoa(limit)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
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

// Retention is how much a recorder keeps. The default keeps every exchange with its bodies (up
// to Budget); a load run of thousands of submissions keeps heads only and the latest
// MaxExchanges, so that the mock's memory stays flat.
type Retention struct {
	// HeadsOnly keeps of each body its content type, size and digest.
	HeadsOnly bool `json:"headsOnly"`
	// MaxExchanges, when > 0, keeps only the latest exchanges (at most a quarter more).
	MaxExchanges int `json:"maxExchanges,omitempty"`
}

// RetentionPath sets the recorder's retention: PUT /_konform/exchanges/retention.
const RetentionPath = ExchangesPath + "/retention"

// omittedHeadsOnly is Body.Omitted under Retention.HeadsOnly.
const omittedHeadsOnly = "not kept (the recorder keeps heads only)"

// SetRetention changes what the recorder keeps from now on.
func (r *Recorder) SetRetention(ret Retention) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ret = ret
}

// newCapture captures a body as the retention asks: in full (up to BodyCap), or its digest only.
func (r *Recorder) newCapture(contentType string) *capture {
	r.mu.Lock()
	headsOnly := r.ret.HeadsOnly
	r.mu.Unlock()
	if headsOnly {
		return &capture{h: sha256.New(), headsOnly: true}
	}
	return newCapture(contentType)
}

// RetentionHandler serves PUT RetentionPath with a Retention as JSON.
func (r *Recorder) RetentionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ret Retention
		dec := json.NewDecoder(io.LimitReader(req.Body, 1<<16))
		dec.DisallowUnknownFields()
		err := dec.Decode(&ret)
		if err == nil && ret.MaxExchanges < 0 {
			err = fmt.Errorf("maxExchanges %d is negative", ret.MaxExchanges)
		}
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": `retention: want {"headsOnly": bool, "maxExchanges": n ≥ 0}: ` + err.Error()})
			return
		}
		r.SetRetention(ret)
		w.WriteHeader(http.StatusNoContent)
	})
}
