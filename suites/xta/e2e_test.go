package xta

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/reference/app"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/specs/specstest"
	"github.com/konform/konform/suites/check"
	"github.com/konform/konform/suites/drive"
)

// TestXTAReaderProfileAgainstTheReference runs the profile's checks in this process against the
// reference Fachverfahren (XTA only) and the XTA mock on loopback — the way a run does, without
// the CLI. Opt-in, it takes minutes: KONFORM_XTA_E2E=1, optionally KONFORM_XTA_E2E_DEFECT=<name>
// (the reference with that defect) and KONFORM_XTA_E2E_FOCUS=<label filter>, e.g. XT-RDR-030.
func TestXTAReaderProfileAgainstTheReference(t *testing.T) {
	if os.Getenv("KONFORM_XTA_E2E") == "" {
		t.Skip("set KONFORM_XTA_E2E=1 to run the xta-reader checks against the reference")
	}
	specsDir := specstest.Dir(t)
	r := startMock(t)
	x := r.env.XTA
	ctx := context.Background()
	mb, err := drive.Mailbox(r.env)
	if err != nil {
		t.Fatal(err)
	}
	// The SUT's own certificate (startMock's belongs to the test's reader).
	ca, err := pki.NewCA("Konform E2E CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.IssueServer("xta", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	x.CAPEM, x.ServerCertPEM, x.ServerKeyPEM = ca.CertPEM, srv.CertPEM, srv.KeyPEM
	if err := mb.SetPageCap(ctx, 0); err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient("sut")
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.AddAccount(ctx, x.ReaderID, "xoev", string(client.CertPEM)); err != nil {
		t.Fatal(err)
	}
	fixturesDir, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	f := smallFixture(t)
	o, err := drive.XTAOffer(x, f, sender.XTABreakNone)
	if err != nil {
		t.Fatal(err)
	}
	x.Services = []contract.XTAService{{Service: o.Service, BusinessScenario: o.BusinessScenario,
		MessageTypes: []contract.XTAMessageType{{Code: o.MessageType.Code, PayloadSchema: o.PayloadSchema}}}}
	services, _ := json.Marshal(x.Services)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	vars := map[string]string{
		contract.EnvContractVersion: contract.Version, contract.EnvListenAddr: listen,
		contract.EnvXTAManagementURL: x.Internal + "/MB_XTA-WS/XTA210managementPort.svc",
		contract.EnvXTAMsgBoxURL:     x.Internal + PathMsgBox, contract.EnvXTASendURL: x.Internal + PathSend,
		contract.EnvXTAClientCert: string(client.CertPEM), contract.EnvXTAClientKey: string(client.KeyPEM),
		contract.EnvXTACA: string(ca.CertPEM), contract.EnvXTAReaderID: x.ReaderID, contract.EnvXTAServices: string(services),
		contract.EnvXTAPollInterval: x.PollInterval.String(),
		app.EnvDataDir:              t.TempDir(), app.EnvSchemaDir: specsDir,
		"KONFORM_REFERENCE_DEFECTS": os.Getenv("KONFORM_XTA_E2E_DEFECT"),
	}
	cfg, err := app.ConfigFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	sut := &inProcess{cfg: cfg, probe: "http://" + listen}
	sut.start()
	t.Cleanup(sut.stop)
	r.env.SUT = sut
	r.env.SchemasDir, r.env.FixturesDir = specsDir, fixturesDir
	r.env.Transports = []string{contract.TransportXTA}
	runenv.Set(r.env)
	// The SUT is up once it answers its probe.
	for i := 0; ; i++ {
		if _, _, err := drive.XTARecord(ctx, r.env, "none"); err == nil {
			break
		} else if i > 100 {
			t.Fatalf("the reference did not come up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	gomega.RegisterFailHandler(ginkgo.Fail)
	check.Register()
	sc, rc := ginkgo.GinkgoConfiguration()
	sc.LabelFilter = "xta-reader"
	if focus := os.Getenv("KONFORM_XTA_E2E_FOCUS"); focus != "" {
		sc.LabelFilter = focus
	}
	rc.Verbose = testing.Verbose()
	ginkgo.RunSpecs(t, "xta-reader against the reference", sc, rc)
}

// inProcess is the reference running in this process; Restart stops it hard and starts it again
// on the same data.
type inProcess struct {
	cfg    app.Config
	probe  string
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan error
}

func (s *inProcess) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() { done <- app.Run(ctx, s.cfg, logger) }()
	s.mu.Lock()
	s.cancel, s.done = cancel, done
	s.mu.Unlock()
}

func (s *inProcess) stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
}

func (s *inProcess) ProbeURL() string { return s.probe }

func (s *inProcess) Restart(ctx context.Context) error {
	s.stop()
	s.start()
	for i := 0; i < 100; i++ {
		if _, _, err := drive.XTARecord(ctx, &runenv.Env{SUT: &fixedProbe{s.probe}}, "none"); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the reference did not come back after the restart")
}

func (s *inProcess) CallbacksReachable() (bool, string) { return false, "XTA only" }

type fixedProbe struct{ url string }

func (f *fixedProbe) ProbeURL() string                   { return f.url }
func (f *fixedProbe) Restart(context.Context) error      { return runenv.ErrNotSupported }
func (f *fixedProbe) CallbacksReachable() (bool, string) { return false, "" }
