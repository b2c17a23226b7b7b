package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxCell bounds the text of one Markdown table cell, in runes; the full message stays in
// summary.json and the JUnit report.
const maxCell = 300

// verdictMarks puts a sign before a verdict or a check state, for readers who scan.
var verdictMarks = map[string]string{
	Passed:     "✅",
	Failed:     "❌",
	Incomplete: "⚠️",
	Error:      "💥",
	Skipped:    "⏭️",
	NotRun:     "⏸️",
	KitError:   "💥",
}

// stateRank orders the table: what needs attention first.
var stateRank = map[string]int{Failed: 0, KitError: 1, NotRun: 2, Skipped: 3, Passed: 5}

// Markdown writes s as GitHub-flavoured Markdown (a CI job's step summary, a merge-request
// note): the verdict and the run's meta, the MUST and SHOULD counts, and one table row per
// check, the checks that failed or did not run first. Every text that comes from the run —
// the SUT's name, failure messages that quote the SUT — is escaped so it stays inside its cell.
func Markdown(w io.Writer, s Summary) error {
	bw := bufio.NewWriter(w)
	m := s.Meta
	fmt.Fprintf(bw, "## Konform conformance: %s %s\n\n", mark(s.Verdict), cell(s.Verdict))
	meta := []string{
		"kit " + cell(m.KitVersion),
		"SUT contract v" + cell(m.ContractVersion),
		"runtime " + cell(m.Runtime),
		"SUT " + cell(m.SUT),
		"profiles " + cell(strings.Join(m.Profiles, ", ")),
	}
	if m.LabelFilter != "" {
		meta = append(meta, "label filter "+cell(m.LabelFilter))
	}
	fmt.Fprintf(bw, "%s\n\n", strings.Join(meta, " · "))
	if !m.StartedAt.IsZero() && !m.FinishedAt.IsZero() {
		fmt.Fprintf(bw, "Ran %s – %s (UTC).\n\n", m.StartedAt.UTC().Format("2006-01-02 15:04:05"), m.FinishedAt.UTC().Format("15:04:05"))
	}
	if m.Interrupted {
		fmt.Fprint(bw, "**The run was interrupted**: the checks it did not reach are listed as not run.\n\n")
	}
	if m.StoppedBecause != "" {
		fmt.Fprintf(bw, "**The run stopped before its checks**: %s\n\n", cell(m.StoppedBecause))
	}
	fmt.Fprint(bw, "The verdict rests on the MUST checks; SHOULD checks are reported beside it.\n\n")
	fmt.Fprint(bw, "| | passed | failed | skipped | not run | kit errors | total |\n")
	fmt.Fprint(bw, "|---|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range []struct {
		name string
		c    Counts
	}{{"**MUST**", s.Must}, {"SHOULD", s.Should}} {
		c := row.c
		fmt.Fprintf(bw, "| %s | %d | %d | %d | %d | %d | %d |\n", row.name, c.Passed, c.Failed, c.Skipped, c.NotRun, c.KitErrors, c.Total())
	}
	fmt.Fprintln(bw)
	if len(s.SuiteErrors) > 0 {
		fmt.Fprint(bw, "Failures outside any check (the kit's set-up or tear-down):\n\n")
		for _, e := range s.SuiteErrors {
			fmt.Fprintf(bw, "- %s\n", cell(FirstLine(e)))
		}
		fmt.Fprintln(bw)
	}
	if len(s.Verdicts) == 0 {
		fmt.Fprint(bw, "No check was selected.\n")
		return bw.Flush()
	}
	fmt.Fprint(bw, "| ID | level | state | seconds | title | reason |\n")
	fmt.Fprint(bw, "|---|---|---|---:|---|---|\n")
	for _, v := range ordered(s.Verdicts) {
		fmt.Fprintf(bw, "| %s | %s | %s %s | %s | %s | %s |\n",
			cell(v.ID), cell(v.Level), mark(v.Verdict), cell(v.Verdict), seconds(v), cell(v.Title), cell(reasonLine(v)))
	}
	return bw.Flush()
}

// ordered returns the verdicts with the ones that need attention first: failed, kit errors,
// not run, skipped, then passed; MUST before SHOULD within a state; by ID within those.
func ordered(vs []Verdict) []Verdict {
	out := append([]Verdict(nil), vs...)
	rank := func(v Verdict) int {
		if r, ok := stateRank[v.Verdict]; ok {
			return r
		}
		return 4 // a state this kit version does not know: after the known non-passes
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if (a.Level == "SHOULD") != (b.Level == "SHOULD") {
			return a.Level != "SHOULD"
		}
		return a.ID < b.ID
	})
	return out
}

func mark(state string) string {
	if m, ok := verdictMarks[state]; ok {
		return m
	}
	return "❔"
}

func seconds(v Verdict) string {
	if v.Seconds == 0 && (v.Verdict == NotRun || v.Verdict == Skipped) {
		return ""
	}
	return fmt.Sprintf("%.1f", v.Seconds)
}

// reasonLine is the one line that says why a check did not pass: its reason, else the first
// line of its message.
func reasonLine(v Verdict) string {
	if v.Reason != "" {
		return v.Reason
	}
	return FirstLine(v.Message)
}

// cell makes s safe inside one cell of a GitHub-flavoured Markdown table (and inline anywhere
// else): invalid UTF-8 becomes U+FFFD; line breaks, tabs, control and bidirectional-override
// characters become spaces; `|` and the characters that start Markdown or HTML markup are
// escaped, so the text renders as it is written and never ends its cell, its row or the table;
// the result is trimmed and at most maxCell runes long.
func cell(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	space := false // collapse runs of whitespace into one space
	for _, r := range s {
		if n >= maxCell {
			b.WriteString("…")
			break
		}
		if blank(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\\', '|', '`', '*', '_', '[', ']', '~', '#':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

// blank reports the characters Cell turns into a space: whitespace (line breaks included),
// control characters and the bidirectional controls that could reorder what a reader sees.
func blank(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return false
	case r <= 0x20, r >= 0x7f && r <= 0xa0:
		return true
	case r == 0x2028, r == 0x2029, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0xfeff:
		return true
	}
	return false
}
