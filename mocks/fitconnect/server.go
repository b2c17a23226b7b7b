// Package fitconnect is a mock of the FIT-Connect delivery service (Zustelldienst), Submission
// API v1 (1.1.3): OAuth2 client-credentials tokens, destinations and their keys, submissions
// with streamed attachments, the case event log with signed Security Event Tokens, and
// HMAC-signed callbacks. It records every exchange and never judges; the suites do.
//
// Deviations from the production service, on purpose:
//   - callback URLs may be plain http:// (a run's network is plain HTTP; production demands https);
//   - the destination's services are not matched against the submission's serviceType, so
//     senders can deliberately send a service the receiver does not offer;
//   - state lives in memory; only attachment bodies go to the data directory;
//   - deadlines (deletion after 1/7/21 days) are not enforced.
//
// The mock refuses only what the Submission API or a documented FIT-Connect rule forbids; every
// rule it applies beyond the OpenAPI, and every reading where the API leaves a choice open, is
// listed with its source in catalogue/mock-rules.yaml.
package fitconnect

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/mocks/recorder"
)

// Actor is the recorder's name for this mock.
const Actor = "fitconnect"

// Defaults.
const (
	DefaultTokenTTL          = 30 * time.Minute
	DefaultMaxAttachmentSize = 128 << 20
	DefaultMaxJSONSize       = 32 << 20
	DefaultCallbackAttempts  = 5
	DefaultCallbackBackoff   = 500 * time.Millisecond
	signingKeyID             = "konform-delivery-service-set-key"
)

// Server is the delivery-service mock. It is an http.Handler.
type Server struct {
	mu sync.Mutex

	cfg        Config
	tokenTTL   time.Duration
	dataDir    string
	ownDataDir bool
	signMu     sync.Mutex
	signing    *pki.Key // signingKey(); guarded by signMu
	keyBits    int
	initErr    error
	cbClient   *http.Client
	cbAttempts int
	cbBackoff  time.Duration
	now        func() time.Time
	maxAttach  int64
	maxJSON    int64

	rec          *recorder.Recorder
	clients      map[string]Client
	tokens       map[string]token
	destinations map[string]*Destination
	submissions  map[string]*submission
	order        []string
	cases        map[string]*caseLog
	feed         []FeedEntry // every logged event, in log order (FeedPath)
	feedSeq      int64
	faults       []*Fault
	held         map[*http.Request]HeldRequest // requests a delay fault holds right now
	holds        map[string]bool               // destinations whose new submissions are held back
	maxPage      int                           // cap of a submission listing page (0: none)

	wg      sync.WaitGroup
	stop    chan struct{}
	stopped sync.Once

	api     http.Handler
	control http.Handler
}

// Option configures a Server.
type Option func(*Server)

// WithDataDir stores attachment bodies below dir (default: a fresh temporary directory that
// Close removes).
func WithDataDir(dir string) Option { return func(s *Server) { s.dataDir = dir } }

// WithTokenTTL sets how long access tokens live.
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.tokenTTL = d } }

// WithSigningKey sets the key the mock signs its own SETs with (default: a fresh 4096-bit key).
func WithSigningKey(k *pki.Key) Option { return func(s *Server) { s.signing = k } }

// WithSigningKeyBits sets the size of the generated signing key when none is given.
func WithSigningKeyBits(n int) Option { return func(s *Server) { s.keyBits = n } }

// WithCallbackClient sets the HTTP client callbacks go through; its transport is wrapped by
// the recorder.
func WithCallbackClient(c *http.Client) Option { return func(s *Server) { s.cbClient = c } }

// WithCallbackRetry sets how often a failed callback is tried and the first pause between
// tries (doubling each time).
func WithCallbackRetry(attempts int, backoff time.Duration) Option {
	return func(s *Server) { s.cbAttempts, s.cbBackoff = attempts, backoff }
}

// WithClock sets the mock's clock (token expiry, SET iat, callback timestamps).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithMaxAttachmentSize sets the largest attachment body accepted (413 above it).
func WithMaxAttachmentSize(n int64) Option { return func(s *Server) { s.maxAttach = n } }

// WithMaxJSONSize sets the largest JSON or SET body accepted (413 above it).
func WithMaxJSONSize(n int64) Option { return func(s *Server) { s.maxJSON = n } }

// WithPublicBaseURL sets the URL the mock is reached at, used as the iss of its SETs.
func WithPublicBaseURL(u string) Option {
	return func(s *Server) { s.cfg.PublicBaseURL = strings.TrimRight(u, "/") }
}

// WithRecorder lets the caller share a recorder.
func WithRecorder(r *recorder.Recorder) Option { return func(s *Server) { s.rec = r } }

