package ci_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/konform/konform/report"
	"github.com/konform/konform/specs"
	"github.com/konform/konform/specs/fetch"
	"github.com/konform/konform/specs/specstest"
)

// absent fails t under CI=true, naming what is missing, and skips it elsewhere.
func absent(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: this fails instead of skipping)", args...)
	}
	t.Skipf(format+": skipped", args...)
}

// dockerAvailable asks the engine the Docker CLI chooses (DOCKER_HOST, DOCKER_CONTEXT, the
// default socket), as the kit does.
func dockerAvailable() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker version: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// mirror serves the official specs over HTTP on loopback and returns a schema manifest that
// fetches the required files from it, as a vendor's mirror manifest would.
func mirror(t *testing.T) string {
	t.Helper()
	specsDir := specstest.Dir(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(specsDir)))
	t.Cleanup(srv.Close)
	var m fetch.Manifest
	for _, rel := range specs.Required {
		b, err := os.ReadFile(filepath.Join(specsDir, rel))
		if err != nil {
			absent(t, "official spec %s not found: %v", rel, err)
		}
		sum := sha256.Sum256(b)
		m.Entries = append(m.Entries, fetch.Entry{Name: rel, URL: srv.URL + "/" + rel, SHA256: hex.EncodeToString(sum[:]),
			Path: rel, Publisher: "test", Source: "test mirror"})
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "mirror-manifest.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// kitDir holds the conformance binary kit builds; TestMain removes it.
var kitDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "konform-ci-kit-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kitDir = dir
	code := m.Run()
	removeImages()
	os.RemoveAll(dir)
	os.Exit(code)
}

// kit is a conformance binary built once from this source tree, for the GitLab template (a
// `conformance` already on PATH) and for building the reference image.
var kit = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(kitDir, "conformance")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/conformance")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/conformance: %v\n%s", err, out)
	}
	return bin, nil
})

