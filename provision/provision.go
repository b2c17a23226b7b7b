// Package provision sets up what a Fachverfahren finds in a real FIT-Connect environment before
// its first submission: a destination with its keys and callback, subscriber and sender
// clients, a second destination the SUT must ignore — and builds the SUT configuration of the
// contract from it.
package provision

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/runenv"
)

// Options describe where the actors are and what the destination serves.
type Options struct {
	FitConnect runenv.Endpoint
	HKR        runenv.Endpoint
	// XTA is the XTA server mock (empty: none was started); XTAServices what the SUT serves over it.
	XTA         runenv.Endpoint
	XTAServices []contract.XTAService
	// SUTBase is the SUT's base URL as the delivery service mock reaches it (for callbacks).
	SUTBase string
	// SUTListen is the listen address handed to the SUT.
	SUTListen string
	// SUTUsesExternal hands the SUT the kit-side URLs (a SUT given by URL runs beside the kit).
	SUTUsesExternal bool
	Services        []runenv.Service
	// PollInterval is handed to the SUT as its poll interval (0: DefaultPollInterval).
	PollInterval time.Duration
	// Keys, when set, are reused instead of generating fresh ones (the self-test shares one key
	// set across its runs; every other run makes its own).
	Keys *Keys
}

// DefaultPollInterval is the poll interval handed to the SUT. The delivery service calls the SUT
// back on every new submission, so a SUT that acts on callbacks reacts within moments; the
// interval is long enough that such a reaction is told apart from a scheduled poll, and short
// enough that a SUT reachable only by polling still finishes a run.
const DefaultPollInterval = 10 * time.Second

// Keys are the RSA keys a run needs.
type Keys struct {
	DestinationEncryption, DestinationSigning *pki.Key
	ForeignEncryption, ForeignSigning         *pki.Key
	Other                                     *pki.Key
	// DeliveryService signs the delivery service mock's SETs (Config.SigningKey): kept with the
	// set, so that a run with a kept set generates no RSA key at all.
	DeliveryService *pki.Key
}

// NewKeys generates a fresh key set (RSA 4096, self-signed chains), in parallel.
func NewKeys(opts ...pki.Option) (*Keys, error) {
	k := &Keys{}
	type job struct {
		dst  **pki.Key
		sign bool
	}
	jobs := []job{{&k.DestinationEncryption, false}, {&k.DestinationSigning, true}, {&k.ForeignEncryption, false}, {&k.ForeignSigning, true}, {&k.Other, false}, {&k.DeliveryService, true}}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kid := uuid.NewString()
			var err error
			if j.sign {
				*j.dst, err = pki.NewSigningKey(kid, opts...)
			} else {
				*j.dst, err = pki.NewEncryptionKey(kid, opts...)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("generating keys: %w", err)
		}
	}
	return k, nil
}

// Result is the provisioned environment.
type Result struct {
	FitConnect runenv.FitConnect
	XTA        *runenv.XTA
	// Env is the SUT configuration (docs/sut-contract.md §1).
	Env map[string]string
}

