package htmlreport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/report"
	"github.com/konform/konform/report/htmlreport"
	"github.com/konform/konform/specs/specstest"
)

// The defect the browser test runs the reference with, and what it fails: one ingest check,
// with a go-cmp diff.
const (
	browserDefect   = "drop-optional-element"
	browserProfiles = "smoke,ingest"
)

// TestBrowser renders report.html from a real run against the built-in reference with a
// defect, opens it from file:// in headless Chromium and checks what a reader sees: the verdict
// and the per-profile counts of summary.json at the top, the failed check's diff and exchanges
// when expanded, the filters, the print view, and that the page made no network request. The
// page and screenshots stay in $KONFORM_TEST_ARTIFACTS (else a temporary folder it logs).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test makes a real run (about a minute)")
	}
	chromium := chromiumPath(t)
	specsDir := specstest.Dir(t)
	root := moduleRoot(t)
	art := artifacts(t)

	bin := filepath.Join(t.TempDir(), "conformance")
	build := exec.Command("go", "build", "-o", bin, "./cmd/conformance")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/conformance: %v\n%s", err, out)
	}

	out := filepath.Join(art, "run")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, bin, "run", "--runtime=process", "--schemas", specsDir, "--out", out,
		"--sut-poll-interval", "2s", "--profile", browserProfiles, "--reference-defects", browserDefect)
	run.Dir = art
	log, err := run.CombinedOutput()
	if err := os.WriteFile(filepath.Join(art, "run.log"), log, 0o644); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("conformance run with defect %s: want exit 1 (failed), got %v\n%s", browserDefect, err, log)
	}
	// report DIR renders the page from the run's JSON (run may have written it already).
	if b, err := exec.Command(bin, "report", out).CombinedOutput(); err != nil {
		t.Fatalf("conformance report %s: %v\n%s", out, err, b)
	}
	page := filepath.Join(out, htmlreport.File)
	fi, err := os.Stat(page)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %s (%d bytes)", page, fi.Size())

	s, err := report.ReadSummary(filepath.Join(out, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	failedID, diffLine := failedWithDiff(t, out, s)

	// The browser.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1600), chromedp.UserDataDir(t.TempDir()))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	var mu sync.Mutex
	var requests []string
	record := func(ev any) {
		var u string
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			u = e.Request.URL
		case *network.EventWebSocketCreated:
			u = e.URL
		default:
			return
		}
		mu.Lock()
		requests = append(requests, u)
		mu.Unlock()
	}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf), chromedp.WithListener(record))
	defer bcancel()
	bctx, tcancel := context.WithTimeout(bctx, 2*time.Minute)
	defer tcancel()

	url := "file://" + filepath.ToSlash(page)
	start := time.Now()
	do(t, bctx, "opening "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#verdict")))
	t.Logf("page loaded in %s", time.Since(start).Round(time.Millisecond))
	verdict := eval[string](t, bctx, `document.getElementById("verdict").dataset.verdict`)
	verdictWord := eval[string](t, bctx, `document.querySelector("#verdict .verdict-word").textContent`)
	heading := eval[string](t, bctx, `document.querySelector("h1").textContent`)
	digest := eval[string](t, bctx, `(document.getElementById("sut-digest") || {}).textContent || ""`)
	profiles := eval[[]profileCount](t, bctx, `Array.from(document.querySelectorAll("#profiles tbody tr")).map(r => ({
		name: r.dataset.profile, passed: +r.dataset.passed, total: +r.dataset.total,
		text: r.querySelector("td.count").textContent, visible: r.checkVisibility()}))`)
	shot(t, bctx, art, "top.png")

	// The top: the verdict and the per-profile counts of summary.json.
	words := map[string]string{report.Passed: "bestanden", report.Failed: "nicht bestanden", report.Incomplete: "unvollständig", report.Error: "Fehler des Prüfwerkzeugs"}
	if verdict != s.Verdict || strings.TrimSpace(verdictWord) != words[s.Verdict] {
		t.Errorf("verdict on the page %q (%q), summary.json says %q", verdict, verdictWord, s.Verdict)
	}
	if !strings.Contains(heading, s.Meta.Product) || !strings.Contains(heading, s.Meta.ProductVersion) || digest != s.Meta.SUTDigest {
		t.Errorf("the top shows %q and digest %q; summary.json names %q %q, digest %q", heading, digest, s.Meta.Product, s.Meta.ProductVersion, s.Meta.SUTDigest)
	}
	if s.Verdict != report.Failed {
		t.Errorf("the run with defect %s did not fail: %s", browserDefect, s.Verdict)
	}
	want := map[string][2]int{}
	for _, v := range s.Verdicts {
		for _, p := range v.Profiles {
			c := want[p]
			c[1]++
			if v.Verdict == report.Passed {
				c[0]++
			}
			want[p] = c
		}
	}
	if len(profiles) != len(s.Meta.Profiles) {
		t.Errorf("the page shows %d profiles, the run has %v", len(profiles), s.Meta.Profiles)
	}
	for _, p := range profiles {
		w, ok := want[p.Name]
		if !ok || p.Passed != w[0] || p.Total != w[1] || strings.TrimSpace(p.Text) != fmt.Sprintf("%d von %d", w[0], w[1]) || !p.Visible {
			t.Errorf("profile %s on the page: %d of %d (%q, visible %v); summary.json: %d of %d", p.Name, p.Passed, p.Total, p.Text, p.Visible, w[0], w[1])
		}
	}

	// The failed check: open by default; closed, its diff is hidden; expanded, its diff and,
	// one click further, an exchange with its headers show.
	check := "#check-" + failedID
	isOpen := fmt.Sprintf(`document.querySelector(%q).open`, check)
	if !eval[bool](t, bctx, isOpen) {
		t.Errorf("the failed check %s is not open by default", failedID)
	}
	do(t, bctx, "closing "+failedID, chromedp.Click(chromedp.CSS(check+" > summary")))
	if open, diff := eval[bool](t, bctx, isOpen), eval[visibility](t, bctx, visibleJS(check+" pre.diff")); open || diff.Visible {
		t.Errorf("clicking the failed check's title does not close it (open %v, diff visible %v)", open, diff.Visible)
	}
	do(t, bctx, "expanding "+failedID, chromedp.Click(chromedp.CSS(check+" > summary")), chromedp.WaitVisible(chromedp.CSS(check+" pre.diff")))
	diff := eval[visibility](t, bctx, visibleJS(check+" pre.diff"))
	diffText := eval[string](t, bctx, fmt.Sprintf(`document.querySelector(%q).textContent`, check+" pre.diff"))
	if !diff.Visible || !strings.Contains(diffText, diffLine) {
		t.Errorf("expanded, %s shows its diff: visible %v; the page's diff lacks the report's line %q:\n%s", failedID, diff.Visible, diffLine, diffText)
	}
	if !diff.Coloured {
		t.Errorf("the diff's removed lines are not coloured")
	}
	ex := check + " details.ex"
	if eval[visibility](t, bctx, visibleJS(ex+" .ex-body")).Visible {
		t.Errorf("an exchange of %s is open before it is clicked", failedID)
	}
	do(t, bctx, "expanding an exchange of "+failedID,
		chromedp.ScrollIntoView(chromedp.CSS(ex+" > summary")),
		chromedp.Click(chromedp.CSS(ex+" > summary")),
		chromedp.WaitVisible(chromedp.CSS(ex+" .ex-body")))
	exchangeText := eval[string](t, bctx, fmt.Sprintf(`document.querySelector(%q).innerText`, ex))
	if !eval[visibility](t, bctx, visibleJS(ex+" .ex-body")).Visible || !strings.Contains(exchangeText, "Anfrage") || !strings.Contains(exchangeText, "Antwort") || !strings.Contains(exchangeText, "Content-Type") {
		t.Errorf("the expanded exchange of %s shows no request, response or headers:\n%.2000s", failedID, exchangeText)
	}
	do(t, bctx, "scrolling to the diff", chromedp.ScrollIntoView(chromedp.CSS(check)))
	shot(t, bctx, art, "failed-check.png")

	// The filters: unticking "bestanden" hides every passed check and leaves the others.
	passedBox := chromedp.CSS(`#filters input[data-state="passed"]`)
	do(t, bctx, "filtering", chromedp.ScrollIntoView(passedBox), chromedp.Click(passedBox))
	shown := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("details.check")).filter(c => c.checkVisibility()).map(c => c.dataset.id)`)
	do(t, bctx, "unfiltering", chromedp.Click(passedBox))
	var notPassed []string
	for _, v := range s.Verdicts {
		if v.Verdict != report.Passed {
			notPassed = append(notPassed, v.ID)
		}
	}
	if len(shown) == 0 || len(shown) != len(notPassed) || !contains(shown, failedID) {
		t.Errorf("without passed checks the page shows %v, want %v", shown, notPassed)
	}
	if n := eval[int](t, bctx, `Array.from(document.querySelectorAll("details.check")).filter(c => c.checkVisibility()).length`); n != len(s.Verdicts) {
		t.Errorf("after ticking \"bestanden\" again the page shows %d checks, want %d", n, len(s.Verdicts))
	}

	// The print view: no filters, every check with its details laid out; exchanges with their
	// request line unless opened on screen, all of them with "Austausche mitdrucken".
	printView := func() printView {
		t.Helper()
		if _, err := chromedp.Call(bctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			t.Fatalf("print media: %v", err)
		}
		v := eval[printView](t, bctx, `({
			filtersShown: document.getElementById("filters").checkVisibility(),
			hiddenDetails: Array.from(document.querySelectorAll("details.check .check-body, details.entries dl, details.clause-full p, details.inputs table")).filter(b => !b.checkVisibility()).length,
			shownExchanges: Array.from(document.querySelectorAll("details.ex .ex-body")).filter(b => b.checkVisibility()).length,
			exchanges: document.querySelectorAll("details.ex").length,
			openExchanges: document.querySelectorAll("details.ex[open]").length})`)
		if _, err := chromedp.Call(bctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
			t.Fatalf("screen media: %v", err)
		}
		return v
	}
	printed := printView()
	if printed.FiltersShown || printed.HiddenDetails > 0 || printed.ShownExchanges != printed.OpenExchanges || printed.OpenExchanges != 1 {
		t.Errorf("print view: filters shown %v, %d details closed; %d exchanges shown, want the %d opened on screen", printed.FiltersShown, printed.HiddenDetails, printed.ShownExchanges, printed.OpenExchanges)
	}
	do(t, bctx, "ticking Austausche mitdrucken", chromedp.ScrollIntoView(chromedp.CSS("#f-print-ex")), chromedp.Click(chromedp.CSS("#f-print-ex")))
	if printed := printView(); printed.ShownExchanges != printed.Exchanges || printed.Exchanges == 0 {
		t.Errorf("print view with Austausche mitdrucken: %d of %d exchanges shown", printed.ShownExchanges, printed.Exchanges)
	}

	// Nothing but the file itself (and data: URLs) was requested.
	mu.Lock()
	defer mu.Unlock()
	if len(requests) == 0 {
		t.Error("no request recorded at all: the network listener saw nothing, so it proves nothing")
	}
	for _, u := range requests {
		if !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s", u)
		}
	}
	t.Logf("requests: %d, all file: or data:", len(requests))
}

type profileCount struct {
	Name    string `json:"name"`
	Passed  int    `json:"passed"`
	Total   int    `json:"total"`
	Text    string `json:"text"`
	Visible bool   `json:"visible"`
}

type printView struct {
	FiltersShown   bool `json:"filtersShown"`
	HiddenDetails  int  `json:"hiddenDetails"`
	ShownExchanges int  `json:"shownExchanges"`
	Exchanges      int  `json:"exchanges"`
	OpenExchanges  int  `json:"openExchanges"`
}

type visibility struct {
	Visible  bool `json:"visible"`
	Coloured bool `json:"coloured"`
}

// visibleJS tells whether the element is visible (checkVisibility: not in a closed details, not
// display:none), and whether its first removed diff line has a
// background colour.
func visibleJS(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return {visible: false};
		const d = e.querySelector(".del");
		return {visible: e.checkVisibility(),
			coloured: !!d && getComputedStyle(d).backgroundColor !== "rgba(0, 0, 0, 0)"}; })()`, sel)
}

