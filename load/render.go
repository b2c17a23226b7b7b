package load

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Files a load run writes into its report folder.
const (
	JSONFile      = "load.json"
	TimelineFile  = "latency-over-time.svg"
	HistogramFile = "latency-histogram.svg"
	HTMLFile      = "load.html"
)

// Table prints the figures and the completeness line.
func (r *Result) Table(w io.Writer) {
	c := r.Completeness
	fmt.Fprintf(w, "\n%-22s %8s %10s %10s %10s %10s\n", "latency", "count", "p50", "p95", "p99", "max")
	row := func(name string, l Latency) {
		fmt.Fprintf(w, "%-22s %8d %10s %10s %10s %10s\n", name, l.Count, msText(l.P50), msText(l.P95), msText(l.P99), msText(l.Max))
	}
	row("submit → decision", r.Decision)
	row("submit → HKR booking", r.Booking)
	fmt.Fprintf(w, "\nthroughput: sent %.1f/s, decided %.1f/s (%d per hour)\n", r.Throughput.SentPerSecond, r.Throughput.DecidedPerSecond, r.Throughput.PerHour)
	fmt.Fprintf(w, "kit process: %.1f s CPU, %.2f ms CPU per submission, peak RSS %.0f MiB\n", r.Kit.CPUSeconds, r.Kit.CPUMsPerSubmit, r.Kit.MaxRSSMiB)
	if d := r.MockDisk; d != nil {
		freed := "NOT freed after the mocks stopped"
		if d.FreedAtExit {
			freed = "freed after the mocks stopped"
		}
		fmt.Fprintf(w, "mock disk: %.1f MiB at the end, %s\n", d.MiBAtEnd, freed)
	}
	for _, d := range r.Disruptions {
		fmt.Fprintf(w, "disruption: %s from %s for %s%s\n", d.Kind, d.Start.Format(time.RFC3339), d.End.Sub(d.Start).Round(time.Millisecond), errText(d.Error))
	}
	fmt.Fprintf(w, "decided %d of %d sent (%d accepted, %d rejected); fees booked %s of %s due\n",
		c.Decided, c.Sent, c.Accepted, c.Rejected, c.FeesBooked.StringFixed(2), c.FeesDue.StringFixed(2))
	fmt.Fprintf(w, "lost %d, duplicated %d, double-booked %d, wrong amount %d, pending %d\n", c.Lost, c.Duplicated, c.DoubleBooked, c.WrongAmount, c.Pending)
	if r.Verdict == Passed {
		fmt.Fprintln(w, "load: PASSED — every submission decided exactly once, one case per accepted submission, every BOOKED fee booked once to the cent, nothing pending")
		return
	}
	fmt.Fprintln(w, "load: FAILED")
	for _, reason := range r.Reasons {
		fmt.Fprintf(w, "  - %s\n", reason)
	}
	shown := 0
	for _, o := range r.Submissions {
		if len(o.Problems) == 0 {
			continue
		}
		if shown == 10 {
			fmt.Fprintf(w, "  … every submission's problems are in %s\n", JSONFile)
			break
		}
		fmt.Fprintf(w, "  #%d %s (%s, %s): %s\n", o.Index, o.SubmissionID, o.Fixture, o.Kassenzeichen, strings.Join(o.Problems, "; "))
		shown++
	}
}

func errText(e string) string {
	if e == "" {
		return ""
	}
	return " — failed: " + e
}

