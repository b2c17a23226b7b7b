package main

import (
	"context"
	"fmt"
	"github.com/google/uuid"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/konform/konform/mocks/actors"
	"github.com/konform/konform/provision"
	"github.com/konform/konform/runtime"
	"github.com/konform/konform/suites/drive"
)

// cmdMocksUp starts the mocks for a SUT the vendor runs themselves, prints the endpoints and the
// SUT configuration, and keeps running until Ctrl-C.
func cmdMocksUp(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("mocks up", "mocks up [--runtime auto|docker|process] [--sut-url URL] [--env-file FILE] [--mocks FILE]")
	rtKind := fs.String("runtime", runtime.Auto, "the `RUNTIME` the mocks run in: auto, docker or process")
	sutURL := fs.String("sut-url", "http://127.0.0.1:8080", "the `URL` your SUT will listen on (for callbacks)")
	envPath := fs.String("env-file", "konform-sut.env", "write the SUT configuration to this `FILE`")
	sessionPath := fs.String("mocks", defaultSessionFile, "write the session `FILE` that conformance run --sut-url reads here")
	fixturesDir := fs.String("fixtures", "", "fixture `DIR` (default: the built-in corpus)")
	poll := fs.Duration("sut-poll-interval", provision.DefaultPollInterval, "the poll `INTERVAL` handed to the SUT (KONFORM_FITCONNECT_POLL_INTERVAL), at most "+drive.PollCeiling.String())
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "conformance mocks up: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if !strings.HasPrefix(*sutURL, "http://") && !strings.HasPrefix(*sutURL, "https://") {
		fmt.Fprintf(stderr, "conformance mocks up: --sut-url must be an http(s) URL, not %q\n", *sutURL)
		return exitUsage
	}
	if *poll < 500*time.Millisecond || *poll > drive.PollCeiling {
		fmt.Fprintf(stderr, "conformance mocks up: --sut-poll-interval must lie between 500ms and %s, not %s\n", drive.PollCeiling, *poll)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fixturesAt, services, err := fixtureServices(*fixturesDir)
	if err != nil {
		fmt.Fprintf(stderr, "conformance mocks up: %v\n", err)
		return exitUsage
	}
	xtaServices, err := xtaServicesOf(fixturesAt)
	if err != nil {
		fmt.Fprintf(stderr, "conformance mocks up: %v\n", err)
		return exitUsage
	}
	workDir, err := os.MkdirTemp("", "konform-mocks-")
	if err != nil {
		fmt.Fprintf(stderr, "conformance mocks up: %v\n", err)
		return exitEnvironment
	}
	runID := uuid.NewString()
	rt, err := chooseRuntime(ctx, runOptions{runtime: *rtKind, runID: runID}, workDir, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "conformance mocks up: %v\n", err)
		os.RemoveAll(workDir)
		return codeFor(err)
	}
	if d, ok := rt.(*runtime.DockerRuntime); ok {
		// On the host network the mocks in Docker reach a SUT on this host for callbacks.
		d.HostNetwork = true
	}
	st := &stage{rt: cleanupDir{rt, workDir}}
	defer st.close(stderr)
	endpoints, err := rt.StartActors(ctx, actors.Factories)
	if err != nil {
		fmt.Fprintf(stderr, "conformance mocks up: %v\n", err)
		return codeFor(err)
	}
	prov, err := provision.Run(ctx, provision.Options{
		FitConnect: endpoints[actors.FitConnect], HKR: endpoints[actors.HKR],
		XTA: endpoints[actors.XTA], XTAServices: xtaServices,
		SUTBase: strings.TrimRight(*sutURL, "/"), SUTUsesExternal: true, SUTListen: listenOf(*sutURL), Services: services,
		PollInterval: *poll,
	})
	if err != nil {
		fmt.Fprintf(stderr, "conformance mocks up: provisioning the mocks: %v\n", err)
		return exitEnvironment
	}
	if err := os.WriteFile(*envPath, []byte(envFile(prov.Env)), 0o600); err != nil {
		fmt.Fprintf(stderr, "conformance mocks up: writing %s: %v\n", *envPath, err)
		return exitEnvironment
	}
	sess := session{RunID: runID, Runtime: rt.Name(), Endpoints: endpoints, FitConnect: prov.FitConnect, XTA: prov.XTA, Env: prov.Env}
	if err := sess.save(*sessionPath); err != nil {
		fmt.Fprintf(stderr, "conformance mocks up: writing %s: %v\n", *sessionPath, err)
		return exitEnvironment
	}
	fmt.Fprintf(stdout, "Konform mocks are up (runtime %s).\n", rt.Name())
	for _, name := range actors.Names() {
		fmt.Fprintf(stdout, "  %-11s %s\n", name, endpoints[name].External)
	}
	fmt.Fprintf(stdout, "  sender client: %s (secret in %s is for the SUT only; the sender secret is not printed)\n", prov.FitConnect.Sender.ClientID, *envPath)
	if rt.Name() == runtime.Docker {
		fmt.Fprintln(stdout, "  (in Docker on the host network, listening on loopback only)")
	}
	fmt.Fprintf(stdout, "\nSUT configuration (also in %s, mode 0600):\n%s\n", *envPath, envFile(provision.Redacted(prov.Env)))
	fmt.Fprintf(stdout, "Then, in a second shell: conformance run --sut-url %s --mocks %s\nCtrl-C stops the mocks.\n", *sutURL, *sessionPath)
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping the mocks")
	return exitPassed
}

func listenOf(url string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		return host[i:]
	}
	return ":80"
}
