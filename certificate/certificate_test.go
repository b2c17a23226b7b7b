package certificate

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/konform/konform/report"
)

const (
	imageDigest = "sha256:3f1c9a0e5b7d2c4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"
	attDigest   = "sha256:9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877665544"
	verifyCmd   = "conformance verify --key konform.pub report"
)

// summary is a passed run of two profiles: smoke (2 MUST, 1 SHOULD failed) and hkr-payment
// (3 MUST, one of them shared with smoke, and 1 SHOULD passed).
func summary() report.Summary {
	v := func(id, level, state string, profiles ...string) report.Verdict {
		return report.Verdict{ID: id, Level: level, Verdict: state, Profiles: profiles}
	}
	return report.Summary{
		Meta: report.Meta{
			RunID: "7c1e0f4a-2b3d-4c5e-8f90-a1b2c3d4e5f6", KitVersion: "1.4.0", KitRevision: "0123456789abcdef0123456789abcdef01234567",
			ContractVersion: "1", Runtime: "docker", SUT: "image registry.example.de/buergeramt/fachverfahren:4.2.1",
			Profiles:  []string{"smoke", "hkr-payment"},
			StartedAt: time.Date(2026, 3, 9, 14, 2, 0, 0, time.UTC), FinishedAt: time.Date(2026, 3, 9, 14, 17, 45, 0, time.UTC),
			Product: "Gewerbeanmeldung Straßenverkehrsbehörde Süd", ProductVersion: "4.2.1-ß", Vendor: "Ωmega Soft Kőszeg GmbH",
			SUTBinding: BindingImage, SUTImage: "registry.example.de/buergeramt/fachverfahren:4.2.1", SUTDigest: imageDigest,
			Standards: []report.Standard{{Name: "FIT-Connect Submission API", Version: "1.3.0"}, {Name: "XFinanz", Version: "3.0"}},
		},
		Verdict: report.Passed,
		Must:    report.Counts{Passed: 4},
		Should:  report.Counts{Passed: 1, Failed: 1},
		Verdicts: []report.Verdict{
			v("SMK-001", "MUST", report.Passed, "smoke", "hkr-payment"),
			v("SMK-002", "MUST", report.Passed, "smoke"),
			v("SMK-050", "SHOULD", report.Failed, "smoke"),
			v("HKR-001", "MUST", report.Passed, "hkr-payment"),
			v("HKR-002", "MUST", report.Passed, "hkr-payment"),
			v("HKR-050", "SHOULD", report.Passed, "hkr-payment"),
		},
	}
}

// poppler returns the path of a poppler tool; without it the test fails under CI=true and is
// skipped elsewhere.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (Debian package poppler-utils); CI must have it to check the certificate's text", tool)
	}
	t.Skipf("%s is missing (Debian package poppler-utils): cannot check the certificate's text", tool)
	return ""
}

