package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/konform/konform/bench"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/load"
	"github.com/konform/konform/provision"
	"github.com/konform/konform/runtime"
	"github.com/konform/konform/specs"
)

const benchSynopsis = `bench [--submissions N] [--runs] [--selftest] [--schemas DIR] [--out DIR]`

// benchFixture has one attachment and a BOOKED fee, so a submission needs six RSA private
// operations: the receiver unwraps the keys of metadata, data and attachment and signs its
// accept SET; the delivery service signs the create-submission and submit-submission SETs of
// the case's event log.
const benchFixture = "bg-0200-nfd"

// Targets the figures are held against.
const (
	targetKitOps        = 2.0
	targetFloorRatio    = 0.60
	targetRunProcess    = 30 * time.Second
	targetRunContainers = 45 * time.Second
	targetImageBuild    = 20 * time.Second
	targetSelftest      = 4 * time.Minute
)

// Figure is one measured figure beside its target.
type Figure struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target,omitempty"`
	Meets  *bool   `json:"meets,omitempty"`
	Note   string  `json:"note,omitempty"`
}

type benchReport struct {
	Machine string    `json:"machine"`
	Cores   int       `json:"cores"`
	At      time.Time `json:"at"`
	Figures []Figure  `json:"figures"`
}

func (b *benchReport) add(f Figure, w io.Writer) {
	b.Figures = append(b.Figures, f)
	mark := ""
	if f.Meets != nil {
		mark = "meets"
		if !*f.Meets {
			mark = "MISSES"
		}
		mark = fmt.Sprintf("  [%s %s]", mark, f.Target)
	}
	note := ""
	if f.Note != "" {
		note = "  (" + f.Note + ")"
	}
	fmt.Fprintf(w, "  %-52s %10.2f %-6s%s%s\n", f.Name, f.Value, f.Unit, mark, note)
}

func meets(ok bool) *bool { return &ok }

func cmdBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", benchSynopsis)
	n := fs.Int("submissions", 200, "measure the CPU per submission over `N` submissions")
	runs := fs.Bool("runs", false, "also time a full run of every profile in the process runtime and in containers, and the image build (minutes)")
	selftest := fs.Bool("selftest", false, "also time conformance selftest (long)")
	scale := fs.String("scale", "", "also print the cost per submission at each of these comma-separated `SIZES` (e.g. 100,1000,10000), with the kit's peak memory")
	schemas := fs.String("schemas", "", "`DIR` of the official schemas (as for run)")
	out := fs.String("out", "bench-report", "`DIR` for bench.json")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return helpOrUsage(err)
	}
	sizes, err := parseSizes(*scale)
	if err != nil {
		fmt.Fprintf(stderr, "conformance bench: --scale: %v\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 || *n < 10 {
		fmt.Fprintf(stderr, "conformance bench: --submissions must be at least 10 and no argument may follow the flags\n")
		return exitUsage
	}
	if *schemas == "" {
		*schemas = defaultSchemas()
	}
	if err := specs.CheckLayout(*schemas); err != nil {
		fmt.Fprintf(stderr, "conformance bench: --schemas %v\n", err)
		return exitUsage
	}
	if err := checkWritable(*out); err != nil {
		fmt.Fprintf(stderr, "conformance bench: --out %s: %v\n", *out, err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	keepMemoryFlat()
	rep := &benchReport{Machine: bench.CPUModel(), Cores: goruntime.NumCPU(), At: time.Now().UTC()}
	fmt.Fprintf(stdout, "Konform bench — %s, %d cores, %s\n", rep.Machine, rep.Cores, rep.At.Format(time.RFC3339))
	code := runBench(ctx, rep, *n, sizes, *runs, *selftest, *schemas, stdout, stderr)
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "bench.json"), append(b, '\n'), 0o644); err != nil {
		fmt.Fprintf(stderr, "conformance bench: %v\n", err)
		return exitEnvironment
	}
	fmt.Fprintf(stdout, "figures: %s\n", filepath.Join(*out, "bench.json"))
	return code
}

