package ingest

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/konform/konform/fixtures"
)

// aspect names the check that judges a field. Every sent field belongs to exactly one, so that
// a fault shows in the check about what it damages and nowhere else; Unicode normalisation is
// IN-FLD-020's in every field.
type aspect int

const (
	aspectBase           aspect = iota // IN-FLD-010
	aspectNonLatin                     // IN-FLD-030
	aspectLong                         // IN-FLD-040
	aspectLaterApplicant               // IN-FLD-050
	aspectOptional                     // IN-FLD-060
	aspectDocument                     // IN-FLD-070
)

// laterApplicant matches the path of an applicant after the first: antragsteller (Bauantrag)
// or anzeigender (Genehmigungsfreistellung) at position 2 or more.
var laterApplicant = regexp.MustCompile(`/(antragsteller|anzeigender)\[([2-9]|\d\d+)\]`)

// isSuffixPath reports whether the path runs through an optional suffix element (a local name
// ending in "zusatz", such as anschrift/zusatz).
func isSuffixPath(path string) bool {
	for _, name := range strings.Split(path, "/") {
		name, _, _ = strings.Cut(name, "[")
		if strings.HasSuffix(strings.ToLower(name), "zusatz") {
			return true
		}
	}
	return false
}

func hasNonLatin1(v string) bool {
	return strings.IndexFunc(v, func(r rune) bool { return r > 0xFF }) >= 0
}

// sentAspect is the check that judges a sent field: structure first (suffix elements, later
// applicants), then the characters of the value.
func sentAspect(path, value string) aspect {
	switch {
	case isSuffixPath(path):
		return aspectOptional
	case laterApplicant.MatchString(path):
		return aspectLaterApplicant
	case hasNonLatin1(value):
		return aspectNonLatin
	case utf8.RuneCountInString(value) > dbColumnLimit:
		return aspectLong
	}
	return aspectBase
}

// storedAspect is the check that judges a stored field the message does not have.
func storedAspect(path, value string) aspect {
	switch {
	case looksLikeDocument(value):
		return aspectDocument
	case value == "" || isSuffixPath(path):
		return aspectOptional
	}
	return aspectBase
}

// holds reports whether a fixture has a sent field of the aspect.
func holds(f fixtures.Fixture, a aspect) bool {
	for p, v := range f.Expected.Fields {
		if sentAspect(p, v) == a {
			return true
		}
	}
	return false
}
