package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/konform/konform/specs"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/provision"
	"github.com/konform/konform/reference/app"
	"github.com/konform/konform/runenv"
)

// benchFixture is a small submission with one PDF attachment.
const benchFixture = "bg-0200-minimal"

// world is the mock, the reference and the provisioned credentials, shared by all runs.
type world struct {
	fc      runenv.FitConnect
	ctl     *fitconnect.Control
	fixture fixtures.Fixture
}

var (
	worldOnce sync.Once
	shared    *world
	worldErr  error
)

func specsDir() (string, error) {
	d, ok := specs.Dir()
	if !ok {
		return "", fmt.Errorf("official specs not found (set %s)", specs.EnvVar)
	}
	return d, nil
}

func setUp(tb testing.TB) *world {
	tb.Helper()
	specs, err := specsDir()
	if err != nil {
		tb.Skipf("no module root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(specs, "fit-connect", "metadata.schema.v1.0.0.json")); err != nil {
		tb.Skipf("the official specs are not at %s (set KONFORM_SPECS): %v", specs, err)
	}
	worldOnce.Do(func() { shared, worldErr = start(specs) })
	if worldErr != nil {
		tb.Fatal(worldErr)
	}
	return shared
}

// start runs for the life of the test binary; the OS reclaims it at exit.
func start(specs string) (*world, error) {
	ctx := context.Background()
	fxDir, err := fixtures.Default()
	if err != nil {
		return nil, err
	}
	all, err := fixtures.Load(fxDir)
	if err != nil {
		return nil, err
	}
	w := &world{}
	services := map[string]*runenv.Service{}
	var order []string
	for _, f := range all {
		m := f.Manifest
		if m.ID == benchFixture {
			w.fixture = f
		}
		s, ok := services[m.Service.Identifier]
		if !ok {
			s = &runenv.Service{Identifier: m.Service.Identifier, Name: m.Service.Name}
			services[m.Service.Identifier] = s
			order = append(order, m.Service.Identifier)
		}
		sc := runenv.SubmissionSchema{URI: m.SchemaURI, MimeType: "application/xml"}
		if !containsSchema(s.Schemas, sc) {
			s.Schemas = append(s.Schemas, sc)
		}
	}
	if w.fixture.Manifest.ID == "" {
		return nil, fmt.Errorf("no fixture %s in %s", benchFixture, fxDir)
	}
	var svcList []runenv.Service
	for _, id := range order {
		svcList = append(svcList, *services[id])
	}

	mock := fitconnect.New()
	ts := httptest.NewServer(mock)
	ep := runenv.Endpoint{Internal: ts.URL, External: ts.URL}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sutAddr := ln.Addr().String()
	ln.Close()
	keys, err := provision.NewKeys()
	if err != nil {
		return nil, err
	}
	res, err := provision.Run(ctx, provision.Options{
		FitConnect: ep, HKR: runenv.Endpoint{Internal: "http://127.0.0.1:9", External: "http://127.0.0.1:9"},
		SUTBase: "http://" + sutAddr, SUTListen: sutAddr, Services: svcList, PollInterval: time.Second, Keys: keys,
	})
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "konform-bench-*")
	if err != nil {
		return nil, err
	}
	res.Env[app.EnvDataDir], res.Env[app.EnvSchemaDir] = dataDir, specs
	cfg, err := app.ConfigFromEnv(func(k string) string { return res.Env[k] })
	if err != nil {
		return nil, err
	}
	go func() {
		if err := app.Run(context.Background(), cfg, nil); err != nil {
			fmt.Fprintln(os.Stderr, "bench: reference stopped:", err)
		}
	}()
	if err := waitProbe(ctx, "http://"+sutAddr+contract.ProbeInfoPath); err != nil {
		return nil, err
	}
	w.fc, w.ctl = res.FitConnect, fitconnect.NewControl(ts.URL)
	return w, nil
}

func containsSchema(list []runenv.SubmissionSchema, s runenv.SubmissionSchema) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func waitProbe(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the reference did not answer %s within 30s", url)
}

func (w *world) submission() sender.Submission {
	m := w.fixture.Manifest
	sub := sender.Submission{
		DestinationID: w.fc.DestinationID,
		ServiceType:   sender.ServiceType{Name: m.Service.Name, Identifier: m.Service.Identifier},
		Data: sender.Part{MimeType: "application/xml", Open: func() (io.ReadCloser, error) {
			r, _, err := w.fixture.Data()
			return r, err
		}},
		DataSchema: sender.SchemaRef{URI: m.SchemaURI, MimeType: "application/xml"},
	}
	for _, a := range w.fixture.Attachments() {
		sub.Attachments = append(sub.Attachments, sender.Attachment{
			Part:     sender.Part{MimeType: a.MimeType, Open: a.Open, Size: a.Size},
			Filename: a.Filename, Purpose: a.Purpose,
		})
	}
	return sub
}

func (w *world) sender() *sender.Sender {
	return sender.New(w.fc.External, w.fc.TokenURL(), w.fc.Sender.ClientID, w.fc.Sender.ClientSecret)
}

// awaitAccepted waits until every submission in ids is accepted at the delivery service.
func (w *world) awaitAccepted(ctx context.Context, ids map[string]bool) error {
	for {
		subs, err := w.ctl.Submissions(ctx)
		if err != nil {
			return err
		}
		open := 0
		for _, s := range subs {
			if !ids[s.ID] {
				continue
			}
			switch s.State {
			case fitconnect.StateAccepted:
			case fitconnect.StateRejected:
				return fmt.Errorf("submission %s was rejected", s.ID)
			default:
				open++
			}
		}
		if open == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d submissions not accepted: %w", open, len(ids), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// BenchmarkEndToEnd sends b.N submissions from two senders at once and waits until the
// reference accepted all of them.
func BenchmarkEndToEnd(b *testing.B) {
	w := setUp(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const senders = 2
	snd := w.sender()
	ids := map[string]bool{}
	var mu sync.Mutex
	jobs := make(chan struct{})
	errs := make(chan error, senders)

	cpu0, t0 := SelfCPU(), time.Now()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				res, err := snd.Send(ctx, w.submission())
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				ids[res.SubmissionID] = true
				mu.Unlock()
			}
		}()
	}
	for range b.N {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	if err := w.awaitAccepted(ctx, ids); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	elapsed, cpu := time.Since(t0), SelfCPU()-cpu0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "subs/s")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/sub")
}

// TestEndToEndAcceptsOne keeps the benchmark's set-up honest in the ordinary test run.
func TestEndToEndAcceptsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA-4096 keys (about 10 s)")
	}
	w := setUp(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := w.sender().Send(ctx, w.submission())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.awaitAccepted(ctx, map[string]bool{res.SubmissionID: true}); err != nil {
		t.Fatal(err)
	}
}
