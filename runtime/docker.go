package runtime

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	dnetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/runenv"
)

// Label marks every container, network and image of a run.
const Label = "dev.konform.run"

// SUTAlias is the SUT's name on the run's network.
const SUTAlias = "sut"

// DockerRuntime runs every actor as a container built locally from a static binary.
type DockerRuntime struct {
	runID      string
	workDir    string
	moduleRoot string
	cli        *testcontainers.DockerClient
	logger     tclog.Logger

	mu         sync.Mutex
	nw         *testcontainers.DockerNetwork
	images     []string
	containers map[string]*testcontainers.DockerContainer
	sut        *dockerSUT
}

func init() {
	// Ryuk would need an image from a registry; the run removes what it made itself.
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	// Ports are published on loopback only; without this, testcontainers would address them
	// through the Docker bridge gateway whenever the kit itself runs inside a container.
	os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	tclog.SetDefault(tclog.NewNoopLogger())
}

// DockerAvailable answers whether a Docker engine answers within a few seconds.
func DockerAvailable(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(cctx)
	if err != nil {
		return envErr("no Docker engine: %v", err)
	}
	defer cli.Close()
	if _, err := cli.Ping(cctx, client.PingOptions{}); err != nil {
		return envErr("no Docker engine answers: %v", err)
	}
	return nil
}

// NewDocker connects to the Docker engine. moduleRoot is the Konform source tree the images are
// built from.
func NewDocker(ctx context.Context, runID, workDir, moduleRoot string) (*DockerRuntime, error) {
	if err := DockerAvailable(ctx); err != nil {
		return nil, err
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, envErr("no Docker engine: %v", err)
	}
	return &DockerRuntime{
		runID: runID, workDir: workDir, moduleRoot: moduleRoot, cli: cli,
		logger:     tclog.NewNoopLogger(),
		containers: map[string]*testcontainers.DockerContainer{},
	}, nil
}

// Name implements Runtime.
func (d *DockerRuntime) Name() string { return Docker }

func (d *DockerRuntime) labels() map[string]string { return map[string]string{Label: d.runID} }

func (d *DockerRuntime) network(ctx context.Context) (*testcontainers.DockerNetwork, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nw != nil {
		return d.nw, nil
	}
	nw, err := network.New(ctx, network.WithLabels(d.labels()))
	if err != nil {
		return nil, envErr("creating the run's Docker network: %v", err)
	}
	d.nw = nw
	return nw, nil
}

// StartActors implements Runtime: one container per actor from the konform-mock image.
func (d *DockerRuntime) StartActors(ctx context.Context, actors map[string]ActorFactory) (map[string]runenv.Endpoint, error) {
	image, err := d.buildImage(ctx, "konform-mock", "./mocks/cmd/konform-mock")
	if err != nil {
		return nil, err
	}
	nw, err := d.network(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]runenv.Endpoint{}
	for name := range actors {
		c, err := d.run(ctx, name, image, nw,
			testcontainers.WithCmd("serve", "--actor", name, "--listen", fmt.Sprintf(":%d", MockPort), "--data-dir", "/tmp/"+name),
			testcontainers.WithWaitStrategy(wait.ForHTTP("/_konform/health").WithPort(mockPort()).WithForcedIPv4LocalHost().WithStartupTimeout(30*time.Second)),
		)
		if err != nil {
			return nil, fmt.Errorf("starting mock %s: %w", name, err)
		}
		ext, err := externalURL(ctx, c)
		if err != nil {
			return nil, err
		}
		out[name] = runenv.Endpoint{Internal: fmt.Sprintf("http://%s:%d", name, MockPort), External: ext}
	}
	return out, nil
}

func mockPort() string { return fmt.Sprintf("%d/tcp", MockPort) }

