package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// gfmCells splits a table row the way GitHub's table parser does: a backslash escapes the
// character after it, an unescaped `|` ends a cell; the leading and trailing pipes frame the row.
func gfmCells(t *testing.T, row string) []string {
	t.Helper()
	if !strings.HasPrefix(row, "| ") || !strings.HasSuffix(row, " |") {
		t.Fatalf("row not framed by pipes: %q", row)
	}
	var cells []string
	var cur strings.Builder
	body := row[1 : len(row)-1]
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\' && i+1 < len(body):
			cur.WriteByte(c)
			cur.WriteByte(body[i+1])
			i++
		case c == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

func TestCellKeepsTextInsideItsCell(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "probe answers 200", "probe answers 200"},
		{"pipe", "a|b", `a\|b`},
		{"escaped pipe stays escaped", `a\|b`, `a\\\|b`},
		{"trailing backslash", `C:\`, `C:\\`},
		{"newlines", "first\nsecond\r\nthird\rfourth", "first second third fourth"},
		{"unicode line breaks", "a\u2028b\u2029c\u0085d", "a b c d"},
		{"tabs and runs of spaces", "a\t\t b   c", "a b c"},
		{"trimmed", "  \n x \n ", "x"},
		{"control bytes", "a\x00b\x1bc\x7fd", "a b c d"},
		{"invalid UTF-8", "a\xff\xfeb", "a\uFFFDb"},
		{"bidi override", "abc\u202Eevil\u202C", "abc evil"},
		{"html", `<img src=x onerror=alert(1)> & </td>`, "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;/td&gt;"},
		{"markdown", "*bold* _it_ `code` [link](http://x) ~~s~~ #1", `\*bold\* \_it\_ \` + "`" + `code\` + "`" + ` \[link\](http://x) \~\~s\~\~ \#1`},
		{"table row injection", "x |\n| --- |\n| y", `x \| \| --- \| \| y`},
		{"umlauts", "Straße Ölmühle", "Straße Ölmühle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cell(tc.in)
			if got != tc.want {
				t.Errorf("cell(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if cells := gfmCells(t, "| "+got+" |"); len(cells) != 1 {
				t.Errorf("cell(%q) = %q splits into %d cells", tc.in, got, len(cells))
			}
		})
	}
	long := cell(strings.Repeat("ä|", 1000))
	if !utf8.ValidString(long) || !strings.HasSuffix(long, "…") || utf8.RuneCountInString(long) > 2*maxCell+1 {
		t.Errorf("a long text is not cut to %d characters: %d runes", maxCell, utf8.RuneCountInString(long))
	}
}

func TestMarkdownVerdictTable(t *testing.T) {
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	s := Summary{
		Meta: Meta{KitVersion: "0.1.0", ContractVersion: "1.0", Runtime: "docker", SUT: "image vendor|app:1\n<b>",
			Profiles: []string{"smoke", "ingest"}, StartedAt: start, FinishedAt: start.Add(90 * time.Second)},
		Verdict: Failed,
		Must:    Counts{Passed: 2, Failed: 1, NotRun: 1},
		Should:  Counts{Skipped: 1},
		Verdicts: []Verdict{
			{ID: "SM-PRB-010", Level: "MUST", Title: "probe answers", Verdict: Passed, Seconds: 1.25},
			{ID: "SM-DST-030", Level: "SHOULD", Title: "restart", Verdict: Skipped, Reason: "cannot restart"},
			{ID: "IN-FLD-010", Level: "MUST", Title: "fields arrive", Verdict: Failed, Seconds: 3,
				Message: "field | Name differs:\nwant \"Müller\"\ngot \"M\xfcller\""},
			{ID: "SM-TOK-020", Level: "MUST", Title: "token", Verdict: Passed, Seconds: 0.5},
			{ID: "FC-RCV-070", Level: "MUST", Title: "exactly once", Verdict: NotRun, Reason: "gated: the probe failed"},
		},
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Log(out)
	if !strings.HasPrefix(out, "## Konform conformance: ❌ failed\n") {
		t.Errorf("heading: %q", strings.SplitN(out, "\n", 2)[0])
	}
	for _, want := range []string{"kit 0.1.0", "SUT contract v1.0", "runtime docker", `SUT image vendor\|app:1 &lt;b&gt;`, "profiles smoke, ingest",
		"| **MUST** | 2 | 1 | 0 | 1 | 0 | 4 |", "| SHOULD | 0 | 0 | 1 | 0 | 0 | 1 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	var rows [][]string
	inTable := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "| ID |"):
			inTable = true
		case inTable && strings.HasPrefix(line, "|---"):
		case inTable && strings.HasPrefix(line, "|"):
			rows = append(rows, gfmCells(t, line))
		case inTable:
			inTable = false
		}
	}
	if len(rows) != len(s.Verdicts) {
		t.Fatalf("%d table rows, want %d", len(rows), len(s.Verdicts))
	}
	wantOrder := []string{"IN-FLD-010", "FC-RCV-070", "SM-DST-030", "SM-PRB-010", "SM-TOK-020"}
	for i, r := range rows {
		if len(r) != 6 {
			t.Fatalf("row %d has %d cells, want 6: %q", i, len(r), r)
		}
		if r[0] != wantOrder[i] {
			t.Errorf("row %d is %s, want %s (failed and not run first)", i, r[0], wantOrder[i])
		}
	}
	if r := rows[0]; r[1] != "MUST" || r[2] != "❌ failed" || r[3] != "3.0" || r[4] != "fields arrive" || r[5] != `field \| Name differs:` {
		t.Errorf("failed row: %q", r)
	}
	if r := rows[1]; r[2] != "⏸️ not run" || r[3] != "" || r[5] != "gated: the probe failed" {
		t.Errorf("not-run row: %q", r)
	}
	if r := rows[3]; r[2] != "✅ passed" || r[3] != "1.2" && r[3] != "1.3" || r[5] != "" {
		t.Errorf("passed row: %q", r)
	}
	if !utf8.ValidString(out) {
		t.Error("the Markdown is not valid UTF-8")
	}
}

func TestMarkdownHeadings(t *testing.T) {
	for verdict, want := range map[string]string{
		Passed: "✅ passed", Failed: "❌ failed", Incomplete: "⚠️ incomplete", Error: "💥 error", "odd|one": `❔ odd\|one`,
	} {
		var buf bytes.Buffer
		if err := Markdown(&buf, Summary{Verdict: verdict, Meta: Meta{Interrupted: true, StoppedBecause: "probe\nnever answered"}}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.HasPrefix(out, "## Konform conformance: "+want+"\n") {
			t.Errorf("%s: heading %q", verdict, strings.SplitN(out, "\n", 2)[0])
		}
		for _, w := range []string{"interrupted", "probe never answered", "No check was selected."} {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q", verdict, w)
			}
		}
	}
}
