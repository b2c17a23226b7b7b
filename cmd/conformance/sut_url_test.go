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
	"github.com/konform/konform/report"
	"github.com/konform/konform/runtime"
)

// TestMocksUpAndSUTURL walks the vendor's path for an application that already runs: mocks up,
// configure the application from the env file, run against its URL.
func TestMocksUpAndSUTURL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mocks, a reference and a run; skipped with -short")
	}
	v := startVendor(t, "--runtime=process", "--sut-poll-interval", "1s")
	out, code := runCLI(t, 3*time.Minute, "run", "--sut-url", v.sutURL, "--mocks", v.session, "--profile", "smoke", "--out", filepath.Join(t.TempDir(), "report"))
	if code != exitPassed {
		t.Fatalf("run --sut-url: exit %d\n%s%s", code, out, v.logs())
	}
	if !strings.Contains(out, "MUST:   3 passed, 0 failed, 0 skipped, 0 not run, 0 kit errors") || !strings.Contains(out, "verdict: PASSED") {
		t.Fatalf("unexpected summary:\n%s", out)
	}
}

// TestMocksUpDockerAndSUTURL walks the same path with the mocks in Docker: on the host network
// they call the application on this host back, so the callback checks run. Without
// --sut-restart-cmd only the restart checks are not run.
func TestMocksUpDockerAndSUTURL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mock image, starts mocks, a reference and a run; skipped with -short")
	}
	specsDir(t)
	if err := runtime.DockerAvailable(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no Docker engine answers: %v", err)
		}
		t.Skipf("\n\n*** NO DOCKER ENGINE: mocks up in Docker with a SUT on the host is SKIPPED (%v) ***\n\n", err)
	}
	v := startVendor(t, "--runtime=docker", "--sut-poll-interval", "1s")
	sess, err := loadSession(v.session)
	if err != nil {
		t.Fatal(err)
	}
	for name, ep := range sess.Endpoints {
		if !strings.HasPrefix(ep.Internal, "http://127.0.0.1:") || ep.Internal != ep.External {
			t.Errorf("mock %s: endpoint %+v, want one loopback URL for both", name, ep)
		}
	}

	outDir := filepath.Join(t.TempDir(), "report")
	out, code := runCLI(t, 15*time.Minute, "run", "--sut-url", v.sutURL, "--mocks", v.session, "--profile", "smoke,fitconnect-receiver", "--out", outDir)
	sum, err := report.ReadSummary(filepath.Join(outDir, report.SummaryFile))
	if err != nil {
		t.Fatalf("run --sut-url: exit %d, %v\n%s%s", code, err, out, v.logs())
	}
	if code != exitIncomplete || sum.Verdict != report.Incomplete {
		t.Errorf("exit %d, verdict %s; want %d, %s (restart checks not run)", code, sum.Verdict, exitIncomplete, report.Incomplete)
	}
	// Only the restart checks may stay unrun, and they are not run, never skipped.
	restart := map[string]bool{"FC-RCV-070": true, "IN-CAS-030": true}
	callbacks := map[string]bool{"FC-RCV-061": true, "FC-RCV-062": true, "FC-RCV-063": true}
	for _, c := range sum.Verdicts {
		switch {
		case restart[c.ID] && c.Verdict == report.NotRun:
		case restart[c.ID]:
			t.Errorf("%s: %s (%s), want not run without --sut-restart-cmd", c.ID, c.Verdict, c.Reason)
		case c.Verdict != report.Passed:
			t.Errorf("%s: %s (%s), want passed", c.ID, c.Verdict, c.Reason)
		}
		delete(callbacks, c.ID)
	}
	if len(callbacks) > 0 {
		t.Errorf("callback checks not selected: %v", callbacks)
	}
	if t.Failed() {
		t.Logf("%s%s", out, v.logs())
	}

	v.stopMocks()
	if left := strings.TrimSpace(konformObjectsOf(t, sess.RunID)); sess.RunID == "" || left != "" {
		t.Fatalf("mocks up (run %q) left Docker objects behind:\n%s", sess.RunID, left)
	}
}

