package fitconnect

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/suites/check"
	"github.com/konform/konform/suites/drive"
)

// Telling a reaction to a callback apart from the SUT's own polling: the SUT must fetch the
// announced submission within the reaction window of the callback (half its poll period, at
// most maxReactionWindow), and the callback is sent so soon after one of the SUT's scheduled
// rounds that the next one is not due before the window ends. The contract fixes the cadence
// under test (docs/sut-contract.md §1: a round at least every poll interval, not more than
// twice as often), so the window exists at every cadence a correct SUT keeps.
const (
	// maxReactionWindow is the longest time the SUT is given to act on a valid callback.
	maxReactionWindow = 3 * time.Second
	// minJitter is the least slack kept between the end of the window and the next scheduled
	// round, for periods long enough to afford it.
	minJitter = 500 * time.Millisecond
	// cadenceWait bounds the wait for two rounds of the SUT's own polling.
	cadenceWait = 2*drive.PollCeiling + 5*time.Second
	// historyExchanges is how far back the SUT's earlier rounds are looked for.
	historyExchanges = 300
	// placementRounds is how many of the SUT's rounds a check may wait for to place its
	// callback early enough in one of them.
	placementRounds = 5
	// placementMargin is kept for releasing the held submission and sending the callback.
	placementMargin = 200 * time.Millisecond
)

// cadence is the SUT's own polling rhythm, read from its last two or three consecutive listing
// rounds with no callback sent among them.
type cadence struct {
	// Earlier is the round before Previous when it was quiet too, else zero.
	Earlier, Previous, Last time.Time
}

// Period is the time between the rounds: the shorter interval when there are three. A round
// the SUT started late (a busy machine) lengthens the interval before it and shortens the one
// after; the shorter one is nearer the SUT's schedule.
func (c cadence) Period() time.Duration {
	p := c.Last.Sub(c.Previous)
	if !c.Earlier.IsZero() {
		p = min(p, c.Previous.Sub(c.Earlier))
	}
	return p
}

// average is the mean of the two intervals between three rounds; ok is false for two rounds.
// Unlike Period it does not shrink when a late round is followed by one on schedule, so it is
// what says whether the SUT polls too often.
func (c cadence) average() (time.Duration, bool) {
	if c.Earlier.IsZero() {
		return 0, false
	}
	return c.Last.Sub(c.Earlier) / 2, true
}

// NextDue is when the SUT's next scheduled round is due: a Period after the last round, or two
// after the one before it when the last came late.
func (c cadence) NextDue() time.Time {
	p := c.Period()
	due := c.Last.Add(p)
	if other := c.Previous.Add(2 * p); other.After(c.Last) && other.Before(due) {
		due = other
	}
	return due
}

// window is how soon after a valid callback the SUT must fetch what it announces.
func (c cadence) window() time.Duration { return min(maxReactionWindow, c.Period()/2) }

// slack is how much earlier than NextDue a scheduled round may still come: a tenth of the
// period, at least minJitter where the period affords it (a fifth of it otherwise).
func (c cadence) slack() time.Duration {
	return max(c.Period()/10, min(minJitter, c.Period()/5))
}

// room reports whether a callback sent at cb leaves the whole reaction window before the next
// scheduled round can come.
func (c cadence) room(cb time.Time) bool {
	return !cb.Add(c.window()).After(c.NextDue().Add(-c.slack()))
}

// quietCadence returns the cadence of the last listing rounds (three, else two) when no
// callback was sent among them, nor within maxReactionWindow before the first: a round that
// answers a callback is no scheduled one, and a period measured from it would be too short. A
// callback earlier than that can only have pulled the first round forward, which makes the
// period look shorter and the judgement stricter, never laxer.
func quietCadence(rounds, callbacks []time.Time) (cadence, bool) {
	quiet := func(from, to time.Time) bool {
		for _, cb := range callbacks {
			if cb.After(from.Add(-maxReactionWindow)) && !cb.After(to) {
				return false
			}
		}
		return true
	}
	if len(rounds) < 2 {
		return cadence{}, false
	}
	c := cadence{Previous: rounds[len(rounds)-2], Last: rounds[len(rounds)-1]}
	if !c.Last.After(c.Previous) || !quiet(c.Previous, c.Last) {
		return cadence{}, false
	}
	if len(rounds) >= 3 {
		if e := rounds[len(rounds)-3]; c.Previous.After(e) && quiet(e, c.Last) {
			c.Earlier = e
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
			c.window(), due.Sub(cb).Round(time.Millisecond))
	}
	took := fetch.Sub(cb)
	if took > c.window() {
		return fmt.Sprintf("the SUT fetched the announced submission %s after the callback, not within %s; its next scheduled poll was due %s after the callback: it waited for its poll instead of acting on the callback",
			took.Round(time.Millisecond), c.window(), due.Sub(cb).Round(time.Millisecond))
	}
	return ""
}

