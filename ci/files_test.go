// Package ci_test checks the CI integrations a vendor uses — the GitHub Action (action.yml), the
// GitLab CI template (ci/gitlab/konform.gitlab-ci.yml) — and the project's own workflow: their
// structure, and, run locally step by step, what they do.
package ci_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The files under test, relative to the repository root.
const (
	actionFile   = "action.yml"
	gitlabFile   = "ci/gitlab/konform.gitlab-ci.yml"
	workflowFile = ".github/workflows/test.yml"
)

// aptPackages are the packages the kit builds with (README).
var aptPackages = []string{"libxml2-dev", "pkg-config", "libicu-dev", "liblzma-dev", "zlib1g-dev", "g++"}

type input struct {
	Description string `yaml:"description"`
	Required    bool   `yaml:"required"`
	Default     string `yaml:"default"`
}

type step struct {
	Name            string            `yaml:"name"`
	ID              string            `yaml:"id"`
	If              string            `yaml:"if"`
	Uses            string            `yaml:"uses"`
	With            map[string]string `yaml:"with"`
	Shell           string            `yaml:"shell"`
	Run             string            `yaml:"run"`
	Env             map[string]string `yaml:"env"`
	ContinueOnError any               `yaml:"continue-on-error"`
}

func (s step) label() string {
	if s.Name != "" {
		return s.Name
	}
	if s.Uses != "" {
		return s.Uses
	}
	return strings.SplitN(s.Run, "\n", 2)[0]
}

