// Package drive is how the suites act as the online service: it turns fixtures into
// submissions, sends them through the delivery service mock, and waits for what the SUT
// reports through its probe. It judges nothing.
package drive

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/probe"
	"github.com/konform/konform/runenv"
)

var (
	loadOnce sync.Once
	loaded   []fixtures.Fixture
	loadErr  error
)

// Fixtures returns the run's fixtures, loaded once.
func Fixtures(env *runenv.Env) ([]fixtures.Fixture, error) {
	loadOnce.Do(func() { loaded, loadErr = fixtures.Load(env.FixturesDir) })
	return loaded, loadErr
}

// Fixture returns the fixture with the given ID.
func Fixture(env *runenv.Env, id string) (fixtures.Fixture, error) {
	all, err := Fixtures(env)
	if err != nil {
		return fixtures.Fixture{}, err
	}
	for _, f := range all {
		if f.Manifest.ID == id {
			return f, nil
		}
	}
	return fixtures.Fixture{}, fmt.Errorf("no fixture %q in %s", id, env.FixturesDir)
}

// Sender returns an online-service sender with the run's sender credentials.
func Sender(env *runenv.Env, opts ...sender.Option) *sender.Sender {
	fc := env.FitConnect
	return sender.New(fc.External, fc.TokenURL(), fc.Sender.ClientID, fc.Sender.ClientSecret, opts...)
}

// Control returns the delivery service mock's control client.
func Control(env *runenv.Env) *fitconnect.Control {
	return fitconnect.NewControl(env.FitConnect.External)
}

// Probe returns the SUT's probe client.
func Probe(env *runenv.Env) *probe.Client { return probe.New(env.SUT.ProbeURL()) }

// Message returns the fixture as one message of the online service. A corpus fixture gets a
// nachrichtenUUID of its own, as every message a real online service sends has; a fixture that
// already is a message stays as it is, so sending it twice sends the identical message twice.
func Message(f fixtures.Fixture) fixtures.Fixture {
	if f.IsMessage() {
		return f
	}
	return f.WithMessageUUID(uuid.NewString())
}

// Submission turns a fixture, as a message (Message), into a submission to the SUT's destination.
func Submission(env *runenv.Env, f fixtures.Fixture) sender.Submission {
	f = Message(f)
	m := f.Manifest
	svc := sender.ServiceType{Name: m.Service.Name, Identifier: m.Service.Identifier}
	mime := m.DataMimeType
	if mime == "" {
		mime = "application/xml"
	}
	sub := sender.Submission{
		DestinationID: env.FitConnect.DestinationID,
		ServiceType:   svc,
		Data: sender.Part{MimeType: mime, Open: func() (io.ReadCloser, error) {
			r, _, err := f.Data()
			return r, err
		}},
		DataSchema: sender.SchemaRef{URI: m.SchemaURI, MimeType: mime},
	}
	for _, a := range f.Attachments() {
		sub.Attachments = append(sub.Attachments, sender.Attachment{
			Part:     sender.Part{MimeType: a.MimeType, Open: a.Open, Size: a.Size},
			Filename: a.Filename, Purpose: a.Purpose,
		})
	}
	if p := m.Payment; p != nil {
		sub.Payment = &sender.Payment{
			TransactionID: p.TransactionID, TransactionReference: p.TransactionReference,
			PaymentMethod: p.PaymentMethod, Status: p.Status, GrossAmount: p.GrossAmount.Decimal,
			Timestamp: time.Now().UTC().Truncate(time.Second),
		}
	}
	return sub
}

// Send pushes a fixture to the SUT's destination, after letting change adjust the submission.
func Send(ctx context.Context, env *runenv.Env, f fixtures.Fixture, change ...func(*sender.Submission)) (sender.Result, error) {
	sub := Submission(env, f)
	for _, c := range change {
		c(&sub)
	}
	res, err := Sender(env).Send(ctx, sub)
	if err != nil {
		return res, fmt.Errorf("sending fixture %s: %w", f.Manifest.ID, err)
	}
	return res, nil
}

// AwaitDecision polls the probe until the SUT has accepted or rejected the submission, or ctx
// ends. It returns the last record seen and whether a decision was reached.
func AwaitDecision(ctx context.Context, env *runenv.Env, submissionID string) (contract.Record, bool, error) {
	return AwaitRecord(ctx, env, submissionID, func(r contract.Record) bool {
		return r.Status == contract.StatusAccepted || r.Status == contract.StatusRejected
	})
}

// AwaitRecord polls the probe until done(record) holds or ctx ends.
func AwaitRecord(ctx context.Context, env *runenv.Env, submissionID string, done func(contract.Record) bool) (contract.Record, bool, error) {
	p := Probe(env)
	var last contract.Record
	var lastErr error
	for {
		rec, found, err := p.Record(ctx, submissionID)
		if err == nil && found {
			last = rec
			if done(rec) {
				return rec, true, nil
			}
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil && last.SubmissionID == "" {
				return last, false, lastErr
			}
			return last, false, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
