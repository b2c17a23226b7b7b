// Package app runs the reference Fachverfahren: configuration from the environment (SUT
// contract §1), the case store, the FIT-Connect intake, the callback endpoint, the booking
// module and the probe API on one listener.
package app

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/fitconnect"
	"github.com/konform/konform/reference/intake"
	"github.com/konform/konform/reference/xtareader"
)

// Variables of the reference itself (not part of the contract).
const (
	EnvDataDir   = "KONFORM_REFERENCE_DATA_DIR"
	EnvDefects   = "KONFORM_REFERENCE_DEFECTS"
	EnvSchemaDir = "KONFORM_REFERENCE_SCHEMA_DIR"
	// EnvListenFD names an inherited file descriptor of a listening socket to serve on instead
	// of listening on KONFORM_LISTEN_ADDR: the kit's process runtime holds the port, so no other
	// process can take it between choosing it and the reference's start (or restart).
	EnvListenFD = "KONFORM_REFERENCE_LISTEN_FD"
)

// Config is the validated configuration of the reference.
type Config struct {
	ListenAddr       string
	SubmissionAPIURL string
	TokenURL         string
	ClientID         string
	ClientSecret     string
	DestinationID    string
	DecryptionKey    *jose.JSONWebKey
	SigningKey       *jose.JSONWebKey
	CallbackURL      string
	CallbackSecret   string
	PollInterval     time.Duration
	HKRURL           string
	BookingCoding    map[string]contract.BookingCoding
	// FitConnect is false when only XTA is configured (no FIT-Connect variables).
	FitConnect bool
	// XTA is the XTA reader's configuration; nil when KONFORM_XTA_MSGBOX_URL is not set.
	XTA       *xtareader.Config
	DataDir   string
	ListenFD  int // 0: listen on ListenAddr
	SchemaDir string
	Defects   defects.Set
}

// ConfigError names the variable that is missing or bad.
type ConfigError struct {
	Variable string
	Problem  string
}

func (e *ConfigError) Error() string { return e.Variable + ": " + e.Problem }

// ConfigFromEnv reads and validates the configuration. The first missing or bad variable is
// reported as a *ConfigError; secret values never appear in the message.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	bad := func(v, p string) (Config, error) { return Config{}, &ConfigError{Variable: v, Problem: p} }
	req := func(v string) (string, bool) {
		s := strings.TrimSpace(getenv(v))
		return s, s != ""
	}
	var ok bool
	if v, ok := req(contract.EnvContractVersion); !ok {
		return bad(contract.EnvContractVersion, "missing")
	} else if !slices.Contains(contract.Supported, v) {
		return bad(contract.EnvContractVersion, fmt.Sprintf("is %q, this application speaks contract versions %s", v, strings.Join(contract.Supported, ", ")))
	}
	if c.ListenAddr, ok = req(contract.EnvListenAddr); !ok {
		return bad(contract.EnvListenAddr, "missing")
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		return bad(contract.EnvListenAddr, "not host:port: "+err.Error())
	}
	_, xtaSet := req(contract.EnvXTAMsgBoxURL)
	_, fcSet := req(contract.EnvSubmissionAPIURL)
	c.FitConnect = fcSet || !xtaSet
	if c.FitConnect {
		if err := fitConnectFromEnv(&c, req); err != nil {
			return Config{}, err
		}
	}
	if xtaSet {
		x, err := xtaFromEnv(req)
		if err != nil {
			return Config{}, err
		}
		c.XTA = x
	}
	c.DataDir, _ = req(EnvDataDir)
	if v := getenv(EnvListenFD); v != "" {
		fd, err := strconv.Atoi(v)
		if err != nil || fd < 3 {
			return bad(EnvListenFD, "not an inherited file descriptor (≥ 3): "+v)
		}
		c.ListenFD = fd
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.SchemaDir, ok = req(EnvSchemaDir); !ok {
		return bad(EnvSchemaDir, "missing (a folder laid out like the specs folder, holding "+intake.MetadataSchemaFileV100+" and the XBau 2.3.1 XSDs)")
	}
	if _, err := os.Stat(filepath.Join(c.SchemaDir, intake.MetadataSchemaFileV100)); err != nil && c.FitConnect {
		return bad(EnvSchemaDir, "metadata schema file "+filepath.Join(c.SchemaDir, intake.MetadataSchemaFileV100)+" not readable: "+err.Error())
	}
	for _, ds := range intake.DataSchemas {
		if _, err := os.Stat(filepath.Join(c.SchemaDir, ds.XSD)); err != nil {
			return bad(EnvSchemaDir, "XSD of submission schema "+ds.URI+" not readable: "+err.Error())
		}
	}
	var err error
	if c.Defects, err = defects.Parse(getenv(EnvDefects)); err != nil {
		return bad(EnvDefects, err.Error())
	}
	if c.XTA != nil {
		c.XTA.SchemaDir, c.XTA.Defects = c.SchemaDir, c.Defects
	}
	return c, nil
}

