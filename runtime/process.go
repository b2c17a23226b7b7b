package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/digest"
	"github.com/konform/konform/probe"
	"github.com/konform/konform/runenv"
)

// ProcessRuntime serves the mocks inside the kit's process on loopback and runs the reference
// Fachverfahren as a child process.
type ProcessRuntime struct {
	workDir string
	// ReferenceCommand starts the reference; its environment is added by the runtime.
	ReferenceCommand []string

	mu      sync.Mutex
	servers []*http.Server
	sut     *processSUT
	// sutLn holds the reference's port for the whole run: the reference serves on it as an
	// inherited socket, so no other process can take the port between runs of the reference.
	sutLn *net.TCPListener
}

// NewProcess returns a process runtime that keeps its files below workDir.
func NewProcess(workDir string) (*ProcessRuntime, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, envErr("locating the kit's own binary to start the reference: %v", err)
	}
	return &ProcessRuntime{workDir: workDir, ReferenceCommand: []string{self, "reference"}}, nil
}

// Name implements Runtime.
func (p *ProcessRuntime) Name() string { return Process }

// StartActors implements Runtime.
func (p *ProcessRuntime) StartActors(ctx context.Context, actors map[string]ActorFactory) (map[string]runenv.Endpoint, error) {
	out := map[string]runenv.Endpoint{}
	for name, factory := range actors {
		dir := filepath.Join(p.workDir, "actors", name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, envErr("creating data folder of %s: %v", name, err)
		}
		h, err := factory(dir)
		if err != nil {
			return nil, fmt.Errorf("starting mock %s: %w", name, err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, envErr("listening for mock %s on loopback: %v", name, err)
		}
		if w, ok := h.(listenerWrapper); ok {
			ln = w.WrapListener(ln)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		p.mu.Lock()
		p.servers = append(p.servers, srv)
		p.mu.Unlock()
		go func() { _ = srv.Serve(ln) }()
		url := "http://" + ln.Addr().String()
		out[name] = runenv.Endpoint{Internal: url, External: url}
	}
	return out, nil
}

// SUTBase implements Runtime.
func (p *ProcessRuntime) SUTBase() (string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sutLn == nil {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return "http://127.0.0.1:0", "127.0.0.1:0" // StartSUT reports it
		}
		p.sutLn = ln
	}
	addr := p.sutLn.Addr().String()
	return "http://" + addr, addr
}

// StartSUT implements Runtime.
func (p *ProcessRuntime) StartSUT(ctx context.Context, spec SUTSpec) (SUT, error) {
	switch {
	case spec.URL != "":
		return ReachURL(ctx, spec.URL, "", spec.RestartCmd)
	case spec.Image != "":
		return nil, fmt.Errorf("%w: --sut-image needs the docker runtime", ErrUsage)
	case spec.Reference == nil:
		return nil, fmt.Errorf("%w: no SUT given", ErrUsage)
	}
	base, _ := p.SUTBase()
	env := os.Environ()
	for k, v := range spec.Env {
		env = append(env, k+"="+v)
	}
	env = append(env,
		"KONFORM_REFERENCE_DATA_DIR="+filepath.Join(p.workDir, "sut-data"),
		"KONFORM_REFERENCE_DEFECTS="+strings.Join(spec.Reference.Defects, ","),
		"KONFORM_REFERENCE_SCHEMA_DIR="+spec.Reference.SchemaDir,
	)
	p.mu.Lock()
	ln := p.sutLn
	p.mu.Unlock()
	if ln == nil {
		return nil, envErr("no loopback port for the reference")
	}
	lnFile, err := ln.File()
	if err != nil {
		return nil, envErr("handing the reference its port: %v", err)
	}
	env = append(env, "KONFORM_REFERENCE_LISTEN_FD=3") // ExtraFiles[0]
	s := &processSUT{cmd: p.ReferenceCommand, env: env, probeURL: base, listener: lnFile}
	p.mu.Lock()
	p.sut = s
	p.mu.Unlock()
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// ActorLogs implements Runtime: in-process mocks print nothing of their own (their evidence is
// the exchange log); the reference's output is there, also when it never became ready.
func (p *ProcessRuntime) ActorLogs(ctx context.Context) map[string][]byte {
	p.mu.Lock()
	sut := p.sut
	p.mu.Unlock()
	if sut == nil {
		return nil
	}
	return map[string][]byte{"sut": sut.Logs(ctx)}
}

// Close implements Runtime.
func (p *ProcessRuntime) Close(ctx context.Context) error {
	p.mu.Lock()
	servers, sut := p.servers, p.sut
	ln := p.sutLn
	p.servers, p.sut, p.sutLn = nil, nil, nil
	p.mu.Unlock()
	var errs []error
	if sut != nil {
		errs = append(errs, sut.stop(ctx, false))
		sut.listener.Close()
	}
	if ln != nil {
		ln.Close()
	}
	for _, s := range servers {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := s.Shutdown(sctx); err != nil {
			_ = s.Close()
		}
		cancel()
	}
	return errors.Join(errs...)
}

type processSUT struct {
	cmd      []string
	env      []string
	probeURL string
	listener *os.File // the socket the reference serves on, inherited as fd 3

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{}
	logs bytes.Buffer
}

func (s *processSUT) ProbeURL() string { return s.probeURL }

// Binding implements SUT: the binary serving the built-in reference, by its digest.
func (s *processSUT) Binding(context.Context) (Binding, error) {
	d, err := digest.OfFile(s.cmd[0])
	if err != nil {
		return Binding{}, envErr("the reference binary's digest: %v", err)
	}
	return Binding{Kind: BoundToBinary, Image: s.cmd[0], Digest: d}, nil
}

func (s *processSUT) CallbacksReachable() (bool, string) { return true, "" }

func (s *processSUT) Logs(ctx context.Context) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.logs.Bytes()...)
}

