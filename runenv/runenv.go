// Package runenv is the environment of one conformance run as the specs see it: where the mocks
// and the SUT are, which credentials and keys were provisioned, and what the SUT can be made to do.
// The CLI fills it before the suites run; specs only read it.
package runenv

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/recorder"
)

// Endpoint is one actor's base URL from two sides: Internal as the SUT reaches it, External as
// the kit reaches it. In the process runtime both are the same.
type Endpoint struct {
	Internal string
	External string
}

// Credentials are an OAuth client's ID and secret.
type Credentials struct {
	ClientID     string
	ClientSecret string
}

// SubmissionSchema is a schema a destination accepts.
type SubmissionSchema struct {
	URI      string
	MimeType string
}

// Service is a FIT-Connect service a destination serves.
type Service struct {
	Identifier string
	Name       string
	Schemas    []SubmissionSchema
}

// FitConnect is what was provisioned at the delivery service mock.
type FitConnect struct {
	Endpoint
	// DestinationID is the SUT's destination.
	DestinationID string
	// ForeignDestinationID is another active destination the SUT's client can see but must ignore.
	ForeignDestinationID string
	Services             []Service
	Sender               Credentials
	Subscriber           Credentials
	CallbackSecret       string
	// OtherEncryptionKey is a public key that is not the destination's (for "encrypted for another key").
	OtherEncryptionKey jose.JSONWebKey
}

// TokenURL returns the token endpoint as the kit reaches it.
func (f FitConnect) TokenURL() string { return f.External + "/token" }

// XTA is what was provisioned at the XTA server mock (contract 2).
type XTA struct {
	// Internal is the https base URL as the SUT reaches it; External is the mock's plain-HTTP
	// control base as the kit reaches it; ExternalTLS is the https base as the kit reaches it.
	Endpoint
	ExternalTLS string
	// ReaderID is the SUT's reader identity (Identifier, type "xoev"); OtherReaderID is another
	// reader's, AuthorID the online service's.
	ReaderID, OtherReaderID, AuthorID string
	Services                          []contract.XTAService
	// CAPEM is the CA the SUT trusts; ServerCertPEM/KeyPEM the mock's certificate from it;
	// ForeignCertPEM/KeyPEM a server certificate for the same names from another CA.
	CAPEM, ServerCertPEM, ServerKeyPEM, ForeignCertPEM, ForeignKeyPEM []byte
	// AuthorCertPEM/KeyPEM authenticate the kit as the author at the mock.
	AuthorCertPEM, AuthorKeyPEM []byte
	// PollInterval is KONFORM_XTA_POLL_INTERVAL.
	PollInterval time.Duration
}

// ErrNotSupported is returned by SUT operations the run's SUT mode cannot carry out.
var ErrNotSupported = errors.New("not supported in this SUT mode")

// SUT is the application under test as the specs may handle it.
type SUT interface {
	// ProbeURL is the base URL of the probe API as the kit reaches it.
	ProbeURL() string
	// Restart stops the SUT hard and starts it again with the same state, or returns an error
	// wrapping ErrNotSupported with the reason.
	Restart(ctx context.Context) error
	// CallbacksReachable says whether the delivery service mock can call the SUT back; if not,
	// the reason.
	CallbacksReachable() (bool, string)
}

// ExchangeSource reads the exchanges one mock recorded.
type ExchangeSource struct {
	Actor     string
	Exchanges func(ctx context.Context, since int64) ([]recorder.Exchange, error)
	// Last returns the sequence number of the latest exchange.
	Last func(ctx context.Context) (int64, error)
}

// Env is one run's environment.
type Env struct {
	Runtime    string // "docker" or "process"
	SUTMode    string // "reference", "image" or "url"
	FitConnect FitConnect
	// XTA is nil when the run does not test the XTA transport.
	XTA *XTA
	// Transports are the transports the run tests (contract.Transport*).
	Transports []string
	HKR        Endpoint
	// HKRBookingCoding is the booking coding handed to the SUT, verbatim: the JSON value of
	// KONFORM_HKR_BOOKING_CODING (service identifier → budget coding).
	HKRBookingCoding json.RawMessage
	// PollInterval is the poll interval handed to the SUT (KONFORM_FITCONNECT_POLL_INTERVAL).
	PollInterval time.Duration
	SUT          SUT
	SchemasDir   string // official schemas (may be empty: specs that need them skip)
	FixturesDir  string
	WorkDir      string // scratch space of the run
	Evidence     []ExchangeSource
}

var current *Env

// Set installs the environment before the suites run.
func Set(e *Env) { current = e }

// Current returns the run's environment. It panics when none was set, which only happens when
// specs run outside the kit.
func Current() *Env {
	if current == nil {
		panic("runenv: the suites run only inside `conformance run`")
	}
	return current
}
