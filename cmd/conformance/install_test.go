package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/report"
	"github.com/konform/konform/runtime"
	"github.com/konform/konform/source"
)

// TestReleaseBinaryOutsideACheckout is a vendor's path with a release binary: `make release`,
// the binary copied into an empty folder far from any source tree, no Go on PATH. A run builds
// its images from the binary itself and leaves nothing in Docker; `images build` packages the
// reference as a vendor image, `images save`/`load` carry the kit images across an air gap, and
// `run --sut-image` against the packaged reference passes every check.
func TestReleaseBinaryOutsideACheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary and images; skipped with -short")
	}
	specs := specsDir(t)
	needDocker(t)
	root, ok := moduleRoot()
	if !ok {
		t.Fatal("module root not found")
	}
	dist := t.TempDir()
	if out, err := exec.Command("make", "-C", root, "release", "DIST="+dist, "VERSION=release-test").CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	built, err := filepath.Glob(filepath.Join(dist, "conformance-linux-*"))
	if err != nil || len(built) != 1 {
		t.Fatalf("make release made %v (%v)", built, err)
	}
	vendorDir := t.TempDir()
	bin := filepath.Join(vendorDir, "conformance")
	copyFile(t, built[0], bin)
	// No Go toolchain: the images must come from the binary itself.
	env := append(withoutPath(os.Environ()), "PATH=/usr/bin:/bin")
	sh := binaryIn(t, bin, vendorDir, env)
	idOut, code := sh(time.Minute, "images", "id")
	if code != exitPassed {
		t.Fatalf("images id: exit %d\n%s", code, idOut)
	}
	id := strings.TrimSpace(idOut)
	refTag := "konform-vendor-reference:" + id
	kitTags := []string{runtime.MockImage.Tag(id), runtime.ReferenceImage.Tag(id), refTag}
	t.Cleanup(func() { removeImages(t, kitTags...) })

	out, code := sh(10*time.Minute, "run", "--schemas", specs, "--out", "smoke", "--profile", "smoke", "--sut-poll-interval", "1s")
	t.Log(out)
	if code != exitPassed || !strings.Contains(out, "from this statically linked conformance binary") {
		t.Fatalf("a run from the release binary alone: exit %d, want 0 with images built from the binary itself", code)
	}
	assertNothingLeft(t, filepath.Join(vendorDir, "smoke"))

	out, code = sh(10*time.Minute, "images", "build", "--schemas", specs, "--reference-tag", refTag)
	if code != exitPassed {
		t.Fatalf("images build: exit %d\n%s", code, out)
	}
	out, code = sh(5*time.Minute, "images", "save", "--output", "kit.tar")
	if code != exitPassed {
		t.Fatalf("images save: exit %d\n%s", code, out)
	}
	removeImages(t, runtime.MockImage.Tag(id), runtime.ReferenceImage.Tag(id))
	out, code = sh(5*time.Minute, "images", "load", "--input", "kit.tar")
	if code != exitPassed || !strings.Contains(out, runtime.MockImage.Tag(id)) || strings.Contains(out, "WARNING") {
		t.Fatalf("images load: exit %d\n%s", code, out)
	}

	out, code = sh(30*time.Minute, "run", "--sut-image", refTag, "--schemas", specs, "--out", "report", "--sut-poll-interval", "1s")
	t.Log(out)
	if code != exitPassed {
		t.Fatalf("run --sut-image %s from %s: exit %d", refTag, vendorDir, code)
	}
	if strings.Contains(out, "building image") {
		t.Errorf("the run built images although the loaded kit images were there")
	}
	sum, err := report.ReadSummary(filepath.Join(vendorDir, "report", report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Verdict != report.Passed || sum.All().Passed != sum.All().Total() || sum.All().Total() == 0 {
		t.Fatalf("summary: verdict %s, %+v", sum.Verdict, sum.All())
	}
	assertNothingLeft(t, filepath.Join(vendorDir, "report"))
}

// TestGoInstallOutsideACheckout is a vendor's path with `go install …/cmd/conformance@version`:
// the module is served from a local module proxy (the working tree's tracked files; every
// dependency from this machine's module cache), installed into an empty GOBIN with an empty
// module cache, and run from an empty folder. Its images are built from the module in the
// module cache.
func TestGoInstallOutsideACheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("installs the kit through a module proxy and builds images; skipped with -short")
	}
	specs := specsDir(t)
	needDocker(t)
	root, ok := moduleRoot()
	if !ok {
		t.Fatal("module root not found")
	}
	const version = "v0.0.0-installtest"
	realCache := strings.TrimSpace(goEnv(t, "GOMODCACHE"))
	proxy := t.TempDir()
	writeModuleProxy(t, root, proxy, version)
	work := t.TempDir()
	modCache := filepath.Join(work, "modcache")
	gobin := filepath.Join(work, "bin")
	env := append(os.Environ(),
		"GOMODCACHE="+modCache, "GOBIN="+gobin, "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local",
		"GOPROXY=file://"+proxy+",file://"+filepath.Join(realCache, "cache", "download"),
		"GOSUMDB=off", "GONOSUMDB="+source.ModulePath, "GOPRIVATE=")
	t.Cleanup(func() {
		cmd := exec.Command("go", "clean", "-modcache")
		cmd.Env = env
		_ = cmd.Run()
	})
	install := exec.Command("go", "install", source.ModulePath+"/cmd/conformance@"+version)
	install.Dir, install.Env = work, env
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	bin := filepath.Join(gobin, "conformance")
	vendorDir := t.TempDir()
	sh := binaryIn(t, bin, vendorDir, env)
	idOut, code := sh(time.Minute, "images", "id")
	if code != exitPassed {
		t.Fatalf("images id: exit %d\n%s", code, idOut)
	}
	id := strings.TrimSpace(idOut)
	refTag := "konform-vendor-reference:" + id
	t.Cleanup(func() { removeImages(t, runtime.MockImage.Tag(id), runtime.ReferenceImage.Tag(id), refTag) })
	out, code := sh(15*time.Minute, "images", "build", "--schemas", specs, "--reference-tag", refTag)
	if code != exitPassed || !strings.Contains(out, "from module "+source.ModulePath+"@"+version+" (module cache)") {
		t.Fatalf("images build from the module cache: exit %d\n%s", code, out)
	}
	out, code = sh(15*time.Minute, "run", "--sut-image", refTag, "--schemas", specs, "--out", "report", "--profile", "smoke,hkr-payment", "--sut-poll-interval", "1s")
	t.Log(out)
	if code != exitPassed {
		t.Fatalf("run --sut-image from a go-installed binary: exit %d", code)
	}
	assertNothingLeft(t, filepath.Join(vendorDir, "report"))
}

