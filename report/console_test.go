package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/onsi/ginkgo/v2/types"
)

func TestConsoleSafe(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain ASCII", "plain ASCII"},
		{"Grüße, Straße, 漢字, 🙂", "Grüße, Straße, 漢字, 🙂"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"bell\a", `bell\x07`},
		{"two\nlines\r\n", `two\nlines\r\n`},
		{"tab\there", `tab\there`},
		{"del\x7f", `del\x7f`},
		{"bad \xff\xfe utf-8", `bad \xff\xfe utf-8`},
		{"cut \xc3", `cut \xc3`},
		{"C1 \u0085 next line", `C1 \u0085 next line`},
		{"bidi \u202eevil", `bidi \u202eevil`},
		{"tag \U000e0041", `tag \U000e0041`},
		{"", ""},
	}
	for _, c := range cases {
		got := ConsoleSafe(c.in)
		if got != c.want {
			t.Errorf("ConsoleSafe(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.ContainsAny(got, "\x1b\n\r\a") || !utf8.ValidString(got) {
			t.Errorf("ConsoleSafe(%q) = %q still holds a control character or invalid UTF-8", c.in, got)
		}
	}
}

func TestConsoleBlockKeepsLinesEscapesTheRest(t *testing.T) {
	got := ConsoleBlock("first \x1b[2J\r\nsecond ä\n\xff\n", "  | ")
	want := "first \\x1b[2J\n  | second ä\n  | \\xff"
	if got != want {
		t.Errorf("ConsoleBlock = %q, want %q", got, want)
	}
}

func TestTail(t *testing.T) {
	got, left := Tail([]byte("a\nb\nc\nd\n"), 2)
	if got != "c\nd" || left != 2 {
		t.Errorf("Tail = %q, %d; want \"c\\nd\", 2", got, left)
	}
	if got, left := Tail([]byte("a\n"), 5); got != "a" || left != 0 {
		t.Errorf("Tail of a short text = %q, %d", got, left)
	}
}

func TestFirstLineIsOneLineOfValidUTF8(t *testing.T) {
	long := strings.Repeat("ä", 200) + "\nsecond"
	got := FirstLine(long)
	if !utf8.ValidString(got) || strings.Contains(got, "\n") || !strings.HasSuffix(got, "…") {
		t.Errorf("FirstLine split a character or kept the line break: %q", got)
	}
	if got := FirstLine("windows line\r\nnext"); got != "windows line" {
		t.Errorf("FirstLine kept the CR: %q", got)
	}
}

func TestUseColorNeverOnAFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "console"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if UseColor(f) {
		t.Error("colour on a file")
	}
	if UseColor(&bytes.Buffer{}) {
		t.Error("colour on a buffer")
	}
	t.Setenv("NO_COLOR", "1")
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if UseColor(tty) {
			t.Error("NO_COLOR is set, yet colour on a terminal")
		}
	}
}

// TestConsoleWithoutColorHasNoEscape: header, progress and summary of a run, with a SUT that
// writes escape sequences into its failure messages, hold no ESC byte and no line break inside
// a check's line.
func TestConsoleWithoutColorHasNoEscape(t *testing.T) {
	start := time.Date(2026, 12, 2, 14, 44, 15, 123, time.FixedZone("CET", 3600))
	meta := Meta{KitVersion: "0.1.0", ContractVersion: "1", Runtime: "process", SUT: "image evil\x1b]0;title\a:1", Profiles: []string{"smoke"},
		StartedAt: start, FinishedAt: start.Add(3 * time.Second)}
	sr := spec("SM-TOK-020", types.SpecStateFailed, true, "the SUT said \x1b[2J\x1b[31mcleared\nsecond line \xff")
	s := Summarise(types.Report{SpecReports: types.SpecReports{sr}}, meta, []string{"SM-TOK-020", "SM-PRB-010"})
	var b bytes.Buffer
	c := Console{W: &b}
	c.Header(meta)
	for i, v := range s.Verdicts {
		c.Progress(i+1, len(s.Verdicts), v)
	}
	c.Summary(s)
	out := b.String()
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, '\a') || !utf8.ValidString(out) {
		t.Fatalf("console holds an escape, a bell or invalid UTF-8:\n%q", out)
	}
	if !strings.Contains(out, "started:  2026-12-02T13:44:15Z") || !strings.Contains(out, "finished: 2026-12-02T13:44:18Z") {
		t.Errorf("times are not RFC 3339 in UTC:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "SM-TOK-020") && !strings.Contains(l, `\x1b[2J\x1b[31mcleared`) {
			t.Errorf("the SUT's bytes are not shown escaped: %q", l)
		}
		if strings.Contains(l, "second line") {
			t.Errorf("a check's line broke: %q", l)
		}
	}
	b.Reset()
	Console{W: &b, Color: true}.Progress(1, 1, Verdict{ID: "SM-TOK-020", Verdict: Failed})
	if !strings.Contains(b.String(), "\x1b[1;31mfailed\x1b[0m") {
		t.Errorf("colour on, yet the state word is not coloured: %q", b.String())
	}
}

func TestGatedReasonIsOneLine(t *testing.T) {
	meta := Meta{StoppedBecause: "SM-PRB-010 failed: the SUT exited\n--- reference output ---\nline 1\nline 2"}
	s := Summarise(types.Report{}, meta, []string{"SM-TOK-020", "SM-DST-030"})
	for _, v := range s.Verdicts {
		if v.Reason != GatedPrefix+"SM-PRB-010 failed: the SUT exited" {
			t.Errorf("%s: reason %q, want the first line of the cause", v.ID, v.Reason)
		}
	}
}