// text extracts the PDF's text with its layout, runs of blanks folded to one.
func text(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command(poppler(t, "pdftotext"), "-layout", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return regexp.MustCompile(`[ \t]+`).ReplaceAllString(string(out), " ")
}

func pages(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command(poppler(t, "pdfinfo"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo names no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func write(t *testing.T, s report.Summary) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), File)
	if err := Write(path, s, attDigest, verifyCmd); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCertificateSaysWhatWasCertified(t *testing.T) {
	path := write(t, summary())
	got := text(t, path)
	for _, want := range []string{
		"Konformitätsbescheinigung",
		"Produkt Gewerbeanmeldung Straßenverkehrsbehörde Süd",
		"Version 4.2.1-ß",
		// Ω is transliterated, ő written as ö; the field is marked and the footnote says how.
		"Hersteller Omega Soft Köszeg GmbH*",
		"* Zeichen außerhalb des PDF-Zeichensatzes umschrieben",
		"Hersteller: U+03A9 als „O“, U+0151 als „ö“",
		"Image registry.example.de/buergeramt/fachverfahren:4.2.1",
		"Image-Digest " + imageDigest,
		"Kit-Version 1.4.0",
		"Kit-Revision 0123456789abcdef0123456789abcdef01234567",
		"SUT-Vertrag Version 1",
		"Datum 9. März 2026, 14:17 Uhr UTC",
		"2026-03-09T14:17:45Z",
		"Lauf-ID 7c1e0f4a-2b3d-4c5e-8f90-a1b2c3d4e5f6",
		"Profile smoke, hkr-payment",
		"FIT-Connect Submission API 1.3.0",
		"XFinanz 3.0",
		"smoke 2 von 2 0 von 1 bestanden",
		"hkr-payment 3 von 3 1 von 1 bestanden",
		"Gesamtergebnis: bestanden",
		"MUSS: 4 von 4 bestanden",
		"Sie bestätigt nicht",
		"Attestierung " + attDigest,
		"Prüfbefehl " + verifyCmd,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the certificate lacks %q\n%s", want, got)
		}
	}
	for _, bad := range []string{"?", "Ω", "ő"} {
		if strings.Contains(got, bad) {
			t.Errorf("the certificate holds %q: a character was dropped or is not in the fonts\n%s", bad, got)
		}
	}
	if n := pages(t, path); n < 1 || n > 2 {
		t.Errorf("the certificate has %d pages, want 1 or 2", n)
	}
}

func TestCertificateOfASelfDeclaredSUT(t *testing.T) {
	s := summary()
	s.Meta.SUTBinding, s.Meta.SUTImage, s.Meta.SUTDigest = BindingSelfDeclared, "", ""
	s.Meta.SUT = "url http://fachverfahren.intern:8080"
	s.Meta.Vendor = "Muster GmbH"
	s.Meta.Product = "数据平台"
	got := text(t, write(t, s))
	for _, want := range []string{
		"selbst erklärt, nicht an einen Build gebunden",
		"Adresse http://fachverfahren.intern:8080",
		// No faithful Latin form: the code points, marked.
		"Produkt ‹U+6570›‹U+636E›‹U+5E73›‹U+53F0›*",
		"‹U+…› ist der Unicode-Code-Point des Zeichens",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the certificate lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "Image-Digest") {
		t.Errorf("a self-declared SUT's certificate names an image digest\n%s", got)
	}
}

func TestCertificateOfTheBuiltInReference(t *testing.T) {
	s := summary()
	s.Meta.SUTBinding, s.Meta.SUTImage = BindingBinary, ""
	s.Meta.Vendor = "Konform"
	got := text(t, write(t, s))
	for _, want := range []string{"Referenz-Fachverfahren", "Kit-Binary-Digest " + imageDigest} {
		if !strings.Contains(got, want) {
			t.Errorf("the certificate lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "umschrieben") {
		t.Errorf("a certificate with nothing outside the code page has a footnote\n%s", got)
	}
}

// A run with every profile and many standards, long names and a long digest still fits on two
// pages and keeps the digest whole.
func TestCertificateOfALargeRunFitsTwoPages(t *testing.T) {
	s := summary()
	s.Meta.Profiles = []string{"smoke", "fitconnect-receiver", "ingest", "hkr-payment"}
	s.Meta.Product = strings.Repeat("Fachverfahren für die elektronische Gewerbeanzeige ", 4)
	long := "sha512:" + strings.Repeat("0123456789abcdef", 8)
	s.Meta.SUTDigest = long
	for i := range 12 {
		s.Meta.Standards = append(s.Meta.Standards, report.Standard{Name: "XÖV-Standard Nummer " + strconv.Itoa(i), Version: "2.1." + strconv.Itoa(i)})
	}
	path := write(t, s)
	if n := pages(t, path); n < 1 || n > 2 {
		t.Errorf("the certificate has %d pages, want 1 or 2", n)
	}
	got := strings.Join(strings.Fields(text(t, path)), "")
	if !strings.Contains(got, long) {
		t.Errorf("the long digest is not whole in the certificate\n%s", got)
	}
}

func TestSameInputSameBytes(t *testing.T) {
	a, err := os.ReadFile(write(t, summary()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(write(t, summary()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two certificates of the same summary differ")
	}
	if !bytes.HasPrefix(a, []byte("%PDF-")) {
		t.Errorf("not a PDF: %q", a[:min(len(a), 16)])
	}
}

func TestNoCertificateForARunThatIsNotCertifiable(t *testing.T) {
	for name, c := range map[string]struct {
		change func(*report.Summary)
		why    string
	}{
		"failed":          {func(s *report.Summary) { s.Verdict = report.Failed }, `verdict is "failed"`},
		"incomplete":      {func(s *report.Summary) { s.Verdict = report.Incomplete }, `verdict is "incomplete"`},
		"error":           {func(s *report.Summary) { s.Verdict = report.Error }, `verdict is "error"`},
		"not certifiable": {func(s *report.Summary) { s.Meta.NotCertifiable = "the SUT ran with defects" }, "not certifiable: the SUT ran with defects"},
		"MUST failed": {func(s *report.Summary) { s.Verdicts[1].Verdict = report.Failed; s.Must.Failed = 1 },
			"not every MUST check passed"},
		"MUST verdict failed": {func(s *report.Summary) { s.Verdicts[1].Verdict = report.Failed }, "SMK-002"},
		"no MUST check": {func(s *report.Summary) {
			s.Verdicts = s.Verdicts[2:3]
			s.Must = report.Counts{}
		}, "no MUST check ran"},
		"interrupted":      {func(s *report.Summary) { s.Meta.Interrupted = true }, "interrupted"},
		"no binding":       {func(s *report.Summary) { s.Meta.SUTBinding = "" }, "bound to"},
		"image, no digest": {func(s *report.Summary) { s.Meta.SUTDigest = "" }, "digest"},
	} {
		t.Run(name, func(t *testing.T) {
			s := summary()
			c.change(&s)
			path := filepath.Join(t.TempDir(), File)
			err := Write(path, s, attDigest, verifyCmd)
			if err == nil || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("Write: %v, want an error saying %q", err, c.why)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("a certificate was written for a run that is not certifiable (%v)", err)
			}
		})
	}
	if err := Write(filepath.Join(t.TempDir(), File), summary(), "", verifyCmd); err == nil {
		t.Error("Write without an attestation digest: no error")
	}
	if err := Write(filepath.Join(t.TempDir(), File), summary(), attDigest, " "); err == nil {
		t.Error("Write without a verify command: no error")
	}
}

func TestFitKeepsEveryCharacter(t *testing.T) {
	for in, want := range map[string]string{
		"Straße Äöü „x“ – … €": "Straße Äöü „x“ – … €",
		"Ωmega":                "Omega",
		"Kőszeg Űrhajó":        "Köszeg Ürhajó",
		"Łódź Čačak":           "Lódz Cacak",
		"Ἀθῆναι":               "Athinai",
		"Москва":               "Moskva",
		"中":                    "‹U+4E2D›",
		"a\nb":                 "a‹U+000A›b",
		"e\u0301":              "é", // composed first: é is in the code page
	} {
		got, changed := fit(in)
		if got != want {
			t.Errorf("fit(%q) = %q, want %q", in, got, want)
		}
		if (got != norm.NFC.String(in)) != (len(changed) > 0) {
			t.Errorf("fit(%q): %d characters reported rewritten, text changed: %v", in, len(changed), got != in)
		}
		if !allCP1252(got) {
			t.Errorf("fit(%q) = %q is not all in Windows-1252", in, got)
		}
	}
}