type action struct {
	Name    string           `yaml:"name"`
	Inputs  map[string]input `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

type workflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]struct {
		Env   map[string]string `yaml:"env"`
		Steps []step            `yaml:"steps"`
	} `yaml:"jobs"`
}

type gitlabJob struct {
	Image     string            `yaml:"image"`
	Variables map[string]string `yaml:"variables"`
	Script    []string          `yaml:"script"`
	Artifacts struct {
		When    string   `yaml:"when"`
		Paths   []string `yaml:"paths"`
		Reports struct {
			JUnit any `yaml:"junit"`
		} `yaml:"reports"`
	} `yaml:"artifacts"`
}

// repoRoot is the repository root: the test runs in ci/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func decode(t *testing.T, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

func loadAction(t *testing.T) action {
	var a action
	decode(t, actionFile, &a)
	return a
}

func loadGitLab(t *testing.T) gitlabJob {
	var all map[string]yaml.Node
	decode(t, gitlabFile, &all)
	node, ok := all[".konform"]
	if !ok {
		t.Fatalf("%s: no hidden job .konform", gitlabFile)
	}
	var j gitlabJob
	if err := node.Decode(&j); err != nil {
		t.Fatalf("%s: .konform: %v", gitlabFile, err)
	}
	return j
}

// checkScript holds every shell script to the same rules: bash, `set -euo pipefail` first,
// no ${{ }} expression inside (inputs reach a script through env:, never by interpolation, so
// no input can inject shell code), and bash can parse it.
func checkScript(t *testing.T, where, shell, script string) {
	t.Helper()
	if shell != "bash" {
		t.Errorf("%s: shell %q, want bash", where, shell)
	}
	if first := firstLine(script); first != "set -euo pipefail" {
		t.Errorf("%s: the script starts with %q, want set -euo pipefail", where, first)
	}
	for _, line := range strings.Split(script, "\n") {
		if strings.Contains(line, "${{") {
			t.Errorf("%s: an expression inside the script (pass it through env:): %q", where, strings.TrimSpace(line))
		}
	}
	cmd := exec.Command("bash", "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: bash -n: %v\n%s", where, err, out)
	}
}

func firstLine(script string) string {
	for _, l := range strings.Split(script, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

var inputRef = regexp.MustCompile(`\binputs\.([A-Za-z0-9_-]+)`)

func TestActionStructure(t *testing.T) {
	a := loadAction(t)
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), actionFile))
	if err != nil {
		t.Fatal(err)
	}
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using %q, want composite", a.Runs.Using)
	}
	want := map[string]struct {
		required bool
		def      string
	}{
		"sut-image": {true, ""}, "profiles": {false, "all"}, "schemas": {false, ""}, "schemas-manifest": {false, ""},
		"out": {false, "conformance-report"}, "go-version-file": {false, ""},
	}
	for name, w := range want {
		in, ok := a.Inputs[name]
		switch {
		case !ok:
			t.Errorf("no input %s", name)
		case in.Required != w.required || in.Default != w.def:
			t.Errorf("input %s: required %v default %q, want %v %q", name, in.Required, in.Default, w.required, w.def)
		case in.Description == "":
			t.Errorf("input %s has no description", name)
		}
	}
	// Every input is used, and every input used is declared.
	used := map[string]bool{}
	for _, m := range inputRef.FindAllStringSubmatch(string(raw), -1) {
		used[m[1]] = true
		if _, ok := a.Inputs[m[1]]; !ok {
			t.Errorf("inputs.%s is used but not declared", m[1])
		}
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("input %s is declared but never used", name)
		}
	}
	for _, o := range []string{"verdict", "report-dir", "exit-code"} {
		if v := a.Outputs[o].Value; !strings.Contains(v, "steps.run.outputs."+o) {
			t.Errorf("output %s: value %q, want steps.run.outputs.%s", o, v, o)
		}
	}

	index := map[string]int{}
	for i, s := range a.Runs.Steps {
		where := "step " + s.label()
		switch {
		case s.Run != "" && s.Uses != "":
			t.Errorf("%s: both run and uses", where)
		case s.Run != "":
			checkScript(t, where, s.Shell, s.Run)
		case s.Uses == "":
			t.Errorf("%s: neither run nor uses", where)
		}
		for k, v := range s.Env {
			if strings.Contains(v, "${{") && !expr.MatchString(v) {
				t.Errorf("%s: env %s = %q: one ${{ inputs.NAME }} or ${{ steps.ID.outputs.NAME }} per variable", where, k, v)
			}
		}
		switch {
		case strings.HasPrefix(s.Uses, "actions/setup-go@"):
			index["setup-go"] = i
			if gv := s.With["go-version-file"]; !strings.Contains(gv, "github.action_path") || !strings.Contains(gv, "go.mod") || !strings.Contains(gv, "inputs.go-version-file") {
				t.Errorf("setup-go: go-version-file %q, want the input or the action's own go.mod", gv)
			}
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			index["upload"] = i
			if !strings.Contains(s.If, "always()") {
				t.Errorf("upload: if %q, want always()", s.If)
			}
			if !strings.Contains(s.With["path"], "steps.run.outputs.report-dir") {
				t.Errorf("upload: path %q, want the report folder", s.With["path"])
			}
		case strings.Contains(s.Run, "apt-get install"):
			index["packages"] = i
			for _, p := range aptPackages {
				if !slices.Contains(strings.Fields(s.Run), p) && !strings.Contains(s.Run, " "+p+")") && !strings.Contains(s.Run, "("+p+" ") {
					t.Errorf("packages: %s is not installed", p)
				}
			}
			if !strings.Contains(s.Run, "sudo") || !strings.Contains(s.Run, "id -u") {
				t.Error("packages: apt-get runs with sudo only when not root")
			}
		case strings.Contains(s.Run, "go build") && strings.Contains(s.Run, "GITHUB_ACTION_PATH"):
			index["build"] = i
		case strings.Contains(s.Run, "schemas fetch"):
			index["schemas"] = i
			if !strings.Contains(s.Run, "RUNNER_TEMP") || !strings.Contains(s.Run, "--manifest") {
				t.Error("schemas: fetches into $RUNNER_TEMP, with --manifest when one is given")
			}
		case s.ID == "run":
			index["run"] = i
			for _, flag := range []string{"--sut-image", "--profile", "--schemas", "--out"} {
				if !strings.Contains(s.Run, flag) {
					t.Errorf("run: no %s", flag)
				}
			}
			if !strings.Contains(s.Run, "|| code=$?") {
				t.Error("run: the run's exit code is captured, not fatal to the step")
			}
		case strings.Contains(s.Run, "report markdown"):
			index["summary"] = i
			if s.If != "always()" || !strings.Contains(s.Run, "GITHUB_STEP_SUMMARY") {
				t.Errorf("summary: if %q; it writes report markdown into $GITHUB_STEP_SUMMARY whatever came before", s.If)
			}
		}
	}
	order := []string{"packages", "setup-go", "build", "schemas", "run", "summary", "upload"}
	for i, name := range order {
		if _, ok := index[name]; !ok {
			t.Errorf("no %s step", name)
		} else if i > 0 && index[name] <= index[order[i-1]] {
			t.Errorf("the %s step comes before the %s step", name, order[i-1])
		}
	}
	last := a.Runs.Steps[len(a.Runs.Steps)-1]
	if last.Run == "" || !strings.Contains(last.Run, `exit "$KONFORM_EXIT_CODE"`) || last.If != "" {
		t.Errorf("the last step fails the job unless the run passed: %+v", last)
	}
}

// expr is the one form of expression the action's env values take.
var expr = regexp.MustCompile(`^\$\{\{ (inputs\.[A-Za-z0-9_-]+|steps\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+) \}\}$`)

func TestGitLabTemplateStructure(t *testing.T) {
	j := loadGitLab(t)
	for _, v := range []string{"KONFORM_SUT_IMAGE", "KONFORM_PROFILES", "KONFORM_SCHEMAS", "KONFORM_SCHEMAS_MANIFEST", "KONFORM_OUT", "KONFORM_VERSION"} {
		if _, ok := j.Variables[v]; !ok {
			t.Errorf("no variable %s", v)
		}
	}
	if j.Variables["KONFORM_OUT"] != "conformance-report" || j.Variables["KONFORM_PROFILES"] != "all" {
		t.Errorf("defaults: %v", j.Variables)
	}
	if len(j.Script) == 0 {
		t.Fatal("no script")
	}
	for i, line := range j.Script {
		checkScript(t, "script["+string(rune('0'+i))+"]", "bash", line)
	}
	script := strings.Join(j.Script, "\n")
	checkScript(t, "script", "bash", "set -euo pipefail\n"+script)
	install := "go install \"github.com/konform/konform/cmd/conformance@$KONFORM_VERSION\""
	if !strings.Contains(script, install) || !strings.Contains(script, "command -v conformance") {
		t.Errorf("the script installs the kit with %s unless a conformance is on PATH", install)
	}
	for _, want := range []string{"schemas fetch", "--manifest", "report markdown", "--sut-image", "--profile", `exit "$konform_exit"`} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
	if j.Artifacts.When != "always" {
		t.Errorf("artifacts: when %q, want always", j.Artifacts.When)
	}
	if !slices.Contains(j.Artifacts.Paths, "$KONFORM_OUT") {
		t.Errorf("artifacts: paths %q, want $KONFORM_OUT", j.Artifacts.Paths)
	}
	if j.Artifacts.Reports.JUnit != "$KONFORM_OUT/junit.xml" {
		t.Errorf("artifacts: reports junit %v, want $KONFORM_OUT/junit.xml", j.Artifacts.Reports.JUnit)
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), gitlabFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{"extends: .konform", "docker:dind", "DOCKER_HOST"} {
		if !strings.Contains(string(raw), doc) {
			t.Errorf("the template's comments do not mention %s", doc)
		}
	}
}

func TestWorkflowStructure(t *testing.T) {
	var w workflow
	decode(t, workflowFile, &w)
	test, ok := w.Jobs["test"]
	if !ok {
		t.Fatal("no job test")
	}
	ciTrue := w.Env["CI"] == "true" || test.Env["CI"] == "true"
	var fetches, tests, packages bool
	for _, s := range test.Steps {
		if s.Run != "" {
			checkScript(t, "test: "+s.label(), s.Shell, s.Run)
		}
		fetches = fetches || strings.Contains(s.Run, "go run ./cmd/conformance schemas fetch --dir") && strings.Contains(s.Run, "KONFORM_SPECS=") && strings.Contains(s.Run, "GITHUB_ENV")
		packages = packages || strings.Contains(s.Run, "apt-get install") && strings.Contains(s.Run, strings.Join(aptPackages[:3], " "))
		if strings.Contains(s.Run, "make test") || strings.Contains(s.Run, ".ci/run") {
			tests = true
			ciTrue = ciTrue || s.Env["CI"] == "true"
			if !fetches || !packages {
				t.Error("test: the tests run before the schemas are fetched or the packages installed")
			}
		}
	}
	if !fetches || !tests || !packages || !ciTrue {
		t.Errorf("test job: fetches schemas into KONFORM_SPECS %v, installs the packages %v, runs make test %v, under CI=true %v", fetches, packages, tests, ciTrue)
	}

	var uses bool
	for name, job := range w.Jobs {
		builtTag := ""
		for _, s := range job.Steps {
			if s.Run != "" {
				checkScript(t, name+": "+s.label(), s.Shell, s.Run)
				if m := regexp.MustCompile(`images build .*--reference-tag (\S+)`).FindStringSubmatch(s.Run); m != nil {
					builtTag = m[1]
				}
			}
			if s.Uses == "./" && s.With["sut-image"] == builtTag && builtTag != "" {
				uses = true
			}
		}
	}
	if !uses {
		t.Error("no job builds the reference image with `images build --reference-tag T` and then runs `uses: ./` with sut-image T")
	}
}
