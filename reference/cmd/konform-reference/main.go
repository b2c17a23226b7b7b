// Command konform-reference is the reference Fachverfahren of the Konform kit. It reads its
// configuration from the environment (docs/sut-contract.md §1, plus KONFORM_REFERENCE_DATA_DIR,
// KONFORM_REFERENCE_SCHEMA_DIR and KONFORM_REFERENCE_DEFECTS) and serves until SIGTERM/SIGINT.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/konform/konform/reference/app"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := app.ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "konform-reference: configuration:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := app.Run(ctx, cfg, logger); err != nil {
		logger.Error("konform-reference stopped", "error", err.Error())
		os.Exit(1)
	}
}
