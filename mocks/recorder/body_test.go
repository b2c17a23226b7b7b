package recorder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// serve records one inbound exchange: the handler reads the whole request and answers with
// respType and resp.
func serve(t *testing.T, rec *Recorder, reqType string, req io.Reader, respType, resp string) Exchange {
	t.Helper()
	h := rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if respType != "" {
			w.Header().Set("Content-Type", respType)
		}
		_, _ = io.WriteString(w, resp)
	}))
	r := httptest.NewRequest(http.MethodPost, "/v1/x", req)
	if reqType != "" {
		r.Header.Set("Content-Type", reqType)
	}
	h.ServeHTTP(httptest.NewRecorder(), r)
	ex := rec.Since(rec.Last() - 1)
	if len(ex) != 1 {
		t.Fatalf("recorded %d exchanges, want 1", len(ex))
	}
	return ex[0]
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestBodyIsCappedWithMarkerAndWholeDigest(t *testing.T) {
	big := strings.Repeat("x", BodyCap+1000)
	e := serve(t, New("test"), "text/plain", strings.NewReader(big), "application/json", `{"a":1}`)
	b := e.ReqBody
	if b == nil || !b.Truncated || len(b.Text) != BodyCap || b.Size != int64(len(big)) || b.SHA256 != sha([]byte(big)) {
		t.Fatalf("request body evidence: truncated=%v text=%d size=%d", b.Truncated, len(b.Text), b.Size)
	}
	if e.ReqBodySize != b.Size || e.ReqBodySHA != b.SHA256 {
		t.Errorf("legacy digest fields disagree: %d %s", e.ReqBodySize, e.ReqBodySHA)
	}
	r := e.RespBody
	if r == nil || r.Truncated || r.Text != `{"a":1}` || r.Pretty != "{\n  \"a\": 1\n}" || r.ContentType != "application/json" {
		t.Errorf("response body evidence: %+v", r)
	}
}

func TestCapCutsNoRuneInHalf(t *testing.T) {
	body := strings.Repeat("x", BodyCap-1) + "ä" + "tail"
	b := serve(t, New("test"), "text/plain", strings.NewReader(body), "", "").ReqBody
	if !b.Truncated || len(b.Text) != BodyCap-1 || strings.ContainsRune(b.Text, '\uFFFD') {
		t.Errorf("text ends %q (len %d)", b.Text[len(b.Text)-3:], len(b.Text))
	}
}

func TestBinaryBodiesAreNotInlined(t *testing.T) {
	pdf := "%PDF-1.7\n" + strings.Repeat("\x00\x01binary", 10000)
	e := serve(t, New("test"), "application/pdf", strings.NewReader(pdf), "", "\x00\xff\xfe undeclared binary")
	b := e.ReqBody
	if b.Text != "" || b.Omitted != "binary" || !strings.HasPrefix(b.HeadBase64, "JVBERi0xLjc") || !b.Truncated || b.SHA256 != sha([]byte(pdf)) {
		t.Errorf("pdf evidence: %+v", b)
	}
	if r := e.RespBody; r.Text != "" || r.Omitted != "binary" || r.Truncated {
		t.Errorf("undeclared binary evidence: %+v", r)
	}
}

func TestEmptyBodiesHaveNoBodyEvidence(t *testing.T) {
	rec := New("test")
	h := rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/x", nil))
	e := rec.Since(0)[0]
	if e.ReqBody != nil || e.RespBody != nil || e.ReqBodySHA != sha(nil) || e.Status != http.StatusNoContent {
		t.Errorf("empty exchange: %+v", e)
	}
}

func TestBudgetStripsBodiesOnceSpent(t *testing.T) {
	rec := New("test")
	rec.max = 100
	first := serve(t, rec, "text/plain", strings.NewReader(strings.Repeat("a", 60)), "", "")
	second := serve(t, rec, "text/plain", strings.NewReader(strings.Repeat("b", 60)), "", "")
	if first.ReqBody.Text == "" {
		t.Errorf("first body within budget was stripped")
	}
	if b := second.ReqBody; b.Text != "" || !strings.HasPrefix(b.Omitted, "evidence budget exhausted") || b.Size != 60 || b.SHA256 != sha([]byte(strings.Repeat("b", 60))) {
		t.Errorf("second body over budget: %+v", b)
	}
}

func TestBodyOfForExchangesAMockRecordsItself(t *testing.T) {
	h := http.Header{"Authorization": {"Bearer sup3r-s3cret-token"}}
	b := BodyOf("application/xml", []byte("<a>sup3r-s3cret-token</a>"), h)
	if b.Text != "<a>[redacted]</a>" || b.Size != 25 {
		t.Errorf("BodyOf: %+v", b)
	}
	if BodyOf("", nil) != nil {
		t.Errorf("BodyOf(empty) is not nil")
	}
}