// TestSUTRestartCmd runs the restart checks against a SUT given by URL: the vendor's restart
// command stops the reference hard and starts it again on the same data; the checks run and pass.
func TestSUTRestartCmd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mocks, a reference and a run; skipped with -short")
	}
	specs := specsDir(t)
	dir := t.TempDir()
	sutURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	session, envFile := filepath.Join(dir, "mocks.json"), filepath.Join(dir, "sut.env")
	var mocksOut bytes.Buffer
	mocks := exec.Command(cli(t), "mocks", "up", "--runtime=process", "--sut-poll-interval", "1s", "--sut-url", sutURL, "--env-file", envFile, "--mocks", session)
	mocks.Stdout, mocks.Stderr = &mocksOut, &mocksOut
	if err := mocks.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mocks.Process.Signal(syscall.SIGINT); _ = mocks.Wait() })
	waitFile(t, session, 2*time.Minute, &mocksOut)

	// The vendor's restart command: stop hard, start again detached, on the same data folder.
	script := filepath.Join(dir, "restart.sh")
	body := `#!/bin/sh
d="$1"
if [ -f "$d/ref.pid" ]; then
  pid="$(cat "$d/ref.pid")"
  kill -9 "$pid" 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
while IFS= read -r l; do export "$l"; done < "$d/sut.env"
export KONFORM_REFERENCE_DATA_DIR="$d/data" KONFORM_REFERENCE_SCHEMA_DIR="$SPECS"
nohup "$CLI" reference >> "$d/ref.log" 2>&1 &
echo $! > "$d/ref.pid"
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	restartCmd := fmt.Sprintf("SPECS=%q CLI=%q sh %q %q", specs, cli(t), script, dir)
	if out, err := exec.Command("sh", "-c", restartCmd).CombinedOutput(); err != nil {
		t.Fatalf("starting the reference: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(dir, "ref.pid")); err == nil {
			_ = exec.Command("kill", "-9", strings.TrimSpace(string(b))).Run()
		}
	})
	var none bytes.Buffer
	waitProbe(t, sutURL, time.Minute, &none)

	outDir := filepath.Join(dir, "report")
	out, code := runCLI(t, 10*time.Minute, "run", "--sut-url", sutURL, "--mocks", session, "--sut-restart-cmd", restartCmd,
		"--label-filter", "SM-PRB-010 || SM-TOK-020 || FC-RCV-070 || IN-CAS-030", "--out", outDir)
	refLog, _ := os.ReadFile(filepath.Join(dir, "ref.log"))
	sum, err := report.ReadSummary(filepath.Join(outDir, report.SummaryFile))
	if err != nil || code != exitPassed || sum.Verdict != report.Passed || sum.Must.Passed != 4 {
		t.Fatalf("run --sut-url --sut-restart-cmd: exit %d, %v, %+v\n%s\n--- mocks ---\n%s\n--- reference ---\n%s", code, err, sum.Must, out, mocksOut.String(), refLog)
	}
}

// vendor is `conformance mocks up` and the reference started on this host from the env file it
// wrote, as a vendor runs their application; both stop when the test ends.
type vendor struct {
	sutURL, session  string
	mocks            *exec.Cmd
	mocksOut, refOut bytes.Buffer
}

func startVendor(t *testing.T, mocksArgs ...string) *vendor {
	t.Helper()
	specs := specsDir(t)
	dir := t.TempDir()
	v := &vendor{sutURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), session: filepath.Join(dir, "mocks.json")}
	envFile := filepath.Join(dir, "sut.env")

	// No context: a killed `mocks up` could not remove its containers.
	v.mocks = exec.Command(cli(t), append([]string{"mocks", "up", "--sut-url", v.sutURL, "--env-file", envFile, "--mocks", v.session}, mocksArgs...)...)
	v.mocks.Stdout, v.mocks.Stderr = &v.mocksOut, &v.mocksOut
	if err := v.mocks.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.stopMocks)
	waitFile(t, v.session, 5*time.Minute, &v.mocksOut)

	env := append(os.Environ(), readEnvFile(t, envFile)...)
	env = append(env, "KONFORM_REFERENCE_DATA_DIR="+filepath.Join(dir, "data"), "KONFORM_REFERENCE_SCHEMA_DIR="+specs)
	ref := exec.Command(cli(t), "reference")
	ref.Env, ref.Stdout, ref.Stderr = env, &v.refOut, &v.refOut
	if err := ref.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ref.Process.Signal(syscall.SIGTERM); _ = ref.Wait() })
	waitProbe(t, v.sutURL, time.Minute, &v.refOut)
	return v
}

// stopMocks ends `mocks up` as Ctrl-C does, so that it removes what it started.
func (v *vendor) stopMocks() {
	if v.mocks.ProcessState == nil {
		_ = v.mocks.Process.Signal(syscall.SIGINT)
		_ = v.mocks.Wait()
	}
}

func (v *vendor) logs() string {
	return "\n--- mocks up ---\n" + v.mocksOut.String() + "\n--- reference ---\n" + v.refOut.String()
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
