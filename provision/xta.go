package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/runenv"
	wire "github.com/konform/konform/xta"
)

// Identities at the XTA server mock, all of type xoev (xta-reader-anchors.md §2.5): the SUT's
// reader identity is a DVDV key of a building authority (prefix bab, §4); the other reader is a
// second authority whose messages the SUT must leave alone; the author is the online service.
const (
	XTAIdentifierType = "xoev"
	XTAReaderID       = "bab:010010000000"
	XTAOtherReaderID  = "bab:099990000999"
	XTAAuthorID       = "bpt:099990000001"
)

// XTAOptions say where the XTA server mock is and what the SUT serves over it.
type XTAOptions struct {
	Endpoint runenv.Endpoint
	// SUTUsesExternal hands the SUT the kit-side URL (a SUT given by URL runs beside the kit).
	SUTUsesExternal bool
	Services        []contract.XTAService
	PollInterval    time.Duration
}

// XTA issues the run's TLS material (a CA, the server's certificate for every name the SUT and
// the kit reach it by, the SUT's and the author's client certificates, and a server certificate
// of another CA for the trust check), configures the XTA server mock and returns what the suites
// and the SUT get.
func XTA(ctx context.Context, o XTAOptions) (*runenv.XTA, map[string]string, error) {
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	names, ips := tlsNames(o.Endpoint)
	ca, err := pki.NewCA("Konform XTA Test-CA")
	if err != nil {
		return nil, nil, err
	}
	server, err := ca.IssueServer("Konform XTA-Server", names, ips)
	if err != nil {
		return nil, nil, err
	}
	reader, err := ca.IssueClient(XTAReaderID)
	if err != nil {
		return nil, nil, err
	}
	author, err := ca.IssueClient(XTAAuthorID)
	if err != nil {
		return nil, nil, err
	}
	other, err := ca.IssueClient(XTAOtherReaderID)
	if err != nil {
		return nil, nil, err
	}
	foreignCA, err := pki.NewCA("Fremde Test-CA")
	if err != nil {
		return nil, nil, err
	}
	foreign, err := foreignCA.IssueServer("Konform XTA-Server", names, ips)
	if err != nil {
		return nil, nil, err
	}

	ctl := xta.NewControl(o.Endpoint.External)
	if err := ctl.Configure(ctx, xta.Config{ServerCertPEM: string(server.CertPEM), ServerKeyPEM: string(server.KeyPEM), ClientCAPEM: string(ca.CertPEM)}); err != nil {
		return nil, nil, fmt.Errorf("configuring the XTA server mock: %w", err)
	}
	for _, a := range []struct {
		id   string
		leaf *pki.Leaf
	}{{XTAReaderID, reader}, {XTAAuthorID, author}, {XTAOtherReaderID, other}} {
		if err := ctl.AddAccount(ctx, a.id, XTAIdentifierType, string(a.leaf.CertPEM)); err != nil {
			return nil, nil, fmt.Errorf("registering account %s at the XTA server mock: %w", a.id, err)
		}
	}

	x := &runenv.XTA{
		Endpoint:       runenv.Endpoint{Internal: tlsURL(o.Endpoint.Internal), External: o.Endpoint.External},
		ExternalTLS:    tlsURL(o.Endpoint.External),
		ReaderID:       XTAReaderID,
		OtherReaderID:  XTAOtherReaderID,
		AuthorID:       XTAAuthorID,
		Services:       o.Services,
		CAPEM:          ca.CertPEM,
		ServerCertPEM:  server.CertPEM,
		ServerKeyPEM:   server.KeyPEM,
		ForeignCertPEM: foreign.CertPEM,
		ForeignKeyPEM:  foreign.KeyPEM,
		AuthorCertPEM:  author.CertPEM,
		AuthorKeyPEM:   author.KeyPEM,
		PollInterval:   o.PollInterval,
	}
	base := x.Internal
	if o.SUTUsesExternal {
		base = x.ExternalTLS
	}
	services, err := json.Marshal(o.Services)
	if err != nil {
		return nil, nil, err
	}
	env := map[string]string{
		contract.EnvXTAManagementURL: base + wire.PathManagement,
		contract.EnvXTAMsgBoxURL:     base + wire.PathMsgBox,
		contract.EnvXTASendURL:       base + wire.PathSend,
		contract.EnvXTAClientCert:    OneLinePEM(reader.CertPEM),
		contract.EnvXTAClientKey:     OneLinePEM(reader.KeyPEM),
		contract.EnvXTACA:            OneLinePEM(ca.CertPEM),
		contract.EnvXTAReaderID:      XTAReaderID,
		contract.EnvXTAServices:      string(services),
		contract.EnvXTAPollInterval:  o.PollInterval.String(),
	}
	return x, env, nil
}

// OneLinePEM writes a PEM block's line breaks as the two characters \n, so that the value fits
// the one line per variable of an env file (SUT contract §1).
func OneLinePEM(p []byte) string {
	return strings.ReplaceAll(strings.TrimSpace(string(p)), "\n", `\n`)
}

// tlsURL turns the mock's base URL into its TLS one: one port serves the control API in plain
// HTTP and the XTA ports in TLS.
func tlsURL(base string) string { return "https://" + strings.TrimPrefix(base, "http://") }

// tlsNames are the names the server certificate must carry: the hosts of both URLs, plus
// loopback.
func tlsNames(ep runenv.Endpoint) ([]string, []net.IP) {
	names := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, raw := range []string{ep.Internal, ep.External} {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			continue
		}
		if ip := net.ParseIP(u.Hostname()); ip != nil {
			ips = append(ips, ip)
		} else {
			names = append(names, u.Hostname())
		}
	}
	return names, ips
}
