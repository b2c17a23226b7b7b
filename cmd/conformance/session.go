package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/konform/konform/runenv"
	"github.com/konform/konform/runtime"
)

// session is what `mocks up` leaves for `run --sut-url`: where the mocks are and what was
// provisioned, so that the run drives the very mocks the vendor configured the SUT for.
type session struct {
	RunID      string                     `json:"runId"`
	Runtime    string                     `json:"runtime"`
	Endpoints  map[string]runenv.Endpoint `json:"endpoints"`
	FitConnect runenv.FitConnect          `json:"fitConnect"`
	XTA        *runenv.XTA                `json:"xta,omitempty"`
	Env        map[string]string          `json:"env"`
}

const defaultSessionFile = "konform-mocks.json"

func (s session) save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func loadSession(path string) (session, error) {
	var s session
	b, err := os.ReadFile(path)
	if err != nil {
		return s, usageError{fmt.Sprintf("with --sut-url the run drives the mocks of `conformance mocks up`; start them first and configure your SUT with the environment they print (%v)", err)}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, usageError{fmt.Sprintf("%s: %v", path, err)}
	}
	return s, nil
}

// attached is a runtime that starts nothing: the mocks run in a `mocks up` process.
type attached struct{ s session }

func (a attached) Name() string { return a.s.Runtime }

func (a attached) StartActors(context.Context, map[string]runtime.ActorFactory) (map[string]runenv.Endpoint, error) {
	return a.s.Endpoints, nil
}

func (a attached) SUTBase() (string, string) { return "", "" }

func (a attached) StartSUT(ctx context.Context, spec runtime.SUTSpec) (runtime.SUT, error) {
	return runtime.ReachURL(ctx, spec.URL, "", spec.RestartCmd)
}

func (a attached) ActorLogs(context.Context) map[string][]byte { return nil }

func (a attached) Close(context.Context) error { return nil }
