// Package defects names the deliberate faults the reference Fachverfahren can be switched to.
// Each conformance check declares in the catalogue which of them it must catch; the self-test
// runs the suites once per defect and fails when a defect survives.
package defects

import (
	"fmt"
	"sort"
	"strings"
)

// Defect is one named, deliberate fault.
type Defect struct {
	Name        string
	Description string
}

// All lists every defect the reference knows. Keep names stable: the catalogue refers to them.
var All = []Defect{
	{"probe-wrong-contract-version", "the probe reports a contract version the kit does not know"},
	{"token-wrong-credentials", "requests OAuth tokens with a wrong client secret"},
	{"poll-foreign-destination", "lists submissions without the destination filter and processes every destination it can see"},
}

// Set is the set of defects switched on.
type Set map[string]bool

// Parse reads a comma-separated list such as KONFORM_REFERENCE_DEFECTS and rejects unknown names.
func Parse(list string) (Set, error) {
	s := Set{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !Known(name) {
			return nil, fmt.Errorf("unknown defect %q (known: %s)", name, strings.Join(Names(), ", "))
		}
		s[name] = true
	}
	return s, nil
}

// On reports whether the named defect is switched on.
func (s Set) On(name string) bool { return s[name] }

// Known reports whether name is a defect of the reference.
func Known(name string) bool {
	for _, d := range All {
		if d.Name == name {
			return true
		}
	}
	return false
}

// Names returns all defect names, sorted.
func Names() []string {
	out := make([]string, 0, len(All))
	for _, d := range All {
		out = append(out, d.Name)
	}
	sort.Strings(out)
	return out
}
