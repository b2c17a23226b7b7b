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
	"strings"
	"syscall"
	"time"
)

// Serve runs one actor in the foreground until SIGTERM or SIGINT:
// `serve --actor fitconnect --listen :8080 --data-dir /tmp/fitconnect`. The mock image runs
// it, either as the konform-mock binary or as `conformance mock` of a static kit binary.
func Serve(args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(stderr, "usage: serve --actor NAME [--listen ADDR] [--data-dir DIR]")
		return 2
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	actor := fs.String("actor", "", "actor to serve: "+strings.Join(Names(), ", "))
	listen := fs.String("listen", ":8080", "listen address")
	dataDir := fs.String("data-dir", os.TempDir(), "the actor's scratch folder")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	factory, ok := Factories[*actor]
	if !ok {
		fmt.Fprintf(stderr, "unknown actor %q (known: %s)\n", *actor, strings.Join(Names(), ", "))
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("actor", *actor)
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		log.Error("data folder", "err", err)
		return 1
	}
	h, err := factory(*dataDir)
	if err != nil {
		log.Error("starting", "err", err)
		return 1
	}
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("listening", "err", err)
		return 1
	}
	// An actor serving TLS and plain HTTP on one port (XTA) sorts its connections itself.
	if wl, ok := h.(listenerWrapper); ok {
		ln = wl.WrapListener(ln)
	}
	log.Info("serving", "listen", *listen)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serving", "err", err)
		return 1
	}
	return 0
}

// listenerWrapper is a handler that sorts its own connections (see xta.Server.WrapListener).
type listenerWrapper interface {
	WrapListener(net.Listener) net.Listener
}
