package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/callback"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/fitconnect"
	"github.com/konform/konform/reference/intake"
	"github.com/konform/konform/reference/probe"
	"github.com/konform/konform/reference/store"
	"github.com/konform/konform/reference/xtareader"
)

// Product names the reference in the probe.
const (
	Product        = "Konform Referenz-Fachverfahren"
	ProductVersion = "1.0.0"
	Vendor         = "Konform-Projekt"
)

// BookingModule is the booking side (reference/hkr) as the application uses it.
type BookingModule interface {
	intake.Booker
	Run(ctx context.Context)
	Bookings(submissionID string) ([]contract.Booking, error)
}

// NewBookingModule builds the booking module on the store's database (tests replace it).
var NewBookingModule func(db *bbolt.DB, hkrURL string, coding map[string]contract.BookingCoding, d defects.Set, log *slog.Logger) (BookingModule, error) = newOutboxBooking

// Run serves the reference until ctx ends, then shuts down gracefully: the listener stops,
// in-flight requests and the running poll round finish, the store closes.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()

	info := probeInfo(contract.Info{ContractVersion: contract.Version, Product: Product, ProductVersion: ProductVersion, Vendor: Vendor,
		Transports: transports(cfg)}, cfg.Defects)
	probeOpts := []probe.Option{probe.WithInfo(info), probe.WithLogger(logger.With("module", "probe"))}
	mux := http.NewServeMux()
	var background []func(context.Context)

	if cfg.FitConnect {
		proc, booking, err := fitConnect(cfg, st, logger)
		if err != nil {
			return err
		}
		if booking != nil {
			probeOpts = append(probeOpts, probe.WithBookings(booking.Bookings))
			background = append(background, booking.Run)
		}
		background = append(background, func(ctx context.Context) { proc.Run(ctx, cfg.PollInterval) })
		cbOpts := []callback.Option{callback.WithLogger(logger.With("module", "callback"))}
		mux.Handle(contract.CallbackPath, callbackRoute(cfg.Defects, callback.New(cfg.CallbackSecret, proc.Trigger, append(cbOpts, callbackVariants(cfg.Defects, proc)...)...)))
	}
	if cfg.XTA != nil {
		reader, err := xtareader.New(*cfg.XTA, st, xtareader.WithLogger(logger.With("module", "xtareader")))
		if err != nil {
			return err
		}
		background = append(background, reader.Run)
	}
	mux.Handle(contract.ProbePrefix+"/", probe.New(st, probeOpts...))

	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("reference Fachverfahren serving", "addr", ln.Addr().String(), "transports", info.Served(),
		"destinationId", cfg.DestinationID, "defects", defectNames(cfg.Defects))

	bg, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	if worksInBackground(cfg.Defects) {
		for _, work := range background {
			wg.Add(1)
			go func() { defer wg.Done(); work(bg) }()
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
		err = nil
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}
	logger.Info("shutting down")
	shCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if e := srv.Shutdown(shCtx); e != nil && !errors.Is(e, http.ErrServerClosed) {
		logger.Warn("shutdown", "error", e.Error())
	}
	stop()
	wg.Wait()
	return err
}

// fitConnect builds the FIT-Connect intake and the booking module on the store.
func fitConnect(cfg Config, st *store.Store, logger *slog.Logger) (*intake.Processor, BookingModule, error) {
	schema, err := intake.LoadMetadataSchema(cfg.SchemaDir)
	if err != nil {
		return nil, nil, err
	}
	xsds, err := intake.LoadDataXSDs(cfg.SchemaDir)
	if err != nil {
		return nil, nil, err
	}
	client := fitconnect.New(cfg.SubmissionAPIURL, cfg.TokenURL, cfg.ClientID, clientSecret(cfg.ClientSecret, cfg.Defects))
	var booking BookingModule
	if NewBookingModule != nil {
		if booking, err = NewBookingModule(st.DB(), cfg.HKRURL, cfg.BookingCoding, cfg.Defects, logger.With("module", "hkr")); err != nil {
			return nil, nil, fmt.Errorf("booking module: %w", err)
		}
	} else {
		logger.Warn("no booking module linked: payments are stored but not booked")
	}
	opts := []intake.Option{intake.WithLogger(logger.With("module", "intake"))}
	if booking != nil {
		opts = append(opts, intake.WithBooker(booking))
	}
	proc := intake.New(intake.Config{DestinationID: cfg.DestinationID, DecryptionKey: cfg.DecryptionKey, SigningKey: cfg.SigningKey,
		MetadataSchema: schema, DataXSDs: xsds, Services: cfg.Services(), Defects: cfg.Defects}, client, st, opts...)
	return proc, booking, nil
}

// transports are the transports the configuration serves, as the probe declares them.
func transports(cfg Config) []string {
	var t []string
	if cfg.FitConnect {
		t = append(t, contract.TransportFitConnect)
	}
	if cfg.XTA != nil {
		t = append(t, contract.TransportXTA)
	}
	return t
}

// defectNames lists the switched-on defects for the start-up log.
func listen(cfg Config) (net.Listener, error) {
	if cfg.ListenFD == 0 {
		ln, err := net.Listen("tcp", cfg.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
		}
		return ln, nil
	}
	f := os.NewFile(uintptr(cfg.ListenFD), "inherited listener")
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("%s=%d: not a listening socket: %w", EnvListenFD, cfg.ListenFD, err)
	}
	return ln, nil
}

func defectNames(d defects.Set) []string {
	out := []string{}
	for _, n := range defects.Names() {
		if d.On(n) {
			out = append(out, n)
		}
	}
	return out
}