// New makes a delivery-service mock.
func New(opts ...Option) *Server {
	s := &Server{
		tokenTTL:     DefaultTokenTTL,
		keyBits:      pki.DefaultBits,
		cbAttempts:   DefaultCallbackAttempts,
		cbBackoff:    DefaultCallbackBackoff,
		now:          time.Now,
		maxAttach:    DefaultMaxAttachmentSize,
		maxJSON:      DefaultMaxJSONSize,
		clients:      map[string]Client{},
		tokens:       map[string]token{},
		destinations: map[string]*Destination{},
		submissions:  map[string]*submission{},
		cases:        map[string]*caseLog{},
		holds:        map[string]bool{},
		stop:         make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	if s.rec == nil {
		s.rec = recorder.New(Actor)
	}
	if s.cbAttempts < 1 {
		s.cbAttempts = 1
	}
	if s.dataDir == "" {
		dir, err := os.MkdirTemp("", "konform-fitconnect-*")
		if err != nil && s.initErr == nil {
			s.initErr = err
		}
		s.dataDir, s.ownDataDir = dir, true
	} else if err := os.MkdirAll(s.dataDir, 0o750); err != nil && s.initErr == nil {
		s.initErr = err
	}
	base := http.DefaultTransport
	if s.cbClient == nil {
		s.cbClient = &http.Client{Timeout: 10 * time.Second}
	} else {
		cp := *s.cbClient
		s.cbClient = &cp
	}
	if s.cbClient.Transport != nil {
		base = s.cbClient.Transport
	}
	s.cbClient.Transport = s.rec.Transport(base)
	s.api = s.routes()
	s.control = s.controlRoutes()
	return s
}

// signingKey is the key the mock signs its SETs with: the one handed in (WithSigningKey,
// Config.SigningKey), else one generated on first use.
func (s *Server) signingKey() (*pki.Key, error) {
	s.signMu.Lock()
	defer s.signMu.Unlock()
	if s.signing == nil {
		k, err := pki.NewSigningKey(signingKeyID, pki.WithBits(s.keyBits))
		if err != nil {
			return nil, err
		}
		s.signing = k
	}
	return s.signing, nil
}

func (s *Server) setSigningKey(k *pki.Key) {
	s.signMu.Lock()
	defer s.signMu.Unlock()
	s.signing = k
}

// Recorder is the mock's evidence log.
func (s *Server) Recorder() *recorder.Recorder { return s.rec }

// Close waits for pending callbacks (cutting their back-off short) and removes a data
// directory the mock created itself.
func (s *Server) Close() error {
	s.stopped.Do(func() { close(s.stop) })
	s.wg.Wait()
	if s.ownDataDir && s.dataDir != "" {
		return os.RemoveAll(s.dataDir)
	}
	return nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, recorder.ControlPrefix) {
		s.control.ServeHTTP(w, r)
		return
	}
	if s.initErr != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Mock not ready", "the mock could not start: "+s.initErr.Error())
		return
	}
	f := s.takeFault(r)
	if f != nil && f.Kind == FaultReset {
		s.reset(w, r)
		return
	}
	ctx := r.Context()
	if f != nil {
		ctx = context.WithValue(ctx, faultKey{}, f)
	}
	s.rec.Middleware(http.HandlerFunc(s.serveAPI)).ServeHTTP(w, r.WithContext(ctx))
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if f, ok := r.Context().Value(faultKey{}).(*Fault); ok {
		if done := s.applyFault(w, r, f); done {
			return
		}
	}
	s.api.ServeHTTP(w, r)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.handleToken)
	mux.HandleFunc("GET /v1/info", s.handleInfo)
	mux.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)
	mux.HandleFunc("GET /v1/destinations/{destinationId}", s.handleGetDestination)
	mux.HandleFunc("GET /v1/destinations/{destinationId}/keys/{keyId}", s.handleGetKey)
	mux.HandleFunc("POST /v1/submissions", s.handleCreateSubmission)
	mux.HandleFunc("GET /v1/submissions", s.handleListSubmissions)
	mux.HandleFunc("GET /v1/submissions/{submissionId}", s.handleGetSubmission)
	mux.HandleFunc("PUT /v1/submissions/{submissionId}", s.handleSubmit)
	mux.HandleFunc("PUT /v1/submissions/{submissionId}/attachments/{attachmentId}", s.handlePutAttachment)
	mux.HandleFunc("GET /v1/submissions/{submissionId}/attachments/{attachmentId}", s.handleGetAttachment)
	mux.HandleFunc("GET /v1/cases/{caseId}/events", s.handleGetEvents)
	mux.HandleFunc("POST /v1/cases/{caseId}/events", s.handlePostEvent)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.unrouted(mux, w, r) })
	return mux
}

// routedMethods are the methods the API routes may serve (a GET route also serves HEAD).
var routedMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// unrouted answers a request no route took: 405 with Allow when another method serves the path
// (RFC 9110 §15.5.6), else 404.
func (s *Server) unrouted(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range routedMethods {
		if _, pattern := mux.Handler(&http.Request{Method: m, URL: r.URL, Host: r.Host}); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		s.problem(w, r, http.StatusNotFound, probNotFound, "Not Found", "no endpoint "+r.Method+" "+r.URL.Path)
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.problem(w, r, http.StatusMethodNotAllowed, probMethodNotAllowed, "Method Not Allowed",
		r.Method+" is not served on "+r.URL.Path+"; allowed: "+strings.Join(allow, ", "))
}

func (s *Server) baseURL(r *http.Request) string {
	s.mu.Lock()
	u := s.cfg.PublicBaseURL
	s.mu.Unlock()
	if u != "" {
		return u
	}
	return "http://" + r.Host
}

func (s *Server) clock() time.Time { return s.now().UTC() }
