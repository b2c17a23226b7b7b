// Package htmlreport renders a run's report folder as report.html: one self-contained page in
// German for a procurement office and a municipality — the verdict, what it is bound to and what
// it proves at the top, every check with its clause, failure, go-cmp diff and the exchanges it
// rests on below. The page loads nothing: no script, style, font or image from elsewhere, so it
// opens from a USB stick.
package htmlreport

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/report"
)

// File is the report's name in the run's folder.
const File = "report.html"

// Limits that keep the page a size a browser and a printer handle for a run of every check.
// What they cut stays in ginkgo-report.json, which the page names where it cuts.
const (
	// maxBody bounds one body's text as shown, in bytes; maxBodyFailed for a check that did
	// not pass.
	maxBody       = 4 << 10
	maxBodyFailed = 16 << 10
	// budget bounds the headers and bodies shown per check, in bytes; budgetFailed for a check
	// that did not pass. Exchanges past it are listed with their request line only.
	budget       = 24 << 10
	budgetFailed = 384 << 10
	// maxCompact bounds the text of a body that is a compact JWS or JWE shown decoded.
	maxCompact = 256
	// maxEntry bounds the text of one report entry other than the evidence.
	maxEntry = 16 << 10
	// maxMessage bounds a failure message.
	maxMessage = 32 << 10
)

//go:embed report.html.tmpl
var pageTemplate string

//go:embed report.css
var pageCSS string

//go:embed filter.js
var pageJS string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"css": func() template.CSS { return template.CSS(pageCSS) },
	"js":  func() template.JS { return template.JS(pageJS) },
	// stateClass spells a state as a CSS class: "not run" → "not-run".
	"stateClass": func(s string) string { return strings.ReplaceAll(s, " ", "-") },
}).Parse(pageTemplate))

