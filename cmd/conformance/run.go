package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/actors"
	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/probe"
	"github.com/konform/konform/provision"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/report"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/runtime"
	"github.com/konform/konform/specs"
	"github.com/konform/konform/suites/check"
	"github.com/konform/konform/suites/drive"

	_ "github.com/konform/konform/suites/fitconnect"
	_ "github.com/konform/konform/suites/hkr"
	_ "github.com/konform/konform/suites/ingest"
	_ "github.com/konform/konform/suites/smoke"
	_ "github.com/konform/konform/suites/xta"
)

func contractVersion() string { return contract.Version }

type runOptions struct {
	runID            string // a UUID: the report's and every Docker object's label
	sutImage, sutURL string
	sutRestartCmd    string
	pollInterval     time.Duration
	runtime          string
	profiles         []string
	transports       []string // --transport; empty: every transport the SUT declares
	tested           []string // the transports the run tests, known once the SUT answers
	labelFilter      string
	out              string
	schemas          string
	fixtures         string
	defects          []string
	keysFile         string
	mocksFile        string
	quiet, verbose   bool
	certify          bool
	signKey          string
	// parallel is how many SUT instances the checks are spread over (--parallel; when not given,
	// autoParallelReference or autoParallelImage when the kit starts the SUT, else 1).
	parallel int
	// checks, when set, narrows the run to these test IDs: its share of a sharded run.
	checks []string
	// onRuntime, when set, is called once the runtime is chosen, before any actor starts.
	onRuntime func(ctx context.Context, rt runtime.Runtime) error
}

