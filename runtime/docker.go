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
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

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

	// HostNetwork runs the mocks in the host's network namespace, each listening on a free
	// loopback port of its own, so that they reach a SUT running on this host at its loopback
	// URL (callbacks). Nothing is published and no network is created for them. For mocks
	// only: a SUT the runtime starts needs the run's own network. Set it before StartActors.
	HostNetwork bool

	// Progress receives a line per image the run builds. Set it before StartActors.
	Progress io.Writer
	// ImagesOf is the run ID of another run whose kit images this one uses while that run
	// lasts (a sharded run's children use their parent's); it builds them only when absent.
	ImagesOf string

	mu         sync.Mutex
	actors     []string // the actors the mocks container serves
	nw         *testcontainers.DockerNetwork
	images     []string
	containers map[string]*testcontainers.DockerContainer
	sut        *dockerSUT
}

func init() {
	// Ryuk would need an image from a registry; the run removes what it made itself.
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	// Ports are published on loopback only (a remote engine: see publishing); without this,
	// testcontainers would address them through the Docker bridge gateway whenever the kit
	// itself runs inside a container.
	os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	tclog.SetDefault(tclog.NewNoopLogger())
}

// DockerAvailable answers whether the Docker engine the user chose (DOCKER_HOST, a Docker
// context, or the default) answers within a few seconds.
func DockerAvailable(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := useChosenEngine(cctx); err != nil {
		return err
	}
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

// ImagePresent reports, before anything of a run starts, whether the local Docker engine has the
// image: nothing is pulled, so a missing image is the user's to build or load.
func ImagePresent(ctx context.Context, ref string) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(cctx)
	if err != nil {
		return envErr("no Docker engine: %v", err)
	}
	defer cli.Close()
	return inspectImage(cctx, cli, ref)
}

// inspectImage reports whether the engine has the image: a missing one is the user's to build
// or load (a usage error), since nothing is pulled.
func inspectImage(ctx context.Context, cli *testcontainers.DockerClient, ref string) error {
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		if msg := strings.ToLower(err.Error()); strings.Contains(msg, "no such image") || strings.Contains(msg, "not found") {
			return fmt.Errorf("%w: --sut-image %s: the local Docker engine has no such image; nothing is pulled, so build or load it first (docker build -t %s …, docker load)", ErrUsage, ref, ref)
		}
		return envErr("inspecting image %s: %v", ref, err)
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

// StartActors implements Runtime, from the konform-mock image. On the run's network one
// container serves every actor, each on its own port under its own name (the engine starts
// containers one after the other, so a sharded run would otherwise wait on three times as
// many); on the host network each actor is a container of its own.
func (d *DockerRuntime) StartActors(ctx context.Context, actors map[string]ActorFactory) (map[string]runenv.Endpoint, error) {
	if d.HostNetwork && remoteEngine() {
		return nil, fmt.Errorf("%w: the Docker engine %s is on another host: mocks on its host network cannot reach a SUT on this one; use --runtime=process for mocks up, or run with --sut-image", ErrUsage, publishing().host)
	}
	image, err := d.kitImage(ctx, MockImage)
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(actors))
	if !d.HostNetwork {
		return d.startNetworkActors(ctx, names, image)
	}
	// The mocks start side by side: most of a container's start is the engine's wait.
	var mu sync.Mutex
	out := map[string]runenv.Endpoint{}
	var starts []func() error
	for _, name := range names {
		starts = append(starts, func() error {
			ep, err := d.startHostActor(ctx, name, image)
			if err != nil {
				return fmt.Errorf("starting mock %s: %w", name, err)
			}
			mu.Lock()
			defer mu.Unlock()
			out[name] = ep
			return nil
		})
	}
	if err := sideBySide(starts...); err != nil {
		return nil, err
	}
	return out, nil
}

// mocksContainer names the container that serves the actors on the run's network.
const mocksContainer = "mocks"

// actorPort is the port of the i-th actor (sorted by name) inside the mocks container.
func actorPort(i int) int { return MockPort + 1 + i }

