// Package certificate writes the conformance certificate of a passed run (certificate.pdf): one
// or two A4 pages in German that a procurement office reads and files. It names the product,
// its version and vendor as the SUT's probe gave them, what the verdict is bound to (an image
// by its digest, the kit binary serving the built-in reference, or a self-declared URL), the
// kit and contract, the date, the profiles and standards, the MUST checks passed per profile,
// what the certificate says and what not, and the digest of the run's signed attestation with
// the one command that verifies it.
//
// The PDF uses the core fonts only (no font files): text outside their Windows-1252 repertoire
// is transliterated or written as its code point and marked with a footnote, never dropped.
package certificate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/report"
)

// File is the certificate's name in the report folder.
const File = "certificate.pdf"

// Bindings of a verdict (report.Meta.SUTBinding).
const (
	BindingImage        = "image"
	BindingBinary       = "binary"
	BindingSelfDeclared = "self-declared"
)

// Certifiable says why a run's summary yields no certificate; nil when it does: the run passed,
// nothing marked it not certifiable, every MUST check ran and passed, and the summary says what
// the verdict is bound to and when the run finished.
func Certifiable(s report.Summary) error {
	m := s.Meta
	switch {
	case m.NotCertifiable != "":
		return fmt.Errorf("certificate: the run is not certifiable: %s", m.NotCertifiable)
	case s.Verdict != report.Passed:
		return fmt.Errorf("certificate: the run's verdict is %q, not %q: only a passed run is certified", s.Verdict, report.Passed)
	case m.Interrupted:
		return errors.New("certificate: the run was interrupted before every selected check ran")
	case m.StoppedBecause != "":
		return fmt.Errorf("certificate: the run stopped early: %s", m.StoppedBecause)
	case len(m.Profiles) == 0:
		return errors.New("certificate: the summary names no profile")
	case m.FinishedAt.IsZero():
		return errors.New("certificate: the summary has no finishing time")
	case len(s.SuiteErrors) > 0:
		return fmt.Errorf("certificate: the run had %d suite error(s): %s", len(s.SuiteErrors), s.SuiteErrors[0])
	}
	if c := s.Must; c.Failed+c.Skipped+c.NotRun+c.KitErrors > 0 {
		return fmt.Errorf("certificate: not every MUST check passed (%d failed, %d skipped, %d not run, %d kit errors)", c.Failed, c.Skipped, c.NotRun, c.KitErrors)
	}
	must := 0
	for _, v := range s.Verdicts {
		if v.Level != catalogue.MUST {
			continue
		}
		must++
		if v.Verdict != report.Passed {
			return fmt.Errorf("certificate: MUST check %s is %q, not passed", v.ID, v.Verdict)
		}
	}
	if must == 0 {
		return errors.New("certificate: no MUST check ran: there is nothing to certify")
	}
	switch m.SUTBinding {
	case BindingImage:
		if m.SUTImage == "" || m.SUTDigest == "" {
			return errors.New("certificate: the verdict is bound to an image, but the summary lacks the image or its digest")
		}
	case BindingBinary:
		if m.SUTDigest == "" {
			return errors.New("certificate: the verdict is bound to the kit binary, but the summary lacks its digest")
		}
	case BindingSelfDeclared:
	default:
		return fmt.Errorf("certificate: the summary does not say what the verdict is bound to (sutBinding %q)", m.SUTBinding)
	}
	return nil
}

// Write writes the certificate of the run s to path. attestationDigest is the digest of the
// run's signed attestation ("sha256:<hex>"), verifyCommand the one command that verifies it
// (e.g. `conformance verify --key konform.pub <dir>`). Write refuses a run that is not
// certifiable (see Certifiable) and writes nothing then. The same input yields the same bytes.
func Write(path string, s report.Summary, attestationDigest string, verifyCommand string) error {
	if err := Certifiable(s); err != nil {
		return err
	}
	if strings.TrimSpace(attestationDigest) == "" {
		return errors.New("certificate: no attestation digest: a certificate names the attestation that proves it")
	}
	if strings.TrimSpace(verifyCommand) == "" {
		return errors.New("certificate: no verify command: a certificate says how to verify its attestation")
	}
	pdf, err := render(s, attestationDigest, verifyCommand)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	return nil
}

// Layout, in millimetres and points.
const (
	margin     = 20.0
	labelWidth = 48.0
	bodySize   = 9.5
	lineHeight = 4.8
	monoMax    = 8.5
	monoMin    = 6.5
)

// page is one certificate being laid out.
type page struct {
	pdf   *fpdf.Fpdf
	tr    func(string) string
	notes []note
}

// note is a field whose text had characters outside the fonts' repertoire.
type note struct {
	field   string
	changed []rewritten
}

