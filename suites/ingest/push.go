package ingest

import (
	"context"
	"fmt"
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

// push sends every named fixture and waits for each decision, a few at a time.
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