func runBench(ctx context.Context, rep *benchReport, n int, sizes []int, runs, selftest bool, schemas string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "conformance bench: %v\n", err)
		return exitEnvironment
	}
	fmt.Fprintln(stdout, "\nRSA-4096 private operation")
	floorOp, line, err := bench.OpenSSLSpeed(ctx, 3)
	if err != nil {
		return fail(err)
	}
	rep.add(Figure{Name: "openssl speed rsa4096 (sign)", Value: ms(floorOp), Unit: "ms", Note: line}, stdout)

	fmt.Fprintln(stdout, "\nKey set (RSA 4096: destination, foreign and spare keys)")
	t0 := time.Now()
	keys, err := provision.NewKeys()
	if err != nil {
		return fail(err)
	}
	rep.add(Figure{Name: "generated in parallel", Value: time.Since(t0).Seconds(), Unit: "s", Note: "once; --keys-file FILE keeps it for the next runs"}, stdout)
	goOp, err := bench.GoPrivateOp(keys.DestinationSigning.Private, 30)
	if err != nil {
		return fail(err)
	}
	rep.add(Figure{Name: "Go RSA-4096 private operation (PS512)", Value: ms(goOp), Unit: "ms", Note: fmt.Sprintf("%.2f × openssl", goOp.Seconds()/floorOp.Seconds())}, stdout)
	tmp, err := os.MkdirTemp("", "konform-bench-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	keysFile := filepath.Join(tmp, "keys.json")
	if err := keys.Save(keysFile); err != nil {
		return fail(err)
	}

	fmt.Fprintf(stdout, "\nCPU per submission (%d submissions of %s, process runtime, built-in reference)\n", n, benchFixture)
	if code := benchCPU(ctx, rep, n, sizes, floorOp, goOp, keysFile, schemas, tmp, stdout, stderr); code != exitPassed {
		return code
	}
	if runs {
		fmt.Fprintln(stdout, "\nWall time")
		benchRuns(ctx, rep, keysFile, schemas, tmp, stdout, stderr)
	}
	if selftest {
		benchSelftest(ctx, rep, schemas, tmp, stdout, stderr)
	}
	return exitPassed
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchCPU starts the mocks and the reference in the process runtime, warms them up, and
// measures the kit's and the reference's CPU time over n submissions.
func benchCPU(ctx context.Context, rep *benchReport, n int, sizes []int, floorOp, goOp time.Duration, keysFile, schemas, tmp string, stdout, stderr io.Writer) int {
	o := runOptions{runID: uuid.NewString(), runtime: runtime.Process, schemas: schemas, keysFile: keysFile,
		pollInterval: provision.DefaultPollInterval, out: filepath.Join(tmp, "cpu")}
	t0 := time.Now()
	st, code := startStage(ctx, o, io.Discard, stderr)
	if st != nil {
		defer st.close(stderr)
	}
	if code != exitPassed || st.notReady != nil {
		fmt.Fprintf(stderr, "conformance bench: the reference did not start (%v)\n", st.notReady)
		return exitEnvironment
	}
	rep.add(Figure{Name: "mocks up, provisioned, reference ready", Value: time.Since(t0).Seconds(), Unit: "s", Note: "key set reused"}, stdout)
	fxDir, _, err := fixtureServices("")
	if err != nil {
		fmt.Fprintf(stderr, "conformance bench: %v\n", err)
		return exitUsage
	}
	loadable, _, err := loadFixtures(fxDir)
	if err != nil {
		fmt.Fprintf(stderr, "conformance bench: %v\n", err)
		return exitUsage
	}
	var fx fixtures.Fixture
	for _, f := range loadable {
		if f.Manifest.ID == benchFixture {
			fx = f
		}
	}
	if fx.Manifest.ID == "" {
		fmt.Fprintf(stderr, "conformance bench: the built-in fixture %s (one attachment, a payment) is missing\n", benchFixture)
		return exitEnvironment
	}
	opts := func(count int, tag string) load.Options {
		o := st.loadOptions(4)
		o.Submissions, o.Fixtures, o.RunTag, o.SettleTimeout = count, []fixtures.Fixture{fx}, tag, 5*time.Minute
		return o
	}
	if _, err := load.Run(ctx, opts(10, "wrm")); err != nil {
		fmt.Fprintf(stderr, "conformance bench: warm-up: %v\n", err)
		return exitEnvironment
	}
	kit0, ref0 := bench.SelfCPU(), childrenCPU()
	t1 := time.Now()
	res, err := load.Run(ctx, opts(n, "bch"))
	if err != nil {
		fmt.Fprintf(stderr, "conformance bench: %v\n", err)
		return exitEnvironment
	}
	wall := time.Since(t1)
	kit, ref := (bench.SelfCPU()-kit0)/time.Duration(n), (childrenCPU()-ref0)/time.Duration(n)
	if res.Verdict != load.Passed {
		fmt.Fprintf(stderr, "conformance bench: the reference did not handle the bench's submissions: %v\n", res.Reasons)
		return exitFailed
	}
	receiver := 2 + len(fx.Attachments()) + 1 // unwraps, accept SET
	const deliveryService = 2                 // create-submission and submit-submission SETs
	needed := receiver + deliveryService
	kitOps := kit.Seconds() / goOp.Seconds()
	rep.add(Figure{Name: "kit (sender, delivery service and HKR mocks, load)", Value: ms(kit), Unit: "ms", Note: fmt.Sprintf("%.2f Go private ops; it signs %d SETs", kitOps, deliveryService)}, stdout)
	rep.add(Figure{Name: "kit in RSA private operations", Value: kitOps, Unit: "ops", Target: "≤ 2", Meets: meets(kitOps <= targetKitOps),
		Note: fmt.Sprintf("its %d SET signatures alone are %d", deliveryService, deliveryService)}, stdout)
	rep.add(Figure{Name: "reference Fachverfahren", Value: ms(ref), Unit: "ms", Note: fmt.Sprintf("%.2f Go private ops; it needs %d", ref.Seconds()/goOp.Seconds(), receiver)}, stdout)
	e2e := kit + ref
	floor := floorOp * time.Duration(needed)
	ratio := floor.Seconds() / e2e.Seconds()
	rep.add(Figure{Name: "end to end", Value: ms(e2e), Unit: "ms", Note: fmt.Sprintf("%.1f submissions/s on %d cores", float64(n)/wall.Seconds(), goruntime.NumCPU())}, stdout)
	rep.add(Figure{Name: fmt.Sprintf("RSA floor: %d private ops × openssl", needed), Value: ms(floor), Unit: "ms",
		Note: fmt.Sprintf("receiver %d (%d key unwraps, accept SET), delivery service %d (SETs)", receiver, receiver-1, deliveryService)}, stdout)
	// Go's RSA alone, with nothing else, would reach floor ÷ (needed × Go's private operation).
	rep.add(Figure{Name: "floor ÷ end to end", Value: ratio, Unit: "", Target: "≥ 0.60", Meets: meets(ratio >= targetFloorRatio),
		Note: fmt.Sprintf("%.2f at most with Go's RSA and no other cost", floorOp.Seconds()/goOp.Seconds())}, stdout)
	if len(sizes) > 0 {
		fmt.Fprintln(stdout, "\nCost per submission by load size (every fixture with a payment, cycled; concurrency 16)")
	}
	for i, size := range sizes {
		o := st.loadOptions(16)
		o.Submissions, o.Fixtures, o.RunTag, o.SettleTimeout = size, loadable, fmt.Sprintf("s%02d", i), 5*time.Minute
		kit0, ref0 := bench.SelfCPU(), childrenCPU()
		res, err := load.Run(ctx, o)
		if err != nil {
			fmt.Fprintf(stderr, "conformance bench: load of %d: %v\n", size, err)
			return exitEnvironment
		}
		kit, ref := (bench.SelfCPU()-kit0)/time.Duration(size), (childrenCPU()-ref0)/time.Duration(size)
		c := res.Completeness
		rep.add(Figure{Name: fmt.Sprintf("%d submissions: kit CPU per submission", size), Value: ms(kit), Unit: "ms",
			Note: fmt.Sprintf("reference %.1f ms; %s, lost %d, duplicated %d, double-booked %d; kit peak RSS %.0f MiB", ms(ref), res.Verdict, c.Lost, c.Duplicated, c.DoubleBooked, res.Kit.MaxRSSMiB)}, stdout)
	}
	return exitPassed
}

// parseSizes reads --scale.
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number of submissions", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func childrenCPU() time.Duration {
	d, _ := bench.ChildrenCPU()
	return d
}

