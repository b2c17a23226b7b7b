package drive

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/konform/konform/runenv"
)

// PollCeiling bounds every wait on the SUT's poll cadence: the contract's poll interval under
// test may not exceed it (docs/sut-contract.md §1).
const PollCeiling = 60 * time.Second

// Mark is a point in the delivery service's recorded traffic.
type Mark int64

// MarkNow returns the point after the latest exchange the delivery service recorded.
func MarkNow(ctx context.Context, env *runenv.Env) (Mark, error) {
	seq, err := Control(env).LastSeq(ctx)
	return Mark(seq), err
}

// AwaitPollCycles waits until the SUT has completed n full poll cycles after m: n+1 listing
// rounds (GET /v1/submissions at offset 0) started after m, so that n whole rounds lie after it.
// It is how a check waits for "the SUT had its chance" without a fixed sleep: it follows the
// SUT's own cadence, whatever it is, up to PollCeiling per cycle.
func AwaitPollCycles(ctx context.Context, env *runenv.Env, m Mark, n int) error {
	deadline := time.Now().Add(time.Duration(n+1) * PollCeiling)
	for {
		rounds, err := listingRounds(ctx, env, m)
		if err != nil {
			return err
		}
		if rounds >= n+1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the SUT started %d submission-listing rounds in %s; %d full poll cycles were awaited (contract: poll at least every %s)",
				rounds, time.Duration(n+1)*PollCeiling, n, PollCeiling)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func listingRounds(ctx context.Context, env *runenv.Env, m Mark) (int, error) {
	ex, err := Control(env).Exchanges(ctx, int64(m))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ex {
		if isListingRound(e.Method, e.Direction, e.Status, e.URL) {
			n++
		}
	}
	return n, nil
}

// isListingRound tells whether an exchange starts a listing round of the SUT: a successful
// GET /v1/submissions at offset 0.
func isListingRound(method, direction string, status int, rawURL string) bool {
	if method != "GET" || direction != "inbound" || status != 200 {
		return false
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Path != "/v1/submissions" {
		return false
	}
	off := u.Query().Get("offset")
	return off == "" || off == "0"
}

// Per-check time limits follow the SUT's observed cadence, bounded by PollCeiling
// (docs/sut-contract.md §6).
const (
	// DecisionCycles is how many of its poll cycles a SUT may take to pick a submission up.
	DecisionCycles = 3
	// ProcessingAllowance is the time beyond those cycles to fetch, decrypt, validate and post
	// the decision of a small submission.
	ProcessingAllowance = 30 * time.Second
	// cadenceFloor keeps a burst of listings (a SUT acting at once on a callback) from making
	// the limits shorter than any SUT could meet.
	cadenceFloor = 500 * time.Millisecond
	// cadenceRefresh is how long an observed cadence is reused before it is measured again.
	cadenceRefresh = 30 * time.Second
)

var cadenceCache struct {
	sync.Mutex
	env *runenv.Env
	at  time.Time
	c   time.Duration
}

// Cadence is the SUT's poll interval as observed: the median gap between the starts of its
// submission-listing rounds so far, within [500ms, PollCeiling]. Before the SUT has listed
// three times it is the interval the SUT was given.
func Cadence(ctx context.Context, env *runenv.Env) time.Duration {
	cadenceCache.Lock()
	defer cadenceCache.Unlock()
	if cadenceCache.env == env && time.Since(cadenceCache.at) < cadenceRefresh {
		return cadenceCache.c
	}
	if starts, err := listingStarts(ctx, env); err == nil && len(starts) >= 3 {
		cadenceCache.env, cadenceCache.at, cadenceCache.c = env, time.Now(), observedCadence(starts)
		return cadenceCache.c
	}
	c := env.PollInterval
	if c <= 0 {
		c = PollCeiling
	}
	return max(cadenceFloor, min(c, PollCeiling))
}

// observedCadence is the median gap between at least two listing starts, within
// [cadenceFloor, PollCeiling].
func observedCadence(starts []time.Time) time.Duration {
	gaps := make([]time.Duration, 0, len(starts)-1)
	for i := 1; i < len(starts); i++ {
		gaps = append(gaps, starts[i].Sub(starts[i-1]))
	}
	slices.Sort(gaps)
	return max(cadenceFloor, min(gaps[len(gaps)/2], PollCeiling))
}

// DecisionLimit is how long a check waits for the SUT's decision on one small submission:
// DecisionCycles poll cycles at its observed cadence plus ProcessingAllowance; at most
// DecisionCycles × PollCeiling + ProcessingAllowance.
func DecisionLimit(ctx context.Context, env *runenv.Env) time.Duration {
	return DecisionCycles*Cadence(ctx, env) + ProcessingAllowance
}

// listingStarts are the times of the SUT's submission-listing rounds (offset 0) so far.
func listingStarts(ctx context.Context, env *runenv.Env) ([]time.Time, error) {
	ex, err := Control(env).Exchanges(ctx, 0)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for _, e := range ex {
		if isListingRound(e.Method, e.Direction, e.Status, e.URL) {
			out = append(out, e.Time)
		}
	}
	return out, nil
}

// FirstPollLimit is how long a check waits for the SUT's first successful listing, before any
// cadence can be observed: two of the poll intervals it was given plus 10 s to start up and log
// in; at most 2 × PollCeiling + 10 s.
func FirstPollLimit(env *runenv.Env) time.Duration {
	c := env.PollInterval
	if c <= 0 || c > PollCeiling {
		c = PollCeiling
	}
	return 2*c + 10*time.Second
}
