package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/konform/konform/digest"
	"github.com/konform/konform/source"
)

// KitImage is one of the kit's own images, built locally FROM scratch around a static Linux
// binary; nothing is pulled. The binary comes from, in this order: the Konform source tree the
// command runs in; this conformance binary itself when it is statically linked (a release
// build), which serves the same as `conformance mock` / `conformance reference`; the module
// cache, for a conformance binary installed with `go install …@version`. Images built or
// loaded for this exact binary (`conformance images build|load`) are used as they are.
type KitImage struct {
	Name    string
	pkg     string
	selfCmd []string
}

var (
	// MockImage serves every mock actor.
	MockImage = KitImage{Name: "konform-mock", pkg: "./mocks/cmd/konform-mock", selfCmd: []string{"mock"}}
	// ReferenceImage is the built-in reference Fachverfahren.
	ReferenceImage = KitImage{Name: "konform-reference", pkg: "./reference/cmd/konform-reference", selfCmd: []string{"reference"}}
)

// KitLabel marks the images `conformance images build` makes; its value is the kit ID.
const KitLabel = "dev.konform.kit"

// Tag is the image's tag for the kit binary id.
func (k KitImage) Tag(id string) string { return k.Name + ":" + id }

var kitID = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	d, err := digest.OfFile(exe)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(d, digest.Prefix)[:12], nil
})

// KitID identifies this conformance binary: the first 12 hex digits of its SHA-256. The images
// `conformance images build` makes for it carry the ID as their tag, so a run finds images that
// were saved with this very binary and loaded elsewhere.
func KitID() (string, error) { return kitID() }

// imageExtras are files (container path → host path) and environment an image carries besides
// its binary.
type imageExtras struct {
	files map[string]string
	env   map[string]string
}

// imageBuilder compiles or finds a kit binary and builds an image around it with the classic
// builder.
type imageBuilder struct {
	cli        *testcontainers.DockerClient
	moduleRoot string
	workDir    string
	progress   io.Writer
	labels     map[string]string
}

func (b imageBuilder) say(format string, args ...any) {
	if b.progress != nil {
		fmt.Fprintf(b.progress, format+"\n", args...)
	}
}

// build makes the image k under tags.
func (b imageBuilder) build(ctx context.Context, k KitImage, tags []string, x imageExtras) error {
	start := time.Now()
	bin, entry, from, err := b.binary(ctx, k)
	if err != nil {
		return err
	}
	b.say("building image %s from %s", tags[0], from)
	buildCtx, err := imageContext(bin, entry, x)
	if err != nil {
		return envErr("packing the image context of %s: %v", k.Name, err)
	}
	res, err := b.cli.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags: tags, Labels: b.labels, Remove: true, ForceRemove: true,
		Version: build.BuilderV1, Dockerfile: "Dockerfile",
	})
	if err != nil {
		return envErr("building image %s: %v", tags[0], err)
	}
	defer res.Body.Close()
	if err := buildOutcome(res.Body); err != nil {
		return envErr("building image %s: %v", tags[0], err)
	}
	b.say("built image %s in %.1f s", tags[0], time.Since(start).Seconds())
	return nil
}

// binary returns a static Linux binary for k, the image's entrypoint and where it came from.
func (b imageBuilder) binary(ctx context.Context, k KitImage) (bin string, entry []string, from string, err error) {
	if b.moduleRoot != "" {
		bin, err := b.goBuild(ctx, b.moduleRoot, k)
		return bin, []string{"/app"}, "the source tree " + b.moduleRoot, err
	}
	if exe, ok := staticSelf(); ok {
		return exe, append([]string{"/app"}, k.selfCmd...), "this statically linked conformance binary", nil
	}
	if dir, mod, ok, err := moduleCacheDir(ctx); ok || err != nil {
		if err != nil {
			return "", nil, "", err
		}
		bin, err := b.goBuild(ctx, dir, k)
		return bin, []string{"/app"}, "module " + mod + " (module cache)", err
	}
	return "", nil, "", envErr("cannot build image %s: there is no Konform source tree here, this conformance binary is not statically linked, and it was not installed from a module version; "+
		"use a release binary, install with `go install %s/cmd/conformance@VERSION`, or load the images with `conformance images load`", k.Name, source.ModulePath)
}

