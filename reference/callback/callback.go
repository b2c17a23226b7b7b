// Package callback serves POST /callbacks/fit-connect: it checks the callback's HMAC-SHA512
// (hex, over "<callback-timestamp>.<raw body>", constant-time) and its timestamp (at most
// 5 minutes off), and on a valid callback triggers an immediate poll.
package callback

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxSkew is how far the callback timestamp may be from the receiver's clock.
const MaxSkew = 5 * time.Minute

// Handler checks callbacks.
type Handler struct {
	secret      []byte
	trigger     func()
	now         func() time.Time
	log         *slog.Logger
	checkHMAC   bool
	checkMaxAge bool
	act         bool
	notice      func(body []byte)
}

// Option configures a Handler.
type Option func(*Handler)

// WithClock sets the clock.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithoutHMACCheck accepts callbacks without checking their HMAC.
func WithoutHMACCheck() Option { return func(h *Handler) { h.checkHMAC = false } }

// WithoutTimestampCheck accepts callbacks whatever their timestamp.
func WithoutTimestampCheck() Option { return func(h *Handler) { h.checkMaxAge = false } }

// WithoutTrigger answers valid callbacks 200 but never triggers the poll, so new submissions
// wait for the next scheduled round.
func WithoutTrigger() Option { return func(h *Handler) { h.act = false } }

// WithNotice hands the body of every valid callback to notice instead of calling trigger.
func WithNotice(notice func(body []byte)) Option { return func(h *Handler) { h.notice = notice } }

// New returns the callback handler; trigger is called for every valid callback.
func New(secret string, trigger func(), opts ...Option) *Handler {
	h := &Handler{secret: []byte(secret), trigger: trigger, now: time.Now, log: slog.New(slog.DiscardHandler), checkHMAC: true, checkMaxAge: true, act: true}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Sign computes the callback-authentication value for a timestamp and body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "callback body not readable", http.StatusBadRequest)
		return
	}
	ts := strings.TrimSpace(r.Header.Get("callback-timestamp"))
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		h.log.Warn("callback rejected: callback-timestamp missing or not unix seconds")
		http.Error(w, "callback-timestamp missing or not unix seconds", http.StatusBadRequest)
		return
	}
	if h.checkHMAC {
		got, err := hex.DecodeString(strings.TrimSpace(r.Header.Get("callback-authentication")))
		want, _ := hex.DecodeString(Sign(string(h.secret), ts, body))
		if err != nil || !hmac.Equal(got, want) {
			h.log.Warn("callback rejected: callback-authentication does not match")
			http.Error(w, "callback-authentication invalid", http.StatusUnauthorized)
			return
		}
	}
	if h.checkMaxAge {
		skew := h.now().Sub(time.Unix(sec, 0))
		if skew > MaxSkew || skew < -MaxSkew {
			h.log.Warn("callback rejected: callback-timestamp too far from now", "skew", skew.String())
			http.Error(w, "callback-timestamp older than 5 minutes or in the future", http.StatusBadRequest)
			return
		}
	}
	if !h.act {
		h.log.Info("valid callback acknowledged")
		w.WriteHeader(http.StatusOK)
		return
	}
	h.log.Info("valid callback, polling now")
	if h.notice != nil {
		h.notice(body)
	} else if h.trigger != nil {
		h.trigger()
	}
	w.WriteHeader(http.StatusOK)
}
