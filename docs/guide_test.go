package docs_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/konform/konform/report"
	"github.com/konform/konform/specs/fetch"
	"github.com/konform/konform/specs/specstest"
)

// The guide's substitutions (docs/vendor-guide.md, "How this guide is tested").
const (
	guideFile     = "vendor-guide.md"
	guideImage    = "your-fachverfahren" // becomes a name of the test's own
	guideListen   = "127.0.0.1:8080"     // becomes a free loopback port
	guideManifest = "konform-mirror.yaml"
	runLabel      = "dev.konform.run"
	kitLabel      = "dev.konform.kit"
)

// block is one ```sh block of the guide that a `<!-- tested … -->` line directly precedes.
type block struct {
	line       int    // of the fence, 1-based
	background string // "background until FILE": the FILE
	needs      string // "needs TOOL": the TOOL
	script     string
}

var markerRE = regexp.MustCompile(`^<!-- tested(?::\s*(.*?))?\s*-->$`)

// parseGuide returns the guide's tested blocks in order.
func parseGuide(t *testing.T, path string) []block {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []block
	for i := 0; i < len(lines); i++ {
		m := markerRE.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```sh" {
			t.Fatalf("%s:%d: a tested marker must stand directly before a ```sh fence", path, i+1)
		}
		bl := block{line: i + 2}
		switch opt := m[1]; {
		case opt == "":
		case strings.HasPrefix(opt, "background until "):
			bl.background = strings.TrimSpace(strings.TrimPrefix(opt, "background until "))
		case strings.HasPrefix(opt, "needs "):
			bl.needs = strings.TrimSpace(strings.TrimPrefix(opt, "needs "))
		default:
			t.Fatalf("%s:%d: unknown marker option %q", path, i+1, opt)
		}
		var body []string
		j := i + 2
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, lines[j])
		}
		if j == len(lines) {
			t.Fatalf("%s:%d: the ```sh block is not closed", path, bl.line)
		}
		bl.script = strings.Join(body, "\n") + "\n"
		out = append(out, bl)
		i = j
	}
	return out
}

func TestGuideMarkers(t *testing.T) {
	blocks := parseGuide(t, guideFile)
	if len(blocks) < 10 {
		t.Fatalf("%s has %d tested blocks; the guide's walk-through has more", guideFile, len(blocks))
	}
	var background int
	for i, b := range blocks {
		if b.background != "" {
			background++
			if i+1 == len(blocks) || blocks[i+1].background != "" || blocks[i+1].needs != "" {
				t.Errorf("%s:%d: a background block must be followed by a plain tested block", guideFile, b.line)
			}
		}
		if strings.Contains(b.script, "<!--") {
			t.Errorf("%s:%d: a marker inside a block", guideFile, b.line)
		}
	}
	if background == 0 {
		t.Errorf("%s: no background block (conformance mocks up)", guideFile)
	}
}

// absent fails t under CI=true, naming what is missing, and skips it elsewhere.
func absent(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: this fails instead of skipping)", args...)
	}
	t.Skipf(format+": skipped", args...)
}

