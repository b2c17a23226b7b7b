package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/report"
)

// A run spreads its checks over several instances of the SUT ("shards"): most of a check's
// time is spent waiting for the SUT's poll cadence, and checks of different instances wait side
// by side. The run's own process is the first shard; every other shard is a child `conformance
// run` with its own mocks and its own SUT instance, started from the same image or the same
// reference with the same configuration and key set. Each shard runs the gate checks first;
// the other checks are dealt out in catalogue order, one to each shard in turn. A child hands
// every finished check to the parent as one JSON line (Ginkgo's SpecReport), and the parent
// writes one report of all of them.
const (
	// envShardChecks names the checks a child shard runs (comma-separated test IDs).
	envShardChecks = "KONFORM_SHARD_CHECKS"
	// envShardStream is the file descriptor a child shard writes its finished checks to.
	envShardStream = "KONFORM_SHARD_STREAM"
	// envShardOf is the parent's run ID: a child reuses the images the parent built for it.
	envShardOf = "KONFORM_SHARD_OF"
)

// How many SUT instances a run spreads its checks over when --parallel is not given: the
// built-in reference is small; a vendor's image may need far more memory per instance.
const (
	autoParallelReference = 8
	autoParallelImage     = 4
)

// shardPlan deals the selected checks out to at most n shards: every shard runs the gate
// checks, the others go to the shards in turn, in catalogue order. It returns fewer shards
// when there are fewer checks than shards.
func shardPlan(selected []string, n int) [][]string {
	cat := catalogue.Builtin()
	var gates, rest []string
	for _, id := range cat.IDs() {
		if !slices.Contains(selected, id) {
			continue
		}
		if req, _ := cat.Lookup(id); req.Gate {
			gates = append(gates, id)
		} else {
			rest = append(rest, id)
		}
	}
	n = max(1, min(n, len(rest)))
	plan := make([][]string, n)
	for i := range plan {
		plan[i] = slices.Clone(gates)
	}
	for i, id := range rest {
		plan[i%n] = append(plan[i%n], id)
	}
	return plan
}

// childShard is a child run's part of a shard: the checks it runs and where it hands them.
type childShard struct {
	checks []string
	stream *os.File
}

// childShardFromEnv reads a child shard's part from its environment; nil outside a child.
func childShardFromEnv() (*childShard, error) {
	list := os.Getenv(envShardChecks)
	if list == "" {
		return nil, nil
	}
	fd, err := strconv.Atoi(os.Getenv(envShardStream))
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s is set but %s names no inherited file descriptor", envShardChecks, envShardStream)
	}
	syscall.CloseOnExec(fd) // the SUT the child starts must not hold the parent's pipe open
	return &childShard{checks: strings.Split(list, ","), stream: os.NewFile(uintptr(fd), "shard-stream")}, nil
}

// shardChildren are the child runs of a sharded run.
type shardChildren struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	live     *liveSummary      // nil until the parent's summary exists; checks wait in pending
	pending  types.SpecReports // checks finished before that
	suite    types.SpecReports // the children's failed suite nodes (not checks)
	problems []string
}

