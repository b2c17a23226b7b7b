package htmlreport

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/report"
)

const hostile = `<script>alert(1)</script>"'&`

// fixture is a run with a failed check whose diff, message and exchanges carry what a hostile
// or broken SUT could send, and a passed one.
func fixture(t *testing.T) (report.Summary, types.Report) {
	t.Helper()
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	s := report.Summary{
		Meta: report.Meta{
			KitVersion: "1.2.3", KitRevision: "abc123", ContractVersion: "1", Runtime: "docker",
			SUT: "image example/fv:1", Profiles: []string{"smoke", "ingest"},
			StartedAt: start, FinishedAt: start.Add(83 * time.Second),
			Product: "Bauportal " + hostile, ProductVersion: "4.5", Vendor: "Beispiel GmbH",
			SUTBinding: "image", SUTImage: "example/fv:1", SUTDigest: "sha256:" + strings.Repeat("ab", 32),
			Standards: []report.Standard{{Name: "XBau", Version: "2.3.1"}},
		},
		Verdict: report.Failed,
		Must:    report.Counts{Passed: 1, Failed: 1},
		Should:  report.Counts{Passed: 1},
		Verdicts: []report.Verdict{
			{ID: "SM-PRB-010", Level: "MUST", Title: "probe answers", Profiles: []string{"smoke"}, Clause: "Konform SUT contract v1 — §3 probe", Verdict: report.Passed, Seconds: 0.2},
			{ID: "IN-FLD-060", Level: "MUST", Title: "optional elements", Profiles: []string{"ingest"}, Clause: "Konform SUT contract v1 (docs/sut-contract.md) — §3 fields", Verdict: report.Failed, Failure: report.FailureAssertion,
				Reason: "2 fields not stored " + hostile, Message: "2 fields not stored " + hostile + "\nbad bytes \xff\x00 here", Seconds: 3.44},
			{ID: "IN-FLD-070", Level: "SHOULD", Title: "stored fields", Profiles: []string{"ingest"}, Clause: "doc — sec", Verdict: report.Passed, Seconds: 1},
		},
	}
	ev := map[string]any{"exchanges": []recorder.Exchange{
		{Seq: 7, Actor: "fitconnect", Direction: "inbound", Method: "POST", URL: "/v1/submissions?x=" + hostile, Status: 201,
			ReqHeaders: map[string][]string{"Content-Type": {"application/json"}},
			ReqBody:    &recorder.Body{ContentType: "application/json", Size: 20, SHA256: "00", Pretty: "{\n  \"a\": \"" + hostile + "\"\n}"},
			RespBody: &recorder.Body{ContentType: "application/jose", Size: 900, SHA256: "11", Text: "eyJ.eyJ.sig",
				Decoded: []recorder.Decoded{{Path: "$", Form: "JWS", Header: json.RawMessage(`{"alg":"PS512"}`), Payload: json.RawMessage(`{"events":{"x":1}}`)}}}},
		{Seq: 8, Actor: "hkr", Direction: "inbound", Method: "GET", URL: "/long", Status: 503,
			RespBody: &recorder.Body{ContentType: "text/plain", Size: 100000, SHA256: "22", Text: strings.Repeat("ä", 50000)}},
	}}
	// Values as a run holds them before Ginkgo writes its JSON (TestWriteFromDir reads them back
	// from the JSON).
	entry := func(name string, v any) types.ReportEntry {
		return types.ReportEntry{Name: name, Value: types.WrapEntryValue(v)}
	}
	diff := "  map[string]string{\n- \t\"a/zusatz\": \"Hinterhaus " + hostile + "\",\n+ \t\"a/other\": \"x\",\n  }\n"
	r := types.Report{SpecReports: types.SpecReports{
		{LeafNodeType: types.NodeTypeIt, LeafNodeLabels: []string{"IN-FLD-060", "MUST", "ingest"}, NumAttempts: 1, State: types.SpecStateFailed,
			ReportEntries: types.ReportEntries{
				entry("clause", "IN-FLD-060 [MUST] full clause text"),
				entry("fields bg-0200-minimal", "0 fields compared"),
				entry("fields -want +got bg-0200-mehrere", diff),
				entry(report.EntryEvidence, ev),
			}},
		{LeafNodeType: types.NodeTypeIt, LeafNodeLabels: []string{"SM-PRB-010", "MUST", "smoke"}, NumAttempts: 1, State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{entry(report.EntryEvidence, map[string]any{"exchanges": []any{}})}},
	}}
	return s, r
}