// benchRuns times whole runs as a user starts them: this binary as a child process.
func benchRuns(ctx context.Context, rep *benchReport, keysFile, schemas, tmp string, stdout, stderr io.Writer) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "conformance bench: %v\n", err)
		return
	}
	timed := func(name, target string, limit time.Duration, note string, args ...string) {
		t0 := time.Now()
		cmd := exec.CommandContext(ctx, self, args...)
		out, err := cmd.CombinedOutput()
		d := time.Since(t0)
		f := Figure{Name: name, Value: d.Seconds(), Unit: "s", Target: target, Meets: meets(err == nil && d <= limit), Note: note}
		if err != nil {
			f.Note = fmt.Sprintf("failed (%v): %s", err, lastLine(out))
		}
		rep.add(f, stdout)
	}
	run := []string{"run", "--quiet", "--keys-file", keysFile, "--schemas", schemas, "--sut-poll-interval", "1s"}
	shards := fmt.Sprintf("%d SUT instances (the default --parallel)", autoParallelReference)
	timed("full run, every profile, process runtime", "≤ 30 s", targetRunProcess, shards, append(run, "--runtime=process", "--out", filepath.Join(tmp, "run-process"))...)
	if err := runtime.DockerAvailable(ctx); err != nil {
		fmt.Fprintf(stdout, "  containers not timed: %v\n", err)
		return
	}
	timed("image build (mock and reference, Docker's build cache as it stands)", "≤ 20 s", targetImageBuild, "", "images", "build", "--schemas", schemas)
	timed("full run, every profile, containers, images built", "≤ 45 s", targetRunContainers, shards, append(run, "--runtime=docker", "--out", filepath.Join(tmp, "run-docker"))...)
}

func benchSelftest(ctx context.Context, rep *benchReport, schemas, tmp string, stdout, stderr io.Writer) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "conformance bench: %v\n", err)
		return
	}
	t0 := time.Now()
	out, err := exec.CommandContext(ctx, self, "selftest", "--schemas", schemas, "--out", filepath.Join(tmp, "selftest")).CombinedOutput()
	d := time.Since(t0)
	f := Figure{Name: "selftest, every defect", Value: d.Minutes(), Unit: "min", Target: "≤ 4 min", Meets: meets(err == nil && d <= targetSelftest)}
	if err != nil {
		f.Note = fmt.Sprintf("failed (%v): %s", err, lastLine(out))
	}
	rep.add(f, stdout)
}

func lastLine(b []byte) string {
	b = bytes.TrimRight(b, "\n ")
	return string(b[bytes.LastIndexByte(b, '\n')+1:])
}