func (d *DockerRuntime) run(ctx context.Context, name, image string, nw *testcontainers.DockerNetwork, opts ...testcontainers.ContainerCustomizer) (*testcontainers.DockerContainer, error) {
	all := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(d.logger),
		testcontainers.WithName(fmt.Sprintf("konform-%s-%s", d.runID, name)),
		testcontainers.WithLabels(d.labels()),
		testcontainers.WithExposedPorts(mockPort()),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			// Published on loopback only: nothing of the run is reachable from other hosts.
			hc.PortBindings = dnetwork.PortMap{dnetwork.MustParsePort(mockPort()): {{HostIP: netip.MustParseAddr("127.0.0.1")}}}
		}),
		network.WithNetwork([]string{name}, nw),
	}
	all = append(all, opts...)
	c, err := testcontainers.Run(ctx, image, all...)
	if c != nil {
		d.mu.Lock()
		d.containers[name] = c
		d.mu.Unlock()
	}
	if err != nil {
		logs := ""
		if c != nil {
			logs = "\n--- container output ---\n" + tail([]byte(containerLogs(ctx, c)), 2000)
		}
		return nil, envErr("container %s: %v%s", name, err, logs)
	}
	return c, nil
}

func externalURL(ctx context.Context, c *testcontainers.DockerContainer) (string, error) {
	port, err := c.MappedPort(ctx, mockPort())
	if err != nil {
		return "", envErr("reading the mapped port: %v", err)
	}
	return fmt.Sprintf("http://127.0.0.1:%s", port.Port()), nil
}

// SUTBase implements Runtime.
func (d *DockerRuntime) SUTBase() (string, string) {
	return fmt.Sprintf("http://%s:%d", SUTAlias, MockPort), fmt.Sprintf(":%d", MockPort)
}

// StartSUT implements Runtime.
func (d *DockerRuntime) StartSUT(ctx context.Context, spec SUTSpec) (SUT, error) {
	if spec.URL != "" {
		return ReachURL(ctx, spec.URL, "the delivery service mock runs inside Docker and cannot call back a SUT given by --sut-url; use --runtime=process or --sut-image", spec.RestartCmd)
	}
	image := spec.Image
	env := map[string]string{}
	for k, v := range spec.Env {
		env[k] = v
	}
	var files []testcontainers.ContainerFile
	if spec.Reference != nil {
		img, err := d.buildImage(ctx, "konform-reference", "./reference/cmd/konform-reference")
		if err != nil {
			return nil, err
		}
		image = img
		env["KONFORM_REFERENCE_DATA_DIR"] = "/data"
		env["KONFORM_REFERENCE_DEFECTS"] = strings.Join(spec.Reference.Defects, ",")
		if spec.Reference.SchemaDir != "" {
			env["KONFORM_REFERENCE_SCHEMA_DIR"] = "/schemas"
			files = append(files, testcontainers.ContainerFile{
				HostFilePath:      filepath.Join(spec.Reference.SchemaDir, "fit-connect", "metadata.schema.v1.0.0.json"),
				ContainerFilePath: "/schemas/fit-connect/metadata.schema.v1.0.0.json",
				FileMode:          0o644,
			})
		}
	} else if err := d.imageExists(ctx, image); err != nil {
		return nil, err
	}
	for path, host := range spec.Files {
		files = append(files, testcontainers.ContainerFile{HostFilePath: host, ContainerFilePath: path, FileMode: 0o644})
	}
	nw, err := d.network(ctx)
	if err != nil {
		return nil, err
	}
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithEnv(env),
		testcontainers.WithWaitStrategy(wait.ForHTTP(contract.ProbeInfoPath).WithPort(mockPort()).WithForcedIPv4LocalHost().WithStartupTimeout(ReadyTimeout)),
	}
	if len(files) > 0 {
		opts = append(opts, testcontainers.WithFiles(files...))
	}
	c, err := d.run(ctx, SUTAlias, image, nw, opts...)
	if err != nil {
		return nil, err
	}
	url, err := externalURL(ctx, c)
	if err != nil {
		return nil, err
	}
	s := &dockerSUT{c: c, url: url}
	d.mu.Lock()
	d.sut = s
	d.mu.Unlock()
	return s, nil
}

func (d *DockerRuntime) imageExists(ctx context.Context, image string) error {
	if _, err := d.cli.ImageInspect(ctx, image); err != nil {
		return envErr("SUT image %q is not in the local Docker engine (nothing is pulled; build or load it first): %v", image, err)
	}
	return nil
}

// ActorLogs implements Runtime.
func (d *DockerRuntime) ActorLogs(ctx context.Context) map[string][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string][]byte{}
	for name, c := range d.containers {
		out[name] = []byte(containerLogs(ctx, c))
	}
	return out
}