// startNetworkActors runs the actors in one container on the run's network, each reachable
// there as http://NAME:PORT and from the kit at its port published on loopback.
func (d *DockerRuntime) startNetworkActors(ctx context.Context, names []string, image string) (map[string]runenv.Endpoint, error) {
	nw, err := d.network(ctx)
	if err != nil {
		return nil, err
	}
	cmd := []string{"serve", "--data-dir", "/tmp"}
	var ports []string
	var ready []wait.Strategy
	for i, name := range names {
		port := fmt.Sprintf("%d/tcp", actorPort(i))
		cmd = append(cmd, "--actor", fmt.Sprintf("%s=:%d", name, actorPort(i)))
		ports = append(ports, port)
		ready = append(ready, wait.ForHTTP(healthPath).WithPort(port).WithForcedIPv4LocalHost().WithStartupTimeout(actorReadyTimeout))
	}
	d.mu.Lock()
	d.actors = names
	d.mu.Unlock()
	opts := append(onNetwork(nw, names, ports...),
		testcontainers.WithCmd(cmd...),
		testcontainers.WithWaitStrategy(wait.ForAll(ready...).WithDeadline(actorReadyTimeout)),
	)
	c, err := d.run(ctx, mocksContainer, image, opts...)
	if err != nil {
		return nil, fmt.Errorf("starting the mocks (%s): %w", strings.Join(names, ", "), err)
	}
	out := map[string]runenv.Endpoint{}
	for i, name := range names {
		ext, err := externalURL(ctx, c, ports[i])
		if err != nil {
			return nil, err
		}
		out[name] = runenv.Endpoint{Internal: fmt.Sprintf("http://%s:%d", name, actorPort(i)), External: ext}
	}
	return out, nil
}

// startHostActor runs a mock on the host network, listening on a free loopback port; the kit
// and a SUT on this host reach it at the same URL.
func (d *DockerRuntime) startHostActor(ctx context.Context, name, image string) (runenv.Endpoint, error) {
	port, err := freeLoopbackPort()
	if err != nil {
		return runenv.Endpoint{}, envErr("finding a free loopback port: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c, err := d.run(ctx, name, image,
		testcontainers.WithCmd("serve", "--actor", name, "--listen", addr, "--data-dir", "/tmp/"+name),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) { hc.NetworkMode = "host" }),
	)
	if err != nil {
		return runenv.Endpoint{}, err
	}
	url := "http://" + addr
	// testcontainers' wait strategies read mapped ports, which host networking has none of.
	if err := waitHealthy(ctx, c, url+healthPath); err != nil {
		return runenv.Endpoint{}, envErr("mock %s (host network, %s): %v\n--- container output ---\n%s", name, url, err, tail([]byte(containerLogs(context.WithoutCancel(ctx), c)), 2000))
	}
	return runenv.Endpoint{Internal: url, External: url}, nil
}

const healthPath = "/_konform/health"

// actorReadyTimeout bounds how long a mock may take to answer its health check after start.
const actorReadyTimeout = 30 * time.Second

// waitHealthy polls url until it answers 200, the container stops, or actorReadyTimeout passes.
func waitHealthy(ctx context.Context, c *testcontainers.DockerContainer, url string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(actorReadyTimeout)
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		res, err := hc.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", res.Status)
		}
		last = err
		if st, serr := c.State(ctx); serr == nil && !st.Running {
			return fmt.Errorf("the container stopped (exit code %d) before %s answered: %v", st.ExitCode, url, last)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s: %v", url, actorReadyTimeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// freeLoopbackPort asks the kernel for a free port on 127.0.0.1 and releases it for the mock.
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func mockPort() string { return fmt.Sprintf("%d/tcp", MockPort) }

// onNetwork puts a container on the run's network under the given names and publishes its
// ports: on loopback only with a local engine, so nothing of the run is reachable from other
// hosts.
func onNetwork(nw *testcontainers.DockerNetwork, names []string, ports ...string) []testcontainers.ContainerCustomizer {
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(ports...),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = dnetwork.PortMap{}
			for _, p := range ports {
				hc.PortBindings[dnetwork.MustParsePort(p)] = []dnetwork.PortBinding{{HostIP: netip.MustParseAddr(publishing().bindIP)}}
			}
		}),
		network.WithNetwork(names, nw),
	}
}

func (d *DockerRuntime) run(ctx context.Context, name, image string, opts ...testcontainers.ContainerCustomizer) (*testcontainers.DockerContainer, error) {
	all := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(d.logger),
		testcontainers.WithName(fmt.Sprintf("konform-%s-%s", d.runID, name)),
		testcontainers.WithLabels(d.labels()),
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

// externalURL is the URL the kit reaches the container's port (e.g. "8080/tcp") at.
func externalURL(ctx context.Context, c *testcontainers.DockerContainer, port string) (string, error) {
	mapped, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", envErr("reading the mapped port: %v", err)
	}
	return "http://" + net.JoinHostPort(publishing().host, mapped.Port()), nil
}

// SUTBase implements Runtime.
func (d *DockerRuntime) SUTBase() (string, string) {
	return fmt.Sprintf("http://%s:%d", SUTAlias, MockPort), fmt.Sprintf(":%d", MockPort)
}