// Run provisions the delivery service mock and returns the SUT configuration.
func Run(ctx context.Context, o Options) (*Result, error) {
	keys := o.Keys
	if keys == nil {
		var err error
		if keys, err = NewKeys(); err != nil {
			return nil, err
		}
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	ctl := fitconnect.NewControl(o.FitConnect.External)
	signing, err := keys.DeliveryService.JWK.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("the delivery service's signing key: %w", err)
	}
	if err := ctl.Configure(ctx, fitconnect.Config{PublicBaseURL: o.FitConnect.Internal, SigningKey: signing}); err != nil {
		return nil, fmt.Errorf("configuring the delivery service mock: %w", err)
	}
	fc := runenv.FitConnect{
		Endpoint:             o.FitConnect,
		DestinationID:        uuid.NewString(),
		ForeignDestinationID: uuid.NewString(),
		Services:             o.Services,
		Sender:               runenv.Credentials{ClientID: "sender-" + uuid.NewString(), ClientSecret: secret()},
		Subscriber:           runenv.Credentials{ClientID: "subscriber-" + uuid.NewString(), ClientSecret: secret()},
		CallbackSecret:       secret(),
		OtherEncryptionKey:   keys.Other.Public,
	}
	callbackURL := strings.TrimRight(o.SUTBase, "/") + contract.CallbackPath
	var services []fitconnect.Service
	for _, s := range o.Services {
		svc := fitconnect.Service{Identifier: s.Identifier, Regions: []string{"DE"}}
		for _, sch := range s.Schemas {
			svc.SubmissionSchemas = append(svc.SubmissionSchemas, fitconnect.SubmissionSchema{SchemaURI: sch.URI, MimeType: sch.MimeType})
		}
		services = append(services, svc)
	}
	for _, d := range []struct {
		id       string
		enc, sig *pki.Key
	}{
		{fc.DestinationID, keys.DestinationEncryption, keys.DestinationSigning},
		{fc.ForeignDestinationID, keys.ForeignEncryption, keys.ForeignSigning},
	} {
		err := ctl.AddDestination(ctx, fitconnect.Destination{
			ID: d.id, Status: "active", Services: services,
			EncryptionKey: d.enc.Public, SigningKey: d.sig.Public,
			MetadataVersions: []string{"1.0.0"},
			CallbackURL:      callbackURL, CallbackSecret: fc.CallbackSecret,
		})
		if err != nil {
			return nil, fmt.Errorf("registering destination %s: %w", d.id, err)
		}
	}
	if err := ctl.AddClient(ctx, fitconnect.Client{ID: fc.Sender.ClientID, Secret: fc.Sender.ClientSecret, Role: "sender"}); err != nil {
		return nil, fmt.Errorf("registering the sender client: %w", err)
	}
	// The subscriber client may see both destinations, as a client linked to several destinations
	// in the self-service portal can; the SUT must still process only its own.
	if err := ctl.AddClient(ctx, fitconnect.Client{ID: fc.Subscriber.ClientID, Secret: fc.Subscriber.ClientSecret, Role: "subscriber",
		Destinations: []string{fc.DestinationID, fc.ForeignDestinationID}}); err != nil {
		return nil, fmt.Errorf("registering the subscriber client: %w", err)
	}

	decJWK, err := keys.DestinationEncryption.PrivateJSON()
	if err != nil {
		return nil, err
	}
	sigJWK, err := keys.DestinationSigning.PrivateJSON()
	if err != nil {
		return nil, err
	}
	fcURL, hkrURL := o.FitConnect.Internal, o.HKR.Internal
	if o.SUTUsesExternal {
		fcURL, hkrURL = o.FitConnect.External, o.HKR.External
	}
	coding, err := json.Marshal(BookingCoding(o.Services))
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		contract.EnvContractVersion:  contract.Version,
		contract.EnvListenAddr:       o.SUTListen,
		contract.EnvSubmissionAPIURL: fcURL,
		contract.EnvTokenURL:         fcURL + "/token",
		contract.EnvClientID:         fc.Subscriber.ClientID,
		contract.EnvClientSecret:     fc.Subscriber.ClientSecret,
		contract.EnvDestinationID:    fc.DestinationID,
		contract.EnvDecryptionJWK:    string(decJWK),
		contract.EnvSigningJWK:       string(sigJWK),
		contract.EnvCallbackURL:      callbackURL,
		contract.EnvCallbackSecret:   fc.CallbackSecret,
		contract.EnvPollInterval:     o.PollInterval.String(),
		contract.EnvHKRURL:           hkrURL + HKRPath,
		contract.EnvHKRBookingCoding: string(coding),
	}
	res := &Result{FitConnect: fc, Env: env}
	if o.XTA.External != "" {
		x, xenv, err := XTA(ctx, XTAOptions{Endpoint: o.XTA, SUTUsesExternal: o.SUTUsesExternal, Services: o.XTAServices, PollInterval: o.PollInterval})
		if err != nil {
			return nil, err
		}
		res.XTA = x
		for k, v := range xenv {
			env[k] = v
		}
	}
	return res, nil
}

// HKRPath is where the HKR mock takes XFinanz messages.
const HKRPath = "/xfinanz/kasseImport"

// BookingCoding returns the budget coding the run hands the SUT: one per service, distinct so
// that a booking under the wrong service's coding is visible.
func BookingCoding(services []runenv.Service) map[string]contract.BookingCoding {
	out := map[string]contract.BookingCoding{}
	for i, s := range services {
		out[s.Identifier] = contract.BookingCoding{
			Mandant:                "001",
			Bewirtschaftungsstelle: "63",
			Produkt:                fmt.Sprintf("51.10.%02d", i+1),
			Sachkonto:              fmt.Sprintf("431100%02d", i+1),
			Haushaltsstelle:        fmt.Sprintf("6300.110%02d", i+1),
		}
	}
	return out
}

func secret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}

// Redacted returns env with the contract's secret values replaced, for reports and logs.
func Redacted(env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for _, k := range contract.SecretEnv {
		if _, ok := out[k]; ok {
			out[k] = "[redacted]"
		}
	}
	return out
}
