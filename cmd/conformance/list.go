package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/report"
	"github.com/konform/konform/suites/check"
)

// listedCheck is one compiled-in conformance check.
type listedCheck struct {
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Title    string   `json:"title"`
	Labels   []string `json:"labels"`
	Level    string   `json:"level"`
	Profiles []string `json:"profiles"`
	// Transport is the transport the check needs ("" for none: it judges every one tested).
	Transport string   `json:"transport,omitempty"`
	Defects   []string `json:"defects"`
	Clause    string   `json:"clause"`
	// Quote is the source's words that fix the level; Basis says whether a public source or
	// the kit's decision fixes the expectation.
	Quote    string            `json:"quote,omitempty"`
	Basis    string            `json:"basis"`
	Decision string            `json:"decision,omitempty"`
	Expect   *catalogue.Expect `json:"expect,omitempty"`
}

// withRequirement fills the check's catalogue fields.
func (c *listedCheck) withRequirement(req catalogue.Requirement) {
	c.Level, c.Profiles, c.Defects, c.Title = req.Level, req.Profiles, req.DefectNames(), req.Title
	c.Transport = req.Needs()
	c.Clause = req.Clause.Document + " — " + req.Clause.Section
	c.Quote, c.Basis, c.Decision, c.Expect = req.Clause.Quote, req.Basis, req.Decision, req.Expect
}

// writeTable prints per check a line and the clause it enforces and, for a rejection check, the
// problem it expects; an expectation no public source fixes is marked "kit decision".
func writeTable(w io.Writer, checks []listedCheck) {
	for _, c := range checks {
		fmt.Fprintf(w, "%-11s %-6s %-12s %-20s %s\n", c.ID, c.Level, basisMark(c.Basis), strings.Join(c.Profiles, ","), c.Title)
		fmt.Fprintf(w, "%-11s clause: %s\n", "", c.Clause)
		if e := c.Expect; e != nil {
			fmt.Fprintf(w, "%-11s expects %s %s instance %q (%s)\n", "", e.Event, e.ProblemType, e.Instance, basisMark(e.Basis))
		}
	}
}

func basisMark(basis string) string {
	if basis == catalogue.BasisKitDecision {
		return "kit decision"
	}
	return basis
}

// cmdList prints every compiled-in check (a Ginkgo dry run) with its catalogue entry, and
// fails when a spec has no catalogue entry or an entry has no spec.
func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("list", "list [--profile P[,P…]] [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	profiles := fs.String("profile", "", "only the checks of these comma-separated `PROFILES`")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return helpOrUsage(err)
	}
	only := map[string]bool{}
	for _, p := range strings.Split(*profiles, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !slices.Contains(catalogue.Profiles, p) {
			fmt.Fprintf(stderr, "conformance list: unknown profile %q (known: %s)\n", p, strings.Join(catalogue.Profiles, ", "))
			return exitUsage
		}
		only[p] = true
	}
	var captured types.Report
	ginkgo.ReportAfterSuite("konform list", func(r ginkgo.Report) { captured = r })
	check.Register()
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.DryRun = true
	reporterConfig.Succinct = true
	reporterConfig.NoColor = true
	formatter.ColorableStdOut = io.Discard // a dry run's progress line is noise here
	ginkgo.RunSpecs(failRecorder{}, "Konform conformance (list)", suiteConfig, reporterConfig)

	cat := catalogue.Builtin()
	var checks []listedCheck
	seen := map[string]bool{}
	var problems []string
	for _, sr := range captured.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		id := report.TestID(sr.Labels())
		c := listedCheck{ID: id, Text: sr.FullText(), Labels: sr.Labels()}
		req, ok := cat.Lookup(id)
		if !ok {
			problems = append(problems, fmt.Sprintf("spec %q has no catalogue entry", sr.FullText()))
		} else {
			c.withRequirement(req)
		}
		if seen[id] {
			problems = append(problems, fmt.Sprintf("test ID %s is used by more than one spec", id))
		}
		seen[id] = true
		checks = append(checks, c)
	}
	for _, id := range cat.IDs() {
		if !seen[id] {
			problems = append(problems, fmt.Sprintf("catalogue entry %s has no spec", id))
		}
	}
	sort.Slice(checks, func(i, j int) bool { return checks[i].ID < checks[j].ID })
	if len(only) > 0 {
		checks = slices.DeleteFunc(checks, func(c listedCheck) bool {
			return !slices.ContainsFunc(c.Profiles, func(p string) bool { return only[p] })
		})
	}
	if *asJSON {
		b, _ := json.MarshalIndent(map[string]any{"checks": checks, "problems": problems}, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		writeTable(stdout, checks)
		for _, p := range problems {
			fmt.Fprintf(stderr, "PROBLEM: %s\n", p)
		}
	}
	if len(problems) > 0 {
		return exitFailed
	}
	return exitPassed
}