// StartSUT implements Runtime.
func (d *DockerRuntime) StartSUT(ctx context.Context, spec SUTSpec) (SUT, error) {
	if spec.URL != "" {
		why := ""
		if !d.HostNetwork {
			why = "the delivery service mock runs inside Docker and cannot call back a SUT given by --sut-url; use --runtime=process or --sut-image"
		}
		return ReachURL(ctx, spec.URL, why, spec.RestartCmd)
	}
	if d.HostNetwork {
		return nil, fmt.Errorf("%w: the mocks run on the host network, for a SUT given by URL; a started SUT needs the run's own network", ErrUsage)
	}
	image := spec.Image
	env := map[string]string{}
	for k, v := range spec.Env {
		env[k] = v
	}
	files := map[string]string{} // container path → host path
	if spec.Reference != nil {
		img, err := d.kitImage(ctx, ReferenceImage)
		if err != nil {
			return nil, err
		}
		image = img
		env["KONFORM_REFERENCE_DATA_DIR"] = referenceEnv["KONFORM_REFERENCE_DATA_DIR"]
		env["KONFORM_REFERENCE_DEFECTS"] = strings.Join(spec.Reference.Defects, ",")
		if spec.Reference.SchemaDir != "" {
			env["KONFORM_REFERENCE_SCHEMA_DIR"] = referenceEnv["KONFORM_REFERENCE_SCHEMA_DIR"]
			schemas, err := referenceSchemaFiles(spec.Reference.SchemaDir)
			if err != nil {
				return nil, err
			}
			maps.Copy(files, schemas)
		}
	} else if err := d.imageExists(ctx, image); err != nil {
		return nil, err
	}
	maps.Copy(files, spec.Files)
	nw, err := d.network(ctx)
	if err != nil {
		return nil, err
	}
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithEnv(env),
		testcontainers.WithWaitStrategy(wait.ForHTTP(contract.ProbeInfoPath).WithPort(mockPort()).WithForcedIPv4LocalHost().WithStartupTimeout(ReadyTimeout)),
	}
	if len(files) > 0 {
		opts = append(opts, testcontainers.WithAdditionalLifecycleHooks(d.copyFiles(files)))
	}
	c, err := d.run(ctx, SUTAlias, image, append(onNetwork(nw, []string{SUTAlias}, mockPort()), opts...)...)
	if err != nil {
		d.mu.Lock()
		_, created := d.containers[SUTAlias]
		d.mu.Unlock()
		if created && ctx.Err() == nil {
			// The container was there; it exited or its probe never answered.
			return nil, fmt.Errorf("%w: %v", ErrSUTNotReady, err)
		}
		return nil, err
	}
	url, err := externalURL(ctx, c, mockPort())
	if err != nil {
		return nil, err
	}
	s := &dockerSUT{c: c, image: image, url: url}
	d.mu.Lock()
	d.sut = s
	d.mu.Unlock()
	return s, nil
}

// copyFiles copies files (container path → host path) into a created container as one
// archive: one call to the engine, where a call per file took seconds for the reference's XSDs.
func (d *DockerRuntime) copyFiles(files map[string]string) testcontainers.ContainerLifecycleHooks {
	return testcontainers.ContainerLifecycleHooks{PostCreates: []testcontainers.ContainerHook{
		func(ctx context.Context, c testcontainers.Container) error {
			archive, err := tarOf(files)
			if err != nil {
				return err
			}
			_, err = d.cli.CopyToContainer(ctx, c.GetContainerID(), client.CopyToContainerOptions{DestinationPath: "/", Content: archive})
			if err != nil {
				return fmt.Errorf("copying %d files into the container: %w", len(files), err)
			}
			return nil
		},
	}}
}

// tarOf archives files (container path → host path) with their parent folders, paths relative
// to the container's root.
func tarOf(files map[string]string) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		for dir := path.Dir(p); dir != "/" && dir != "." && !dirs[dir]; dir = path.Dir(dir) {
			dirs[dir] = true
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(dir, "/") + "/", Mode: 0o755}); err != nil {
			return nil, err
		}
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		b, err := os.ReadFile(files[p])
		if err != nil {
			return nil, envErr("a file for the container: %v", err)
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(p, "/"), Mode: 0o644, Size: int64(len(b))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}

func (d *DockerRuntime) imageExists(ctx context.Context, image string) error {
	return inspectImage(ctx, d.cli, image)
}

// ActorLogs implements Runtime.
func (d *DockerRuntime) ActorLogs(ctx context.Context) map[string][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string][]byte{}
	for name, c := range d.containers {
		logs := []byte(containerLogs(ctx, c))
		if name != mocksContainer {
			out[name] = logs
			continue
		}
		maps.Copy(out, logsByActor(logs, d.actors))
	}
	return out
}

