package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/load"
	"github.com/konform/konform/mocks/hkr"
	"github.com/konform/konform/mocks/sender"
	"github.com/konform/konform/probe"
	"github.com/konform/konform/provision"
	"github.com/konform/konform/runtime"
	"github.com/konform/konform/specs"
	"github.com/konform/konform/suites/drive"
)

const loadSynopsis = `load [--submissions N] [--concurrency C | --rate R] [--hkr-outage [--hkr-outage-for D]] [--sut-restart]
         [--sut-image IMAGE | --sut-url URL [--sut-restart-cmd CMD]] [--runtime auto|docker|process]
         [--out DIR] [--schemas DIR] [--fixtures DIR]`

// loadFixtureLimit leaves out fixtures whose parts add up to more than this: cycling the 50 MiB
// attachment through thousands of submissions measures the disk, not the SUT.
const loadFixtureLimit = 5 << 20

type loadOptions struct {
	run           runOptions
	submissions   int
	concurrency   int
	rate          float64
	hkrOutage     bool
	outageFor     time.Duration
	sutRestart    bool
	settleTimeout time.Duration
}

func parseLoadFlags(args []string, stdout, stderr io.Writer) (loadOptions, error) {
	var lo loadOptions
	o := &lo.run
	fs := newFlagSet("load", loadSynopsis)
	fs.IntVar(&lo.submissions, "submissions", 100, "send `N` submissions (the fixtures with a payment, cycled)")
	fs.IntVar(&lo.concurrency, "concurrency", 8, "at most `C` submissions being sent at once")
	fs.Float64Var(&lo.rate, "rate", 0, "send `R` submissions per second (0: as fast as --concurrency allows)")
	fs.BoolVar(&lo.hkrOutage, "hkr-outage", false, "make the HKR mock answer 503 once a third of the submissions are sent, for --hkr-outage-for")
	fs.DurationVar(&lo.outageFor, "hkr-outage-for", 15*time.Second, "the `DURATION` of the HKR outage")
	fs.BoolVar(&lo.sutRestart, "sut-restart", false, "restart the SUT (hard stop, state kept) once half of the submissions are sent")
	fs.DurationVar(&lo.settleTimeout, "settle-timeout", 2*time.Minute, "after the last send, stop waiting for decisions and bookings once the SUT made no progress for `DURATION`")
	fs.StringVar(&o.sutImage, "sut-image", "", "start the SUT from this local Docker `IMAGE`")
	fs.StringVar(&o.sutURL, "sut-url", "", "load the SUT already running at this `URL` (with the mocks of conformance mocks up)")
	fs.StringVar(&o.sutRestartCmd, "sut-restart-cmd", "", "with --sut-url: a shell `COMMAND` that restarts the SUT (its state kept), for --sut-restart")
	fs.StringVar(&o.mocksFile, "mocks", defaultSessionFile, "with --sut-url: the session `FILE` that conformance mocks up wrote")
	fs.DurationVar(&o.pollInterval, "sut-poll-interval", provision.DefaultPollInterval, "the poll `INTERVAL` handed to the SUT, at most "+drive.PollCeiling.String())
	fs.StringVar(&o.runtime, "runtime", runtime.Auto, "the `RUNTIME` the actors run in: auto, docker or process")
	fs.StringVar(&o.out, "out", "load-report", "`DIR` for load.json, the plots and load.html")
	fs.StringVar(&o.schemas, "schemas", "", "`DIR` of the official schemas (as for run)")
	fs.StringVar(&o.fixtures, "fixtures", "", "fixture `DIR` (default: the built-in corpus)")
	fs.StringVar(&o.keysFile, "keys-file", "", "reuse the RSA-4096 key set in this `FILE` (generated and saved there when it does not exist)")
	fs.BoolVar(&o.quiet, "quiet", false, "print only the figures")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return lo, err
	}
	switch {
	case fs.NArg() > 0:
		return lo, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case lo.submissions < 1:
		return lo, usageError{fmt.Sprintf("--submissions must be at least 1, not %d", lo.submissions)}
	case lo.concurrency < 1:
		return lo, usageError{fmt.Sprintf("--concurrency must be at least 1, not %d", lo.concurrency)}
	case lo.rate < 0:
		return lo, usageError{fmt.Sprintf("--rate must not be negative, not %v", lo.rate)}
	case lo.outageFor <= 0:
		return lo, usageError{fmt.Sprintf("--hkr-outage-for must be positive, not %s", lo.outageFor)}
	case lo.settleTimeout <= 0:
		return lo, usageError{fmt.Sprintf("--settle-timeout must be positive, not %s", lo.settleTimeout)}
	case o.sutImage != "" && o.sutURL != "":
		return lo, usageError{"give either --sut-image or --sut-url, not both"}
	case o.sutImage != "" && o.runtime == runtime.Process:
		return lo, usageError{"--sut-image needs the docker runtime"}
	case o.sutRestartCmd != "" && o.sutURL == "":
		return lo, usageError{"--sut-restart-cmd applies to a SUT given by --sut-url"}
	case lo.sutRestart && o.sutURL != "" && o.sutRestartCmd == "":
		return lo, usageError{"--sut-restart with --sut-url needs --sut-restart-cmd: the kit cannot restart a SUT it did not start"}
	case o.pollInterval < 500*time.Millisecond || o.pollInterval > drive.PollCeiling:
		return lo, usageError{fmt.Sprintf("--sut-poll-interval must lie between 500ms and %s, not %s", drive.PollCeiling, o.pollInterval)}
	}
	if !slices.Contains([]string{runtime.Auto, runtime.Docker, runtime.Process}, o.runtime) {
		return lo, usageError{fmt.Sprintf("--runtime must be auto, docker or process, not %q", o.runtime)}
	}
	if o.sutURL != "" && !strings.HasPrefix(o.sutURL, "http://") && !strings.HasPrefix(o.sutURL, "https://") {
		return lo, usageError{fmt.Sprintf("--sut-url must be an http(s) URL, not %q", o.sutURL)}
	}
	o.sutURL = strings.TrimRight(o.sutURL, "/")
	if o.schemas == "" {
		o.schemas = defaultSchemas()
	}
	if o.schemas == "" {
		return lo, usageError{"the load needs the official schemas: pass --schemas DIR (a folder laid out like the official sets)"}
	}
	if err := specs.CheckLayout(o.schemas); err != nil {
		return lo, usageError{"--schemas " + err.Error()}
	}
	if err := checkWritable(o.out); err != nil {
		return lo, usageError{fmt.Sprintf("--out %s: %v", o.out, err)}
	}
	return lo, nil
}