func msText(v float64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.1f s", v/1000)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// Write puts load.json, the two plots and load.html into dir.
func (r *Result) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	timeline, histogram := r.TimelineSVG(), r.HistogramSVG()
	files := map[string][]byte{JSONFile: append(b, '\n'), TimelineFile: []byte(timeline), HistogramFile: []byte(histogram)}
	var page strings.Builder
	if err := pageTemplate.Execute(&page, pageData{R: r, Timeline: template.HTML(timeline), Histogram: template.HTML(histogram)}); err != nil {
		return err
	}
	files[HTMLFile] = []byte(page.String())
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// plot geometry
const (
	plotW, plotH     = 720, 300
	padL, padR       = 64, 16
	padT, padB       = 24, 44
	innerW, innerH   = plotW - padL - padR, plotH - padT - padB
	decisionColour   = "#1f5fa8"
	bookingColour    = "#c2571a"
	disruptionColour = "#d9d9d9"
)

// TimelineSVG plots each submission's latencies over the time it was submitted, with the
// disruptions shaded.
func (r *Result) TimelineSVG() string {
	var t0 time.Time
	var tMax, yMax float64
	for _, o := range r.Submissions {
		if o.SubmittedAt != nil && (t0.IsZero() || o.SubmittedAt.Before(t0)) {
			t0 = *o.SubmittedAt
		}
	}
	for _, o := range r.Submissions {
		if o.SubmittedAt == nil {
			continue
		}
		tMax = math.Max(tMax, o.SubmittedAt.Sub(t0).Seconds())
		yMax = math.Max(yMax, math.Max(o.DecisionMs, o.BookingMs)/1000)
	}
	for _, d := range r.Disruptions {
		tMax = math.Max(tMax, d.End.Sub(t0).Seconds())
	}
	tMax, yMax = niceCeil(tMax), niceCeil(yMax)
	x := func(s float64) float64 { return padL + s/tMax*innerW }
	y := func(s float64) float64 { return padT + innerH - s/yMax*innerH }
	var b strings.Builder
	svgOpen(&b, "Latenz je Antrag über die Zeit")
	for _, d := range r.Disruptions {
		x0, x1 := x(math.Max(d.Start.Sub(t0).Seconds(), 0)), x(d.End.Sub(t0).Seconds())
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
			x0, padT, math.Max(x1-x0, 1), innerH, disruptionColour, template.HTMLEscapeString(d.Kind))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" fill="#555">%s</text>`+"\n", x0+2, padT+10, template.HTMLEscapeString(d.Kind))
	}
	axes(&b, tMax, yMax, "Einreichung (s seit Beginn)", "Latenz (s)")
	for _, o := range r.Submissions {
		if o.SubmittedAt == nil {
			continue
		}
		at := o.SubmittedAt.Sub(t0).Seconds()
		if o.DecisionMs > 0 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="1.6" fill="%s"/>`, x(at), y(o.DecisionMs/1000), decisionColour)
		}
		if o.BookingMs > 0 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="1.6" fill="%s"/>`, x(at), y(o.BookingMs/1000), bookingColour)
		}
	}
	b.WriteString("\n")
	legend(&b)
	b.WriteString("</svg>\n")
	return b.String()
}

// HistogramSVG shows how the latencies spread, both series over the same bins.
func (r *Result) HistogramSVG() string {
	var dec, book []float64
	for _, o := range r.Submissions {
		if o.DecisionMs > 0 {
			dec = append(dec, o.DecisionMs/1000)
		}
		if o.BookingMs > 0 {
			book = append(book, o.BookingMs/1000)
		}
	}
	const bins = 30
	top := 0.0
	for _, v := range append(append([]float64{}, dec...), book...) {
		top = math.Max(top, v)
	}
	top = niceCeil(top)
	count := func(xs []float64) []int {
		c := make([]int, bins)
		for _, v := range xs {
			c[min(int(v/top*bins), bins-1)]++
		}
		return c
	}
	cd, cb := count(dec), count(book)
	most := 1
	for i := range bins {
		most = max(most, cd[i], cb[i])
	}
	yMax := niceCeil(float64(most))
	var b strings.Builder
	svgOpen(&b, "Verteilung der Latenzen")
	axes(&b, top, yMax, "Latenz (s)", "Anträge")
	bw := float64(innerW) / bins
	for i := range bins {
		for k, c := range []int{cd[i], cb[i]} {
			if c == 0 {
				continue
			}
			h := float64(c) / yMax * innerH
			colour := decisionColour
			if k == 1 {
				colour = bookingColour
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.75"><title>%d</title></rect>`+"\n",
				padL+float64(i)*bw+float64(k)*bw/2, padT+innerH-h, bw/2-0.5, h, colour, c)
		}
	}
	legend(&b)
	b.WriteString("</svg>\n")
	return b.String()
}

func svgOpen(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" role="img"><title>%s</title>`+"\n",
		plotW, plotH, plotW, plotH, template.HTMLEscapeString(title))
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", plotW, plotH)
}

func axes(b *strings.Builder, xMax, yMax float64, xLabel, yLabel string) {
	fmt.Fprintf(b, `<g stroke="#333" stroke-width="1"><line x1="%d" y1="%d" x2="%d" y2="%d"/><line x1="%d" y1="%d" x2="%d" y2="%d"/></g>`+"\n",
		padL, padT+innerH, padL+innerW, padT+innerH, padL, padT, padL, padT+innerH)
	for i := 0; i <= 5; i++ {
		f := float64(i) / 5
		xp, yp := padL+f*innerW, padT+innerH-f*innerH
		fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, xp, padT+innerH+14, tick(f*xMax))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="10" text-anchor="end">%s</text>`, padL-4, yp+3, tick(f*yMax))
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", padL+1, yp, padL+innerW, yp)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="11" text-anchor="middle">%s</text>`+"\n", padL+innerW/2, plotH-8, template.HTMLEscapeString(xLabel))
	fmt.Fprintf(b, `<text x="12" y="%d" font-size="11" text-anchor="middle" transform="rotate(-90 12 %d)">%s</text>`+"\n", padT+innerH/2, padT+innerH/2, template.HTMLEscapeString(yLabel))
}

