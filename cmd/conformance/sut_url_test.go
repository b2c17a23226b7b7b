package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/konform/konform/probe"
)

// TestMocksUpAndSUTURL walks the vendor's path for an application that already runs: mocks up,
// configure the application from the env file, run against its URL.
func TestMocksUpAndSUTURL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mocks, a reference and a run; skipped with -short")
	}
	specs := specsDir(t)
	dir := t.TempDir()
	port := freePort(t)
	sutURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	envFile, sessFile := filepath.Join(dir, "sut.env"), filepath.Join(dir, "mocks.json")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var mocksOut bytes.Buffer
	mocks := exec.CommandContext(ctx, cli(t), "mocks", "up", "--runtime=process", "--sut-url", sutURL, "--env-file", envFile, "--mocks", sessFile)
	mocks.Stdout, mocks.Stderr = &mocksOut, &mocksOut
	if err := mocks.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = mocks.Process.Signal(syscall.SIGINT); _ = mocks.Wait() }()
	waitFile(t, sessFile, 2*time.Minute, &mocksOut)

	env := append(os.Environ(), readEnvFile(t, envFile)...)
	env = append(env, "KONFORM_REFERENCE_DATA_DIR="+filepath.Join(dir, "data"), "KONFORM_REFERENCE_SCHEMA_DIR="+specs)
	var refOut bytes.Buffer
	ref := exec.CommandContext(ctx, cli(t), "reference")
	ref.Env, ref.Stdout, ref.Stderr = env, &refOut, &refOut
	if err := ref.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ref.Process.Signal(syscall.SIGTERM); _ = ref.Wait() }()

	waitProbe(t, sutURL, time.Minute, &refOut)

	out, code := runCLI(t, 3*time.Minute, "run", "--sut-url", sutURL, "--mocks", sessFile, "--profile", "smoke", "--out", filepath.Join(dir, "report"))
	if code != exitPassed {
		t.Fatalf("run --sut-url: exit %d\n%s\n--- mocks up ---\n%s\n--- reference ---\n%s", code, out, mocksOut.String(), refOut.String())
	}
	if !strings.Contains(out, "MUST:   3 passed, 0 failed, 0 skipped, 0 not run, 0 kit errors") || !strings.Contains(out, "verdict: PASSED") {
		t.Fatalf("unexpected summary:\n%s", out)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitFile(t *testing.T, path string, d time.Duration, log *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within %s:\n%s", path, d, log.String())
}

func waitProbe(t *testing.T, url string, d time.Duration, log *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := probe.New(url).Info(context.Background()); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the reference at %s did not answer within %s:\n%s", url, d, log.String())
}

func readEnvFile(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, "=") {
			out = append(out, line)
		}
	}
	return out
}
