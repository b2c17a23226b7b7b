package runtime

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestProcessRuntimeServesActorsOnLoopback(t *testing.T) {
	rt, err := NewProcess(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	eps, err := rt.StartActors(context.Background(), map[string]ActorFactory{
		"echo": func(dir string) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, dir) }), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ep := eps["echo"]
	if ep.Internal != ep.External || !strings.HasPrefix(ep.External, "http://127.0.0.1:") {
		t.Fatalf("endpoint %+v: want the same loopback URL from both sides", ep)
	}
	resp, err := http.Get(ep.External)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "actors/echo") {
		t.Errorf("actor did not get its own data folder: %q", b)
	}
	if base, listen := rt.SUTBase(); !strings.HasSuffix(base, listen) {
		t.Errorf("SUT base %q does not match listen address %q", base, listen)
	}
	if err := rt.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestUnreachableSUTIsAnEnvironmentError(t *testing.T) {
	start := time.Now()
	_, err := ReachURL(context.Background(), "http://127.0.0.1:1", "", "")
	if !errors.Is(err, ErrEnvironment) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err = %v, want an environment error naming the URL", err)
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestProcessRuntimeRefusesAnImage(t *testing.T) {
	rt, err := NewProcess(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	if _, err := rt.StartSUT(context.Background(), SUTSpec{Image: "vendor:1"}); !errors.Is(err, ErrUsage) {
		t.Fatalf("err = %v, want a usage error", err)
	}
}

// TestSUTPortIsHeldForTheRun: the reference's port stays the runtime's from SUTBase to Close,
// so that a parallel run cannot take it before the reference starts or while it restarts.
func TestSUTPortIsHeldForTheRun(t *testing.T) {
	rt, err := NewProcess(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, listen := rt.SUTBase()
	if _, again := rt.SUTBase(); again != listen {
		t.Errorf("SUTBase changed from %s to %s", listen, again)
	}
	if ln, err := net.Listen("tcp", listen); err == nil {
		ln.Close()
		t.Fatalf("another process could listen on the SUT's port %s", listen)
	}
	if err := rt.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatalf("the SUT's port %s is still held after Close: %v", listen, err)
	}
	ln.Close()
}