func dockerAvailable() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker version: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// writeMirror serves specsDir over HTTP on loopback and writes a mirror manifest to path: one
// entry per file the built-in manifest places, pinned with the SHA-256 of the file in specsDir.
func writeMirror(t *testing.T, specsDir, path string) {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(specsDir)))
	t.Cleanup(srv.Close)
	builtIn, err := fetch.BuiltIn()
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, d := range builtIn.Destinations() {
		p := filepath.Join(specsDir, filepath.FromSlash(d))
		st, err := os.Stat(p)
		if err != nil {
			absent(t, "official spec %s not found: %v", d, err)
		}
		if !st.IsDir() {
			files = append(files, d)
			continue
		}
		err = filepath.WalkDir(p, func(q string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, err := filepath.Rel(specsDir, q)
			files = append(files, filepath.ToSlash(rel))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var m fetch.Manifest
	for _, rel := range files {
		b, err := os.ReadFile(filepath.Join(specsDir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		m.Entries = append(m.Entries, fetch.Entry{Name: rel, URL: srv.URL + "/" + rel, SHA256: hex.EncodeToString(sum[:]),
			Path: rel, Publisher: "test", Source: "loopback mirror of " + specsDir})
	}
	data, err := json.MarshalIndent(m, "", "  ") // JSON is YAML
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// docker runs the Docker CLI and returns its trimmed output.
func docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// shell is the bash every block runs in.
type shell struct {
	t   *testing.T
	dir string
	env []string
}

// lockedBuffer collects a background block's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (s shell) command(ctx context.Context, script string, out *lockedBuffer) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", "set -euo pipefail\n"+script)
	cmd.Dir, cmd.Env = s.dir, s.env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// run runs one block in the foreground and fails t unless it exits 0.
func (s shell) run(b block, script string, timeout time.Duration) {
	t := s.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out lockedBuffer
	start := time.Now()
	err := s.command(ctx, script, &out).Run()
	t.Logf("%s:%d (%s):\n%s\n%s", guideFile, b.line, time.Since(start).Round(100*time.Millisecond), indent(script, "$ "), indent(out.String(), "  "))
	if ctx.Err() != nil {
		t.Fatalf("%s:%d did not finish within %s", guideFile, b.line, timeout)
	}
	if err != nil {
		t.Fatalf("%s:%d: %v", guideFile, b.line, err)
	}
}

// background is a block running in the background.
type background struct {
	b    block
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

func (s shell) start(b block, script string) *background {
	t := s.t
	t.Helper()
	bg := &background{b: b, out: &lockedBuffer{}, done: make(chan error, 1)}
	bg.cmd = s.command(context.Background(), script, bg.out)
	if err := bg.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { bg.done <- bg.cmd.Wait() }()
	t.Cleanup(func() { bg.stop(time.Minute) })
	deadline := time.After(3 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(s.dir, b.background)); err == nil {
			return bg
		}
		select {
		case err := <-bg.done:
			bg.done <- err
			t.Fatalf("%s:%d ended (%v) before %s appeared:\n%s", guideFile, b.line, err, b.background, bg.out.String())
		case <-deadline:
			t.Fatalf("%s:%d: %s did not appear within 3 minutes:\n%s", guideFile, b.line, b.background, bg.out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop sends the block Ctrl-C (SIGINT to its process group) and waits for it; it kills the
// group when it does not end within timeout. It returns the block's error, nil for exit 0.
func (bg *background) stop(timeout time.Duration) error {
	select {
	case err := <-bg.done:
		bg.done <- err
		return err // it has ended already
	default:
	}
	_ = syscall.Kill(-bg.cmd.Process.Pid, syscall.SIGINT)
	select {
	case err := <-bg.done:
		bg.done <- err
		return err
	case <-time.After(timeout):
		_ = syscall.Kill(-bg.cmd.Process.Pid, syscall.SIGKILL)
		err := <-bg.done
		bg.done <- err
		return fmt.Errorf("did not stop within %s of Ctrl-C: %v", timeout, err)
	}
}

func indent(s, prefix string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for sc.Scan() {
		b.WriteString(prefix + sc.Text() + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// guideEnv is the test's environment without the kit's variables, with the binary folder first
// on PATH and XDG_DATA_HOME inside the work folder.
func guideEnv(binDir, work string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "KONFORM_"), k == "XDG_DATA_HOME":
		case k == "PATH":
			env = append(env, "PATH="+binDir+string(os.PathListSeparator)+v)
		default:
			env = append(env, kv)
		}
	}
	if os.Getenv("PATH") == "" {
		env = append(env, "PATH="+binDir+":/usr/local/bin:/usr/bin:/bin")
	}
	return append(env, "XDG_DATA_HOME="+filepath.Join(work, ".local", "share"))
}

// TestVendorGuide runs the guide's tested blocks as a vendor would, from an empty folder with a
// release binary on PATH: schemas from a loopback mirror, the reference packaged as "your"
// image, a first run, a run against the mocks, a failure, the air-gap round trip. It checks the
// verdicts and that nothing of any run is left in Docker, and removes the images it made.
func TestVendorGuide(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary and images and runs the guide; skipped with -short")
	}
	blocks := parseGuide(t, guideFile)
	specsDir := specstest.Dir(t)
	for _, tool := range []string{"bash", "make", "docker", "curl", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			absent(t, "the guide needs %s on PATH (%v)", tool, err)
		}
	}
	if err := dockerAvailable(); err != nil {
		absent(t, "no Docker engine answers (%v)", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()

	// Section 1: the release binary, as `conformance` on PATH.
	dist := t.TempDir()
	if out, err := exec.Command("make", "-C", root, "release", "DIST="+dist, "VERSION=guide-test").CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	built, err := filepath.Glob(filepath.Join(dist, "conformance-linux-*"))
	if err != nil || len(built) != 1 {
		t.Fatalf("make release made %v (%v)", built, err)
	}
	binDir := t.TempDir()
	bin := filepath.Join(binDir, "conformance")
	if err := os.Rename(built[0], bin); err != nil {
		t.Fatal(err)
	}
	idOut, err := exec.Command(bin, "images", "id").Output()
	if err != nil {
		t.Fatalf("conformance images id: %v", err)
	}
	kitID := strings.TrimSpace(string(idOut))
	t.Logf("release binary built in %s, ID %s", time.Since(started).Round(time.Second), kitID)

	work := t.TempDir()
	name := fmt.Sprintf("konform-guide-test-%d", time.Now().UnixNano())
	port := strconv.Itoa(freePort(t))
	writeMirror(t, specsDir, filepath.Join(work, guideManifest))
	substitute := strings.NewReplacer(guideImage, name, guideListen, "127.0.0.1:"+port).Replace

	// What was there before, so the clean-up removes only what the guide made.
	before := map[string]bool{}
	if out, err := docker("images", "-q", "--no-trunc", "--filter", "label="+kitLabel+"="+kitID); err == nil {
		for _, l := range lines(out) {
			before[l] = true
		}
	}
	t.Cleanup(func() { cleanUp(t, name, kitID, before) })

	sh := shell{t: t, dir: work, env: guideEnv(binDir, work)}
	var bg *background
	for _, b := range blocks {
		if b.needs != "" {
			if _, err := exec.LookPath(b.needs); err != nil {
				t.Logf("%s:%d needs %s, which is not installed: not run", guideFile, b.line, b.needs)
				continue
			}
		}
		script := substitute(b.script)
		if b.background != "" {
			bg = sh.start(b, script)
			continue
		}
		sh.run(b, script, 10*time.Minute)
		if bg != nil {
			err := bg.stop(time.Minute)
			t.Logf("%s:%d (background, stopped with Ctrl-C):\n%s\n%s", guideFile, bg.b.line, indent(substitute(bg.b.script), "$ "), indent(bg.out.String(), "  "))
			if err != nil {
				t.Errorf("%s:%d after Ctrl-C: %v, want exit 0", guideFile, bg.b.line, err)
			}
			bg = nil
		}
	}

	// The verdicts the guide promises.
	for dir, want := range map[string]string{"conformance-report": report.Passed, "dev-report": report.Passed, "broken-report": report.Failed} {
		sum, err := report.ReadSummary(filepath.Join(work, dir, report.SummaryFile))
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if sum.Verdict != want {
			t.Errorf("%s: verdict %s, want %s", dir, sum.Verdict, want)
		}
	}
	if sum, err := report.ReadSummary(filepath.Join(work, "broken-report", report.SummaryFile)); err == nil {
		for _, v := range sum.Verdicts {
			if v.ID == "SM-DST-030" && v.Verdict != "failed" {
				t.Errorf("broken-report: SM-DST-030 %s, want failed (the guide's failure example)", v.Verdict)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(work, "schemas", "konform-schemas.json")); err != nil {
		t.Errorf("schemas fetch left no konform-schemas.json: %v", err)
	}

	// Nothing of any run is left in Docker.
	for _, id := range runIDs(t, work) {
		var left []string
		for _, kind := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}, {"volume", "ls", "-q"}, {"images", "-q"}} {
			out, err := docker(append(kind, "--filter", "label="+runLabel+"="+id)...)
			if err != nil {
				t.Errorf("docker %s: %v: %s", strings.Join(kind, " "), err, out)
				continue
			}
			for _, l := range lines(out) {
				left = append(left, kind[0]+" "+l)
			}
		}
		if len(left) > 0 {
			t.Errorf("run %s left Docker objects behind: %s", id, strings.Join(left, ", "))
		}
	}
	t.Logf("the guide ran in %s", time.Since(started).Round(time.Second))
}

// runIDs are the run IDs of every report and mocks session below work.
func runIDs(t *testing.T, work string) []string {
	t.Helper()
	var ids []string
	err := filepath.WalkDir(work, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		switch e.Name() {
		case report.SummaryFile:
			sum, err := report.ReadSummary(p)
			if err != nil {
				return err
			}
			if sum.Meta.RunID == "" {
				return fmt.Errorf("%s names no run ID", p)
			}
			ids = append(ids, sum.Meta.RunID)
		case "konform-mocks.json":
			var s struct {
				RunID string `json:"runId"`
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &s); err != nil || s.RunID == "" {
				return errors.Join(fmt.Errorf("%s names no run ID", p), err)
			}
			ids = append(ids, s.RunID)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if len(ids) < 4 {
		t.Errorf("found the run IDs %v; the guide makes at least four runs (three reports, one mocks session)", ids)
	}
	return ids
}

// cleanUp removes the containers and images the guide made: the container and image named
// after the test, containers created from that image, and the kit images for this binary that
// were not there before.
func cleanUp(t *testing.T, name, kitID string, before map[string]bool) {
	image := name + ":1.2.3"
	var containers []string
	if out, err := docker("ps", "-aq", "--filter", "name=^/"+name+"$"); err == nil {
		containers = append(containers, lines(out)...)
	}
	if out, err := docker("ps", "-aq", "--filter", "ancestor="+image); err == nil {
		containers = append(containers, lines(out)...)
	}
	if len(containers) > 0 {
		if out, err := docker(append([]string{"rm", "-f"}, containers...)...); err != nil {
			t.Logf("docker rm: %v: %s", err, out)
		}
	}
	if out, err := docker("rmi", image); err != nil && !strings.Contains(out, "No such image") {
		t.Logf("docker rmi %s: %v: %s", image, err, out)
	}
	out, err := docker("images", "-q", "--no-trunc", "--filter", "label="+kitLabel+"="+kitID)
	if err != nil {
		t.Logf("docker images: %v: %s", err, out)
		return
	}
	var made []string
	for _, id := range lines(out) {
		if !before[id] {
			made = append(made, id)
		}
	}
	if len(made) > 0 {
		if out, err := docker(append([]string{"rmi", "-f"}, made...)...); err != nil {
			t.Logf("docker rmi: %v: %s", err, out)
		}
	}
}
