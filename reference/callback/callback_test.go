package callback

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCallback(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	body := `{"type":"https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions","submissions":[]}`
	ts := strconv.FormatInt(now.Unix(), 10)
	stale := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
	cases := []struct {
		name, ts, mac string
		opts          []Option
		want          int
		acts          bool
	}{
		{"valid", ts, Sign("s3cret", ts, []byte(body)), nil, 200, true},
		{"bad hmac", ts, Sign("other", ts, []byte(body)), nil, 401, false},
		{"no hmac", ts, "", nil, 401, false},
		{"stale", stale, Sign("s3cret", stale, []byte(body)), nil, 400, false},
		{"future", future, Sign("s3cret", future, []byte(body)), nil, 400, false},
		{"no timestamp", "", Sign("s3cret", "", []byte(body)), nil, 400, false},
		{"defect callback-no-hmac-check", ts, "00", []Option{WithoutHMACCheck()}, 200, true},
		{"defect callback-stale-timestamp-accepted", stale, Sign("s3cret", stale, []byte(body)), []Option{WithoutTimestampCheck()}, 200, true},
		{"defect callback-ignored", ts, Sign("s3cret", ts, []byte(body)), []Option{WithoutTrigger()}, 200, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			triggered := 0
			h := New("s3cret", func() { triggered++ }, append([]Option{WithClock(func() time.Time { return now })}, tc.opts...)...)
			req := httptest.NewRequest(http.MethodPost, "/callbacks/fit-connect", strings.NewReader(body))
			req.Header.Set("callback-timestamp", tc.ts)
			req.Header.Set("callback-authentication", tc.mac)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d", rec.Code, tc.want)
			}
			if (triggered == 1) != tc.acts {
				t.Errorf("triggered %d times, want a poll: %v", triggered, tc.acts)
			}
		})
	}
}