func needDocker(t *testing.T) {
	t.Helper()
	if err := runtime.DockerAvailable(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no Docker engine answers: %v", err)
		}
		t.Skipf("\n\n*** NO DOCKER ENGINE: SKIPPED (%v) ***\n\n", err)
	}
}

func removeImages(t *testing.T, tags ...string) {
	t.Helper()
	out, err := exec.Command("docker", append([]string{"rmi", "-f"}, tags...)...).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "No such image") {
		t.Logf("docker rmi %s: %v\n%s", strings.Join(tags, " "), err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func withoutPath(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "PATH=") {
			out = append(out, e)
		}
	}
	return out
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return string(out)
}

// writeModuleProxy lays out a GOPROXY folder serving the working tree's tracked files as module
// version v.
func writeModuleProxy(t *testing.T, root, proxy, v string) {
	t.Helper()
	files, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dir := filepath.Join(proxy, filepath.FromSlash(source.ModulePath), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	prefix := source.ModulePath + "@" + v + "/"
	for _, rel := range strings.Split(strings.TrimSpace(string(files)), "\n") {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the working tree
			}
			t.Fatal(err)
		}
		w, err := zw.Create(prefix + rel)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": v, "Time": time.Now().UTC().Format(time.RFC3339)})
	for name, body := range map[string][]byte{"list": []byte(v + "\n"), v + ".info": info, v + ".mod": gomod, v + ".zip": buf.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(fmt.Errorf("module proxy: %w", err))
		}
	}
}

// assertNothingLeft fails when a container, network or image of the run whose report is in
// dir is still there.
func assertNothingLeft(t *testing.T, dir string) {
	t.Helper()
	sum, err := report.ReadSummary(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Meta.RunID == "" {
		t.Fatalf("%s names no run ID", dir)
	}
	if left := strings.TrimSpace(konformObjectsOf(t, sum.Meta.RunID)); left != "" {
		t.Fatalf("run %s left Docker objects behind:\n%s", sum.Meta.RunID, left)
	}
}

// binaryIn runs the installed binary bin in dir with env, as a vendor's shell would, and returns
// its combined output and exit code; a run past its time limit fails the test.
func binaryIn(t *testing.T, bin, dir string, env []string) func(time.Duration, ...string) (string, int) {
	return func(timeout time.Duration, args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env = dir, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run()
		if ctx.Err() != nil {
			t.Fatalf("conformance %s did not finish within %s:\n%s", strings.Join(args, " "), timeout, out.String())
		}
		return out.String(), cmd.ProcessState.ExitCode()
	}
}