func kitBinary(t *testing.T) string {
	t.Helper()
	bin, err := kit()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// The reference image, built once for every test that needs it, and what TestMain removes.
var (
	refOnce    sync.Once
	refTag     string
	refErr     error
	refCleanup []string
)

// referenceImage builds the reference packaged as a vendor image with `conformance images
// build` (once) and returns its tag. TestMain removes the tag, and the kit images of the test's
// binary when the build made them.
func referenceImage(t *testing.T, specsDir string) string {
	t.Helper()
	bin := kitBinary(t)
	if out, err := exec.Command(bin, "images", "build", "-h").CombinedOutput(); err != nil {
		absent(t, "`conformance images build` is not available yet (%v: %s)", err, bytes.TrimSpace(out))
	}
	refOnce.Do(func() {
		id, err := exec.Command(bin, "images", "id").Output()
		if err != nil {
			refErr = fmt.Errorf("conformance images id: %v", err)
			return
		}
		tag := fmt.Sprintf("konform-reference:ci-test-%d", time.Now().UnixNano())
		refCleanup = append(refCleanup, tag)
		for _, img := range []string{"konform-mock:" + strings.TrimSpace(string(id)), "konform-reference:" + strings.TrimSpace(string(id))} {
			if exec.Command("docker", "image", "inspect", img).Run() != nil {
				refCleanup = append(refCleanup, img) // made by this test
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		cmd := exec.CommandContext(ctx, bin, "images", "build", "--schemas", specsDir, "--reference-tag", tag)
		cmd.Dir = ".." // the source tree: the images are built from it
		out, err := cmd.CombinedOutput()
		switch {
		case err != nil:
			refErr = fmt.Errorf("conformance images build: %v\n%s", err, out)
		case !strings.Contains(string(out), tag):
			refErr = fmt.Errorf("conformance images build does not name the tag %s:\n%s", tag, out)
		default:
			refTag = tag
			t.Logf("conformance images build: %s in %s", tag, time.Since(start).Round(time.Second))
		}
	})
	if refErr != nil {
		t.Fatal(refErr)
	}
	return refTag
}

func removeImages() {
	if len(refCleanup) > 0 {
		_ = exec.Command("docker", append([]string{"rmi", "--force"}, refCleanup...)...).Run()
	}
}

// baseEnv is the test's environment without what a CI runner sets and without the kit's own
// variables, so a step sees only what the runner gives it.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "KONFORM_") || strings.HasPrefix(k, "CI_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// ghRunner plays the GitHub Actions runner for one composite action: it runs the `run` steps
// in order with bash as the runner does (`bash --noprofile --norc -eo pipefail`), evaluates the
// few expressions the action uses, keeps GITHUB_ENV, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as
// files, and records the `uses` steps it skips.
type ghRunner struct {
	t                          *testing.T
	actionPath, workspace, tmp string
	inputs                     map[string]string
	env                        map[string]string // from GITHUB_ENV
	outputs                    map[string]map[string]string
	summary                    string
	failed                     bool
	log                        bytes.Buffer
}

type stepResult struct {
	name    string
	ran     bool
	skipped string // why a step did not run: its condition, or "uses" (not run locally)
	exit    int
	with    map[string]string
}

func newGHRunner(t *testing.T, inputs map[string]string) *ghRunner {
	t.Helper()
	r := &ghRunner{t: t, actionPath: repoRoot(t), workspace: t.TempDir(), tmp: t.TempDir(),
		inputs: map[string]string{}, env: map[string]string{}, outputs: map[string]map[string]string{}}
	for name, in := range loadAction(t).Inputs {
		r.inputs[name] = in.Default
	}
	for k, v := range inputs {
		r.inputs[k] = v
	}
	r.summary = filepath.Join(r.tmp, "step-summary.md")
	return r
}

var exprRef = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// value evaluates the operand forms the action uses: inputs.NAME, steps.ID.outputs.NAME and a
// quoted string.
func (r *ghRunner) value(e string) string {
	e = strings.TrimSpace(e)
	if name, ok := strings.CutPrefix(e, "inputs."); ok {
		if _, declared := r.inputs[name]; !declared {
			r.t.Fatalf("expression %q: no such input", e)
		}
		return r.inputs[name]
	}
	if rest, ok := strings.CutPrefix(e, "steps."); ok {
		id, name, ok := strings.Cut(rest, ".outputs.")
		if !ok {
			r.t.Fatalf("expression %q: only steps.ID.outputs.NAME is known here", e)
		}
		return r.outputs[id][name]
	}
	if len(e) >= 2 && e[0] == '\'' && e[len(e)-1] == '\'' {
		return e[1 : len(e)-1]
	}
	r.t.Fatalf("expression %q is not one this test runner evaluates", e)
	return ""
}

func (r *ghRunner) expand(s string) string {
	return exprRef.ReplaceAllStringFunc(s, func(m string) string { return r.value(exprRef.FindStringSubmatch(m)[1]) })
}

// cond evaluates a step's if: terms joined by &&, each always(), success(), failure() or
// `A == B` / `A != B`; without a status function the step runs only while nothing failed.
func (r *ghRunner) cond(expr string) bool {
	expr = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(expr), "${{"), "}}"))
	status := !r.failed
	ok := true
	for _, term := range strings.Split(expr, "&&") {
		term = strings.TrimSpace(term)
		switch {
		case term == "":
		case term == "always()":
			status = true
		case term == "success()":
			status = !r.failed
		case term == "failure()":
			status = r.failed
		case strings.Contains(term, "!="):
			a, b, _ := strings.Cut(term, "!=")
			ok = ok && r.value(a) != r.value(b)
		case strings.Contains(term, "=="):
			a, b, _ := strings.Cut(term, "==")
			ok = ok && r.value(a) == r.value(b)
		default:
			r.t.Fatalf("if: %q: term %q is not one this test runner evaluates", expr, term)
		}
	}
	return status && ok
}