// WriteFromDir reads dir/summary.json and dir/ginkgo-report.json of a finished run and writes
// dir/report.html, returning its path. A folder without ginkgo-report.json (a run that stopped
// before Ginkgo reported) yields a page without exchanges.
func WriteFromDir(dir string) (string, error) {
	s, err := report.ReadSummary(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		return "", err
	}
	if s.Verdict == "" {
		return "", fmt.Errorf("%s holds no verdict: not a Konform summary", filepath.Join(dir, report.SummaryFile))
	}
	var r types.Report
	data, err := os.ReadFile(filepath.Join(dir, report.JSONFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", err
	default:
		var rs []types.Report
		if err := json.Unmarshal(data, &rs); err != nil {
			return "", fmt.Errorf("%s: %w", filepath.Join(dir, report.JSONFile), err)
		}
		for i, x := range rs {
			if i == 0 {
				r = x
				continue
			}
			r.SpecReports = append(r.SpecReports, x.SpecReports...)
		}
	}
	return Write(dir, s, r)
}

// Write renders the page for summary s and Ginkgo report r into dir/report.html, returning its
// path: a run hands over what it has just written to summary.json and ginkgo-report.json
// rather than reading megabytes of evidence back.
func Write(dir string, s report.Summary, r types.Report) (string, error) {
	var buf bytes.Buffer
	if err := Render(&buf, s, r); err != nil {
		return "", err
	}
	path := filepath.Join(dir, File)
	tmp, err := os.CreateTemp(dir, ".report-*.html")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

// Render writes the page for summary s and Ginkgo report r (which supplies each check's report
// entries: clause, diffs, evidence).
func Render(w io.Writer, s report.Summary, r types.Report) error {
	return tmpl.Execute(w, build(s, r))
}

// page is what the template shows.
type page struct {
	Title          string
	Verdict        string
	VerdictWord    string
	Sentences      []string
	Notices        []string
	Product        string
	ProductVersion string
	Vendor         string
	SUT            string
	BindingKind    string // summary.json's sutBinding
	Binding        string
	SUTImage       string
	SUTDigest      string
	DateRFC        string
	DateGerman     string
	Duration       string
	KitVersion     string
	KitRevision    string
	Contract       string
	Runtime        string
	RunID          string
	LabelFilter    string
	Profiles       []profileRow
	Standards      []report.Standard
	Must, Should   countsRow
	Inputs         *report.Inputs
	NotCertifiable string
	Certify        bool
	States         []stateOption
	ProfileNames   []string
	Checks         []check
}

type countsRow struct {
	Passed, Failed, Skipped, NotRun, KitErrors, Total int
}

type profileRow struct {
	Name                    string
	Passed, Total           int
	Failed, Open, KitErrors int
	MustPassed, MustTotal   int
}

type stateOption struct {
	State, Word string
	Count       int
}

type check struct {
	ID, Title, Level, LevelWord   string
	ClauseDocument, ClauseSection string
	ClauseFull                    string
	State, StateWord              string
	Seconds                       string
	Profiles                      []string
	ProfilesAttr                  string
	Open                          bool
	Failure                       string // the failure kind, in German
	Reason                        string
	Message                       []diffLine
	MessageCut                    bool
	Location                      string
	Diffs                         []entry
	Entries                       []entry
	Exchanges                     []exchange
	EvidenceErrors                []string
	Brief                         int // exchanges shown with their request line only
	NoReport                      bool
}

type entry struct {
	Name  string
	Lines []diffLine
	Cut   bool
}

type diffLine struct {
	Class, Text string
}

type exchange struct {
	Seq                     int64
	Actor, Direction        string
	Time                    string
	DurationMS              int64
	Method, URL             string
	Status                  string
	StatusClass             string
	Error, Note             string
	ReqHeaders, RespHeaders []header
	ReqBody, RespBody       *body
	ReqSize, RespSize       int64
	Brief                   bool
}

type header struct{ Name, Value string }

type body struct {
	ContentType string
	Size        int64
	SHA256      string
	Text        string
	Cut         bool // cut here; ginkgo-report.json holds what the recorder kept
	Recorded    bool // the recorder kept only the body's beginning
	Omitted     string
	SameAs      int64 // the exchange whose body had the same digest and is shown there
	HeadBase64  string
	Decoded     []decoded
}

type decoded struct {
	Path, Form, Header, Payload, PayloadText, Note string
}

// German words for the run's verdicts and the checks' states.
var words = map[string]string{
	report.Passed:     "bestanden",
	report.Failed:     "nicht bestanden",
	report.Incomplete: "unvollständig",
	report.Error:      "Fehler des Prüfwerkzeugs",
	report.Skipped:    "übersprungen",
	report.NotRun:     "nicht ausgeführt",
	report.KitError:   "Fehler des Prüfwerkzeugs",
}

var failureWords = map[string]string{
	report.FailureAssertion: "Anforderung nicht erfüllt",
	report.FailureTimeout:   "Zeitlimit überschritten",
	report.FailurePanic:     "Absturz während der Prüfung",
}

// rank orders the checks: what needs attention first.
var rank = map[string]int{report.Failed: 0, report.KitError: 1, report.NotRun: 2, report.Skipped: 3, report.Passed: 4}

func word(state string) string {
	if w, ok := words[state]; ok {
		return w
	}
	return state
}

func levelWord(level string) string {
	switch level {
	case catalogue.MUST:
		return "MUSS"
	case catalogue.SHOULD:
		return "SOLL"
	}
	return level
}

func build(s report.Summary, r types.Report) page {
	m := s.Meta
	p := page{
		Verdict:        s.Verdict,
		VerdictWord:    word(s.Verdict),
		Product:        clean(m.Product),
		ProductVersion: clean(m.ProductVersion),
		Vendor:         clean(m.Vendor),
		SUT:            clean(m.SUT),
		SUTImage:       clean(m.SUTImage),
		SUTDigest:      clean(m.SUTDigest),
		KitVersion:     clean(m.KitVersion),
		KitRevision:    clean(m.KitRevision),
		Contract:       clean(m.ContractVersion),
		Runtime:        clean(m.Runtime),
		RunID:          clean(m.RunID),
		LabelFilter:    clean(m.LabelFilter),
		Standards:      m.Standards,
		Must:           counts(s.Must),
		Should:         counts(s.Should),
		Inputs:         m.Inputs,
		Certify:        m.Certify,
		NotCertifiable: clean(m.NotCertifiable),
	}
	name := p.Product
	if name == "" {
		name = p.SUT
	}
	p.Title = "Konform-Prüfbericht: " + name + " " + p.ProductVersion + " – " + p.VerdictWord
	p.Binding, p.BindingKind = binding(m), m.SUTBinding
	if t := m.StartedAt; !t.IsZero() {
		p.DateRFC = t.UTC().Format(time.RFC3339)
		p.DateGerman = germanDate(t)
	}
	if !m.StartedAt.IsZero() && !m.FinishedAt.IsZero() {
		p.Duration = germanDuration(m.FinishedAt.Sub(m.StartedAt))
	}
	if len(p.Standards) == 0 && len(m.Profiles) > 0 {
		for _, st := range catalogue.Standards(m.Profiles) {
			p.Standards = append(p.Standards, report.Standard{Name: st.Name, Version: st.Version})
		}
	}

	specs := specsByID(r)
	for _, v := range s.Verdicts {
		p.Checks = append(p.Checks, buildCheck(v, specs[v.ID]))
	}
	sort.SliceStable(p.Checks, func(i, j int) bool {
		a, b := p.Checks[i], p.Checks[j]
		if rank[a.State] != rank[b.State] {
			return rank[a.State] < rank[b.State]
		}
		if a.Level != b.Level {
			return a.Level == catalogue.MUST
		}
		return a.ID < b.ID
	})

	p.Profiles = profiles(m.Profiles, s.Verdicts)
	for _, pr := range p.Profiles {
		p.ProfileNames = append(p.ProfileNames, pr.Name)
	}
	all := s.All()
	for _, st := range []struct {
		state string
		n     int
	}{{report.Failed, all.Failed}, {report.KitError, all.KitErrors}, {report.NotRun, all.NotRun}, {report.Skipped, all.Skipped}, {report.Passed, all.Passed}} {
		if st.n > 0 {
			p.States = append(p.States, stateOption{st.state, word(st.state), st.n})
		}
	}
	p.Sentences = sentences(s, p)
	if m.Interrupted {
		p.Notices = append(p.Notices, "Der Lauf wurde abgebrochen, bevor alle ausgewählten Prüfungen liefen; die übrigen stehen als „nicht ausgeführt“ in der Liste.")
	}
	if m.StoppedBecause != "" {
		p.Notices = append(p.Notices, "Der Lauf endete vor den Prüfungen: "+clean(m.StoppedBecause))
	}
	for _, e := range s.SuiteErrors {
		p.Notices = append(p.Notices, "Fehler außerhalb einer Prüfung: "+clean(e))
	}
	return p
}

func counts(c report.Counts) countsRow {
	return countsRow{c.Passed, c.Failed, c.Skipped, c.NotRun, c.KitErrors, c.Total()}
}

// binding says in German what the verdict is bound to.
func binding(m report.Meta) string {
	switch m.SUTBinding {
	case "image":
		return "an das Container-Abbild gebunden (Inhalts-Digest)"
	case "binary":
		return "an das Programm des Prüfwerkzeugs gebunden (eingebaute Referenz, Digest der Programmdatei)"
	case "self-declared":
		return "selbst erklärt, nicht an einen Build gebunden"
	case "":
		return "nicht angegeben (der Lauf hat keine Bindung festgehalten)"
	}
	return clean(m.SUTBinding)
}

var months = [...]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

func germanDate(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%d. %s %d, %02d:%02d Uhr (UTC)", t.Day(), months[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

func germanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}

func germanSeconds(s float64) string {
	return strings.Replace(strconv.FormatFloat(s, 'f', 1, 64), ".", ",", 1) + " s"
}

// profiles counts the checks of each profile of the run, in the run's order, then any other
// profile a verdict names.
func profiles(selected []string, vs []report.Verdict) []profileRow {
	var names []string
	seen := map[string]bool{}
	for _, n := range selected {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, v := range vs {
		for _, n := range v.Profiles {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	var out []profileRow
	for _, n := range names {
		row := profileRow{Name: clean(n)}
		for _, v := range vs {
			if !contains(v.Profiles, n) {
				continue
			}
			row.Total++
			must := v.Level != catalogue.SHOULD
			if must {
				row.MustTotal++
			}
			switch v.Verdict {
			case report.Passed:
				row.Passed++
				if must {
					row.MustPassed++
				}
			case report.Failed:
				row.Failed++
			case report.KitError:
				row.KitErrors++
			default:
				row.Open++
			}
		}
		if row.Total > 0 {
			out = append(out, row)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// sentences says in plain German what the run proved and what not.
func sentences(s report.Summary, p page) []string {
	sut := "Das geprüfte Fachverfahren"
	if p.Product != "" {
		sut = "„" + strings.TrimSpace(p.Product+" "+p.ProductVersion) + "“"
	}
	var names []string
	for _, pr := range p.Profiles {
		names = append(names, pr.Name)
	}
	prof := strings.Join(names, ", ")
	var out []string
	switch s.Verdict {
	case report.Passed:
		out = append(out, fmt.Sprintf("%s hat alle %d MUSS-Prüfungen der Profile %s bestanden: An den geprüften Schnittstellen verhält es sich so, wie die unten je Prüfung genannten Vorschriften es verlangen.", sut, s.Must.Total(), prof))
	case report.Failed:
		var ids []string
		for _, v := range s.Verdicts {
			if v.Verdict == report.Failed && v.Level != catalogue.SHOULD {
				ids = append(ids, v.ID)
			}
		}
		out = append(out, fmt.Sprintf("%s hat %d von %d MUSS-Prüfungen nicht bestanden (%s) und erfüllt die geprüften Anforderungen damit nicht; was genau abweicht, steht unten bei der jeweiligen Prüfung.", sut, s.Must.Failed, s.Must.Total(), strings.Join(ids, ", ")))
	case report.Incomplete:
		out = append(out, fmt.Sprintf("Keine MUSS-Prüfung ist fehlgeschlagen, aber %d von %d wurden nicht ausgeführt oder übersprungen; ein unvollständiger Lauf belegt keine Konformität.", s.Must.Skipped+s.Must.NotRun, s.Must.Total()))
	case report.Error:
		out = append(out, "Das Prüfwerkzeug selbst ist auf einen Fehler gestoßen; dieser Lauf sagt über das Fachverfahren nichts aus und muss wiederholt werden.")
	}
	switch p.BindingKind {
	case "image":
		out = append(out, "Das Ergebnis gilt für genau das Container-Abbild mit dem angegebenen Digest, nicht für andere Versionen oder Installationen.")
	case "binary":
		out = append(out, "Geprüft wurde die eingebaute Referenz des Prüfwerkzeugs; das Ergebnis gilt für die Programmdatei mit dem angegebenen Digest.")
	case "self-declared":
		out = append(out, "Das Fachverfahren wurde nur über seine Adresse geprüft; welcher Build geantwortet hat, ist nicht belegt.")
	}
	var not []string
	if sh := s.Should.Total(); sh > 0 {
		not = append(not, fmt.Sprintf("die %d SOLL-Prüfungen (%d bestanden) gehen nicht in das Ergebnis ein", sh, s.Should.Passed))
	}
	if n := s.Must.NotRun + s.Must.Skipped + s.Should.NotRun + s.Should.Skipped; n > 0 {
		not = append(not, fmt.Sprintf("%d Prüfungen liefen nicht und belegen nichts", n))
	}
	if other := unselected(names); len(other) > 0 {
		not = append(not, "die Profile "+strings.Join(other, ", ")+" waren nicht Teil dieses Laufs")
	}
	if len(not) > 0 {
		out = append(out, "Nicht belegt: "+strings.Join(not, "; ")+".")
	}
	out = append(out, "Geprüft wird nur, was über die Schnittstellen von außen beobachtbar ist, nicht Bedienung, Datenschutz oder Betrieb.")
	return out
}

// unselected are the catalogue's profiles the run did not test.
func unselected(selected []string) []string {
	cat := catalogue.Builtin()
	seen := map[string]bool{}
	var out []string
	for _, id := range cat.IDs() {
		req, _ := cat.Lookup(id)
		for _, p := range req.Profiles {
			if !seen[p] && !contains(selected, p) {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// specsByID maps each test ID to the spec report of its attempt.
func specsByID(r types.Report) map[string]*types.SpecReport {
	out := map[string]*types.SpecReport{}
	for i := range r.SpecReports {
		sr := &r.SpecReports[i]
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		id := report.TestID(sr.Labels())
		if id == "" {
			continue
		}
		if prev, ok := out[id]; ok && prev.NumAttempts > 0 && sr.NumAttempts == 0 {
			continue
		}
		out[id] = sr
	}
	return out
}

func buildCheck(v report.Verdict, sr *types.SpecReport) check {
	c := check{
		ID:        clean(v.ID),
		Title:     clean(v.Title),
		Level:     v.Level,
		LevelWord: levelWord(v.Level),
		State:     v.Verdict,
		StateWord: word(v.Verdict),
		Seconds:   germanSeconds(v.Seconds),
		Failure:   failureWords[v.Failure],
		Reason:    clean(v.Reason),
		Location:  clean(v.Location),
		Open:      v.Verdict == report.Failed || v.Verdict == report.KitError,
		NoReport:  sr == nil,
	}
	for _, p := range v.Profiles {
		c.Profiles = append(c.Profiles, clean(p))
	}
	c.ProfilesAttr = strings.Join(c.Profiles, " ")
	doc, sec, ok := strings.Cut(v.Clause, " — ")
	if !ok {
		doc, sec = v.Clause, ""
	}
	c.ClauseDocument, c.ClauseSection = clean(doc), clean(sec)
	if v.Message != "" && v.Message != v.Reason {
		msg, cut := truncate(clean(v.Message), maxMessage)
		c.Message, c.MessageCut = lines(msg, looksLikeDiff("", msg)), cut
	}
	if sr == nil {
		return c
	}
	maxB, left := maxBody, budget
	if v.Verdict != report.Passed {
		maxB, left = maxBodyFailed, budgetFailed
	}
	for _, e := range sr.ReportEntries {
		switch e.Name {
		case report.EntryEvidence:
			ev := evidence(e)
			c.EvidenceErrors = nil
			for _, msg := range ev.Errors {
				c.EvidenceErrors = append(c.EvidenceErrors, clean(msg))
			}
			seen := map[string]int64{}
			for _, x := range ev.Exchanges {
				ex := buildExchange(x, maxB, &left, seen)
				if ex.Brief {
					c.Brief++
				}
				c.Exchanges = append(c.Exchanges, ex)
			}
			continue
		case "clause":
			c.ClauseFull = clean(entryText(e))
			continue
		}
		text, cut := truncate(clean(entryText(e)), maxEntry)
		en := entry{Name: clean(e.Name), Cut: cut}
		if looksLikeDiff(e.Name, text) {
			en.Lines = lines(text, true)
			c.Diffs = append(c.Diffs, en)
		} else {
			en.Lines = lines(text, false)
			c.Entries = append(c.Entries, en)
		}
	}
	return c
}

// entryText is a report entry's value as text: Ginkgo's representation, else its JSON.
func entryText(e types.ReportEntry) string {
	if e.Value.Representation != "" {
		return e.Value.Representation
	}
	if raw := e.Value.GetRawValue(); raw != nil {
		if s, ok := raw.(string); ok {
			return s
		}
	}
	if e.Value.AsJSON != "" {
		var s string
		if json.Unmarshal([]byte(e.Value.AsJSON), &s) == nil {
			return s
		}
		return e.Value.AsJSON
	}
	return e.Value.String()
}

// evidenceValue is suites/check.Evidence as it lands in the JSON report.
type evidenceValue struct {
	Exchanges []recorder.Exchange `json:"exchanges"`
	Errors    []string            `json:"errors,omitempty"`
}

func evidence(e types.ReportEntry) evidenceValue {
	data := []byte(e.Value.AsJSON)
	if len(data) == 0 {
		// A report straight from the run, not read from JSON: the value is still the raw one.
		var err error
		if data, err = json.Marshal(e.Value.GetRawValue()); err != nil {
			return evidenceValue{Errors: []string{"evidence unreadable: " + err.Error()}}
		}
	}
	var ev evidenceValue
	if err := json.Unmarshal(data, &ev); err != nil {
		return evidenceValue{Errors: []string{"evidence unreadable: " + err.Error()}}
	}
	return ev
}

// buildExchange shows x within what is left of the check's budget; seen maps the digests of the
// bodies already shown in the check to their exchange, so a repeated body is named, not shown.
func buildExchange(x recorder.Exchange, maxB int, left *int, seen map[string]int64) exchange {
	ex := exchange{
		Seq:        x.Seq,
		Actor:      clean(x.Actor),
		Direction:  x.Direction,
		DurationMS: x.DurationMS,
		Method:     clean(x.Method),
		URL:        clean(x.URL),
		Error:      clean(x.Error),
		Note:       clean(x.Note),
		ReqSize:    x.ReqBodySize,
		RespSize:   x.RespBodySize,
	}
	if !x.Time.IsZero() {
		ex.Time = x.Time.UTC().Format("15:04:05.000")
	}
	switch {
	case x.Status == 0:
		ex.Status, ex.StatusClass = "–", "st-none"
	case x.Status < 300:
		ex.Status, ex.StatusClass = strconv.Itoa(x.Status), "st-ok"
	case x.Status < 400:
		ex.Status, ex.StatusClass = strconv.Itoa(x.Status), "st-redirect"
	default:
		ex.Status, ex.StatusClass = strconv.Itoa(x.Status), "st-error"
	}
	if *left <= 0 {
		ex.Brief = true
		return ex
	}
	ex.ReqHeaders = headers(x.ReqHeaders, left)
	ex.RespHeaders = headers(x.RespHeaders, left)
	ex.ReqBody = buildBody(x.ReqBody, maxB, left, x.Seq, seen)
	ex.RespBody = buildBody(x.RespBody, maxB, left, x.Seq, seen)
	return ex
}

func headers(h map[string][]string, left *int) []header {
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []header
	for _, n := range names {
		for _, v := range h[n] {
			out = append(out, header{clean(n), clean(v)})
			*left -= len(n) + len(v) + 20
		}
	}
	return out
}

func buildBody(b *recorder.Body, maxB int, left *int, seq int64, seen map[string]int64) *body {
	if b == nil {
		return nil
	}
	out := &body{
		ContentType: clean(b.ContentType),
		Size:        b.Size,
		SHA256:      clean(b.SHA256),
		Recorded:    b.Truncated,
		Omitted:     clean(b.Omitted),
	}
	if b.SHA256 != "" && len(b.Pretty)+len(b.Text) > 256 {
		if first, ok := seen[b.SHA256]; ok {
			out.SameAs = first
			return out
		}
		seen[b.SHA256] = seq
	}
	text := b.Pretty
	if text == "" {
		text = b.Text
	}
	limit := min(maxB, max(*left, 1024))
	textLimit := limit
	for _, d := range b.Decoded {
		if d.Path == "$" {
			// A compact JWS or JWE: its decoded form below says what it holds; the base64 text
			// only needs to be recognisable.
			textLimit = min(textLimit, maxCompact)
		}
	}
	out.Text, out.Cut = truncate(clean(text), textLimit)
	*left -= len(out.Text)
	if b.HeadBase64 != "" {
		out.HeadBase64, _ = truncate(clean(b.HeadBase64), 1024)
		*left -= len(out.HeadBase64)
	}
	for _, d := range b.Decoded {
		dd := decoded{Path: clean(d.Path), Form: clean(d.Form), Note: clean(d.Note)}
		dd.Header, _ = truncate(clean(prettyJSON(d.Header)), limit)
		var cut bool
		dd.Payload, cut = truncate(clean(prettyJSON(d.Payload)), limit)
		out.Cut = out.Cut || cut
		dd.PayloadText, cut = truncate(clean(d.PayloadText), limit)
		out.Cut = out.Cut || cut
		*left -= len(dd.Header) + len(dd.Payload) + len(dd.PayloadText)
		out.Decoded = append(out.Decoded, dd)
	}
	return out
}

func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// looksLikeDiff tells a go-cmp diff: the entry's name says "-want +got" (or "-a +b"), or the
// text has go-cmp's "-"/"+" lines under a "(-x +y)" heading.
func looksLikeDiff(name, text string) bool {
	if diffHeading(name) {
		return true
	}
	marked := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "+ ") {
			marked = true
			break
		}
	}
	return marked && diffHeading(text)
}

// diffHeading finds "-want +got" or "(-sender +accept-submission)" in s.
func diffHeading(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' || (i > 0 && s[i-1] != ' ' && s[i-1] != '(') {
			continue
		}
		rest := s[i+1:]
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 || sp+1 >= len(rest) || rest[sp+1] != '+' {
			continue
		}
		if w := rest[:sp]; strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && r != '-' && r != '_' }) < 0 {
			return true
		}
	}
	return false
}

// lines splits text into lines, marking a diff's removed and added lines.
func lines(text string, diff bool) []diffLine {
	text = strings.TrimRight(text, "\n")
	var out []diffLine
	for _, l := range strings.Split(text, "\n") {
		class := ""
		if diff {
			switch {
			case strings.HasPrefix(l, "-"):
				class = "del"
			case strings.HasPrefix(l, "+"):
				class = "add"
			}
		}
		out = append(out, diffLine{class, l})
	}
	return out
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// clean makes arbitrary bytes safe to show: invalid UTF-8 becomes U+FFFD, control characters
// but tab, newline and carriage return become a visible \xNN, and so do the Unicode
// bidirectional controls, which could reorder what a reader sees.
func clean(s string) string {
	ok := utf8.ValidString(s)
	if ok {
		for _, r := range s {
			if unsafeRune(r) {
				ok = false
				break
			}
		}
	}
	if ok {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unsafeRune(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e || r == 0x200f:
		return true
	}
	return false
}