// failedWithDiff returns a failed check of the run and a removed line of its go-cmp diff, from
// ginkgo-report.json.
func failedWithDiff(t *testing.T, out string, s report.Summary) (string, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var rs []types.Report
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, v := range s.Verdicts {
		if v.Verdict == report.Failed {
			failed[v.ID] = true
		}
	}
	for _, r := range rs {
		for _, sr := range r.SpecReports {
			id := report.TestID(sr.Labels())
			if !failed[id] {
				continue
			}
			for _, e := range sr.ReportEntries {
				if !strings.Contains(e.Name, "-want +got") {
					continue
				}
				for _, l := range strings.Split(e.Value.Representation, "\n") {
					if strings.HasPrefix(l, "-") {
						return id, strings.TrimSpace(strings.TrimPrefix(l, "-"))
					}
				}
			}
		}
	}
	t.Fatalf("no failed check of the run with defect %s has a -want +got diff (failed: %v)", browserDefect, failed)
	return "", ""
}

// chromiumPath finds Debian's chromium; without it the test fails under CI=true and skips
// elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium not found (/usr/bin/chromium; Debian: apt-get install -y chromium): the browser test opens report.html in it"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// artifacts is the folder the run, the page and the screenshots stay in after the test.
func artifacts(t *testing.T) string {
	t.Helper()
	base := os.Getenv("KONFORM_TEST_ARTIFACTS")
	if base == "" {
		base = os.TempDir()
	} else if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(base, "htmlreport-browser-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("artifacts (run, report.html, screenshots): %s", dir)
	return dir
}

// do runs the steps in the browser, failing t with what it was doing.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %.80s: %v", expr, err)
	}
	return v
}

// shot writes a screenshot of the viewport into dir.
func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) == 0 {
		t.Errorf("screenshot %s is empty", name)
		return
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