// profileCount is one profile's checks: MUST and SHOULD, passed and total.
type profileCount struct {
	name                               string
	mustPassed, mustTotal              int
	shouldPassed, shouldTotal, unknown int
}

func countProfiles(s report.Summary) []profileCount {
	var out []profileCount
	for _, p := range s.Meta.Profiles {
		c := profileCount{name: p}
		for _, v := range s.Verdicts {
			if !slices.Contains(v.Profiles, p) {
				continue
			}
			passed := v.Verdict == report.Passed
			switch v.Level {
			case catalogue.MUST:
				c.mustTotal++
				if passed {
					c.mustPassed++
				}
			case catalogue.SHOULD:
				c.shouldTotal++
				if passed {
					c.shouldPassed++
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func render(s report.Summary, attestationDigest, verifyCommand string) ([]byte, error) {
	m := s.Meta
	pdf := fpdf.New("P", "mm", "A4", "")
	finished := m.FinishedAt.UTC()
	pdf.SetCreationDate(finished)
	pdf.SetModificationDate(finished)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetMargins(margin, 18, margin)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AliasNbPages("{nb}")
	pdf.SetLang("de-DE")
	pdf.SetTitle("Konformitätsbescheinigung", true)
	pdf.SetCreator("Konform "+m.KitVersion, true)
	pdf.SetProducer("Konform", true)
	pdf.SetSubject(strings.TrimSpace(m.Product+" "+m.ProductVersion), true)
	p := &page{pdf: pdf, tr: pdf.UnicodeTranslatorFromDescriptor("cp1252")}

	pdf.SetFooterFunc(func() {
		pdf.SetY(-13)
		pdf.SetFont("Helvetica", "", 7.5)
		pdf.SetTextColor(110, 110, 110)
		run, _ := fit(m.RunID)
		pdf.CellFormat(0, 4, p.tr(fmt.Sprintf("Konformitätsbescheinigung · Lauf %s · Seite %d von {nb}", run, pdf.PageNo())), "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()

	// Title and verdict.
	pdf.SetFont("Helvetica", "B", 20)
	pdf.CellFormat(0, 10, p.tr("Konformitätsbescheinigung"), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10.5)
	pdf.CellFormat(0, 6, p.tr("Schnittstellen-Konformität eines Fachverfahrens, geprüft mit dem Konformitätskit Konform"), "", 1, "L", false, 0, "")
	pdf.Ln(3)
	pdf.SetFillColor(221, 241, 224)
	pdf.SetDrawColor(46, 125, 50)
	pdf.SetFont("Helvetica", "B", 12)
	must := s.Must.Passed
	pdf.CellFormat(0, 10, p.tr(fmt.Sprintf("  Gesamtergebnis: bestanden – alle %d MUSS-Prüfungen bestanden", must)), "1", 1, "L", true, 0, "")
	pdf.SetDrawColor(0, 0, 0)

	// The product.
	p.heading("Geprüftes Produkt")
	p.field("Produkt", p.val("Produkt", orUnstated(m.Product)))
	p.field("Version", p.val("Version", orUnstated(m.ProductVersion)))
	p.field("Hersteller", p.val("Hersteller", orUnstated(m.Vendor)))
	switch m.SUTBinding {
	case BindingImage:
		p.field("Gebunden an", "Container-Image (Inhalts-Digest)")
		p.mono("Image", p.val("Image", m.SUTImage))
		p.mono("Image-Digest", p.val("Image-Digest", m.SUTDigest))
	case BindingBinary:
		p.field("Gebunden an", "das eingebaute Referenz-Fachverfahren, ausgeliefert mit dem Kit-Binary dieses Digests")
		p.mono("Kit-Binary-Digest", p.val("Kit-Binary-Digest", m.SUTDigest))
	case BindingSelfDeclared:
		p.field("Gebunden an", "selbst erklärt, nicht an einen Build gebunden: das System wurde über seine Adresse angegeben; welcher Build dort lief, belegt dieser Lauf nicht")
		if u := strings.TrimPrefix(m.SUT, "url "); u != "" {
			p.mono("Adresse", p.val("Adresse", u))
		}
	}

	// The run.
	p.heading("Prüfung")
	p.field("Datum", germanDate(finished))
	p.mono("Zeitpunkt (UTC)", finished.Format(time.RFC3339))
	p.mono("Lauf-ID", p.val("Lauf-ID", orUnstated(m.RunID)))
	p.field("Kit-Version", p.val("Kit-Version", orUnstated(m.KitVersion)))
	p.mono("Kit-Revision", p.val("Kit-Revision", orUnstated(m.KitRevision)))
	p.field("SUT-Vertrag", p.val("SUT-Vertrag", "Version "+orUnstated(m.ContractVersion)))
	if m.Runtime != "" {
		p.field("Laufzeitumgebung", p.val("Laufzeitumgebung", m.Runtime))
	}
	profiles := make([]string, len(m.Profiles))
	for i, pr := range m.Profiles {
		profiles[i] = p.val("Profile", pr)
	}
	p.field("Profile", strings.Join(profiles, ", "))
	standards := make([]string, len(m.Standards))
	for i, st := range m.Standards {
		standards[i] = p.val("Standards", strings.TrimSpace(st.Name+" "+st.Version))
	}
	if len(standards) == 0 {
		standards = []string{"(im Bericht nicht angegeben)"}
	}
	p.field("Standards", strings.Join(standards, "\n"))

	// The verdict per profile.
	p.heading("Ergebnis je Profil")
	p.profileTable(countProfiles(s))
	pdf.Ln(1)
	p.field("Gesamtergebnis", fmt.Sprintf("bestanden (MUSS: %d von %d bestanden; SOLL: %d von %d bestanden)",
		s.Must.Passed, s.Must.Total(), s.Should.Passed, s.Should.Total()))

	// What it certifies.
	p.heading("Was diese Bescheinigung bestätigt – und was nicht")
	p.paragraph(certifies(m))
	p.paragraph("Sie bestätigt nicht: eine Zulassung oder Zertifizierung durch eine Behörde, die Konformität anderer " +
		"Versionen oder Builds, Funktionen außerhalb der geprüften Schnittstellen, Sicherheit, Datenschutz, " +
		"Barrierefreiheit oder Leistung im Betrieb. SOLL-Prüfungen sind oben mitgezählt, gehen aber nicht in das " +
		"Ergebnis ein. Maßgeblich sind die Prüfnachweise im Bericht dieses Laufs.")

	// How to verify it.
	p.heading("Nachprüfbarkeit")
	p.paragraph("Der Lauf ist durch eine signierte Attestierung belegt. Ihr Digest und der Befehl, der sie gegen den " +
		"Bericht prüft:")
	p.mono("Attestierung", p.val("Attestierung", attestationDigest))
	p.mono("Prüfbefehl", p.val("Prüfbefehl", verifyCommand))

	p.footnotes()
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return buf.Bytes(), nil
}

// certifies says what the certificate confirms, for the verdict's binding.
func certifies(m report.Meta) string {
	var bound string
	switch m.SUTBinding {
	case BindingImage:
		bound = "Das Ergebnis gilt für das Container-Image mit dem oben genannten Digest, und nur für dieses."
	case BindingBinary:
		bound = "Geprüft wurde das eingebaute Referenz-Fachverfahren des Kits; das Ergebnis gilt für das Kit-Binary mit dem oben genannten Digest."
	case BindingSelfDeclared:
		bound = "Das geprüfte System wurde über seine Adresse angegeben; Produkt, Version und Hersteller sind selbst erklärt, " +
			"nicht an einen Build gebunden. Die Bescheinigung belegt nur, dass das System unter dieser Adresse so antwortete."
	}
	return "Diese Bescheinigung bestätigt: Das oben genannte Produkt hat in diesem Lauf des Konform-Kits alle MUSS-Prüfungen " +
		"der genannten Profile bestanden, gemessen an den genannten Standards in den genannten Versionen und am SUT-Vertrag " +
		"in der genannten Version. " + bound
}

func orUnstated(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(nicht angegeben)"
	}
	return s
}

var months = [...]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

// germanDate writes t (UTC) as "2. Dezember 2026, 15:13 Uhr UTC".
func germanDate(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%d. %s %d, %s Uhr UTC", t.Day(), months[t.Month()-1], t.Year(), t.Format("15:04"))
}

// val fits s into the fonts' repertoire; a field with rewritten characters is marked with '*'
// and gets a footnote.
func (p *page) val(field, s string) string {
	out, changed := fit(s)
	if len(changed) == 0 {
		return out
	}
	for i := range p.notes {
		if p.notes[i].field == field {
			p.notes[i].changed = append(p.notes[i].changed, changed...)
			return out + "*"
		}
	}
	p.notes = append(p.notes, note{field, changed})
	return out + "*"
}

// heading starts a section; one that would stand last on a page, without room for a few lines
// of its own below it, starts the next page instead.
func (p *page) heading(s string) {
	_, pageHeight := p.pdf.GetPageSize()
	if _, _, _, bottom := p.pdf.GetMargins(); p.pdf.GetY()+3.5+6.5+1.5+3*lineHeight > pageHeight-bottom {
		p.pdf.AddPage()
	} else {
		p.pdf.Ln(3.5)
	}
	p.pdf.SetFont("Helvetica", "B", 11.5)
	p.pdf.CellFormat(0, 6.5, p.tr(s), "B", 1, "L", false, 0, "")
	p.pdf.Ln(1.5)
}

// field writes a label and its value, the value wrapping within its column. The value is in the
// fonts' repertoire already (val) or the kit's own text.
func (p *page) field(label, value string) {
	p.pdf.SetFont("Helvetica", "B", bodySize)
	p.pdf.CellFormat(labelWidth, lineHeight, p.tr(label), "", 0, "L", false, 0, "")
	p.pdf.SetFont("Helvetica", "", bodySize)
	p.pdf.MultiCell(0, lineHeight, p.tr(value), "", "L", false)
}

// mono writes a label and a value a reader may compare by eye (digests, IDs, commands) in
// Courier, complete: on one line in the largest size that fits, else broken into lines of
// equal length.
func (p *page) mono(label, value string) {
	pdf := p.pdf
	pdf.SetFont("Helvetica", "B", bodySize)
	pdf.CellFormat(labelWidth, lineHeight, p.tr(label), "", 0, "L", false, 0, "")
	left, _, right, _ := pdf.GetMargins()
	pageWidth, _ := pdf.GetPageSize()
	width := pageWidth - right - pdf.GetX() - 2 // the cell's inner margins
	text := p.tr(value)
	size := monoMax
	for ; size > monoMin; size -= 0.5 {
		pdf.SetFont("Courier", "", size)
		if pdf.GetStringWidth(text) <= width {
			break
		}
	}
	pdf.SetFont("Courier", "", size)
	perLine := int(width / pdf.GetStringWidth("0"))
	x := pdf.GetX()
	for len(text) > 0 {
		n := min(perLine, len(text))
		pdf.SetX(x)
		pdf.CellFormat(0, lineHeight, text[:n], "", 1, "L", false, 0, "")
		text = text[n:]
	}
	pdf.SetX(left)
}

func (p *page) paragraph(s string) {
	p.pdf.SetFont("Helvetica", "", bodySize)
	p.pdf.MultiCell(0, lineHeight, p.tr(s), "", "L", false)
	p.pdf.Ln(1)
}

// profileTable writes one line per profile: the MUST checks passed of all, the SHOULD checks
// likewise, and the profile's verdict.
func (p *page) profileTable(counts []profileCount) {
	pdf := p.pdf
	widths := []float64{62, 34, 34, 0}
	pdf.SetFont("Helvetica", "B", bodySize)
	pdf.SetFillColor(235, 235, 235)
	for i, h := range []string{"Profil", "MUSS bestanden", "SOLL bestanden", "Ergebnis"} {
		ln := 0
		if i == len(widths)-1 {
			ln = 1
		}
		pdf.CellFormat(widths[i], lineHeight+1, p.tr(h), "B", ln, "L", true, 0, "")
	}
	pdf.SetFont("Helvetica", "", bodySize)
	for _, c := range counts {
		should := "–"
		if c.shouldTotal > 0 {
			should = fmt.Sprintf("%d von %d", c.shouldPassed, c.shouldTotal)
		}
		verdict := "bestanden"
		if c.mustTotal == 0 {
			verdict = "keine MUSS-Prüfung"
		}
		cells := []string{p.val("Profile", c.name), fmt.Sprintf("%d von %d", c.mustPassed, c.mustTotal), should, verdict}
		for i, cell := range cells {
			ln := 0
			if i == len(widths)-1 {
				ln = 1
			}
			pdf.CellFormat(widths[i], lineHeight+0.6, p.tr(cell), "", ln, "L", false, 0, "")
		}
	}
}

// footnotes says which fields had characters rewritten and how.
func (p *page) footnotes() {
	if len(p.notes) == 0 {
		return
	}
	p.pdf.Ln(3)
	p.pdf.SetFont("Helvetica", "", 8)
	var b strings.Builder
	b.WriteString("* Zeichen außerhalb des PDF-Zeichensatzes umschrieben; die Originalschreibweise steht in summary.json.")
	for _, n := range p.notes {
		var parts []string
		codePoints := false
		seen := map[rune]bool{}
		for _, c := range n.changed {
			if seen[c.r] {
				continue
			}
			seen[c.r] = true
			if c.as == codePoint(c.r) {
				codePoints = true
				continue
			}
			parts = append(parts, fmt.Sprintf("U+%04X als „%s“", c.r, c.as))
		}
		if codePoints {
			parts = append(parts, "‹U+…› ist der Unicode-Code-Point des Zeichens")
		}
		fmt.Fprintf(&b, "\n%s: %s", n.field, strings.Join(parts, ", "))
	}
	p.pdf.MultiCell(0, 3.8, p.tr(b.String()), "", "L", false)
}
