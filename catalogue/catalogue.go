// Package catalogue is the requirement catalogue: every conformance check by test ID, with its
// level, the clause it enforces, its profiles and the reference defects it must catch.
package catalogue

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed requirements/*.yaml
var requirementFiles embed.FS

// Levels of a requirement (RFC 2119).
const (
	MUST   = "MUST"
	SHOULD = "SHOULD"
)

// Bases of an expectation: what fixes it.
const (
	// BasisSource: a public source (FIT-Connect docs, an official schema or API) fixes it; the
	// clause quotes the words.
	BasisSource = "source"
	// BasisKitDecision: no public source fixes it; the kit decided, and says so wherever the
	// expectation is shown.
	BasisKitDecision = "kit-decision"
)

// EventRejectSubmission is the decision event a rejection check expects.
const EventRejectSubmission = "reject-submission"

// ProblemTypePrefix is the namespace of the problem types of a reject-submission event.
const ProblemTypePrefix = "https://schema.fitko.de/fit-connect/events/problems/"

// Profiles a requirement can belong to.
var Profiles = []string{"smoke", "fitconnect-receiver", "ingest", "hkr-payment", "xta-reader"}

// Transports (contract.Transport*) a check can need. A check needs its own transport when it
// names one, else its profile's; smoke's probe check and the ingest checks that judge every
// transport tested need none.
const (
	TransportFitConnect = "fitconnect"
	TransportXTA        = "xta"
)

var profileTransport = map[string]string{
	"fitconnect-receiver": TransportFitConnect,
	"hkr-payment":         TransportFitConnect,
	"xta-reader":          TransportXTA,
}

// Clause names the passage of a document that a requirement enforces.
type Clause struct {
	Document string `yaml:"document" json:"document"`
	Section  string `yaml:"section" json:"section"`
	Source   string `yaml:"source,omitempty" json:"source,omitempty"`
	// Quote is the source's own words that make the requirement MUST or SHOULD; empty when no
	// source fixes the level.
	Quote string `yaml:"quote,omitempty" json:"quote,omitempty"`
}

// Expect is the decision event a check expects from the SUT, exactly as the suite judges it.
type Expect struct {
	Event       string `yaml:"event" json:"event"`
	ProblemType string `yaml:"problemType" json:"problemType"`
	// Instance is the problem's instance; a part in <…> stands for an ID of the submission sent.
	Instance string `yaml:"instance" json:"instance"`
	// Basis says what fixes the problem type and instance.
	Basis string `yaml:"basis" json:"basis"`
	// Decision says why the kit chose these values; required when Basis is kit-decision.
	Decision string `yaml:"decision,omitempty" json:"decision,omitempty"`
}

// Short is the problem type without its namespace.
func (e Expect) Short() string { return strings.TrimPrefix(e.ProblemType, ProblemTypePrefix) }

// Requirement is one catalogue entry.
type Requirement struct {
	ID       string   `yaml:"id" json:"id"`
	Level    string   `yaml:"level" json:"level"`
	Title    string   `yaml:"title" json:"title"`
	Profiles []string `yaml:"profiles" json:"profiles"`
	Clause   Clause   `yaml:"clause" json:"clause"`
	// Basis says what fixes the requirement's level and expectation; when it is kit-decision,
	// Decision says what the kit decided.
	Basis string `yaml:"basis" json:"basis"`
	// Expect is the decision event a rejection check expects.
	Expect *Expect `yaml:"expect,omitempty" json:"expect,omitempty"`
	// Defects are the reference defects this check must fail, each with the cause the failure
	// must show. A defect's expected failing set is every check that names it here.
	Defects []Kill `yaml:"defects" json:"defects"`
	// Gate marks a check without which nothing else can be judged (the SUT answers its probe,
	// it obtains a token). Gates run first; when one fails, the checks after it are not run.
	Gate bool `yaml:"gate,omitempty" json:"gate,omitempty"`
	// Decision records a choice the documents left open, with its source.
	Decision string `yaml:"decision,omitempty" json:"decision,omitempty"`
	// Transport names the transport the check needs when its profile does not say it (a smoke
	// check that lists FIT-Connect submissions).
	Transport string `yaml:"transport,omitempty" json:"transport,omitempty"`
}

// Needs returns the transport the check needs ("" for none).
func (r Requirement) Needs() string {
	if r.Transport != "" {
		return r.Transport
	}
	for _, p := range r.Profiles {
		if t := profileTransport[p]; t != "" {
			return t
		}
	}
	return ""
}

// Kill declares that a check fails under a defect, and why: Because is a regular expression
// that the check's failure message must match (the problem type, the field path, the Anordnung
// number … — never a time-out).
type Kill struct {
	Defect  string `yaml:"defect" json:"defect"`
	Because string `yaml:"because" json:"because"`
}

// UnmarshalYAML reads a kill as a mapping {defect, because} or as a bare defect name (a kill
// without a declared cause, which the self-test refuses).
func (k *Kill) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		k.Defect = n.Value
		return nil
	}
	type plain Kill
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*k = Kill(p)
	return nil
}

// MarshalYAML writes a kill as a mapping, or as a bare name when it declares no cause.
func (k Kill) MarshalYAML() (any, error) {
	if k.Because == "" {
		return k.Defect, nil
	}
	type plain Kill
	return plain(k), nil
}

// KitDecisions returns, one sentence each, what of the requirement rests on the kit's decision
// alone; empty when public sources fix all of it.
func (r Requirement) KitDecisions() []string {
	var out []string
	if r.Basis == BasisKitDecision {
		out = append(out, r.Decision)
	}
	if e := r.Expect; e != nil && e.Basis == BasisKitDecision {
		out = append(out, fmt.Sprintf("%s with problem type %s, instance %q: %s", e.Event, e.ProblemType, e.Instance, e.Decision))
	}
	return out
}

// DefectNames returns the names of the defects the requirement must catch.
func (r Requirement) DefectNames() []string {
	out := make([]string, 0, len(r.Defects))
	for _, k := range r.Defects {
		out = append(out, k.Defect)
	}
	return out
}

// Kill returns the requirement's declaration for the named defect.
func (r Requirement) Kill(defect string) (Kill, bool) {
	for _, k := range r.Defects {
		if k.Defect == defect {
			return k, true
		}
	}
	return Kill{}, false
}

// Catalogue is the parsed catalogue.
type Catalogue struct {
	Requirements []Requirement `yaml:"requirements"`
	byID         map[string]*Requirement
	digest       string
}

var idPattern = regexp.MustCompile(`^[A-Z]{2}-[A-Z]{3}-[0-9]{3}$`)

// Parse reads and checks a catalogue document.
func Parse(data []byte) (*Catalogue, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Catalogue
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	c.byID = map[string]*Requirement{}
	known := map[string]bool{}
	for _, p := range Profiles {
		known[p] = true
	}
	for i := range c.Requirements {
		r := &c.Requirements[i]
		switch {
		case !idPattern.MatchString(r.ID):
			return nil, fmt.Errorf("catalogue: entry %d: test ID %q is not of the form AA-BBB-000", i+1, r.ID)
		case c.byID[r.ID] != nil:
			return nil, fmt.Errorf("catalogue: test ID %s appears twice", r.ID)
		case r.Level != MUST && r.Level != SHOULD:
			return nil, fmt.Errorf("catalogue: %s: level %q is neither MUST nor SHOULD", r.ID, r.Level)
		case r.Title == "":
			return nil, fmt.Errorf("catalogue: %s: no title", r.ID)
		case r.Clause.Document == "" || r.Clause.Section == "":
			return nil, fmt.Errorf("catalogue: %s: clause needs document and section", r.ID)
		case len(r.Profiles) == 0:
			return nil, fmt.Errorf("catalogue: %s: no profile", r.ID)
		case len(r.Defects) == 0:
			return nil, fmt.Errorf("catalogue: %s: names no defect it must catch", r.ID)
		case r.Transport != "" && r.Transport != TransportFitConnect && r.Transport != TransportXTA:
			return nil, fmt.Errorf("catalogue: %s: transport %q is neither fitconnect nor xta", r.ID, r.Transport)
		}
		if err := checkBasis(r.Basis, r.Clause.Quote, r.Decision, "clause.quote"); err != nil {
			return nil, fmt.Errorf("catalogue: %s: %w", r.ID, err)
		}
		if r.Expect != nil {
			if err := checkExpect(*r.Expect); err != nil {
				return nil, fmt.Errorf("catalogue: %s: expect: %w", r.ID, err)
			}
		}
		for _, p := range r.Profiles {
			if !known[p] {
				return nil, fmt.Errorf("catalogue: %s: unknown profile %q", r.ID, p)
			}
		}
		seen := map[string]bool{}
		for _, k := range r.Defects {
			if k.Defect == "" {
				return nil, fmt.Errorf("catalogue: %s: a defect entry without a name", r.ID)
			}
			if seen[k.Defect] {
				return nil, fmt.Errorf("catalogue: %s: defect %s named twice", r.ID, k.Defect)
			}
			seen[k.Defect] = true
			if k.Because != "" {
				if _, err := regexp.Compile(k.Because); err != nil {
					return nil, fmt.Errorf("catalogue: %s: defect %s: because is not a regular expression: %v", r.ID, k.Defect, err)
				}
			}
		}
		c.byID[r.ID] = r
	}
	return &c, nil
}

// checkBasis demands the words behind a basis: the quote for a source, the decision for the kit's.
func checkBasis(basis, quote, decision, quoteField string) error {
	switch basis {
	case BasisSource:
		if quoteField != "" && quote == "" {
			return fmt.Errorf("basis source needs %s, the source's own words", quoteField)
		}
	case BasisKitDecision:
		if decision == "" {
			return fmt.Errorf("basis kit-decision needs a decision saying what the kit decided")
		}
	default:
		return fmt.Errorf("basis %q is neither %s nor %s", basis, BasisSource, BasisKitDecision)
	}
	return nil
}

func checkExpect(e Expect) error {
	switch {
	case e.Event != EventRejectSubmission:
		return fmt.Errorf("event %q is not %s", e.Event, EventRejectSubmission)
	case !strings.HasPrefix(e.ProblemType, ProblemTypePrefix) || e.Short() == "":
		return fmt.Errorf("problemType %q is not a full URI under %s", e.ProblemType, ProblemTypePrefix)
	case e.Instance == "":
		return fmt.Errorf("no instance")
	}
	return checkBasis(e.Basis, "", e.Decision, "")
}

var builtin *Catalogue

// ParseFiles reads the catalogue from one or more documents, in order.
func ParseFiles(files map[string][]byte) (*Catalogue, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var all bytes.Buffer
	all.WriteString("requirements:\n")
	for _, n := range names {
		dec := yaml.NewDecoder(bytes.NewReader(files[n]))
		dec.KnownFields(true)
		var part Catalogue
		if err := dec.Decode(&part); err != nil {
			return nil, fmt.Errorf("catalogue %s: %w", n, err)
		}
		b, err := yaml.Marshal(part.Requirements)
		if err != nil {
			return nil, err
		}
		if len(part.Requirements) > 0 {
			all.Write(b)
		}
	}
	c, err := Parse(all.Bytes())
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	c.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return c, nil
}

func init() {
	entries, err := requirementFiles.ReadDir("requirements")
	if err != nil {
		panic(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := requirementFiles.ReadFile("requirements/" + e.Name())
		if err != nil {
			panic(err)
		}
		files[e.Name()] = b
	}
	c, err := ParseFiles(files)
	if err != nil {
		// The embedded catalogue is part of the build; a broken one must stop every command.
		panic(err)
	}
	builtin = c
}

// Builtin returns the catalogue compiled into the kit.
func Builtin() *Catalogue { return builtin }

// Lookup returns the requirement with the given test ID.
func (c *Catalogue) Lookup(id string) (Requirement, bool) {
	r, ok := c.byID[id]
	if !ok {
		return Requirement{}, false
	}
	return *r, true
}

// IDs returns all test IDs, sorted.
func (c *Catalogue) IDs() []string {
	out := make([]string, 0, len(c.Requirements))
	for _, r := range c.Requirements {
		out = append(out, r.ID)
	}
	sort.Strings(out)
	return out
}

// Defects returns every defect named by any requirement, sorted, with the IDs that claim it.
func (c *Catalogue) Defects() map[string][]string {
	out := map[string][]string{}
	for _, r := range c.Requirements {
		for _, k := range r.Defects {
			out[k.Defect] = append(out[k.Defect], r.ID)
		}
	}
	return out
}