func legend(b *strings.Builder) {
	fmt.Fprintf(b, `<g font-size="11"><rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15">Einreichung → Entscheidung</text>`+
		`<rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15">Einreichung → Buchung (HKR)</text></g>`+"\n",
		padL+innerW-360, decisionColour, padL+innerW-346, padL+innerW-170, bookingColour, padL+innerW-156)
}

func tick(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

type pageData struct {
	R                   *Result
	Timeline, Histogram template.HTML
}

func (p pageData) Problems() []Outcome {
	var out []Outcome
	for _, o := range p.R.Submissions {
		if len(o.Problems) > 0 {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

var pageTemplate = template.Must(template.New("load").Funcs(template.FuncMap{
	"ms":  msText,
	"utc": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur": func(a, b time.Time) string { return b.Sub(a).Round(time.Millisecond).String() },
}).Parse(`<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Konform – Lastlauf</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}th:first-child,td:first-child{text-align:left}.passed{color:#176117}.failed{color:#a11}</style></head>
<body>
<h1>Lastlauf: <span class="{{.R.Verdict}}">{{if eq .R.Verdict "passed"}}bestanden{{else}}nicht bestanden{{end}}</span></h1>
<p>{{.R.Options.Submissions}} Anträge, {{.R.Options.Concurrency}} gleichzeitig{{if .R.Options.Rate}}, {{.R.Options.Rate}} je Sekunde{{end}}; Beginn {{utc .R.StartedAt}}, Ende {{utc .R.FinishedAt}} (UTC).</p>
{{with .R.Disruptions}}<p>Störungen: {{range .}}{{.Kind}} ab {{utc .Start}} für {{dur .Start .End}}{{if .Error}} (nicht eingespielt: {{.Error}}){{end}}; {{end}}</p>{{end}}
<h2>Vollständigkeit</h2>
<table><tr><th>gesendet</th><td>{{.R.Completeness.Sent}}</td></tr><tr><th>entschieden</th><td>{{.R.Completeness.Decided}}</td></tr>
<tr><th>angenommen / abgelehnt</th><td>{{.R.Completeness.Accepted}} / {{.R.Completeness.Rejected}}</td></tr>
<tr><th>verloren</th><td>{{.R.Completeness.Lost}}</td></tr><tr><th>doppelt</th><td>{{.R.Completeness.Duplicated}}</td></tr>
<tr><th>doppelt gebucht</th><td>{{.R.Completeness.DoubleBooked}}</td></tr><tr><th>falscher Betrag</th><td>{{.R.Completeness.WrongAmount}}</td></tr>
<tr><th>noch offen</th><td>{{.R.Completeness.Pending}}</td></tr>
<tr><th>Gebühren gebucht / fällig (EUR)</th><td>{{.R.Completeness.FeesBooked.StringFixed 2}} / {{.R.Completeness.FeesDue.StringFixed 2}}</td></tr></table>
{{with .R.Reasons}}<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Latenz</h2>
<table><tr><th></th><th>Anzahl</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>
<tr><td>Einreichung → Entscheidung</td><td>{{.R.Decision.Count}}</td><td>{{ms .R.Decision.P50}}</td><td>{{ms .R.Decision.P95}}</td><td>{{ms .R.Decision.P99}}</td><td>{{ms .R.Decision.Max}}</td></tr>
<tr><td>Einreichung → Buchung (HKR)</td><td>{{.R.Booking.Count}}</td><td>{{ms .R.Booking.P50}}</td><td>{{ms .R.Booking.P95}}</td><td>{{ms .R.Booking.P99}}</td><td>{{ms .R.Booking.Max}}</td></tr></table>
<p>Durchsatz: {{printf "%.1f" .R.Throughput.DecidedPerSecond}} Entscheidungen je Sekunde ({{.R.Throughput.PerHour}} je Stunde).</p>
<figure>{{.Timeline}}<figcaption>Latenz jedes Antrags über seinen Einreichungszeitpunkt; grau: eingespielte Störungen.</figcaption></figure>
<figure>{{.Histogram}}<figcaption>Verteilung der Latenzen.</figcaption></figure>
{{with .Problems}}<h2>Anträge mit Befund</h2><table><tr><th>#</th><th>Einreichung</th><th>Kassenzeichen</th><th>Befund</th></tr>
{{range .}}<tr><td>{{.Index}}</td><td>{{.SubmissionID}}</td><td>{{.Kassenzeichen}}</td><td style="text-align:left">{{range .Problems}}{{.}}; {{end}}</td></tr>{{end}}</table>{{end}}
</body></html>
`))