// readKV reads a GITHUB_OUTPUT / GITHUB_ENV file: NAME=VALUE lines and NAME<<DELIMITER blocks.
func readKV(t *testing.T, path string) map[string]string {
	t.Helper()
	m := map[string]string{}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return m
	}
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for sc.Scan() && sc.Text() != delim {
				val = append(val, sc.Text())
			}
			m[name] = strings.Join(val, "\n")
			continue
		}
		if name, val, ok := strings.Cut(line, "="); ok {
			m[name] = val
		}
	}
	return m
}

func (r *ghRunner) run(ctx context.Context) []stepResult {
	t := r.t
	envFile := filepath.Join(r.tmp, "github-env")
	var results []stepResult
	for i, s := range loadAction(t).Runs.Steps {
		res := stepResult{name: s.label()}
		switch {
		case !r.cond(s.If):
			res.skipped = "if: " + s.If
		case s.Uses != "":
			res.skipped = "uses"
			if strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
				res.with = map[string]string{}
				for k, v := range s.With {
					res.with[k] = r.expand(v)
				}
			}
		default:
			res.ran = true
			outFile := filepath.Join(r.tmp, fmt.Sprintf("github-output-%d", i))
			script := filepath.Join(r.tmp, fmt.Sprintf("step-%d.sh", i))
			if err := os.WriteFile(script, []byte(s.Run), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
			cmd.Dir = r.workspace
			cmd.Env = append(baseEnv(),
				"CI=true", "GITHUB_ACTIONS=true",
				"GITHUB_ACTION_PATH="+r.actionPath, "GITHUB_WORKSPACE="+r.workspace, "RUNNER_TEMP="+r.tmp,
				"GITHUB_ENV="+envFile, "GITHUB_OUTPUT="+outFile, "GITHUB_STEP_SUMMARY="+r.summary)
			for k, v := range r.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			for k, v := range s.Env {
				cmd.Env = append(cmd.Env, k+"="+r.expand(v))
			}
			fmt.Fprintf(&r.log, "▶ %s\n", res.name)
			cmd.Stdout, cmd.Stderr = &r.log, &r.log
			if err := cmd.Run(); err != nil {
				if cmd.ProcessState == nil {
					t.Fatalf("step %s: %v", res.name, err)
				}
				res.exit = cmd.ProcessState.ExitCode()
				r.failed = true
			}
			fmt.Fprintf(&r.log, "◀ %s: exit %d\n", res.name, res.exit)
			if s.ID != "" {
				r.outputs[s.ID] = readKV(t, outFile)
			}
			for k, v := range readKV(t, envFile) {
				r.env[k] = v
			}
		}
		results = append(results, res)
	}
	return results
}

func (r *ghRunner) stepSummary() string {
	b, err := os.ReadFile(r.summary)
	if err != nil && !os.IsNotExist(err) {
		r.t.Fatal(err)
	}
	return string(b)
}

// A case of the end-to-end tests: the input that differs, and what the run must end with.
type e2eCase struct {
	name      string
	profiles  string
	sutImage  func(t *testing.T, specsDir string) string
	docker    bool
	exit      int
	verdict   string
	summaryOf string // what the step summary must show
}

func e2eCases() []e2eCase {
	missing := func(*testing.T, string) string { return "konform-no-such-image:ci-test" }
	return []e2eCase{
		{name: "usage error", profiles: "smoke,no-such-profile", sutImage: missing, exit: 2, verdict: "error", summaryOf: "stopped with exit 2 before it wrote a report"},
		{name: "image missing", profiles: "smoke", sutImage: missing, docker: true, exit: 2, verdict: "error", summaryOf: "stopped with exit 2 before it wrote a report"},
		{name: "reference passes", profiles: "smoke", sutImage: referenceImage, docker: true, exit: 0, verdict: "passed", summaryOf: "## Konform conformance: ✅ passed"},
	}
}