// counting yields n bytes of filler without holding them, counting what was read.
type counting struct {
	n, read int64
}

func (c *counting) Read(p []byte) (int, error) {
	if c.read >= c.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), c.n-c.read)
	for i := range p[:k] {
		p[i] = 'A' + byte((c.read+int64(i))%26)
	}
	c.read += k
	return int(k), nil
}

func (c *counting) Close() error { return nil }

// discard is a ResponseWriter that keeps nothing and counts what reached it.
type discard struct {
	h       http.Header
	written int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.written += int64(len(p)); return len(p), nil }

func digestOf(n int64) string {
	h := sha256.New()
	_, _ = io.Copy(h, &counting{n: n})
	return hex.EncodeToString(h.Sum(nil))
}

func TestFiftyMiBStreamsThroughWithoutBeingHeld(t *testing.T) {
	const size = 50 << 20
	rec := New("test")
	src := &counting{n: size}
	out := &discard{h: http.Header{}}
	var seenAtFirstRead, passedAtFirstWrite int64
	h := rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 32<<10)
		n, _ := io.ReadFull(r.Body, buf[:1024])
		seenAtFirstRead = src.read // the recorder must not read ahead of the handler
		_, _ = io.CopyBuffer(io.Discard, io.MultiReader(bytes.NewReader(buf[:n]), r.Body), buf)
		w.Header().Set("Content-Type", "application/jose")
		resp := &counting{n: size}
		first := true
		for {
			k, err := resp.Read(buf)
			_, _ = w.Write(buf[:k])
			if first {
				passedAtFirstWrite, first = out.written, false // nor hold back what the handler writes
			}
			if err != nil {
				break
			}
		}
	}))
	req := httptest.NewRequest(http.MethodPut, "/v1/submissions/s/attachments/a", src)
	req.Header.Set("Content-Type", "application/jose")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h.ServeHTTP(out, req)
	runtime.ReadMemStats(&after)

	if seenAtFirstRead > 64<<10 {
		t.Errorf("%d bytes read from the client before the handler took its first KiB", seenAtFirstRead)
	}
	if passedAtFirstWrite != 32<<10 {
		t.Errorf("%d bytes reached the client after the first 32 KiB write", passedAtFirstWrite)
	}
	if src.read != size || out.written != size {
		t.Fatalf("streamed %d in, %d out; want %d each", src.read, out.written, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("recording two 50 MiB bodies allocated %d MiB", alloc>>20)
	}
	e := rec.Since(0)[0]
	want := digestOf(size)
	for _, b := range []*Body{e.ReqBody, e.RespBody} {
		if b.Size != size || b.SHA256 != want || !b.Truncated || len(b.Text) != BodyCap {
			t.Errorf("body evidence: size %d sha %s truncated %v text %d", b.Size, b.SHA256, b.Truncated, len(b.Text))
		}
	}
}

func TestOutboundResponseStreamsAndIsRecordedAtEOF(t *testing.T) {
	const size = 50 << 20
	rec := New("test")
	src := &counting{n: size}
	rt := rec.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/octet-stream"}}, Body: src}, nil
	}))
	resp, err := rt.RoundTrip(httptest.NewRequest(http.MethodGet, "http://sut/file", nil))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	_, _ = io.ReadFull(resp.Body, buf)
	if src.read > 64<<10 {
		t.Errorf("%d bytes read before the caller took its first KiB", src.read)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _ = io.Copy(io.Discard, resp.Body) // EOF completes the evidence even before Close
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("reading a 50 MiB response allocated %d MiB", alloc>>20)
	}
	b := rec.Since(0)[0].RespBody
	if b == nil || b.Size != size || b.SHA256 != digestOf(size) || b.Omitted != "binary" || len(b.HeadBase64) == 0 {
		t.Fatalf("response evidence: %+v", b)
	}
	resp.Body.Close()
}

func TestExchangesJSONKeepsLegacyFieldsAndAddsBodies(t *testing.T) {
	e := serve(t, New("test"), "application/json", strings.NewReader(`{"x":1}`), "", "")
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	for _, k := range []string{"requestBodySize", "requestBodySha256", "responseBodySize", "responseBodySha256", "requestBody"} {
		if _, ok := m[k]; !ok {
			t.Errorf("exchange JSON lacks %s: %s", k, raw)
		}
	}
	if rb, _ := m["requestBody"].(map[string]any); rb["text"] != `{"x":1}` || rb["sha256"] != sha([]byte(`{"x":1}`)) {
		t.Errorf("requestBody = %v", m["requestBody"])
	}
}