func render(t *testing.T, s report.Summary, r types.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, s, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestRenderTop(t *testing.T) {
	s, r := fixture(t)
	out := render(t, s, r)
	for _, want := range []string{
		`<html lang="de">`,
		`<link rel="icon" href="data:,">`,
		`data-verdict="failed"`, `<span class="verdict-word">nicht bestanden</span>`,
		`Bauportal &lt;script&gt;alert(1)&lt;/script&gt;`, `4.5`, `Beispiel GmbH`,
		`sha256:abababab`, `an das Container-Abbild gebunden`,
		`2026-03-04T05:06:07Z`, `4. März 2026, 05:06 Uhr (UTC)`,
		`Konform <span id="kit-version">1.2.3</span>`, `abc123`,
		`<tr data-profile="ingest" data-passed="1" data-total="2">`, `<tr data-profile="smoke" data-passed="1" data-total="1">`,
		`<td>XBau</td><td>2.3.1</td>`,
		`hat 1 von 2 MUSS-Prüfungen nicht bestanden (IN-FLD-060)`,
		`die 1 SOLL-Prüfungen (1 bestanden) gehen nicht in das Ergebnis ein`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestRenderChecks(t *testing.T) {
	s, r := fixture(t)
	out := render(t, s, r)
	failed, passed := strings.Index(out, `id="check-IN-FLD-060"`), strings.Index(out, `id="check-SM-PRB-010"`)
	if failed < 0 || passed < 0 || failed > passed {
		t.Fatalf("the failed check is not listed before the passed one (%d, %d)", failed, passed)
	}
	if !regexp.MustCompile(`id="check-IN-FLD-060"[^>]* open>`).MatchString(out) {
		t.Error("the failed check is not open by default")
	}
	if regexp.MustCompile(`id="check-SM-PRB-010"[^>]* open>`).MatchString(out) {
		t.Error("the passed check is open by default")
	}
	for _, want := range []string{
		`<span class="level l-MUST">MUSS</span>`, `<span class="level l-SHOULD">SOLL</span>`,
		`<dd class="clause-doc">Konform SUT contract v1 (docs/sut-contract.md)</dd>`, `<dd class="clause-sec">§3 fields</dd>`,
		`nicht bestanden – Anforderung nicht erfüllt, 3,4 s`,
		`<span class="del">- 	&#34;a/zusatz&#34;: &#34;Hinterhaus &lt;script&gt;`,
		`<span class="add">&#43; 	&#34;a/other&#34;: &#34;x&#34;,</span>`,
		`fields -want &#43;got bg-0200-mehrere`,
		`IN-FLD-060 [MUST] full clause text`,
		`<code>fields bg-0200-minimal</code>`,
		`/v1/submissions?x=&lt;script&gt;`,
		`&#34;alg&#34;: &#34;PS512&#34;`, // the decoded JWS header, pretty
		`&#34;events&#34;: {`,
		`Gekürzt; der vollständig aufgezeichnete Inhalt steht in <code>ginkgo-report.json</code>.`,
		"bad bytes \uFFFD\\x00 here",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(out, hostile) || strings.Contains(out, "<script>alert") {
		t.Error("text from the SUT reaches the page unescaped")
	}
	if strings.Contains(out, "\xff") || strings.Contains(out, "\x00") {
		t.Error("invalid bytes reach the page")
	}
}

// The page loads nothing: no src, no stylesheet or script link, no url() in the CSS, no
// @import; the only link is the empty data: icon.
func TestRenderSelfContained(t *testing.T) {
	s, r := fixture(t)
	out := render(t, s, r)
	for _, re := range []string{`(?i)\ssrc\s*=`, `(?i)url\s*\(`, `(?i)@import`, `(?i)<link(?:[^>](?:[^d]|d[^a]))*?href="(?:https?:)?//`, `(?i)<(?:img|iframe|object|embed|video|audio|source)\b`} {
		if m := regexp.MustCompile(re).FindString(out); m != "" {
			t.Errorf("page may load something: %q", m)
		}
	}
	links := regexp.MustCompile(`<link[^>]*>`).FindAllString(out, -1)
	if len(links) != 1 || links[0] != `<link rel="icon" href="data:,">` {
		t.Errorf("links: %q", links)
	}
	if n := strings.Count(out, "<script"); n != 1 || !strings.Contains(out, "<script>(function") {
		t.Errorf("want exactly one inline script, found %d", n)
	}
	if !strings.Contains(out, `<form id="filters" class="filters" hidden>`) {
		t.Error("the filters are not hidden without script")
	}
}

func TestRenderBudget(t *testing.T) {
	s, r := fixture(t)
	s.Verdicts[1].Verdict = report.Passed // a passed check gets the small budget
	var exs []recorder.Exchange
	for i := range 400 {
		exs = append(exs, recorder.Exchange{Seq: int64(i), Actor: "fitconnect", Method: "GET", URL: "/x", Status: 200,
			RespBody: &recorder.Body{Size: 3000, SHA256: strings.Repeat("0", 60) + string(rune('a'+i%26)) + string(rune('a'+i/26)), Text: strings.Repeat("y", 3000)}})
	}
	r.SpecReports[0].ReportEntries[3].Value = types.WrapEntryValue(map[string]any{"exchanges": exs})
	out := render(t, s, r)
	if len(out) > 200<<10 {
		t.Errorf("400 exchanges of a passed check make %d bytes", len(out))
	}
	if !strings.Contains(out, "Austausche nur mit ihrer Anfragezeile") || !strings.Contains(out, "Aufgezeichnete Austausche (400)") {
		t.Error("the cut exchanges are not noted")
	}
}

func TestRenderIncompleteAndSelfDeclared(t *testing.T) {
	s := report.Summary{
		Meta:     report.Meta{KitVersion: "1", SUT: "https://fv.example", SUTBinding: "self-declared", Profiles: []string{"smoke"}},
		Verdict:  report.Incomplete,
		Must:     report.Counts{Passed: 1, NotRun: 1},
		Verdicts: []report.Verdict{{ID: "SM-PRB-010", Level: "MUST", Verdict: report.Passed, Profiles: []string{"smoke"}}, {ID: "SM-DST-030", Level: "MUST", Verdict: report.NotRun, Reason: "no restart command", Profiles: []string{"smoke"}}},
	}
	out := render(t, s, types.Report{})
	for _, want := range []string{"unvollständig", "selbst erklärt, nicht an einen Build gebunden", "1 von 2 wurden nicht ausgeführt oder übersprungen", "nicht ausgeführt (1)", "keinen Eintrag"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestWriteFromDir(t *testing.T) {
	dir := t.TempDir()
	s, r := fixture(t)
	if err := report.WriteSummary(filepath.Join(dir, report.SummaryFile), s); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal([]types.Report{r})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, report.JSONFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := WriteFromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, File) {
		t.Errorf("path %s", path)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte(`<span class="add">&#43; 	&#34;a/other&#34;`)) || !bytes.Contains(page, []byte("/v1/submissions?x=")) {
		t.Error("the page from the folder lacks the diff or the exchanges")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("the folder holds %d files, want summary, Ginkgo report and page", len(entries))
	}

	if _, err := WriteFromDir(t.TempDir()); err == nil {
		t.Error("a folder without summary.json renders")
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain äöü\n\tok": "plain äöü\n\tok",
		"a\x00b\x1bc":     `a\x00b\x1bc`,
		"x\xffy":          "x\uFFFDy",
		"rtl\u202eevil":   `rtl\u202eevil`,
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
