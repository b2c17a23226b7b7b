package fitconnect

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/suites/drive"
)

// Telling a reaction to a callback apart from the SUT's own polling: the SUT must fetch the
// announced submission within reactionWindow of the callback, and the callback is sent so soon
// after one of the SUT's scheduled rounds that the next one is not due before the window ends.
const (
	// reactionWindow is how soon after a valid callback the SUT must fetch what it announces.
	reactionWindow = 3 * time.Second
	// minJitter is the least slack kept between the end of the window and the next scheduled round.
	minJitter = 500 * time.Millisecond
	// cadenceWait bounds the wait for two rounds of the SUT's own polling.
	cadenceWait = 45 * time.Second
	// historyExchanges is how far back the SUT's earlier rounds are looked for.
	historyExchanges = 300
)

// cadence is the SUT's own polling rhythm, read from two consecutive listing rounds with no
// callback sent between them.
type cadence struct {
	Previous, Last time.Time
}

// Period is the time between the two rounds.
func (c cadence) Period() time.Duration { return c.Last.Sub(c.Previous) }

// NextDue is when the SUT's next scheduled round is due.
func (c cadence) NextDue() time.Time { return c.Last.Add(c.Period()) }

// slack is how much earlier than NextDue a scheduled round may still come: a tenth of the
// period, at least minJitter.
func (c cadence) slack() time.Duration {
	return max(c.Period()/10, minJitter)
}

// room reports whether a callback sent at cb leaves the whole reaction window before the next
// scheduled round can come.
func (c cadence) room(cb time.Time) bool {
	return !cb.Add(reactionWindow).After(c.NextDue().Add(-c.slack()))
}

// quietCadence returns the cadence of the last two listing rounds when no callback was sent
// between them. A callback earlier than that can only have pulled the first round forward,
// which makes the period look shorter and the judgement stricter, never laxer.
func quietCadence(rounds, callbacks []time.Time) (cadence, bool) {
	if len(rounds) < 2 {
		return cadence{}, false
	}
	c := cadence{Previous: rounds[len(rounds)-2], Last: rounds[len(rounds)-1]}
	if c.Period() <= 0 {
		return cadence{}, false
	}
	for _, cb := range callbacks {
		if cb.After(c.Previous) && !cb.After(c.Last) {
			return cadence{}, false
		}
	}
	return c, true
}

// reactionVerdict judges the SUT's first fetch of the announced submission after the callback
// at cb ("" when it acted on the callback). fetch is nil when it did not fetch at all.
func reactionVerdict(c cadence, cb time.Time, fetch *time.Time) string {
	due := c.NextDue()
	if fetch == nil {
		return fmt.Sprintf("the SUT answered the callback but did not fetch the announced submission within %s (its next scheduled poll was due %s after the callback)",
			reactionWindow, due.Sub(cb).Round(time.Millisecond))
	}
	took := fetch.Sub(cb)
	if took > reactionWindow {
		return fmt.Sprintf("the SUT fetched the announced submission %s after the callback, not within %s; its next scheduled poll was due %s after the callback: it waited for its poll instead of acting on the callback",
			took.Round(time.Millisecond), reactionWindow, due.Sub(cb).Round(time.Millisecond))
	}
	return ""
}

// cadenceAfter returns the SUT's quiet cadence whose last round came after the exchange seq,
// reading earlier rounds from the recent history.
func cadenceAfter(ctx context.Context, env *runenv.Env, seq int64) (cadence, error) {
	from := max(seq-historyExchanges, 0)
	ls, err := listingsSince(ctx, env, from)
	if err != nil {
		return cadence{}, err
	}
	cbs, err := callbackTimes(ctx, env, from)
	if err != nil {
		return cadence{}, err
	}
	var rounds []time.Time
	fresh := false
	for _, l := range ls {
		if l.Offset == 0 {
			rounds = append(rounds, l.Time)
			fresh = l.Seq > seq
		}
	}
	if !fresh {
		return cadence{}, fmt.Errorf("no listing round since the submission was held back")
	}
	c, ok := quietCadence(rounds, cbs)
	if !ok {
		return cadence{}, fmt.Errorf("no two listing rounds in a row without a callback between them yet")
	}
	return c, nil
}

// firstFetch waits up to within for the SUT's first request for the submission after seq and
// returns its time, or nil when none came.
func firstFetch(ctx context.Context, env *runenv.Env, seq int64, submissionID string, within time.Duration) (*time.Time, error) {
	deadline := time.Now().Add(within)
	for {
		fs, err := fetchesOf(ctx, env, seq, submissionID)
		if err != nil {
			return nil, err
		}
		if len(fs) > 0 {
			t := fs[0].Time
			return &t, nil
		}
		if time.Now().After(deadline) {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stamp formats a recorded time for evidence.
func stamp(t time.Time) string { return t.UTC().Format("15:04:05.000Z") }

// callbackTimes returns when the delivery service sent callbacks to the SUT after seq.
func callbackTimes(ctx context.Context, env *runenv.Env, seq int64) ([]time.Time, error) {
	ex, err := drive.Control(env).Exchanges(ctx, seq)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for _, e := range ex {
		if e.Direction != "outbound" || e.Method != "POST" {
			continue
		}
		if u, err := url.Parse(e.URL); err == nil && strings.HasSuffix(u.Path, contract.CallbackPath) {
			out = append(out, e.Time)
		}
	}
	return out, nil
}

// release ends the hold on the SUT's destination and, when callbacks reach the SUT, announces
// the released submissions with a valid callback, as the delivery service does on submit. The
// callback only spares the wait for the SUT's next poll, so how it fares does not matter.
func release(ctx context.Context, env *runenv.Env) ([]string, error) {
	ctl := drive.Control(env)
	ids, err := ctl.Release(ctx, env.FitConnect.DestinationID)
	if err != nil {
		return nil, err
	}
	if ok, _ := env.SUT.CallbacksReachable(); ok && len(ids) > 0 {
		_, _ = ctl.SendCallback(ctx, fitconnect.CallbackRequest{DestinationID: env.FitConnect.DestinationID})
	}
	return ids, nil
}