// goBuild compiles k's package in the module at dir.
func (b imageBuilder) goBuild(ctx context.Context, dir string, k KitImage) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", envErr("building image %s needs the Go toolchain (go), which is not on PATH: %v; or load the images with `conformance images load`", k.Name, err)
	}
	binDir := filepath.Join(b.workDir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", envErr("%v", err)
	}
	bin := filepath.Join(binDir, k.Name)
	env, flags := buildFlags(k.Name)
	cmd := exec.CommandContext(ctx, gobin, append(append([]string{"build", "-trimpath"}, flags...), "-o", bin, k.pkg)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOOS=linux", "GOWORK=off"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		hint := ""
		if k.Name == ReferenceImage.Name {
			hint = "\n(the reference links libxml2 statically: apt-get install libxml2-dev pkg-config libicu-dev liblzma-dev zlib1g-dev g++)"
		}
		return "", envErr("building %s (%s go build %s %s in %s): %v\n%s%s", k.Name, strings.Join(env, " "), strings.Join(flags, " "), k.pkg, dir, err, out, hint)
	}
	return bin, nil
}

// staticSelf reports this binary's path when it is a statically linked Linux ELF executable of
// the host's architecture, which a FROM scratch image can run as it is.
func staticSelf() (string, bool) {
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	f, err := elf.Open(exe)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC {
		return "", false // a PIE or shared object needs a loader
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return "", false
		}
	}
	return exe, true
}

// moduleCacheDir finds the Konform module this binary was installed from (go install
// …@version) in the module cache, downloading it when the cache lost it. ok is false for a
// binary built from a source tree.
func moduleCacheDir(ctx context.Context) (dir, mod string, ok bool, err error) {
	bi, found := debug.ReadBuildInfo()
	if !found || bi.Main.Path != source.ModulePath || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "", "", false, nil
	}
	mod = bi.Main.Path + "@" + bi.Main.Version
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", mod, true, envErr("building the kit's images from module %s needs the Go toolchain (go), which is not on PATH; or load them with `conformance images load`", mod)
	}
	cmd := exec.CommandContext(ctx, gobin, "mod", "download", "-json", mod)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, runErr := cmd.Output()
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		why := info.Error
		if why == "" && runErr != nil {
			why = runErr.Error()
		}
		return "", mod, true, envErr("finding module %s in the module cache (go mod download): %s", mod, why)
	}
	return info.Dir, mod, true, nil
}

// dockerfile is the image around one static binary: writable /tmp and /data for an unprivileged
// user, the extras' files below /, their environment.
func dockerfile(entry []string, x imageExtras) string {
	var b strings.Builder
	b.WriteString("FROM scratch\nCOPY --chown=65534:65534 tmp /tmp\nCOPY --chown=65534:65534 data /data\nCOPY app /app\n")
	if len(x.files) > 0 {
		b.WriteString("COPY files/ /\n")
	}
	keys := make([]string, 0, len(x.env))
	for k := range x.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "ENV %s=%s\n", k, strconv.Quote(x.env[k]))
	}
	ep, _ := json.Marshal(entry)
	fmt.Fprintf(&b, "USER 65534:65534\nENTRYPOINT %s\n", ep)
	return b.String()
}

func imageContext(bin string, entry []string, x imageExtras) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	add := func(h *tar.Header, body io.Reader) error {
		h.ModTime = now
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if body != nil {
			_, err := io.Copy(tw, body)
			return err
		}
		return nil
	}
	addFile := func(name, path string, mode int64) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		return add(&tar.Header{Name: name, Mode: mode, Size: st.Size()}, f)
	}
	df := dockerfile(entry, x)
	if err := add(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df))}, strings.NewReader(df)); err != nil {
		return nil, err
	}
	for _, dir := range []string{"tmp/", "data/"} {
		if err := add(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o1777}, nil); err != nil {
			return nil, err
		}
	}
	if err := addFile("app", bin, 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(x.files))
	for p := range x.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := addFile("files/"+strings.TrimPrefix(p, "/"), x.files[p], 0o644); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// referenceSchemaFiles are the schema files the reference validates with, as container path →
// host path below /schemas.
func referenceSchemaFiles(schemaDir string) (map[string]string, error) {
	files := map[string]string{
		"/schemas/fit-connect/metadata.schema.v1.0.0.json": filepath.Join(schemaDir, "fit-connect", "metadata.schema.v1.0.0.json"),
	}
	root := filepath.Join(schemaDir, filepath.FromSlash(referenceXSDDir))
	err := filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(schemaDir, path)
		if err != nil {
			return err
		}
		files["/schemas/"+filepath.ToSlash(rel)] = path
		return nil
	})
	if err != nil {
		return nil, envErr("the reference's XSDs under %s: %v", root, err)
	}
	return files, nil
}

// referenceEnv is the reference's configuration beyond the SUT contract inside its image.
var referenceEnv = map[string]string{"KONFORM_REFERENCE_DATA_DIR": "/data", "KONFORM_REFERENCE_SCHEMA_DIR": "/schemas"}

