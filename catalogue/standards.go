package catalogue

// Standard is a published standard a profile tests, with the version the kit holds it to.
type Standard struct {
	Name    string
	Version string
}

// profileStandards names what each profile's checks rest on (../shared/specs/README.md names
// the sources); the SUT contract is the kit's own.
var profileStandards = map[string][]Standard{
	"smoke":               {{"FIT-Connect Submission API", "1.1.3"}, {"Konform SUT-Vertrag", "2"}},
	"fitconnect-receiver": {{"FIT-Connect Submission API", "1.1.3"}, {"FIT-Connect Metadaten-Schema", "1.0.0"}},
	"ingest":              {{"XBau", "2.3.1"}, {"FIT-Connect Metadaten-Schema", "1.0.0"}, {"Konform SUT-Vertrag", "2"}},
	"hkr-payment":         {{"XFinanz", "3.1.0"}, {"Konform SUT-Vertrag", "2"}},
	"xta-reader":          {{"XTA 2 Version 3 (Webservice 2.1.1)", "2.1.1"}, {"OSCI 2 MsgBox (OSCI2_02.xsd)", "2.02"}, {"XBau", "2.3.1"}, {"Konform SUT-Vertrag", "2"}},
}

// Standards lists the standards the profiles test, each once, in profile order.
func Standards(profiles []string) []Standard {
	seen := map[Standard]bool{}
	var out []Standard
	for _, p := range profiles {
		for _, s := range profileStandards[p] {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// Digest is "sha256:<hex>" over the requirement files the kit carries, in name order: the
// catalogue the verdicts were judged by.
func (c *Catalogue) Digest() string { return c.digest }