// TestActionStepsLocally runs the action's shell steps in order as the runner would, with the
// schemas fetched from a loopback mirror of the official specs, and checks the verdict in the
// job summary, the report folder, the outputs and the job's outcome.
func TestActionStepsLocally(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kit and runs it; skipped with -short")
	}
	for _, tc := range e2eCases() {
		t.Run(tc.name, func(t *testing.T) {
			specsDir := specstest.Dir(t)
			if tc.docker {
				if err := dockerAvailable(); err != nil {
					absent(t, "no Docker engine answers (%v)", err)
				}
			}
			manifest := mirror(t)
			image := tc.sutImage(t, specsDir)
			r := newGHRunner(t, map[string]string{"sut-image": image, "profiles": tc.profiles, "schemas-manifest": manifest})
			if err := os.WriteFile(filepath.Join(r.workspace, "keep.txt"), []byte("the vendor's checkout"), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			start := time.Now()
			results := r.run(ctx)
			t.Logf("the action's steps took %s:\n%s", time.Since(start).Round(time.Second), r.log.String())

			var skippedUses []string
			for _, res := range results {
				if res.skipped == "uses" {
					skippedUses = append(skippedUses, res.name)
				}
			}
			t.Logf("uses steps not run locally: %q", skippedUses)
			byName := map[string]stepResult{}
			for _, res := range results {
				byName[res.name] = res
			}
			for _, name := range []string{"Install the kit's build packages", "Build the kit", "Fetch the official schemas", "Run the conformance suites", "Write the verdict into the job summary"} {
				if res := byName[name]; !res.ran || res.exit != 0 {
					t.Errorf("step %q: ran %v, exit %d (skipped: %s)", name, res.ran, res.exit, res.skipped)
				}
			}
			out := filepath.Join(r.workspace, "conformance-report")
			run := r.outputs["run"]
			if run["exit-code"] != strconv.Itoa(tc.exit) || run["verdict"] != tc.verdict || run["report-dir"] != out {
				t.Errorf("outputs of the run step: %v, want exit-code %d, verdict %s, report-dir %s", run, tc.exit, tc.verdict, out)
			}
			if dir := r.outputs["schemas"]["dir"]; dir != filepath.Join(r.tmp, "konform", "schemas") {
				t.Errorf("schemas were not fetched into $RUNNER_TEMP: %q", dir)
			} else if _, err := os.Stat(filepath.Join(dir, fetch.RecordFile)); err != nil {
				t.Errorf("the fetched schemas have no record: %v", err)
			}
			upload := byName["Upload the report"]
			if upload.skipped != "uses" || upload.with["path"] != out {
				t.Errorf("upload step: %+v, want it (not run locally) with path %s", upload, out)
			}
			summary := r.stepSummary()
			if !strings.Contains(summary, tc.summaryOf) {
				t.Errorf("the step summary lacks %q:\n%s", tc.summaryOf, summary)
			}
			checkReport(t, out, tc.verdict, summary)

			last := results[len(results)-1]
			if !last.ran || last.exit != tc.exit {
				t.Errorf("the last step %q: ran %v, exit %d; want exit %d (the run's)", last.name, last.ran, last.exit, tc.exit)
			}
			if r.failed != (tc.exit != 0) {
				t.Errorf("the job failed: %v, want %v", r.failed, tc.exit != 0)
			}
		})
	}
}