// fitConnectFromEnv reads the FIT-Connect and HKR part of the configuration.
func fitConnectFromEnv(c *Config, req func(string) (string, bool)) error {
	bad := func(v, p string) error { return &ConfigError{Variable: v, Problem: p} }
	var ok bool
	for _, u := range []struct {
		name string
		dst  *string
	}{{contract.EnvSubmissionAPIURL, &c.SubmissionAPIURL}, {contract.EnvTokenURL, &c.TokenURL}, {contract.EnvHKRURL, &c.HKRURL}} {
		v, ok := req(u.name)
		if !ok {
			return bad(u.name, "missing")
		}
		pu, err := url.Parse(v)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return bad(u.name, "not an absolute http(s) URL")
		}
		*u.dst = strings.TrimRight(v, "/")
	}
	if c.ClientID, ok = req(contract.EnvClientID); !ok {
		return bad(contract.EnvClientID, "missing")
	}
	if c.ClientSecret, ok = req(contract.EnvClientSecret); !ok {
		return bad(contract.EnvClientSecret, "missing")
	}
	if c.DestinationID, ok = req(contract.EnvDestinationID); !ok {
		return bad(contract.EnvDestinationID, "missing")
	}
	if _, err := uuid.Parse(c.DestinationID); err != nil || len(c.DestinationID) != 36 {
		return bad(contract.EnvDestinationID, "not a UUID")
	}
	var err error
	raw, ok := req(contract.EnvDecryptionJWK)
	if !ok {
		return bad(contract.EnvDecryptionJWK, "missing")
	}
	if c.DecryptionKey, err = fitconnect.ParseJWK(raw, "RSA-OAEP-256"); err != nil {
		return bad(contract.EnvDecryptionJWK, "not a usable private decryption JWK: "+err.Error())
	}
	if raw, ok = req(contract.EnvSigningJWK); !ok {
		return bad(contract.EnvSigningJWK, "missing")
	}
	if c.SigningKey, err = fitconnect.ParseJWK(raw, "PS512"); err != nil {
		return bad(contract.EnvSigningJWK, "not a usable private signing JWK: "+err.Error())
	}
	c.CallbackURL, _ = req(contract.EnvCallbackURL)
	if c.CallbackSecret, ok = req(contract.EnvCallbackSecret); !ok {
		return bad(contract.EnvCallbackSecret, "missing")
	}
	pi, ok := req(contract.EnvPollInterval)
	if !ok {
		return bad(contract.EnvPollInterval, "missing")
	}
	if c.PollInterval, err = time.ParseDuration(pi); err != nil || c.PollInterval <= 0 {
		return bad(contract.EnvPollInterval, "not a positive Go duration such as 1s")
	}
	coding, ok := req(contract.EnvHKRBookingCoding)
	if !ok {
		return bad(contract.EnvHKRBookingCoding, "missing")
	}
	dec := json.NewDecoder(strings.NewReader(coding))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c.BookingCoding); err != nil {
		return bad(contract.EnvHKRBookingCoding, "not a JSON object of service identifier → booking coding: "+err.Error())
	}
	for svc, bc := range c.BookingCoding {
		if bc.Mandant == "" || bc.Bewirtschaftungsstelle == "" || bc.Produkt == "" || bc.Sachkonto == "" {
			return bad(contract.EnvHKRBookingCoding, fmt.Sprintf("coding of %q lacks mandant, bewirtschaftungsstelle, produkt or sachkonto", svc))
		}
	}
	return nil
}

// Services returns the service identifiers of the booking coding, sorted.
func (c Config) Services() []string {
	out := make([]string, 0, len(c.BookingCoding))
	for s := range c.BookingCoding {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
