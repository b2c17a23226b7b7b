package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/konform/konform/report"
)

// TestEngineOverTCP runs against an engine named by DOCKER_HOST=tcp://…, as a CI job with a
// docker:dind service does: here a loopback TCP forwarder to the local engine's socket. The
// run talks to that engine only and reaches its mocks and the SUT at the engine's host.
func TestEngineOverTCP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images and runs in Docker; skipped with -short")
	}
	specs := specsDir(t)
	needDocker(t)
	const sock = "/var/run/docker.sock"
	if _, err := os.Stat(sock); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but the engine's socket %s is not there: %v", sock, err)
		}
		t.Skipf("no %s to forward to: %v", sock, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var forwarded atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			forwarded.Add(1)
			go func() {
				defer c.Close()
				e, err := net.Dial("unix", sock)
				if err != nil {
					return
				}
				defer e.Close()
				go io.Copy(e, c)
				io.Copy(c, e)
			}()
		}
	}()
	t.Setenv("DOCKER_HOST", fmt.Sprintf("tcp://%s", ln.Addr()))
	outDir := t.TempDir()
	out, code := runCLI(t, 10*time.Minute, "run", "--runtime=docker", "--schemas", specs, "--out", outDir, "--profile", "smoke", "--sut-poll-interval", "2s")
	if code != exitPassed {
		t.Fatalf("run with DOCKER_HOST=tcp://%s: exit %d\n%s", ln.Addr(), code, out)
	}
	if forwarded.Load() == 0 {
		t.Fatalf("the run did not use the engine DOCKER_HOST names")
	}
	sum, err := report.ReadSummary(filepath.Join(outDir, report.SummaryFile))
	if err != nil || sum.Verdict != report.Passed || !strings.Contains(sum.Meta.Runtime, "docker") {
		t.Fatalf("summary: %v, %+v", err, sum.Meta)
	}
	assertNothingLeft(t, outDir)
}
