package drive

import (
	"context"
	"fmt"
	"net/url"
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
		if e.Method != "GET" || e.Direction != "inbound" || e.Status != 200 {
			continue
		}
		u, err := url.Parse(e.URL)
		if err != nil || u.Path != "/v1/submissions" {
			continue
		}
		if off := u.Query().Get("offset"); off == "" || off == "0" {
			n++
		}
	}
	return n, nil
}