type lockedWriter struct{ s *processSUT }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.logs.Write(b)
}

func (s *processSUT) start(ctx context.Context) error {
	cmd := exec.Command(s.cmd[0], s.cmd[1:]...)
	cmd.Env = s.env
	cmd.Stdout = lockedWriter{s}
	cmd.Stderr = lockedWriter{s}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.ExtraFiles = []*os.File{s.listener}
	if err := cmd.Start(); err != nil {
		return envErr("starting the reference Fachverfahren: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.proc, s.done = cmd, done
	s.mu.Unlock()
	if err := waitReady(ctx, s.probeURL, done); err != nil {
		return fmt.Errorf("%w\n--- reference output ---\n%s", err, tail(s.Logs(ctx), 2000))
	}
	return nil
}

// stop ends the process: hard (SIGKILL, a crash) or gracefully (SIGTERM, then SIGKILL).
func (s *processSUT) stop(ctx context.Context, hard bool) error {
	s.mu.Lock()
	cmd, done := s.proc, s.done
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	return nil
}

func (s *processSUT) Restart(ctx context.Context) error {
	if err := s.stop(ctx, true); err != nil {
		return err
	}
	return s.start(ctx)
}

// ReachURL checks that a SUT given by URL answers its probe, within seconds. why, if not
// empty, says why the delivery service cannot call it back; restartCmd is the vendor's restart
// command (see SUTSpec.RestartCmd).
func ReachURL(ctx context.Context, url, why, restartCmd string) (SUT, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := probe.New(url).Info(cctx); err != nil {
		return nil, envErr("the SUT at %s does not answer its probe (%s): %v", url, contract.ProbeInfoPath, err)
	}
	return urlSUT{url: url, noCallbacks: why, restartCmd: restartCmd}, nil
}

type urlSUT struct {
	url         string
	noCallbacks string
	restartCmd  string
}

func (u urlSUT) ProbeURL() string { return u.url }

// Binding implements SUT: a SUT given by URL is not bound to a build.
func (u urlSUT) Binding(context.Context) (Binding, error) { return Binding{Kind: SelfDeclared}, nil }

// RestartTimeout bounds the vendor's restart command.
const RestartTimeout = 2 * time.Minute

// Restart runs the vendor's restart command and waits until the probe answers again.
func (u urlSUT) Restart(ctx context.Context) error {
	if u.restartCmd == "" {
		return fmt.Errorf("%w: the SUT was given by --sut-url without --sut-restart-cmd, so the kit cannot restart it", runenv.ErrNotSupported)
	}
	cctx, cancel := context.WithTimeout(ctx, RestartTimeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, "sh", "-c", u.restartCmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("--sut-restart-cmd %q: %v\n%s", u.restartCmd, err, out)
	}
	return waitReady(ctx, u.url, nil)
}

func (u urlSUT) CallbacksReachable() (bool, string) { return u.noCallbacks == "", u.noCallbacks }

func (u urlSUT) Logs(context.Context) []byte { return nil }

// waitReady polls the probe until it answers 200, the process exits, or ReadyTimeout passes.
func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	deadline := time.Now().Add(ReadyTimeout)
	client := probe.New(url)
	client.HTTP.Timeout = 2 * time.Second
	var last error
	for time.Now().Before(deadline) {
		if _, err := client.Info(ctx); err == nil {
			return nil
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return sutErr("the SUT exited before its probe answered")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return sutErr("the SUT's probe did not answer within %s: %v", ReadyTimeout, last)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// ErrUsage marks a wrong combination of flags.
var ErrUsage = errors.New("usage error")
