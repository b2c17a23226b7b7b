package report

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ConsoleSafe returns s fit for one line of a console: control characters, non-printing runes
// and invalid UTF-8 are escaped (\n, \r, \t, \x1b for ASCII controls, \u0085 or \U000e0001 for
// other non-printing runes, \xff for a byte that is no UTF-8), printable Unicode (ä, ß, 漢) is
// kept. Whatever the SUT produced passes through it before it reaches a terminal; files of the
// report keep the raw bytes.
func ConsoleSafe(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !unicode.IsPrint(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += n
	}
	return b.String()
}

// ConsoleBlock returns s fit for several console lines: every line escaped as by ConsoleSafe,
// the line breaks kept (a CR before a line break dropped), each line after the first indented.
func ConsoleBlock(s, indent string) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	for i, l := range lines {
		lines[i] = ConsoleSafe(strings.TrimSuffix(l, "\r"))
	}
	return strings.Join(lines, "\n"+indent)
}

// Tail returns at most the last n lines of b, and how many lines it left off before them.
func Tail(b []byte, n int) (string, int) {
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n"), 0
	}
	return strings.Join(lines[len(lines)-n:], "\n"), len(lines) - n
}

// Timestamp is how the kit writes a point in time: RFC 3339 (ISO 8601) in UTC, to the second.
func Timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// UseColor reports whether a console on w takes colour: w is a terminal, NO_COLOR is unset or
// empty and TERM is not "dumb". A file or a pipe never gets an escape code.
func UseColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Console prints a run on a terminal or into a CI log: the header, one line per check as it
// finishes, the summary. Colour, when on, marks only the state and verdict words.
type Console struct {
	W     io.Writer
	Color bool
}

// Header prints what is run against what, and when it started.
func (c Console) Header(m Meta) {
	fmt.Fprintf(c.W, "Konform %s — SUT contract v%s — runtime %s\n", m.KitVersion, m.ContractVersion, m.Runtime)
	fmt.Fprintf(c.W, "SUT:      %s\n", ConsoleSafe(m.SUT))
	fmt.Fprintf(c.W, "profiles: %s\n", strings.Join(m.Profiles, ", "))
	if m.LabelFilter != "" {
		fmt.Fprintf(c.W, "filter:   %s\n", ConsoleSafe(m.LabelFilter))
	}
	fmt.Fprintf(c.W, "started:  %s\n", Timestamp(m.StartedAt))
}

// Progress prints the line of the i-th of n checks, once it finished.
func (c Console) Progress(i, n int, v Verdict) {
	line := fmt.Sprintf("[%d/%d] %-11s %s %5.1fs", i, n, v.ID, c.state(v.Verdict, fmt.Sprintf("%-9s", v.Verdict)), v.Seconds)
	if v.Reason != "" {
		line += " " + ConsoleSafe(v.Reason)
	}
	fmt.Fprintln(c.W, line)
}

// Summary prints every check that did not pass, the counts, the verdict and the report files.
func (c Console) Summary(s Summary) {
	fmt.Fprintln(c.W)
	for _, v := range s.Verdicts {
		if v.Verdict == Passed {
			continue
		}
		fmt.Fprintf(c.W, "  %s %-6s %-11s %s: %s\n", c.state(v.Verdict, fmt.Sprintf("%-9s", strings.ToUpper(v.Verdict))), v.Level, v.ID, ConsoleSafe(v.Title), ConsoleSafe(v.Reason))
	}
	for _, e := range s.SuiteErrors {
		fmt.Fprintf(c.W, "  SUITE ERROR %s\n", ConsoleSafe(e))
	}
	fmt.Fprintf(c.W, "MUST:   %s\n", s.Must)
	if s.Should.Total() > 0 {
		fmt.Fprintf(c.W, "SHOULD: %s (reported beside the verdict)\n", s.Should)
	}
	if !s.Meta.FinishedAt.IsZero() {
		fmt.Fprintf(c.W, "finished: %s (%s)\n", Timestamp(s.Meta.FinishedAt), s.Meta.FinishedAt.Sub(s.Meta.StartedAt).Round(100*time.Millisecond))
	}
	fmt.Fprintf(c.W, "verdict: %s\n", c.state(s.Verdict, strings.ToUpper(s.Verdict)))
	for _, f := range s.Files {
		fmt.Fprintf(c.W, "report: %s\n", f)
	}
}

// state colours a state or verdict word (already padded) by what it means.
func (c Console) state(state, word string) string {
	if !c.Color {
		return word
	}
	code := ""
	switch strings.ToLower(strings.TrimSpace(state)) {
	case Passed:
		code = "32" // green
	case Failed:
		code = "31" // red
	case Skipped, NotRun, Incomplete:
		code = "33" // yellow
	case KitError, Error:
		code = "35" // magenta
	default:
		return word
	}
	trimmed := strings.TrimRight(word, " ")
	return "\x1b[1;" + code + "m" + trimmed + "\x1b[0m" + word[len(trimmed):]
}

// Print writes the console summary of a finished run: the header and the summary.
func Print(w io.Writer, s Summary) {
	c := Console{W: w}
	c.Header(s.Meta)
	c.Summary(s)
}