// checkReport checks the report folder against the verdict; when the run wrote a report, the
// Markdown shows every check of summary.json in its table.
func checkReport(t *testing.T, out, verdict, markdown string) {
	t.Helper()
	sum, err := report.ReadSummary(filepath.Join(out, report.SummaryFile))
	if verdict == "error" {
		if err == nil {
			t.Errorf("a run that stopped before its checks left a summary.json (verdict %s)", sum.Verdict)
		}
		return
	}
	if err != nil {
		t.Fatalf("no summary.json: %v", err)
	}
	if sum.Verdict != verdict {
		t.Errorf("summary.json: verdict %s, want %s", sum.Verdict, verdict)
	}
	if _, err := os.Stat(filepath.Join(out, report.JUnitFile)); err != nil {
		t.Errorf("no junit.xml: %v", err)
	}
	if !strings.Contains(markdown, "| ID | level | state | seconds | title | reason |") || len(sum.Verdicts) == 0 {
		t.Errorf("no verdict table:\n%s", markdown)
	}
	for _, v := range sum.Verdicts {
		if !strings.Contains(markdown, "\n| "+v.ID+" | "+v.Level+" | ") {
			t.Errorf("the verdict table has no row for %s", v.ID)
		}
	}
}

// TestGitLabScriptLocally runs the GitLab template's script as a runner's bash would (one shell,
// the lines in order, set -eo pipefail), with a pre-built `conformance` on PATH so the go install
// line is skipped, and checks the artifacts and the job's exit status.
func TestGitLabScriptLocally(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kit and runs it; skipped with -short")
	}
	job := loadGitLab(t)
	for _, tc := range e2eCases() {
		t.Run(tc.name, func(t *testing.T) {
			specsDir := specstest.Dir(t)
			if tc.docker {
				if err := dockerAvailable(); err != nil {
					absent(t, "no Docker engine answers (%v)", err)
				}
			}
			manifest := mirror(t)
			image := tc.sutImage(t, specsDir)
			bin := kitBinary(t)
			project := t.TempDir()
			vars := map[string]string{}
			for k, v := range job.Variables {
				vars[k] = v
			}
			vars["KONFORM_SUT_IMAGE"] = image
			vars["KONFORM_PROFILES"] = tc.profiles
			vars["KONFORM_SCHEMAS_MANIFEST"] = manifest
			vars["CI_PROJECT_DIR"] = project

			script := "set -eo pipefail\n" + strings.Join(job.Script, "\n")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script)
			cmd.Dir = project
			cmd.Env = append(baseEnv(), "CI=true", "GITLAB_CI=true", "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			for k, v := range vars {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var log bytes.Buffer
			cmd.Stdout, cmd.Stderr = &log, &log
			start := time.Now()
			_ = cmd.Run()
			t.Logf("the script took %s:\n%s", time.Since(start).Round(time.Second), log.String())
			if cmd.ProcessState == nil {
				t.Fatal("the script did not start")
			}
			if code := cmd.ProcessState.ExitCode(); code != tc.exit {
				t.Errorf("the job's script exits %d, want %d (the run's)", code, tc.exit)
			}
			if !strings.Contains(log.String(), "using "+bin) || strings.Contains(log.String(), "go: downloading") {
				t.Error("the conformance on PATH was not used as it is")
			}

			expand := func(s string) string { return os.Expand(s, func(k string) string { return vars[k] }) }
			var out string
			for _, p := range job.Artifacts.Paths {
				out = filepath.Join(project, expand(p))
				if st, err := os.Stat(out); err != nil || !st.IsDir() {
					t.Errorf("artifact path %s (%s) is no folder: %v", p, out, err)
				}
			}
			md, err := os.ReadFile(filepath.Join(out, "summary.md"))
			if err != nil {
				t.Fatalf("no summary.md: %v", err)
			}
			want := tc.summaryOf
			if tc.verdict == "error" {
				want = "## Konform conformance: error"
			}
			if !strings.Contains(string(md), want) {
				t.Errorf("summary.md lacks %q:\n%s", want, md)
			}
			checkReport(t, out, tc.verdict, string(md))
			junit := filepath.Join(project, expand(job.Artifacts.Reports.JUnit.(string)))
			if _, err := os.Stat(junit); (err == nil) != (tc.verdict != "error") {
				t.Errorf("the JUnit report %s: %v (verdict %s)", junit, err, tc.verdict)
			}
		})
	}
}