// usageError is a wrong flag or a wrong combination of flags.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const runSynopsis = `run [--sut-image IMAGE | --sut-url URL] [--runtime auto|docker|process]
         [--profile P[,P…]] [--transport T[,T…]] [--label-filter EXPR] [--out DIR] [--schemas DIR] [--fixtures DIR]
         [--certify] [--sign-key KEY] [--quiet | --verbose]`

func parseRunFlags(name string, args []string, stdout, stderr io.Writer) (runOptions, error) {
	var o runOptions
	fs := newFlagSet(name, runSynopsis)
	fs.StringVar(&o.sutImage, "sut-image", "", "start the SUT from this local Docker `IMAGE`")
	fs.StringVar(&o.sutURL, "sut-url", "", "test the SUT already running at this `URL`")
	fs.StringVar(&o.sutRestartCmd, "sut-restart-cmd", "", "with --sut-url: a shell `COMMAND` that restarts the SUT (its state kept); the kit then waits for the probe. Without it the restart checks are not run and the verdict is at best incomplete")
	fs.DurationVar(&o.pollInterval, "sut-poll-interval", provision.DefaultPollInterval, "the poll `INTERVAL` handed to the SUT (KONFORM_FITCONNECT_POLL_INTERVAL), at most "+drive.PollCeiling.String())
	fs.StringVar(&o.runtime, "runtime", runtime.Auto, "the `RUNTIME` the actors run in: auto, docker or process")
	profiles := fs.String("profile", strings.Join(catalogue.Profiles, ","), "comma-separated `PROFILES` to run")
	transports := fs.String("transport", "", "comma-separated `TRANSPORTS` to test: fitconnect, xta (default: every transport the SUT declares in its probe)")
	fs.StringVar(&o.labelFilter, "label-filter", "", "Ginkgo label filter `EXPR` over test IDs and levels, e.g. 'MUST && !SM-DST-030'")
	fs.StringVar(&o.out, "out", "conformance-report", "`DIR` for the reports")
	fs.StringVar(&o.schemas, "schemas", "", "`DIR` of the official schemas (default: $KONFORM_SPECS, ../shared/specs beside the source tree, or the folder that conformance schemas fetch fills)")
	fs.StringVar(&o.fixtures, "fixtures", "", "fixture `DIR` (default: the built-in corpus)")
	defectList := fs.String("reference-defects", "", "switch on these comma-separated `DEFECTS` of the built-in reference (used by selftest; an unknown name is refused with the list of known ones)")
	fs.StringVar(&o.keysFile, "keys-file", "", "reuse the RSA-4096 key set in this `FILE`; when it does not exist, the run generates the set and saves it there (private keys, owner-only) for the next run")
	fs.StringVar(&o.mocksFile, "mocks", defaultSessionFile, "with --sut-url: the session `FILE` that conformance mocks up wrote")
	fs.BoolVar(&o.certify, "certify", false, "a certification run: every check of the named profiles, bound to the SUT image's digest; writes certificate.pdf when every check passed (needs --sign-key)")
	fs.StringVar(&o.signKey, "sign-key", "", "sign the report with this private key (PEM; `conformance keys generate`): attestation.intoto.jsonl")
	fs.IntVar(&o.parallel, "parallel", 0, "spread the checks over `N` instances of the SUT that the kit starts, each with mocks of its own (default 8 for the built-in reference, 4 for --sut-image, 1 with --sut-url)")
	fs.BoolVar(&o.quiet, "quiet", false, "print only the summary (no header, no line per check)")
	fs.BoolVar(&o.verbose, "verbose", false, "also print Ginkgo's own console output, in Ginkgo's format (its dates, source paths, report entries)")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return o, err // -h, or a wrong flag parseFlags reported
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if o.quiet && o.verbose {
		return o, usageError{"give either --quiet or --verbose, not both"}
	}
	if o.sutImage != "" && o.sutURL != "" {
		return o, usageError{"give either --sut-image or --sut-url, not both"}
	}
	switch o.runtime {
	case runtime.Auto, runtime.Docker, runtime.Process:
	default:
		return o, usageError{fmt.Sprintf("--runtime must be auto, docker or process, not %q", o.runtime)}
	}
	if o.sutImage != "" && o.runtime == runtime.Process {
		return o, usageError{"--sut-image needs the docker runtime"}
	}
	if o.pollInterval < 500*time.Millisecond || o.pollInterval > drive.PollCeiling {
		return o, usageError{fmt.Sprintf("--sut-poll-interval must lie between 500ms and %s, not %s", drive.PollCeiling, o.pollInterval)}
	}
	switch {
	case o.parallel < 0:
		return o, usageError{fmt.Sprintf("--parallel must be 1 or more, not %d", o.parallel)}
	case o.parallel > 1 && o.sutURL != "":
		return o, usageError{"--parallel: a SUT given by --sut-url is one instance; its checks run one after the other"}
	case o.parallel == 0 && o.sutURL != "":
		o.parallel = 1
	case o.parallel == 0 && o.sutImage != "":
		o.parallel = autoParallelImage
	case o.parallel == 0:
		o.parallel = autoParallelReference
	}
	if o.sutRestartCmd != "" && o.sutURL == "" {
		return o, usageError{"--sut-restart-cmd applies to a SUT given by --sut-url"}
	}
	if o.sutURL != "" && !strings.HasPrefix(o.sutURL, "http://") && !strings.HasPrefix(o.sutURL, "https://") {
		return o, usageError{fmt.Sprintf("--sut-url must be an http(s) URL, not %q", o.sutURL)}
	}
	o.sutURL = strings.TrimRight(o.sutURL, "/")
	known := map[string]bool{}
	for _, p := range catalogue.Profiles {
		known[p] = true
	}
	for _, p := range strings.Split(*profiles, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !known[p] {
			return o, usageError{fmt.Sprintf("unknown profile %q (known: %s)", p, strings.Join(catalogue.Profiles, ", "))}
		}
		o.profiles = append(o.profiles, p)
	}
	if len(o.profiles) == 0 {
		return o, usageError{"--profile names no profile"}
	}
	for _, t := range strings.Split(*transports, ",") {
		switch t = strings.TrimSpace(t); t {
		case "":
		case contract.TransportFitConnect, contract.TransportXTA:
			o.transports = append(o.transports, t)
		default:
			return o, usageError{fmt.Sprintf("--transport: unknown transport %q (known: %s, %s)", t, contract.TransportFitConnect, contract.TransportXTA)}
		}
	}
	if o.labelFilter != "" {
		if _, err := types.ParseLabelFilter(o.labelFilter); err != nil {
			return o, usageError{fmt.Sprintf("--label-filter: %v", err)}
		}
	}
	for _, d := range strings.Split(*defectList, ",") {
		if d = strings.TrimSpace(d); d != "" {
			if !defects.Known(d) {
				return o, usageError{fmt.Sprintf("--reference-defects: unknown defect %q (known: %s)", d, strings.Join(defects.Names(), ", "))}
			}
			o.defects = append(o.defects, d)
		}
	}
	if len(o.defects) > 0 && (o.sutImage != "" || o.sutURL != "") {
		return o, usageError{"--reference-defects applies to the built-in reference only"}
	}
	if o.schemas == "" {
		o.schemas = defaultSchemas()
	}
	if o.schemas == "" {
		return o, usageError{"the run needs the official schemas: pass --schemas DIR (a folder laid out like the official sets: fit-connect/, xbau-2.3.1/xsd_dev/, xfinanz-3.1.0/)"}
	}
	if err := specs.CheckLayout(o.schemas); err != nil {
		return o, usageError{"--schemas " + err.Error()}
	}
	if err := checkWritable(o.out); err != nil {
		return o, usageError{fmt.Sprintf("--out %s: %v", o.out, err)}
	}
	if err := o.certifiable(); err != nil {
		return o, err
	}
	return o, nil
}

// checkWritable makes sure the report folder can be written before anything of the run starts,
// so that no result is lost at the end.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the report folder: %w", err)
	}
	f, err := os.CreateTemp(dir, ".konform-write-check-*")
	if err != nil {
		return fmt.Errorf("the report folder is not writable: %w", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// filter is the Ginkgo label filter of a run: the profiles, the transports tested, and the
// user's filter.
func (o runOptions) filter() string {
	f := "(" + strings.Join(o.profiles, " || ") + ")"
	if out := untestedChecks(o.tested); len(out) > 0 {
		f += " && !(" + strings.Join(out, " || ") + ")"
	}
	if o.labelFilter != "" {
		f += " && (" + o.labelFilter + ")"
	}
	if len(o.checks) > 0 {
		f += " && (" + strings.Join(o.checks, " || ") + ")"
	}
	return f
}

// untestedChecks are the checks that need a transport the run does not test.
func untestedChecks(tested []string) []string {
	if tested == nil {
		return nil
	}
	var out []string
	cat := catalogue.Builtin()
	for _, id := range cat.IDs() {
		req, _ := cat.Lookup(id)
		if need := req.Needs(); need != "" && !slices.Contains(tested, need) {
			out = append(out, id)
		}
	}
	return out
}

// testTransports decides what the run tests: the transports the SUT declares, narrowed by
// --transport. A transport asked for that the SUT does not declare is refused.
func testTransports(declared, asked []string) ([]string, error) {
	if len(asked) == 0 {
		return declared, nil
	}
	for _, t := range asked {
		if !slices.Contains(declared, t) {
			return nil, usageError{fmt.Sprintf("--transport %s: the SUT does not declare it (its probe lists transports %s)", t, strings.Join(declared, ", "))}
		}
	}
	return asked, nil
}

func (o runOptions) sutMode() string {
	switch {
	case o.sutImage != "":
		return "image"
	case o.sutURL != "":
		return "url"
	}
	return "reference"
}

func (o runOptions) sutDescription() string {
	switch o.sutMode() {
	case "image":
		return "image " + o.sutImage
	case "url":
		return "url " + o.sutURL
	}
	d := "built-in reference"
	if len(o.defects) > 0 {
		d += " with defects " + strings.Join(o.defects, ",")
	}
	return d
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	o, err := parseRunFlags("run", args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitPassed
	}
	if errors.As(err, new(flagError)) {
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "conformance run: %v\n", err)
		return exitUsage
	}
	o.runID = uuid.NewString()
	shard, err := childShardFromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "conformance run: %v\n", err)
		return exitUsage
	}
	if shard != nil {
		o.checks, o.parallel = shard.checks, 1
	}
	console := report.Console{W: stdout, Color: report.UseColor(stdout)}
	// progress is where the run's own lines go while it runs: nowhere with --quiet.
	progress := stdout
	if o.quiet {
		progress = io.Discard
	}
	started := time.Now().UTC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var (
		plan     [][]string
		children *shardChildren
	)
	if shard == nil && o.parallel > 1 {
		// Dealt out before the SUT answers, over every transport: each shard narrows its share
		// to the transports its own SUT instance serves.
		all, err := o.selected()
		if err != nil {
			fmt.Fprintf(stderr, "conformance run: %v\n", err)
			return exitUsage
		}
		if plan = shardPlan(all, o.parallel); len(plan) > 1 {
			if o.keysFile == "" {
				// The shards share one key set: generated once, not once per SUT instance.
				o.keysFile = filepath.Join(os.TempDir(), "konform-keys-"+o.runID+".json")
				defer os.Remove(o.keysFile)
			}
			if _, err := keySet(o.keysFile); err != nil {
				fmt.Fprintf(stderr, "conformance run: %v\n", err)
				return codeFor(err)
			}
			o.onRuntime = func(ctx context.Context, rt runtime.Runtime) (err error) {
				if d, ok := rt.(*runtime.DockerRuntime); ok {
					if err := d.PrepareImages(ctx, o.sutMode() == "reference"); err != nil {
						return err
					}
				}
				children, err = startShardChildren(ctx, o, args, plan)
				return err
			}
		}
	}
	st, code := startStage(ctx, o, progress, stderr)
	if st != nil {
		defer st.close(stderr)
	}
	if children != nil {
		// On every way out the children end before the stage (and the images they share) goes.
		defer func() {
			stop()
			children.wait()
		}()
	}
	if st != nil && st.notReady != nil {
		return reportNotReady(o, st, started, console, stderr)
	}
	if code != exitPassed {
		return code
	}
	info, err := probe.New(st.sut.ProbeURL()).Info(ctx)
	if err != nil {
		// The smoke checks judge the probe; the transports of a SUT whose probe fails are its
		// declaration's default.
		info = contract.Info{}
	}
	if o.tested, err = testTransports(info.Served(), o.transports); err != nil {
		fmt.Fprintf(stderr, "conformance run: %v\n", err)
		return exitUsage
	}
	st.env.Transports = o.tested
	meta := report.Meta{
		RunID: o.runID, KitVersion: version, ContractVersion: contract.Version, Runtime: st.rt.Name(), SUT: o.sutDescription(),
		Profiles: o.profiles, Transports: o.tested, LabelFilter: o.labelFilter, StartedAt: started,
	}
	if shard == nil {
		if err := describeRun(ctx, o, st, &meta); err != nil {
			fmt.Fprintf(stderr, "conformance run: %v\n", err)
			return codeFor(err)
		}
	}
	selected, err := o.selected()
	if err != nil {
		fmt.Fprintf(stderr, "conformance run: %v\n", err)
		return exitUsage
	}
	if len(selected) == 0 {
		fmt.Fprintf(stderr, "conformance run: the profiles and the label filter (%s) select no check; nothing was proven\n", o.filter())
		return exitUsage
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fmt.Fprintf(stderr, "conformance run: report folder: %v\n", err)
		return exitUsage
	}
	if !o.quiet {
		console.Header(meta)
	}
	var lines *report.Console
	if !o.quiet {
		lines = &console
	}
	meta.Parallel = max(1, len(plan))
	live := newLiveSummary(filepath.Join(o.out, report.SummaryFile), meta, selected, lines)
	live.shard = shard
	if children != nil {
		o.checks = plan[0]
		children.attach(live)
	}
	r := runSuites(o, live, stdout, console.Color)
	if shard != nil {
		for _, sr := range r.SpecReports {
			if sr.LeafNodeType != types.NodeTypeIt && sr.State.Is(types.SpecStateFailureStates) {
				shard.streamSpec(sr)
			}
		}
		st.saveEvidence(o.out)
		return exitFor(live.write().Verdict)
	}
	if children != nil {
		suite, problems := children.wait()
		r = mergeShards(r, live.checks(), suite)
		for _, p := range problems {
			fmt.Fprintf(stderr, "conformance run: %s\n", report.ConsoleSafe(p))
		}
	}
	meta.FinishedAt = time.Now().UTC()
	meta.Interrupted = ctx.Err() != nil || r.SpecialSuiteFailureReasons != nil && interrupted(r)
	st.saveEvidence(o.out)
	sum, written, err := report.Write(o.out, r, meta, selected)
	if err != nil {
		fmt.Fprintf(stderr, "conformance run: %v\n", err)
		return exitEnvironment
	}
	if sum, err = finishReports(o, sum, written, stderr); err != nil {
		fmt.Fprintf(stderr, "conformance run: %v\n", err)
		return exitEnvironment
	}
	printSummary(o, console, sum)
	if meta.Interrupted {
		fmt.Fprintln(stderr, "conformance run: interrupted; the checks that did not run are listed as not run")
	}
	return exitFor(sum.Verdict)
}

// printSummary ends the console: the summary, with the header first under --quiet (the
// header was printed at the start otherwise).
func printSummary(o runOptions, console report.Console, sum report.Summary) {
	if o.quiet {
		console.Header(sum.Meta)
	}
	console.Summary(sum)
}

// interrupted reports whether Ginkgo stopped the suite on a signal.
func interrupted(r types.Report) bool {
	for _, reason := range r.SpecialSuiteFailureReasons {
		if strings.Contains(reason, "Interrupted") {
			return true
		}
	}
	return false
}

// selected returns the test IDs the run's profiles and label filter select.
func (o runOptions) selected() ([]string, error) {
	match, err := types.ParseLabelFilter(o.filter())
	if err != nil {
		return nil, fmt.Errorf("label filter: %w", err)
	}
	return catalogue.Builtin().Select(match), nil
}

// liveSummary keeps summary.json current while the suites run, so that a run killed at any
// point leaves a summary that lists every selected check and is never "passed" early. The
// checks of a sharded run's children arrive here too, from other goroutines.
type liveSummary struct {
	console  *report.Console // nil: no line per check (--quiet)
	path     string
	meta     report.Meta
	selected []string
	shard    *childShard // set in a child shard: every check is also handed to the parent

	mu      sync.Mutex
	specs   types.SpecReports
	digests map[string]string // evidence digest by the evidence's JSON, computed once
}

func newLiveSummary(path string, meta report.Meta, selected []string, console *report.Console) *liveSummary {
	l := &liveSummary{console: console, path: path, meta: meta, selected: selected, digests: map[string]string{}}
	l.write()
	return l
}

// add records a finished check. Every shard runs the gate checks: a check seen again replaces
// the earlier report only when it did not pass, so that no shard's failure is hidden.
func (l *liveSummary) add(sr types.SpecReport) {
	sr = withEvidenceJSON(sr)
	if l.shard != nil {
		l.shard.streamSpec(sr)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	id := report.TestID(sr.Labels())
	i := slices.IndexFunc(l.specs, func(old types.SpecReport) bool { return report.TestID(old.Labels()) == id })
	switch {
	case i < 0:
		l.specs = append(l.specs, sr)
	case sr.State == types.SpecStatePassed:
		return
	default:
		l.specs[i] = sr
	}
	s := l.write()
	if l.console == nil {
		return
	}
	for _, v := range s.Verdicts {
		if v.ID == id {
			l.console.Progress(len(l.specs), len(l.selected), v)
		}
	}
}

// checks returns the finished checks so far.
func (l *liveSummary) checks() types.SpecReports {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.specs)
}

// withEvidenceJSON renders the check's evidence entry to JSON once: summary.json is rewritten
// after every check, and its evidence digests would otherwise marshal every finished check's
// evidence again each time.
func withEvidenceJSON(sr types.SpecReport) types.SpecReport {
	entries := slices.Clone(sr.ReportEntries)
	for i, e := range entries {
		if e.Name != report.EntryEvidence || e.Value.AsJSON != "" || e.Value.GetRawValue() == nil {
			continue
		}
		if b, err := json.Marshal(e.Value.GetRawValue()); err == nil {
			entries[i].Value.AsJSON = string(b)
		}
	}
	sr.ReportEntries = entries
	return sr
}

// digest is report.EvidenceDigest, remembered per evidence (withEvidenceJSON has rendered it);
// l.mu is held.
func (l *liveSummary) digest(sr types.SpecReport) string {
	var key string
	for _, e := range sr.ReportEntries {
		if e.Name == report.EntryEvidence {
			key = e.Value.AsJSON
			break
		}
	}
	if key == "" {
		return report.EvidenceDigest(sr)
	}
	d, ok := l.digests[key]
	if !ok {
		d = report.EvidenceDigest(sr)
		l.digests[key] = d
	}
	return d
}

func (l *liveSummary) write() report.Summary {
	s := report.SummariseDigested(types.Report{SpecReports: l.specs}, l.meta, l.selected, l.digest)
	_ = report.WriteSummary(l.path, s)
	return s
}

// sutOutputLines bounds the SUT's output the console shows when the SUT never became ready;
// logs/sut.log holds all of it.
const sutOutputLines = 20

// reportNotReady writes the report of a run whose SUT never became ready: the probe check
// failed with the reason, every other check is not run (its reason one line), the SUT's output
// is in logs/sut.log and its tail, escaped, once on the console.
func reportNotReady(o runOptions, st *stage, started time.Time, console report.Console, stderr io.Writer) int {
	cause, rest, _ := strings.Cut(st.notReady.Error(), "\n")
	sutLog := filepath.Join("logs", "sut.log")
	meta := report.Meta{RunID: o.runID, KitVersion: version, ContractVersion: contract.Version, Runtime: st.rt.Name(), SUT: o.sutDescription(),
		Profiles: o.profiles, LabelFilter: o.labelFilter, StartedAt: started, FinishedAt: time.Now().UTC(),
		StoppedBecause: fmt.Sprintf("%s failed: %s (the SUT's output: %s)", probeCheck, cause, sutLog)}
	selected, _ := o.selected()
	sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: probeCheck, LeafNodeLabels: []string{probeCheck}, State: types.SpecStateFailed, NumAttempts: 1}
	sr.Failure.Message = st.notReady.Error()
	st.saveEvidence(o.out)
	sum, written, err := report.Write(o.out, types.Report{SuiteDescription: "Konform conformance", SpecReports: types.SpecReports{sr}}, meta, selected)
	if err != nil {
		fmt.Fprintf(stderr, "conformance run: %v\n", err)
		return exitEnvironment
	}
	if sum, err = finishReports(o, sum, written, stderr); err != nil {
		fmt.Fprintf(stderr, "conformance run: %v\n", err)
		return exitEnvironment
	}
	if !o.quiet {
		console.Header(meta)
	}
	fmt.Fprintf(stderr, "conformance run: %s\n", report.ConsoleSafe(cause))
	output, err := os.ReadFile(filepath.Join(o.out, sutLog))
	if err != nil || len(output) == 0 {
		output = []byte(rest)
	}
	if tail, left := report.Tail(output, sutOutputLines); strings.TrimSpace(tail) != "" {
		what := "the SUT's output"
		if left > 0 {
			what = fmt.Sprintf("the last %d lines of the SUT's output", sutOutputLines)
		}
		fmt.Fprintf(stderr, "%s (all of it in %s):\n  | %s\n", what, filepath.Join(o.out, sutLog), report.ConsoleBlock(tail, "  | "))
	}
	printSummary(o, console, sum)
	return exitFor(sum.Verdict)
}

// probeCheck is the check a SUT that never answers its probe fails.
const probeCheck = "SM-PRB-010"

// stage is a started run: runtime, actors, provisioned SUT.
type stage struct {
	// notReady is set when the SUT exited or never answered its probe after start.
	notReady error
	rt       runtime.Runtime
	sut      runtime.SUT
	prov     *provision.Result
	env      *runenv.Env
}

func (s *stage) close(stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.rt.Close(ctx); err != nil {
		fmt.Fprintf(stderr, "conformance: cleaning up: %v\n", err)
	}
}

// saveEvidence writes the actors' and the SUT's output and the SUT configuration (secrets
// redacted) into the report folder.
func (s *stage) saveEvidence(out string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := filepath.Join(out, "logs")
	_ = os.MkdirAll(dir, 0o755)
	for name, b := range s.rt.ActorLogs(ctx) {
		_ = os.WriteFile(filepath.Join(dir, name+".log"), b, 0o644)
	}
	if s.sut != nil {
		_ = os.WriteFile(filepath.Join(dir, "sut.log"), s.sut.Logs(ctx), 0o644)
	}
	if s.prov != nil {
		_ = os.WriteFile(filepath.Join(out, "sut.env"), []byte(envFile(provision.Redacted(s.prov.Env))), 0o644)
	}
}

func envFile(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	return b.String()
}

// startStage chooses the runtime, starts the mocks, provisions them, starts the SUT and installs
// the run environment. On failure it returns the exit code; the stage (if any) must still be closed.
// progress receives the runtime's lines while it prepares (image builds).
func startStage(ctx context.Context, o runOptions, progress, stderr io.Writer) (*stage, int) {
	if o.sutURL != "" {
		return attachStage(ctx, o, stderr)
	}
	workDir, err := os.MkdirTemp("", "konform-run-")
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return nil, exitEnvironment
	}
	if o.sutImage != "" {
		if err := runtime.ImagePresent(ctx, o.sutImage); err != nil {
			fmt.Fprintf(stderr, "conformance: %v\n", err)
			os.RemoveAll(workDir)
			return nil, codeFor(err)
		}
	}
	rt, err := chooseRuntime(ctx, o, workDir, progress, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		os.RemoveAll(workDir)
		return nil, codeFor(err)
	}
	st := &stage{rt: cleanupDir{rt, workDir}}
	fail := func(err error) (*stage, int) {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return st, codeFor(err)
	}
	if o.onRuntime != nil {
		if err := o.onRuntime(ctx, rt); err != nil {
			return fail(err)
		}
	}
	if o.sutMode() == "reference" && o.schemas == "" {
		return fail(usageError{"the built-in reference validates metadata against the official FIT-Connect metadata schema: pass --schemas DIR (a folder laid out like shared/specs)"})
	}
	fixturesDir, services, err := fixtureServices(o.fixtures)
	if err != nil {
		return fail(err)
	}
	xtaServices, err := xtaServicesOf(fixturesDir)
	if err != nil {
		return fail(usageError{err.Error()})
	}
	endpoints, err := rt.StartActors(ctx, actors.Factories)
	if err != nil {
		return fail(err)
	}
	sutBase, listen := rt.SUTBase()
	keys, err := keySet(o.keysFile)
	if err != nil {
		return fail(err)
	}
	prov, err := provision.Run(ctx, provision.Options{
		FitConnect: endpoints[actors.FitConnect], HKR: endpoints[actors.HKR],
		XTA: endpoints[actors.XTA], XTAServices: xtaServices,
		SUTBase: sutBase, SUTListen: listen, Services: services, Keys: keys, PollInterval: o.pollInterval,
	})
	if err != nil {
		return fail(fmt.Errorf("%w: %v", runtime.ErrEnvironment, err))
	}
	st.prov = prov
	spec := runtime.SUTSpec{Image: o.sutImage, Env: prov.Env}
	if o.sutMode() == "reference" {
		spec.Reference = &runtime.ReferenceSpec{Defects: o.defects, SchemaDir: o.schemas}
	}
	sut, err := rt.StartSUT(ctx, spec)
	if errors.Is(err, runtime.ErrSUTNotReady) {
		st.notReady = err
		return st, exitFailed
	}
	if err != nil {
		return fail(err)
	}
	st.sut = sut
	st.install(o, endpoints, prov.FitConnect, fixturesDir, workDir)
	return st, exitPassed
}

// keySet is the run's RSA key set: nil (provision generates one) without a file, the file's set
// when it exists, else a set generated now and saved there for the next run.
func keySet(path string) (*provision.Keys, error) {
	if path == "" {
		return nil, nil
	}
	keys, err := provision.LoadKeys(path)
	if err == nil {
		return keys, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, usageError{err.Error()}
	}
	if keys, err = provision.NewKeys(); err != nil {
		return nil, fmt.Errorf("%w: %v", runtime.ErrEnvironment, err)
	}
	if err := keys.Save(path); err != nil {
		return nil, usageError{fmt.Sprintf("--keys-file: saving the generated key set: %v", err)}
	}
	return keys, nil
}

// attachStage reaches a SUT given by URL and the mocks `mocks up` started for it.
func attachStage(ctx context.Context, o runOptions, stderr io.Writer) (*stage, int) {
	sut, err := runtime.ReachURL(ctx, o.sutURL, "", "")
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return nil, exitEnvironment
	}
	sess, err := loadSession(o.mocksFile)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return nil, exitUsage
	}
	fixturesDir, _, err := fixtureServices(o.fixtures)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return nil, exitUsage
	}
	rt := attached{sess}
	if sut, err = rt.StartSUT(ctx, runtime.SUTSpec{URL: o.sutURL, RestartCmd: o.sutRestartCmd}); err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return nil, exitEnvironment
	}
	st := &stage{rt: rt, sut: sut, prov: &provision.Result{FitConnect: sess.FitConnect, XTA: sess.XTA, Env: sess.Env}}
	st.install(o, sess.Endpoints, sess.FitConnect, fixturesDir, "")
	return st, exitPassed
}

func fixtureServices(dir string) (string, []runenv.Service, error) {
	if dir == "" {
		var err error
		if dir, err = fixtures.Default(); err != nil {
			return "", nil, usageError{fmt.Sprintf("no fixtures: %v (pass --fixtures DIR)", err)}
		}
	}
	services, err := servicesOf(dir)
	if err != nil {
		return "", nil, usageError{err.Error()}
	}
	return dir, services, nil
}

// install hands the run's environment to the suites.
func (st *stage) install(o runOptions, endpoints map[string]runenv.Endpoint, fc runenv.FitConnect, fixturesDir, workDir string) {
	env := &runenv.Env{
		Runtime: st.rt.Name(), SUTMode: o.sutMode(), FitConnect: fc, HKR: endpoints[actors.HKR],
		SUT: st.sut, SchemasDir: o.schemas, FixturesDir: fixturesDir, WorkDir: workDir,
		HKRBookingCoding: []byte(st.prov.Env[contract.EnvHKRBookingCoding]),
		XTA:              st.prov.XTA,
	}
	env.PollInterval, _ = time.ParseDuration(st.prov.Env[contract.EnvPollInterval])
	for _, name := range actors.Names() {
		url := endpoints[name].External
		env.Evidence = append(env.Evidence, runenv.ExchangeSource{Actor: name,
			Exchanges: func(ctx context.Context, since int64) ([]recorder.Exchange, error) {
				return recorder.Fetch(ctx, evidenceClient, url, since)
			},
			Last: func(ctx context.Context) (int64, error) { return recorder.FetchLast(ctx, evidenceClient, url) },
		})
	}
	runenv.Set(env)
	st.env = env
}

func codeFor(err error) int {
	var ue usageError
	switch {
	case errors.As(err, &ue), errors.Is(err, runtime.ErrUsage):
		return exitUsage
	default:
		return exitEnvironment
	}
}

// cleanupDir removes the run's work folder after the runtime closed.
type cleanupDir struct {
	runtime.Runtime
	dir string
}

func (c cleanupDir) Close(ctx context.Context) error {
	err := c.Runtime.Close(ctx)
	os.RemoveAll(c.dir)
	return err
}

// chooseRuntime makes the runtime the options ask for; progress receives its lines while it
// prepares (the Docker runtime's image builds).
func chooseRuntime(ctx context.Context, o runOptions, workDir string, progress, stderr io.Writer) (runtime.Runtime, error) {
	kind := o.runtime
	if kind == runtime.Auto {
		if err := runtime.DockerAvailable(ctx); err != nil {
			if o.sutImage != "" {
				return nil, fmt.Errorf("%w (--sut-image needs Docker)", err)
			}
			if runtime.EngineChosen() {
				return nil, err
			}
			fmt.Fprintf(stderr, "WARNING: %v — using the process runtime: mocks run inside this process, not in containers\n", err)
			kind = runtime.Process
		} else {
			kind = runtime.Docker
		}
	}
	if kind == runtime.Process {
		return runtime.NewProcess(workDir)
	}
	root, _ := moduleRoot()
	runID := o.runID
	if runID == "" {
		runID = uuid.NewString()
	}
	d, err := runtime.NewDocker(ctx, runID, workDir, root)
	if err != nil {
		return nil, err
	}
	d.Progress = progress
	d.ImagesOf = os.Getenv(envShardOf)
	return d, nil
}

// runSuites runs the compiled-in Ginkgo suites once and returns Ginkgo's report; live learns
// each check's outcome as it finishes. Ginkgo's own console output goes to stdout only with
// --verbose; otherwise the kit's lines are the console.
func runSuites(o runOptions, live *liveSummary, stdout io.Writer, color bool) types.Report {
	var captured types.Report
	ginkgo.ReportAfterEach(func(sr ginkgo.SpecReport) {
		if sr.LeafNodeType == types.NodeTypeIt && sr.NumAttempts > 0 {
			live.add(sr)
		}
	})
	ginkgo.ReportAfterSuite("konform report", func(r ginkgo.Report) { captured = r })
	check.Register()
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.LabelFilter = o.filter()
	suiteConfig.Timeout = 2 * time.Hour
	suiteConfig.RandomSeed = time.Now().UnixNano()
	if o.verbose {
		formatter.ColorableStdOut = stdout
		reporterConfig.NoColor = !color
		reporterConfig.ForceNewlines = true // the kit's progress lines stand on lines of their own
	} else {
		formatter.ColorableStdOut = io.Discard
		reporterConfig.NoColor = true
		reporterConfig.Succinct = true
		reporterConfig.SilenceSkips = true
	}
	gomega.RegisterFailHandler(ginkgo.Fail)
	ginkgo.RunSpecs(failRecorder{}, "Konform conformance", suiteConfig, reporterConfig)
	return captured
}

// failRecorder satisfies Ginkgo's testing interface; verdicts are read from the report.
type failRecorder struct{}

func (failRecorder) Fail() {}