func cmdLoad(args []string, stdout, stderr io.Writer) int {
	lo, err := parseLoadFlags(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitPassed
	}
	if errors.As(err, new(flagError)) {
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "conformance load: %v\n", err)
		return exitUsage
	}
	o := lo.run
	o.runID = uuid.NewString()
	keepMemoryFlat()
	progress := stdout
	if o.quiet {
		progress = io.Discard
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "conformance load: %v\n", err)
		return code
	}
	fxDir, _, err := fixtureServices(o.fixtures)
	if err != nil {
		return fail(exitUsage, err)
	}
	chosen, left, err := loadFixtures(fxDir)
	if err != nil {
		return fail(exitUsage, err)
	}
	st, code := startStage(ctx, o, progress, stderr)
	closed := false
	closeStage := func() {
		if st != nil && !closed {
			closed = true
			st.close(stderr)
		}
	}
	defer closeStage()
	if st != nil && st.notReady != nil {
		st.saveEvidence(o.out)
		return fail(exitFailed, fmt.Errorf("the SUT never became ready: %v (its output: %s/logs/sut.log)", st.notReady, o.out))
	}
	if code != exitPassed {
		return code
	}
	if info, err := probe.New(st.sut.ProbeURL()).Info(ctx); err == nil && !slices.Contains(info.Served(), contract.TransportFitConnect) {
		return fail(exitUsage, fmt.Errorf("the load goes over FIT-Connect, which the SUT does not declare (its probe lists %s)", strings.Join(info.Served(), ", ")))
	}
	env := st.env
	opts := st.loadOptions(lo.concurrency)
	opts.Submissions, opts.Rate, opts.Fixtures, opts.RunTag = lo.submissions, lo.rate, chosen, o.runID[:3]
	opts.RestartSUT, opts.SettleTimeout, opts.Progress = lo.sutRestart, lo.settleTimeout, progress
	if lo.hkrOutage {
		opts.HKROutage = lo.outageFor
	}
	if !o.quiet {
		fmt.Fprintf(stdout, "Konform load — %d submissions, concurrency %d%s, against %s (%s runtime)\n", lo.submissions, lo.concurrency, rateText(lo.rate), o.sutDescription(), st.rt.Name())
		fmt.Fprintf(stdout, "  fixtures cycled: %s\n", fixtureIDs(chosen))
		if len(left) > 0 {
			fmt.Fprintf(stdout, "  left out: %s\n", strings.Join(left, "; "))
		}
	}
	res, err := load.Run(ctx, opts)
	if err != nil {
		st.saveEvidence(o.out)
		return fail(exitEnvironment, err)
	}
	st.saveEvidence(o.out)
	var mockDir string
	if st.rt.Name() == runtime.Process && env.WorkDir != "" {
		mockDir = filepath.Join(env.WorkDir, "actors")
		res.MockDisk = &load.DiskUse{Path: mockDir, MiBAtEnd: float64(treeSize(mockDir)) / (1 << 20)}
	}
	closeStage()
	if res.MockDisk != nil {
		_, err := os.Stat(mockDir)
		res.MockDisk.FreedAtExit = errors.Is(err, fs.ErrNotExist)
	}
	if err := res.Write(o.out); err != nil {
		return fail(exitEnvironment, fmt.Errorf("writing the load report: %w", err))
	}
	res.Table(stdout)
	fmt.Fprintf(stdout, "report: %s/%s, %s/%s\n", o.out, load.JSONFile, o.out, load.HTMLFile)
	if res.Verdict != load.Passed {
		return exitFailed
	}
	return exitPassed
}

