package recorder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMiddlewareRecordsDigestsAndRedactsSecrets(t *testing.T) {
	rec := New("test")
	h := rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Note(r, "fault: none")
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 3)) // reads only part of the body
		w.Header().Set("Set-Cookie", "session=secret")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("answer"))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/x?y=1", strings.NewReader("client_secret=s3cr3t"))
	req.Header.Set("Authorization", "Bearer token-value")
	req.Header.Set("Callback-Authentication", "abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	got := rec.Since(0)
	if len(got) != 1 {
		t.Fatalf("recorded %d exchanges, want 1", len(got))
	}
	e := got[0]
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	if e.Status != http.StatusTeapot || e.URL != "/v1/x?y=1" || e.Method != http.MethodPost || e.Note != "fault: none" {
		t.Errorf("exchange = %+v", e)
	}
	if e.ReqBodySHA != sum("client_secret=s3cr3t") || e.ReqBodySize != int64(len("client_secret=s3cr3t")) {
		t.Errorf("request digest covers %d bytes, want the whole body", e.ReqBodySize)
	}
	if e.RespBodySHA != sum("answer") || e.RespBodySize != 6 {
		t.Errorf("response digest wrong: %+v", e)
	}
	for _, h := range []map[string][]string{e.ReqHeaders, e.RespHeaders} {
		for k, v := range h {
			if strings.Contains(strings.Join(v, ""), "secret") || strings.Contains(strings.Join(v, ""), "token-value") || (strings.EqualFold(k, "Callback-Authentication") && v[0] != "[redacted]") {
				t.Errorf("secret in evidence: %s: %v", k, v)
			}
		}
	}
}

func TestControlTrafficIsNotRecordedAndFetchPages(t *testing.T) {
	rec := New("test")
	mux := http.NewServeMux()
	mux.Handle(ExchangesPath, rec.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(rec.Middleware(mux))
	defer srv.Close()
	for i := 0; i < 3; i++ {
		resp, err := http.Get(srv.URL + "/v1/info")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	all, err := Fetch(context.Background(), http.DefaultClient, srv.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("fetched %d exchanges, want 3 (control traffic must not be recorded)", len(all))
	}
	later, err := Fetch(context.Background(), http.DefaultClient, srv.URL, all[1].Seq)
	if err != nil || len(later) != 1 || later[0].Seq != all[2].Seq {
		t.Fatalf("since=%d gave %v, %v", all[1].Seq, later, err)
	}
	resp, err := http.Get(srv.URL + ExchangesPath + "?since=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("since=x: status %d, want 400", resp.StatusCode)
	}
}

func TestFetchPagesThroughALongLogWithBodies(t *testing.T) {
	rec := New("test")
	mux := http.NewServeMux()
	mux.Handle(ExchangesPath, rec.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"eventLog":["` + set(acceptEvent) + `"]}`))
	})
	var pages int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ExchangesPath {
			pages++
		}
		rec.Middleware(mux).ServeHTTP(w, r)
	}))
	defer srv.Close()
	n := 2*FetchPage + 3
	for i := 0; i < n; i++ {
		resp, err := http.Post(srv.URL+"/v1/cases/c/events", "application/json", strings.NewReader(`{"i":`+strings.Repeat("1", i+1)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	all, err := Fetch(context.Background(), http.DefaultClient, srv.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n || pages != 3 {
		t.Fatalf("fetched %d exchanges in %d pages, want %d in 3", len(all), pages, n)
	}
	for i, e := range all {
		if e.Seq != int64(i+1) || e.ReqBody == nil || e.ReqBody.Size != int64(len(`{"i":}`)+i+1) {
			t.Fatalf("exchange %d: seq %d body %+v", i, e.Seq, e.ReqBody)
		}
	}
	if d := all[n-1].RespBody.Decoded; len(d) != 1 || !strings.Contains(string(d[0].Payload), acceptEvent) {
		t.Errorf("decoded SET lost on the wire: %+v", d)
	}
	later, err := Fetch(context.Background(), http.DefaultClient, srv.URL, int64(n-2))
	if err != nil || len(later) != 2 || later[0].Seq != int64(n-1) {
		t.Fatalf("since=%d: %d exchanges, %v", n-2, len(later), err)
	}
	for _, q := range []string{"?limit=0", "?limit=x"} {
		resp, err := http.Get(srv.URL + ExchangesPath + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
		}
	}
}
