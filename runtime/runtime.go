// Package runtime starts and stops the actors of a run — the mocks and the SUT — either as
// containers on a Docker network of the run's own (locally built scratch images, nothing pulled)
// or inside the kit's process. The suites run unchanged on both.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/konform/konform/runenv"
)

// Kinds of runtime.
const (
	Docker  = "docker"
	Process = "process"
	Auto    = "auto"
)

// MockPort is the port every actor listens on inside its container.
const MockPort = 8080

// ActorFactory makes the HTTP handler of one mock actor. dataDir is a private scratch folder.
type ActorFactory = func(dataDir string) (http.Handler, error)

// listenerWrapper is an actor that serves more than plain HTTP on its one port (the XTA mock
// tells TLS connections from plain ones); the runtime hands it every listener.
type listenerWrapper interface {
	WrapListener(net.Listener) net.Listener
}

// SUTSpec says which SUT to start and with what configuration.
type SUTSpec struct {
	// Image is a vendor's SUT image (docker runtime only).
	Image string
	// Reference starts the built-in reference Fachverfahren.
	Reference *ReferenceSpec
	// URL is an already running SUT; nothing is started.
	URL string
	// RestartCmd restarts a SUT given by URL: a shell command of the vendor's (sh -c), after
	// which the kit waits for the probe. Empty: the kit cannot restart it.
	RestartCmd string
	// Env is the contract configuration (docs/sut-contract.md §1) with the URLs as the SUT reaches them.
	Env map[string]string
	// Files are copied into the SUT before start: container path → host path (docker), or set
	// by path in Env (process).
	Files map[string]string
}

// ReferenceSpec configures the built-in reference Fachverfahren.
type ReferenceSpec struct {
	Defects []string
	// SchemaDir holds the official schemas the reference validates metadata and data with.
	SchemaDir string
}

// SUT is a started (or reached) SUT.
type SUT interface {
	runenv.SUT
	// Logs returns what the SUT printed so far (empty for a URL SUT).
	Logs(ctx context.Context) []byte
	// Binding says what the run's verdict is bound to.
	Binding(ctx context.Context) (Binding, error)
}

// Binding kinds.
const (
	BoundToImage  = "image"
	BoundToBinary = "binary"
	SelfDeclared  = "self-declared"
)

// Binding is what a verdict is bound to: an image by its content digest, the binary that
// serves the built-in reference, or nothing (a SUT given by URL declares itself).
type Binding struct {
	Kind   string
	Image  string
	Digest string // "sha256:<hex>"
}

// Runtime starts actors and the SUT and removes them again.
type Runtime interface {
	Name() string
	// StartActors starts the named mocks and returns their endpoints by name.
	StartActors(ctx context.Context, actors map[string]ActorFactory) (map[string]runenv.Endpoint, error)
	// SUTBase returns the SUT's base URL as the actors reach it and the listen address to hand
	// to the SUT, for a SUT the runtime will start.
	SUTBase() (internal string, listen string)
	// StartSUT starts (or reaches) the SUT and waits until its probe answers.
	StartSUT(ctx context.Context, spec SUTSpec) (SUT, error)
	// ActorLogs returns each actor's output, for the report's evidence folder.
	ActorLogs(ctx context.Context) map[string][]byte
	// Close removes every container, network, image, process and file of the run. It is safe to
	// call more than once and after a failed start.
	Close(ctx context.Context) error
}

// ErrEnvironment marks failures of the environment rather than of the SUT's conformance: no
// Docker engine, SUT unreachable, an image that cannot be built.
var ErrEnvironment = errors.New("environment error")

// ErrSUTNotReady marks a SUT that exited or never answered its probe after start: the vendor's
// failure, reported as a failed run, not as an environment error.
var ErrSUTNotReady = errors.New("the SUT did not become ready")

func sutErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSUTNotReady, fmt.Sprintf(format, args...))
}

func envErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrEnvironment, fmt.Sprintf(format, args...))
}

// ReadyTimeout bounds how long a SUT may take to answer its probe after start.
const ReadyTimeout = 60 * time.Second