// loadMemoryLimit is the soft memory limit of a load (unless GOMEMLIMIT sets one): the mocks of
// the process runtime live in the kit's process, and without it the collector lets the heap grow
// to twice what is live before it runs.
const loadMemoryLimit = 224 << 20

func keepMemoryFlat() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(loadMemoryLimit)
	}
}

// loadOptions wires a load to the stage's actors: the sender, the mocks' control clients and
// the SUT; the caller says how many submissions of which fixtures.
func (st *stage) loadOptions(concurrency int) load.Options {
	env := st.env
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * concurrency, IdleConnTimeout: 30 * time.Second}}
	return load.Options{Concurrency: concurrency,
		Build:    func(f fixtures.Fixture) sender.Submission { return drive.Submission(env, f) },
		Sender:   drive.Sender(env, sender.WithHTTPClient(client)),
		Delivery: drive.Control(env), HKR: hkr.NewControl(env.HKR.External), SUT: st.sut}
}

// loadFixtures picks the corpus fixtures with a payment and at most loadFixtureLimit bytes; left
// names the others and why.
func loadFixtures(dir string) (chosen []fixtures.Fixture, left []string, err error) {
	all, err := fixtures.Load(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range all {
		id := f.Manifest.ID
		if f.Manifest.Payment == nil {
			left = append(left, id+" (no payment)")
			continue
		}
		if size := fixtureSize(f); size > loadFixtureLimit {
			left = append(left, fmt.Sprintf("%s (%d MiB, more than %d MiB)", id, size>>20, loadFixtureLimit>>20))
			continue
		}
		chosen = append(chosen, f)
	}
	if len(chosen) == 0 {
		return nil, left, fmt.Errorf("%s has no fixture with a payment of at most %d MiB to cycle", dir, loadFixtureLimit>>20)
	}
	return chosen, left, nil
}

func fixtureSize(f fixtures.Fixture) int64 {
	var n int64
	if r, size, err := f.Data(); err == nil {
		r.Close()
		n += size
	}
	for _, a := range f.Attachments() {
		n += a.Size
	}
	return n
}

func fixtureIDs(fs []fixtures.Fixture) string {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.Manifest.ID
	}
	return strings.Join(ids, ", ")
}

// treeSize adds up the sizes of the files below dir.
func treeSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func rateText(r float64) string {
	if r <= 0 {
		return ""
	}
	return fmt.Sprintf(", %g per second", r)
}
