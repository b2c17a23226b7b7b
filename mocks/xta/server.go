package xta

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/konform/konform/mocks/recorder"
	wire "github.com/konform/konform/xta"
)

// Actor is the recorder actor name of the XTA mock.
const Actor = "xta"

// Server is the XTA mock. It is an http.Handler.
type Server struct {
	rec     *recorder.Recorder
	dataDir string
	ownDir  bool // dataDir was made by New; Close removes it
	now     func() time.Time
	control http.Handler

	mu         sync.Mutex
	tlsCert    *tls.Certificate
	clientCAs  *x509.CertPool
	pageSize   int
	accounts   map[string]*account // by client certificate SHA-256
	messages   map[string]*message // by MessageID
	order      []string            // MessageIDs in offer order
	iterators  map[string]*iterator
	issued     map[string]bool // every MsgBoxRequestID the mock issued
	reserved   map[string]bool // MessageIDs handed out by createMessageId
	sent       []*sentMessage
	faults     []*Fault
	handshakes []Handshake
	calls      []Call
	fileSeq    int64

	// tlsConns are the open TLS connections; a new server certificate ends them, so that a
	// client that keeps connections alive meets the new certificate on its next request.
	connMu   sync.Mutex
	tlsConns map[*trackedConn]bool
}

// Option configures a Server.
type Option func(*Server)

// WithDataDir stores message contents below dir (default: a fresh temporary directory).
func WithDataDir(dir string) Option { return func(s *Server) { s.dataDir = dir } }

// WithRecorder records into r instead of a fresh recorder for actor "xta".
func WithRecorder(r *recorder.Recorder) Option { return func(s *Server) { s.rec = r } }

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New returns an XTA mock. Until Configure sets a server certificate, TLS handshakes fail
// (and are recorded).
func New(opts ...Option) *Server {
	s := &Server{
		now:       time.Now,
		accounts:  map[string]*account{},
		messages:  map[string]*message{},
		iterators: map[string]*iterator{},
		issued:    map[string]bool{},
		reserved:  map[string]bool{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.rec == nil {
		s.rec = recorder.New(Actor)
	}
	if s.dataDir == "" {
		if d, err := os.MkdirTemp("", "konform-xta-"); err == nil {
			s.dataDir, s.ownDir = d, true
		} else {
			s.dataDir = os.TempDir()
		}
	}
	s.control = s.controlRoutes()
	return s
}

// Close removes the data folder when New made it.
func (s *Server) Close() error {
	if !s.ownDir {
		return nil
	}
	return os.RemoveAll(s.dataDir)
}

// Recorder returns the recorder holding the mock's exchanges.
func (s *Server) Recorder() *recorder.Recorder { return s.rec }

// ServeHTTP serves the control API and, over TLS, the three SOAP ports.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, recorder.ControlPrefix) {
		if r.TLS != nil {
			// The SUT holds a client certificate for the TLS side; the kit's API is not for it.
			http.Error(w, "the control API is served over plain HTTP only", http.StatusForbidden)
			return
		}
		s.control.ServeHTTP(w, r)
		return
	}
	s.serveSOAP(w, r)
}

func isPort(path string) bool {
	return path == wire.PathManagement || path == wire.PathMsgBox || path == wire.PathSend
}