// BuildOptions configure BuildKitImages.
type BuildOptions struct {
	// SchemaDir holds the official schemas; the reference image carries the ones it validates
	// with, as a vendor's image carries its own.
	SchemaDir string
	// ReferenceTag is an extra tag for the reference image, e.g. for --sut-image.
	ReferenceTag string
	// ModuleRoot is the Konform source tree to build from, if the command runs in one.
	ModuleRoot string
	// Progress receives a line per image build.
	Progress io.Writer
}

// BuildKitImages builds the mock image and the reference packaged as a vendor image for this
// binary (tags MockImage.Tag(id), ReferenceImage.Tag(id)) and keeps them: runs use them instead
// of building their own. It returns the tags made.
func BuildKitImages(ctx context.Context, o BuildOptions) ([]string, error) {
	id, err := KitID()
	if err != nil {
		return nil, envErr("identifying this conformance binary: %v", err)
	}
	if err := DockerAvailable(ctx); err != nil {
		return nil, err
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, envErr("no Docker engine: %v", err)
	}
	defer cli.Close()
	work, err := os.MkdirTemp("", "konform-images-")
	if err != nil {
		return nil, envErr("%v", err)
	}
	defer os.RemoveAll(work)
	b := imageBuilder{cli: cli, moduleRoot: o.ModuleRoot, workDir: work, progress: o.Progress, labels: map[string]string{KitLabel: id}}
	files, err := referenceSchemaFiles(o.SchemaDir)
	if err != nil {
		return nil, err
	}
	refTags := []string{ReferenceImage.Tag(id)}
	if o.ReferenceTag != "" {
		refTags = append(refTags, o.ReferenceTag)
	}
	// The two builds mostly wait on their own link steps.
	err = sideBySide(
		func() error { return b.build(ctx, MockImage, []string{MockImage.Tag(id)}, imageExtras{}) },
		func() error {
			return b.build(ctx, ReferenceImage, refTags, imageExtras{files: files, env: referenceEnv})
		},
	)
	if err != nil {
		return nil, err
	}
	return append([]string{MockImage.Tag(id)}, refTags...), nil
}

// sideBySide runs the steps at once and returns all their errors: for steps that mostly wait
// on the engine or the linker.
func sideBySide(steps ...func() error) error {
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Go(func() { errs[i] = step() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// SaveKitImages writes this binary's kit images to w as a `docker save` archive.
func SaveKitImages(ctx context.Context, w io.Writer) ([]string, error) {
	id, err := KitID()
	if err != nil {
		return nil, envErr("identifying this conformance binary: %v", err)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, envErr("no Docker engine: %v", err)
	}
	defer cli.Close()
	tags := []string{MockImage.Tag(id), ReferenceImage.Tag(id)}
	for _, t := range tags {
		if _, err := cli.ImageInspect(ctx, t); err != nil {
			return nil, fmt.Errorf("%w: image %s is not there; run `conformance images build` first", ErrUsage, t)
		}
	}
	rc, err := cli.ImageSave(ctx, tags)
	if err != nil {
		return nil, envErr("saving %s: %v", strings.Join(tags, ", "), err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return nil, envErr("saving %s: %v", strings.Join(tags, ", "), err)
	}
	return tags, nil
}

// LoadKitImages loads a `docker save` archive into the engine and returns the engine's lines
// naming what it loaded, and whether the images of this binary are now present.
func LoadKitImages(ctx context.Context, r io.Reader) (loaded []string, forThisBinary bool, err error) {
	id, err := KitID()
	if err != nil {
		return nil, false, envErr("identifying this conformance binary: %v", err)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, false, envErr("no Docker engine: %v", err)
	}
	defer cli.Close()
	res, err := cli.ImageLoad(ctx, r, client.ImageLoadWithQuiet(true))
	if err != nil {
		return nil, false, envErr("loading images: %v", err)
	}
	defer res.Close()
	dec := json.NewDecoder(res)
	for {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return loaded, false, envErr("loading images: reading the engine's answer: %v", err)
		}
		if msg.Error != "" {
			return loaded, false, fmt.Errorf("%w: loading images: %s", ErrUsage, msg.Error)
		}
		if s := strings.TrimSpace(msg.Stream); s != "" {
			loaded = append(loaded, s)
		}
	}
	forThisBinary = true
	for _, t := range []string{MockImage.Tag(id), ReferenceImage.Tag(id)} {
		if _, err := cli.ImageInspect(ctx, t); err != nil {
			forThisBinary = false
		}
	}
	return loaded, forThisBinary, nil
}