// trafficTail keeps the delivery service's recent exchange heads and reads only what is new on
// each look, so that watching the SUT's cadence costs little however often it looks.
type trafficTail struct {
	ex   []recorder.Exchange
	last int64
	read bool
}

// since returns the exchanges after seq, reading from the mock only those it has not seen.
func (t *trafficTail) since(ctx context.Context, env *runenv.Env, seq int64) ([]recorder.Exchange, error) {
	if !t.read {
		t.last, t.read = seq, true
	}
	fresh, err := drive.Control(env).Exchanges(ctx, t.last)
	if err != nil {
		return nil, err
	}
	t.ex = append(t.ex, fresh...)
	if len(fresh) > 0 {
		t.last = fresh[len(fresh)-1].Seq
	}
	var out []recorder.Exchange
	for _, e := range t.ex {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out, nil
}

// cadenceAfter returns the SUT's quiet cadence whose last round came after the exchange seq,
// reading earlier rounds from the recent history.
func cadenceAfter(ctx context.Context, env *runenv.Env, tail *trafficTail, seq int64) (cadence, error) {
	ex, err := tail.since(ctx, env, max(seq-historyExchanges, 0))
	if err != nil {
		return cadence{}, err
	}
	ls, cbs := listingsIn(ex), callbackTimesIn(ex)
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
	return callbackTimesIn(ex), nil
}

// callbackTimesIn returns when the delivery service called the SUT back among ex.
func callbackTimesIn(ex []recorder.Exchange) []time.Time {
	var out []time.Time
	for _, e := range ex {
		if e.Direction != "outbound" || e.Method != "POST" {
			continue
		}
		if u, err := url.Parse(e.URL); err == nil && strings.HasSuffix(u.Path, contract.CallbackPath) {
			out = append(out, e.Time)
		}
	}
	return out
}

// holdDestination holds back the new submissions to the SUT's destination until the check
// releases them or ends.
func holdDestination(ctx context.Context, env *runenv.Env) {
	GinkgoHelper()
	ctl := drive.Control(env)
	if err := ctl.Hold(ctx, env.FitConnect.DestinationID); err != nil {
		check.KitFault("holding back the SUT's destination at the delivery service mock: %v", err)
	}
	DeferCleanup(func(ctx SpecContext) { _, _ = ctl.Release(ctx, env.FitConnect.DestinationID) })
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

// heldCadence holds back a valid submission to the SUT's destination and waits for two quiet
// listing rounds of the SUT's own polling, which give its cadence, ending right after a round.
func heldCadence(ctx context.Context, env *runenv.Env) (sender.Result, cadence) {
	GinkgoHelper()
	// Held back, the submission is neither listed nor announced: meanwhile the SUT's rounds
	// show its own cadence.
	holdDestination(ctx, env)
	res, err := drive.Send(ctx, env, mustFixture(env, withAttachment))
	check.KitExpect(err == nil, "sending a submission through the delivery service mock: %v", err)
	return res, awaitCadence(ctx, env)
}

// awaitCadence waits for a fresh quiet round of the SUT's polling that leaves room for a
// callback now.
func awaitCadence(ctx context.Context, env *runenv.Env) cadence {
	GinkgoHelper()
	var cad cadence
	tail := &trafficTail{}
	for range placementRounds {
		start, err := lastSeq(ctx, env)
		check.KitExpect(err == nil, "reading the delivery service mock's exchanges: %v", err)
		Eventually(func(g Gomega) {
			c, err := cadenceAfter(ctx, env, tail, start)
			g.Expect(err).NotTo(HaveOccurred(), "the SUT's polling shows no cadence yet: %v", err)
			cad = c
		}).WithContext(ctx).WithTimeout(cadenceWait).WithPolling(50*time.Millisecond).Should(Succeed(),
			"without callbacks the SUT must poll at least every %s it was given (SUT contract §1)", contract.EnvPollInterval)
		if env.PollInterval > 0 && cad.Period() < env.PollInterval/2 {
			if avg, ok := cad.average(); ok && avg < env.PollInterval/2 {
				Fail(fmt.Sprintf("the SUT polls every %s on its own (rounds at %s, %s and %s), more than twice as often as the poll interval %s it was given (SUT contract §1): a reaction to a callback cannot be told from a scheduled round",
					avg.Round(time.Millisecond), stamp(cad.Earlier), stamp(cad.Previous), stamp(cad.Last), env.PollInterval))
			}
			// One short interval after a long one: a round the SUT started late (a busy
			// machine) and the next one on its schedule. Its next rounds show the cadence.
			continue
		}
		// The release and the callback take a moment; leave them placementMargin.
		if cad.room(time.Now().Add(placementMargin)) {
			AddReportEntry("the SUT's own polling before the callback", fmt.Sprintf("rounds at %s and %s: every %s",
				stamp(cad.Previous), stamp(cad.Last), cad.Period().Round(time.Millisecond)))
			return cad
		}
	}
	check.KitFault("in %d of the SUT's rounds (every %s) the kit never placed a callback early enough to judge it before the next round",
		placementRounds, cad.Period().Round(time.Millisecond))
	return cad
}

// releaseAndCall releases the held submission and sends the callback at once. It returns how
// the SUT answered, the exchange the SUT's requests are read after, and when the callback
// went out. When the callback went out too late in the round to judge it, it is a kit fault.
func releaseAndCall(ctx context.Context, env *runenv.Env, res sender.Result, cad cadence, req fitconnect.CallbackRequest) (fitconnect.CallbackResult, int64, time.Time) {
	GinkgoHelper()
	ctl := drive.Control(env)
	released, err := ctl.Release(ctx, env.FitConnect.DestinationID)
	check.KitExpect(err == nil, "releasing the held submission at the delivery service mock: %v", err)
	check.KitExpect(slices.Contains(released, res.SubmissionID), "the delivery service did not release the held submission %s (released %v)", res.SubmissionID, released)
	seq, err := lastSeq(ctx, env)
	check.KitExpect(err == nil, "reading the delivery service mock's exchanges: %v", err)
	req.DestinationID = env.FitConnect.DestinationID
	cb, err := ctl.SendCallback(ctx, req)
	check.KitExpect(err == nil, "sending the callback through the delivery service mock: %v", err)
	Expect(cb.Error).To(BeEmpty(), "the callback did not reach the SUT")
	sent, err := callbackTimes(ctx, env, seq)
	check.KitExpect(err == nil, "reading the callbacks from the delivery service mock's exchanges: %v", err)
	check.KitExpect(len(sent) > 0, "the delivery service recorded no callback to the SUT")
	at := sent[0]
	check.KitExpect(cad.room(at), "the callback went out %s after the SUT's last round, too late to judge it before the next one",
		at.Sub(cad.Last).Round(time.Millisecond))
	return cb, seq, at
}

// expectCallbackIgnored judges a callback the SUT must ignore (what names the fault): the SUT
// must serve the callback route, and it must not fetch the submission the callback announces
// before its next scheduled poll is due.
func expectCallbackIgnored(ctx context.Context, env *runenv.Env, req fitconnect.CallbackRequest, what string) {
	GinkgoHelper()
	notRunWithoutCallbacks(env)
	res, cad := heldCadence(ctx, env)
	cb, seq, at := releaseAndCall(ctx, env, res, cad, req)
	AddReportEntry("callback "+what, fmt.Sprintf("answered %d %s", cb.Status, cb.Body))
	if cb.Status == http.StatusNotFound || cb.Status == http.StatusMethodNotAllowed {
		Fail(fmt.Sprintf("the SUT answered %d to a POST on its callback path %s: it serves no callback route", cb.Status, contract.CallbackPath))
	}
	quietUntil := cad.NextDue().Add(-cad.slack())
	fetched, err := firstFetch(ctx, env, seq, res.SubmissionID, time.Until(quietUntil))
	check.KitExpect(err == nil, "reading the SUT's fetches from the delivery service mock's exchanges: %v", err)
	seen := "none before the next scheduled poll"
	if fetched != nil {
		seen = "+" + fetched.Sub(at).Round(time.Millisecond).String()
	}
	AddReportEntry("callback and fetch", fmt.Sprintf("callback at %s (+%s after the last round); fetch of %s: %s; next scheduled round due +%s",
		stamp(at), at.Sub(cad.Last).Round(time.Millisecond), res.SubmissionID, seen, cad.NextDue().Sub(at).Round(time.Millisecond)))
	if fetched != nil && fetched.Before(quietUntil) {
		Fail(fmt.Sprintf("the SUT fetched the announced submission %s after a callback %s, before its next scheduled poll was due (+%s): it acted on a callback it must ignore",
			fetched.Sub(at).Round(time.Millisecond), what, cad.NextDue().Sub(at).Round(time.Millisecond)))
	}
	// The submission is valid and waits for the SUT's own polling; let it be decided so that it
	// does not linger into the next check.
	_, _ = awaitDecisionEvent(ctx, env, res.SubmissionID, drive.DecisionLimit(ctx, env))
}
