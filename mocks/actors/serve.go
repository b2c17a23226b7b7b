package actors

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const serveUsage = "usage: serve --actor NAME [--listen ADDR] [--data-dir DIR]\n" +
	"       serve --actor NAME=ADDR [--actor NAME=ADDR …] [--data-dir DIR]"

// Serve runs actors in the foreground until SIGTERM or SIGINT: one,
// `serve --actor fitconnect --listen :8080 --data-dir /tmp/fitconnect`, or several side by side,
// each on its own address with its own scratch folder under --data-dir,
// `serve --actor fitconnect=:8081 --actor hkr=:8082 --data-dir /tmp`. The mock image runs it,
// either as the konform-mock binary or as `conformance mock` of a static kit binary.
func Serve(args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(stderr, serveUsage)
		return 2
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var named []string
	fs.Func("actor", "actor to serve, `NAME` or NAME=ADDR, repeatable: "+strings.Join(Names(), ", "), func(v string) error {
		named = append(named, v)
		return nil
	})
	listen := fs.String("listen", ":8080", "listen address of a single actor named without one")
	dataDir := fs.String("data-dir", os.TempDir(), "the scratch folder (of each actor, when several)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	served, err := plan(named, *listen, *dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n%s\n", err, serveUsage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	base := slog.New(slog.NewJSONHandler(stderr, nil))
	var servers []*actorServer
	for _, a := range served {
		s, err := a.start(base.With("actor", a.name))
		if err != nil {
			base.Error("starting", "actor", a.name, "err", err)
			for _, s := range servers {
				s.srv.Close()
			}
			return 1
		}
		servers = append(servers, s)
	}
	failed := make(chan struct{}, len(servers))
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !s.serve() {
				failed <- struct{}{}
			}
		}()
	}
	code := 0
	select {
	case <-ctx.Done():
	case <-failed:
		code = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.srv.Shutdown(sctx)
	}
	wg.Wait()
	return code
}

// servedActor is one actor of a serve command: its name, address and scratch folder.
type servedActor struct{ name, listen, dataDir string }

// plan reads the --actor values: one NAME (listening on listen, its scratch folder dataDir), or
// any number of NAME=ADDR (their folders under dataDir).
func plan(named []string, listen, dataDir string) ([]servedActor, error) {
	if len(named) == 0 {
		return nil, fmt.Errorf("--actor is required (known: %s)", strings.Join(Names(), ", "))
	}
	var out []servedActor
	seen := map[string]bool{}
	for _, v := range named {
		name, addr, withAddr := strings.Cut(v, "=")
		if _, ok := Factories[name]; !ok {
			return nil, fmt.Errorf("unknown actor %q (known: %s)", name, strings.Join(Names(), ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("actor %s named twice", name)
		}
		seen[name] = true
		switch {
		case withAddr && addr == "":
			return nil, fmt.Errorf("--actor %s: the address after = is empty", v)
		case !withAddr && len(named) > 1:
			return nil, fmt.Errorf("--actor %s: several actors each need their own address (NAME=ADDR)", name)
		case withAddr:
			out = append(out, servedActor{name, addr, filepath.Join(dataDir, name)})
		default:
			out = append(out, servedActor{name, listen, dataDir})
		}
	}
	return out, nil
}

type actorServer struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

func (a servedActor) start(log *slog.Logger) (*actorServer, error) {
	if err := os.MkdirAll(a.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	h, err := Factories[a.name](a.dataDir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a.listen)
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	// An actor serving TLS and plain HTTP on one port (XTA) sorts its connections itself.
	if wl, ok := h.(listenerWrapper); ok {
		ln = wl.WrapListener(ln)
	}
	log.Info("serving", "listen", a.listen)
	return &actorServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln: ln, log: log}, nil
}

// serve serves until the server is shut down; false when it failed otherwise.
func (s *actorServer) serve() bool {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Error("serving", "err", err)
		return false
	}
	return true
}

// listenerWrapper is a handler that sorts its own connections (see xta.Server.WrapListener).
type listenerWrapper interface {
	WrapListener(net.Listener) net.Listener
}