// startShardChildren starts one child run per shard after the first (the parent's own), each
// reporting into its own folder below out/shards. The children start with the parent, before
// its SUT answered: each asks its own SUT which transports it serves.
func startShardChildren(ctx context.Context, o runOptions, args []string, plan [][]string) (*shardChildren, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the kit's own binary for the run's shards: %w", err)
	}
	sc := &shardChildren{}
	for i := 1; i < len(plan); i++ {
		dir := filepath.Join(o.out, "shards", strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return sc, fmt.Errorf("report folder of shard %d: %w", i, err)
		}
		childArgs := append([]string{"run"}, args...)
		childArgs = append(childArgs, "--parallel=1", "--quiet", "--verbose=false", "--certify=false", "--sign-key=",
			"--out", dir, "--keys-file", o.keysFile)
		r, w, err := os.Pipe()
		if err != nil {
			return sc, fmt.Errorf("shard %d: %w", i, err)
		}
		cmd := exec.CommandContext(ctx, self, childArgs...)
		cmd.Env = append(os.Environ(), envShardChecks+"="+strings.Join(plan[i], ","), envShardStream+"=3", envShardOf+"="+o.runID)
		cmd.ExtraFiles = []*os.File{w}
		// Stopped like the parent was: the child removes its containers before it exits.
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 90 * time.Second
		var console bytes.Buffer
		cmd.Stdout, cmd.Stderr = &console, &console
		if err := cmd.Start(); err != nil {
			r.Close()
			w.Close()
			return sc, fmt.Errorf("starting shard %d: %w", i, err)
		}
		w.Close()
		sc.wg.Add(1)
		go func(i int) {
			defer sc.wg.Done()
			sc.read(r)
			r.Close()
			err := cmd.Wait()
			if console.Len() > 0 {
				_ = os.WriteFile(filepath.Join(dir, "console.log"), console.Bytes(), 0o644)
			}
			if code := cmd.ProcessState.ExitCode(); code != exitPassed && code != exitFailed && code != exitIncomplete {
				sc.mu.Lock()
				sc.problems = append(sc.problems, fmt.Sprintf("shard %d (%s) ended with exit %d (%v): %s", i, dir, code, err, strings.TrimSpace(tailString(console.String(), 2000))))
				sc.mu.Unlock()
			}
		}(i)
	}
	return sc, nil
}

// attach hands the children's checks to the parent's summary from now on, those finished so
// far first.
func (sc *shardChildren) attach(live *liveSummary) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.live = live
	for _, sr := range sc.pending {
		live.add(sr)
	}
	sc.pending = nil
}

// read takes a child's finished checks off its stream until the child closes it.
func (sc *shardChildren) read(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var sr types.SpecReport
			jerr := json.Unmarshal(line, &sr)
			sr = relayed(sr)
			sc.mu.Lock()
			switch {
			case jerr != nil:
				sc.problems = append(sc.problems, fmt.Sprintf("a shard handed an unreadable check report: %v", jerr))
			case sr.LeafNodeType != types.NodeTypeIt:
				sc.suite = append(sc.suite, sr)
			case sc.live == nil:
				sc.pending = append(sc.pending, sr)
			default:
				sc.live.add(sr)
			}
			sc.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// relayed makes the report entries of a check read from a child write the very JSON the child
// wrote: read back, an entry's value is generic (maps with sorted keys, float64 numbers), and
// Ginkgo would write that, not the child's bytes, so the evidence digests would no longer hold.
func relayed(sr types.SpecReport) types.SpecReport {
	entries := slices.Clone(sr.ReportEntries)
	for i, e := range entries {
		if e.Value.AsJSON != "" {
			entries[i].Value = types.WrapEntryValue(relayedValue{json: json.RawMessage(e.Value.AsJSON), text: e.Value.Representation})
		}
	}
	sr.ReportEntries = entries
	return sr
}

// relayedValue is a report entry's value as a child wrote it: the same JSON, the same text.
type relayedValue struct {
	json json.RawMessage
	text string
}

func (v relayedValue) MarshalJSON() ([]byte, error) { return v.json, nil }
func (v relayedValue) String() string               { return v.text }

// wait waits for every child and returns their failed suite nodes and what went wrong with
// the children themselves (a child that could not run: its checks stay "not run").
func (sc *shardChildren) wait() (types.SpecReports, []string) {
	sc.wg.Wait()
	return sc.suite, sc.problems
}

// streamSpec hands one finished check (or failed suite node) to the parent.
func (c *childShard) streamSpec(sr types.SpecReport) {
	b, err := json.Marshal(sr)
	if err != nil {
		return
	}
	_, _ = c.stream.Write(append(b, '\n'))
}

// mergeShards is the run's one report: the parent's own Ginkgo report with every check the
// children ran (as live holds them) in place of the parent's unrun entries for those checks.
func mergeShards(own types.Report, checks types.SpecReports, suite types.SpecReports) types.Report {
	ran := map[string]bool{}
	for _, sr := range checks {
		ran[report.TestID(sr.Labels())] = true
	}
	var specs types.SpecReports
	for _, sr := range own.SpecReports {
		if sr.LeafNodeType == types.NodeTypeIt && ran[report.TestID(sr.Labels())] {
			continue
		}
		specs = append(specs, sr)
	}
	own.SpecReports = append(append(specs, checks...), suite...)
	return own
}
