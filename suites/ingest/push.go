package ingest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/suites/drive"
)

// pushConcurrency is how many fixtures are on their way at once; the SUT decides them in its
// own order.
const pushConcurrency = 4

// delivery is one fixture pushed to the SUT and what the SUT's probe reported for it.
type delivery struct {
	fixture fixtures.Fixture
	sent    sender.Result
	record  contract.Record
	decided bool
	// wait is how long the kit waited for the decision.
	wait time.Duration
	err  error
	// rejection is the payload of the reject-submission event, when the SUT rejected it.
	rejection string
}

// problem explains why the delivery cannot be judged for its content, or "" when it was accepted.
func (d delivery) problem() string {
	id := d.fixture.Manifest.ID
	switch {
	case d.err != nil:
		return fmt.Sprintf("fixture %s: %v", id, d.err)
	case !d.decided && d.record.SubmissionID == "":
		return fmt.Sprintf("fixture %s: the probe never showed submission %s within %s", id, d.sent.SubmissionID, d.wait.Round(time.Second))
	case !d.decided:
		return fmt.Sprintf("fixture %s: submission %s still %q after %s", id, d.sent.SubmissionID, d.record.Status, d.wait.Round(time.Second))
	case d.record.Status != contract.StatusAccepted:
		return fmt.Sprintf("fixture %s: the SUT rejected submission %s, a valid submission: %s", id, d.sent.SubmissionID, d.rejectionText())
	}
	return ""
}

func (d delivery) rejectionText() string {
	if d.rejection != "" {
		return d.rejection
	}
	return fmt.Sprintf("%+v", d.record.Problems)
}

// transports are the transports the run tests that the ingest checks judge, in a fixed order:
// the same fixtures must end as the same records whichever way they came.
func transports(env *runenv.Env) []string {
	var out []string
	for _, t := range []string{contract.TransportFitConnect, contract.TransportXTA} {
		if slices.Contains(env.Transports, t) || (len(env.Transports) == 0 && t == contract.TransportFitConnect) {
			out = append(out, t)
		}
	}
	return out
}

// over names the transport in a failure message or a report entry.
func over(t string) string {
	if t == contract.TransportXTA {
		return "over XTA"
	}
	return "over FIT-Connect"
}

// pushOver sends every named fixture over the transport and waits for each decision, a few
// at a time.
func pushOver(ctx context.Context, env *runenv.Env, transport string, ids ...string) []delivery {
	if transport == contract.TransportXTA {
		return pushEach(ids, func(id string) delivery { return pushOneXTA(ctx, env, id, drive.XTADecisionLimit(ctx, env)) })
	}
	return push(ctx, env, ids...)
}

// pushOneOver sends one fixture over the transport and waits up to wait (beyond the decision
// limit of the transport) for its decision.
func pushOneOver(ctx context.Context, env *runenv.Env, transport, id string, extra time.Duration) delivery {
	if transport == contract.TransportXTA {
		return pushOneXTA(ctx, env, id, drive.XTADecisionLimit(ctx, env)+extra)
	}
	return pushOne(ctx, env, id, drive.DecisionLimit(ctx, env)+extra)
}

// pushOneXTA puts the fixture, as an XTA message from the online service, into the SUT's
// mailbox and waits for the SUT's record of it.
func pushOneXTA(ctx context.Context, env *runenv.Env, id string, wait time.Duration) delivery {
	f, err := drive.Fixture(env, id)
	d := delivery{fixture: drive.Message(f), wait: wait}
	if err != nil {
		d.err = err
		return d
	}
	x, err := drive.XTA(env)
	if err != nil {
		d.err = err
		return d
	}
	offer, err := drive.XTAOffer(x, d.fixture, sender.XTABreakNone)
	if err != nil {
		d.err = err
		return d
	}
	box, err := drive.Mailbox(env)
	if err != nil {
		d.err = err
		return d
	}
	messageID, err := box.PutOffer(ctx, offer)
	if err != nil {
		d.err = fmt.Errorf("putting the XTA message into the SUT's mailbox: %w", err)
		return d
	}
	d.sent = sender.Result{SubmissionID: messageID}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	d.record, d.decided, d.err = drive.AwaitXTARecord(wctx, env, messageID, drive.Decided)
	return d
}

func pushEach(ids []string, one func(id string) delivery) []delivery {
	out := make([]delivery, len(ids))
	sem := make(chan struct{}, pushConcurrency)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = one(id)
		}()
	}
	wg.Wait()
	return out
}

// push sends every named fixture over FIT-Connect and waits for each decision, a few at a time.
func push(ctx context.Context, env *runenv.Env, ids ...string) []delivery {
	out := make([]delivery, len(ids))
	sem := make(chan struct{}, pushConcurrency)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = pushOne(ctx, env, id, drive.DecisionLimit(ctx, env))
		}()
	}
	wg.Wait()
	return out
}

func pushOne(ctx context.Context, env *runenv.Env, id string, wait time.Duration, change ...func(*sender.Submission)) delivery {
	f, err := drive.Fixture(env, id)
	if err != nil {
		return delivery{fixture: f, err: err}
	}
	return pushMessage(ctx, env, drive.Message(f), wait, change...)
}

// pushMessage sends the message and waits for the decision; the delivery's fixture is the
// message, so its expected record names the nachrichtenUUID actually sent.
func pushMessage(ctx context.Context, env *runenv.Env, f fixtures.Fixture, wait time.Duration, change ...func(*sender.Submission)) delivery {
	d := delivery{fixture: f, wait: wait}
	if d.sent, d.err = drive.Send(ctx, env, f, change...); d.err != nil {
		return d
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	d.record, d.decided, d.err = drive.AwaitDecision(wctx, env, d.sent.SubmissionID)
	if d.decided && d.record.Status == contract.StatusRejected {
		d.rejection = rejectPayload(ctx, env, d.sent.SubmissionID)
	}
	return d
}

// rejectPayload returns the payload of the SUT's reject-submission event as the delivery
// service holds it: the problems with their details.
func rejectPayload(ctx context.Context, env *runenv.Env, submissionID string) string {
	sub, err := drive.Control(env).Submission(ctx, submissionID)
	if err != nil {
		return ""
	}
	for _, e := range sub.Events {
		if strings.HasSuffix(e.Event, "/reject-submission") {
			return clip(string(e.Payload), 1500)
		}
	}
	return ""
}

// smallFixtures lists every fixture of the corpus except those whose attachments are generated
// at run time (the 50 MiB one has its own check).
func smallFixtures(env *runenv.Env) ([]string, error) {
	all, err := drive.Fixtures(env)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range all {
		generated := false
		for _, a := range f.Manifest.Attachments {
			generated = generated || a.Generate != nil
		}
		if !generated {
			ids = append(ids, f.Manifest.ID)
		}
	}
	return ids, nil
}