// logsByActor splits the output of the mocks container by the actor each line names (its
// "actor" attribute); a line that names none (a crash, say) goes to every actor's log.
func logsByActor(logs []byte, actors []string) map[string][]byte {
	out := map[string][]byte{}
	for _, a := range actors {
		out[a] = nil
	}
	for _, line := range bytes.SplitAfter(logs, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec struct {
			Actor string `json:"actor"`
		}
		if json.Unmarshal(line, &rec) == nil {
			if _, ok := out[rec.Actor]; ok {
				out[rec.Actor] = append(out[rec.Actor], line...)
				continue
			}
		}
		for _, a := range actors {
			out[a] = append(out[a], line...)
		}
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
	var removals []func() error
	for name, c := range containers {
		removals = append(removals, func() error {
			if err := c.Terminate(ctx, testcontainers.RemoveVolumes()); err != nil {
				return fmt.Errorf("removing container %s: %w", name, err)
			}
			return nil
		})
	}
	errs := []error{sideBySide(removals...)}
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
	c     *testcontainers.DockerContainer
	image string
	mu    sync.Mutex
	url   string
}

// Binding implements SUT: the image the container runs, by its content digest (the image ID).
func (s *dockerSUT) Binding(ctx context.Context) (Binding, error) {
	info, err := s.c.Inspect(ctx)
	if err != nil {
		return Binding{}, envErr("inspecting the SUT container: %v", err)
	}
	return Binding{Kind: BoundToImage, Image: s.image, Digest: info.Image}, nil
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
	url, err := externalURL(ctx, s.c, mockPort())
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.url = url
	s.mu.Unlock()
	return nil
}

// PrepareImages makes sure the kit images a run needs are there before anything starts: the
// mock image, and the reference image when the reference is the SUT. Runs that share this
// run's images (ImagesOf) can start once it returned.
func (d *DockerRuntime) PrepareImages(ctx context.Context, reference bool) error {
	mock := func() error { _, err := d.kitImage(ctx, MockImage); return err }
	if !reference {
		return mock()
	}
	return sideBySide(mock, func() error { _, err := d.kitImage(ctx, ReferenceImage); return err })
}

// kitImage returns the image k for this run: the one `conformance images build|load` made for
// this binary if the engine has it, else one built now, tagged with the run's ID and removed
// with the run.
func (d *DockerRuntime) kitImage(ctx context.Context, k KitImage) (string, error) {
	if id, err := KitID(); err == nil {
		if _, err := d.cli.ImageInspect(ctx, k.Tag(id)); err == nil {
			return k.Tag(id), nil
		}
	}
	tag := k.Name + ":" + d.runID
	built := []string{tag} // PrepareImages may have built it already
	if d.ImagesOf != "" {
		built = append(built, k.Name+":"+d.ImagesOf)
	}
	for _, t := range built {
		if _, err := d.cli.ImageInspect(ctx, t); err == nil {
			return t, nil
		}
	}
	b := imageBuilder{cli: d.cli, moduleRoot: d.moduleRoot, workDir: d.workDir, progress: d.Progress, labels: d.labels()}
	if err := b.build(ctx, k, []string{tag}, imageExtras{}); err != nil {
		return "", err
	}
	d.mu.Lock()
	d.images = append(d.images, tag)
	d.mu.Unlock()
	return tag, nil
}

// staticXMLLibs are the libraries of `pkg-config --static --libs libxml-2.0` and the C++ runtime
// ICU needs, linked statically into the reference.
const staticXMLLibs = "-lxml2 -licui18n -licuuc -licudata -lz -llzma -lm -lstdc++"

// buildFlags are the environment and go build flags of a binary for a FROM scratch image. The
// mock is built cgo-free; the reference validates XML with libxml2 through cgo, so it is linked
// externally and fully statically (netgo, osusergo: no glibc resolver or user lookup at run time).
func buildFlags(name string) (env, flags []string) {
	if name != "konform-reference" {
		return []string{"CGO_ENABLED=0"}, []string{"-ldflags=-s -w"}
	}
	return []string{"CGO_ENABLED=1", "CGO_LDFLAGS=" + staticXMLLibs},
		[]string{"-tags=netgo,osusergo", `-ldflags=-s -w -linkmode external -extldflags "-static"`}
}

// referenceXSDDir is the folder of the specs holding the XSDs the reference validates data with.
const referenceXSDDir = "xbau-2.3.1/xsd_dev"

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
