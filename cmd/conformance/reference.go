package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/konform/konform/reference/app"
)

// cmdReference runs the built-in reference Fachverfahren in the foreground, configured from
// the environment like any SUT (docs/sut-contract.md). The process runtime starts it this way.
func cmdReference(args []string, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "conformance reference: takes no arguments; it is configured by the environment (docs/sut-contract.md)")
		return exitUsage
	}
	cfg, err := app.ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "conformance reference: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	if err := app.Run(ctx, cfg, logger); err != nil {
		fmt.Fprintf(stderr, "conformance reference: %v\n", err)
		return exitFailed
	}
	return exitPassed
}