func containerLogs(ctx context.Context, c *testcontainers.DockerContainer) string {
	rc, err := c.Logs(ctx)
	if err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 16<<20))
	return string(b)
}

// Close implements Runtime.
func (d *DockerRuntime) Close(ctx context.Context) error {
	d.mu.Lock()
	containers, nw, images := d.containers, d.nw, d.images
	d.containers, d.nw, d.images = map[string]*testcontainers.DockerContainer{}, nil, nil
	d.mu.Unlock()
	var errs []error
	for name, c := range containers {
		if err := c.Terminate(ctx, testcontainers.RemoveVolumes()); err != nil {
			errs = append(errs, fmt.Errorf("removing container %s: %w", name, err))
		}
	}
	if nw != nil {
		if err := nw.Remove(ctx); err != nil {
			errs = append(errs, fmt.Errorf("removing network: %w", err))
		}
	}
	for _, img := range images {
		if _, err := d.cli.ImageRemove(ctx, img, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
			errs = append(errs, fmt.Errorf("removing image %s: %w", img, err))
		}
	}
	if d.cli != nil {
		d.cli.Close()
	}
	return errors.Join(errs...)
}

type dockerSUT struct {
	c   *testcontainers.DockerContainer
	mu  sync.Mutex
	url string
}

func (s *dockerSUT) ProbeURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

func (s *dockerSUT) CallbacksReachable() (bool, string) { return true, "" }

func (s *dockerSUT) Logs(ctx context.Context) []byte { return []byte(containerLogs(ctx, s.c)) }

// Restart kills the container (a crash, no graceful shutdown) and starts the same container
// again, so its file system and state remain.
func (s *dockerSUT) Restart(ctx context.Context) error {
	zero := time.Duration(0)
	if err := s.c.Stop(ctx, &zero); err != nil {
		return envErr("stopping the SUT container: %v", err)
	}
	if err := s.c.Start(ctx); err != nil {
		return envErr("starting the SUT container again: %v", err)
	}
	url, err := externalURL(ctx, s.c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.url = url
	s.mu.Unlock()
	return nil
}

// buildImage compiles the static binary of pkg and builds a FROM scratch image around it with
// the classic builder; nothing is pulled.
func (d *DockerRuntime) buildImage(ctx context.Context, name, pkg string) (string, error) {
	if d.moduleRoot == "" {
		return "", envErr("the docker runtime builds its images from the Konform source tree, and none was found; run from a checkout or use --runtime=process")
	}
	binDir := filepath.Join(d.workDir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", envErr("%v", err)
	}
	bin := filepath.Join(binDir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Dir = d.moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", envErr("building %s (CGO_ENABLED=0 go build %s): %v\n%s", name, pkg, err, out)
	}
	tag := fmt.Sprintf("%s:%s", name, d.runID)
	buildCtx, err := imageContext(bin)
	if err != nil {
		return "", envErr("packing the image context of %s: %v", name, err)
	}
	res, err := d.cli.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags: []string{tag}, Labels: d.labels(), Remove: true, ForceRemove: true,
		Version: build.BuilderV1, Dockerfile: "Dockerfile",
	})
	if err != nil {
		return "", envErr("building image %s: %v", tag, err)
	}
	defer res.Body.Close()
	if err := buildOutcome(res.Body); err != nil {
		return "", envErr("building image %s: %v", tag, err)
	}
	d.mu.Lock()
	d.images = append(d.images, tag)
	d.mu.Unlock()
	return tag, nil
}

const dockerfile = `FROM scratch
COPY --chown=65534:65534 tmp /tmp
COPY --chown=65534:65534 data /data
COPY app /app
USER 65534:65534
ENTRYPOINT ["/app"]
`

func imageContext(bin string) (io.Reader, error) {
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
	if err := add(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}, strings.NewReader(dockerfile)); err != nil {
		return nil, err
	}
	for _, dir := range []string{"tmp/", "data/"} {
		if err := add(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o1777}, nil); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := add(&tar.Header{Name: "app", Mode: 0o755, Size: st.Size()}, f); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// buildOutcome reads the engine's JSON message stream and returns the build error, if any.
func buildOutcome(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil {
			continue
		}
		if msg.Error != "" {
			return errors.New(strings.TrimSpace(msg.Error))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return nil
}
