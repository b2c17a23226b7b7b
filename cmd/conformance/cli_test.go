package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/konform/konform/report"
	"github.com/konform/konform/runtime"
	"github.com/konform/konform/specs/specstest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// cli builds the conformance binary once per test process: the suites run only inside it,
// because Ginkgo runs its specs once per process.
func cli(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "konform-cli-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "conformance")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("building the CLI: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (b *buildError) Error() string { return b.err.Error() + "\n" + b.out }

func runCLI(t *testing.T, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("conformance %s did not finish within %s:\n%s", strings.Join(args, " "), timeout, out.String())
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

func specsDir(t *testing.T) string { return specstest.Dir(t) }

func TestUsageErrorsExit2(t *testing.T) {
	cases := [][]string{
		{},
		{"bogus"},
		{"run", "--runtime=vm"},
		{"run", "--sut-image", "x", "--sut-url", "http://127.0.0.1:1"},
		{"run", "--sut-image", "x", "--runtime=process"},
		{"run", "--profile", "nonsense"},
		{"run", "--label-filter", "(("},
		{"run", "--sut-url", "ftp://x"},
		{"run", "--schemas", "/does/not/exist"},
		{"run", "--nope"},
		{"run", "--parallel", "-1"},
		{"run", "--parallel", "2", "--sut-url", "http://127.0.0.1:1"},
		{"mocks", "down"},
		{"selftest", "extra"},
		{"selftest", "--shards", "0"},
	}
	for _, args := range cases {
		out, code := runCLI(t, 30*time.Second, args...)
		if code != exitUsage {
			t.Errorf("conformance %q: exit %d, want %d\n%s", args, code, exitUsage, out)
		}
		if strings.Contains(out, "panic") {
			t.Errorf("conformance %q panicked:\n%s", args, out)
		}
	}
}

func TestUnreachableSUTExits3Quickly(t *testing.T) {
	start := time.Now()
	out, code := runCLI(t, 60*time.Second, "run", "--sut-url", "http://127.0.0.1:1")
	if code != exitEnvironment {
		t.Fatalf("exit %d, want %d:\n%s", code, exitEnvironment, out)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("took %s, want < 30 s", took)
	}
	if !strings.Contains(out, "127.0.0.1:1") || !strings.Contains(out, "does not answer") {
		t.Errorf("message does not name the problem:\n%s", out)
	}
}

func TestCatalogueAndSpecsMatch(t *testing.T) {
	out, code := runCLI(t, 60*time.Second, "list", "--json")
	if code != exitPassed {
		t.Fatalf("conformance list: exit %d:\n%s", code, out)
	}
	i := strings.Index(out, "{")
	var listed struct {
		Checks   []listedCheck `json:"checks"`
		Problems []string      `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out[i:]), &listed); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if len(listed.Problems) > 0 {
		t.Fatalf("catalogue and specs disagree:\n%s", strings.Join(listed.Problems, "\n"))
	}
	if len(listed.Checks) == 0 {
		t.Fatal("no checks compiled in")
	}
}

// TestSelftest runs the suites against the clean reference and once per defect; it fails when
// a defect survives, a check catches none, or the clean reference fails anything.
func TestSelftest(t *testing.T) {
	if testing.Short() {
		t.Skip("the self-test makes one run per defect; skipped with -short")
	}
	specs := specsDir(t)
	out, code := runCLI(t, 75*time.Minute, "selftest", "--schemas", specs, "--out", t.TempDir())
	t.Log(out)
	if code != exitPassed {
		t.Fatalf("selftest: exit %d", code)
	}
}

// TestFullRunInContainers makes one complete run with mocks and reference as containers and
// checks that nothing of it is left behind.
func TestFullRunInContainers(t *testing.T) {
	if testing.Short() {
		t.Skip("the container run builds images; skipped with -short")
	}
	specs := specsDir(t)
	if err := runtime.DockerAvailable(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no Docker engine answers: %v", err)
		}
		t.Skipf("\n\n*** NO DOCKER ENGINE: the run in containers is SKIPPED (%v) ***\n\n", err)
	}
	outDir := t.TempDir()
	root, ok := moduleRoot()
	if !ok {
		t.Fatal("module root not found")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli(t), "run", "--runtime=docker", "--schemas", specs, "--out", outDir, "--sut-poll-interval", "1s")
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	_ = cmd.Run()
	t.Log(buf.String())
	if code := cmd.ProcessState.ExitCode(); code != exitPassed {
		t.Fatalf("run in containers: exit %d", code)
	}
	sum, err := report.ReadSummary(filepath.Join(outDir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Meta.Runtime != runtime.Docker || sum.Verdict != report.Passed || sum.All().Passed != sum.All().Total() {
		t.Fatalf("summary: runtime %s, verdict %s, %+v", sum.Meta.Runtime, sum.Verdict, sum.All())
	}
	for _, f := range []string{report.JUnitFile, report.JSONFile} {
		if _, err := os.Stat(filepath.Join(outDir, f)); err != nil {
			t.Errorf("report %s missing: %v", f, err)
		}
	}
	assertNothingLeft(t, outDir)
}

// konformObjectsOf lists the containers, networks and images of one run, or of every run when
// runID is "".
func konformObjectsOf(t *testing.T, runID string) string {
	t.Helper()
	label := "label=" + runtime.Label
	if runID != "" {
		label += "=" + runID
	}
	var all []string
	for _, args := range [][]string{
		{"ps", "-a", "--filter", label, "--format", "{{.Names}}"},
		{"network", "ls", "--filter", label, "--format", "{{.Name}}"},
		{"images", "--filter", label, "--format", "{{.Repository}}:{{.Tag}}"},
	} {
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		all = append(all, strings.TrimSpace(string(out)))
	}
	return strings.Join(all, "\n")
}
