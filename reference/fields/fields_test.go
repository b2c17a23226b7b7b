package fields

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

const doc = "<x:r xmlns:x=\"urn:x\"><a>  Müller\r\n </a><b><c>1</c><c>2</c></b><d k=\"v\"/><e/><fzusatz>Dr.</fzusatz>" +
	"<antragsteller><n>Öl</n></antragsteller><antragsteller><n>Ωmega</n></antragsteller><g>e\u0301</g><h>&amp;&#x41;</h></x:r>"

func TestFromXML(t *testing.T) {
	got, err := New().FromXML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"r/a": "  Müller\n ", "r/b/c[1]": "1", "r/b/c[2]": "2", "r/d/@k": "v", "r/fzusatz": "Dr.",
		"r/antragsteller[1]/n": "Öl", "r/antragsteller[2]/n": "Ωmega", "r/g": "e\u0301", "r/h": "&A",
	}
	if len(got) != len(want) {
		t.Errorf("got %d fields %v, want %d", len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestXMLErrors(t *testing.T) {
	for _, bad := range []string{"", "<a>", "<a></b>", "<a/><b/>", "text<a/>"} {
		if _, err := New().FromXML([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDefectOptions(t *testing.T) {
	long := strings.Repeat("ä", 300)
	d := "<r><fzusatz>Dr.</fzusatz><g>e\u0301</g><o>Ωmega</o><l>" + long + "</l><antragsteller>1</antragsteller><antragsteller>2</antragsteller></r>"
	check := func(name string, m *Mapper, key, want string) {
		t.Helper()
		got, err := m.FromXML([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := got[key]; (want == "<absent>" && ok) || (want != "<absent>" && v != want) {
			t.Errorf("%s: %s = %q (present %v), want %q", name, key, v, ok, want)
		}
	}
	check("faithful", New(), "r/g", "e\u0301")
	check("drop-optional-element", New(WithoutSuffixElements()), "r/fzusatz", "<absent>")
	check("unicode-normalize", New(WithNFC()), "r/g", "é")
	check("latin1-roundtrip", New(WithLatin1Column()), "r/o", "?mega")
	check("truncate-long-text", New(WithMaxLength(255)), "r/l", strings.Repeat("ä", 255))
	check("first-applicant-only", New(WithSingle("antragsteller")), "r/antragsteller[2]", "<absent>")
	check("first-applicant-only keeps first", New(WithSingle("antragsteller")), "r/antragsteller[1]", "1")
}

func TestFromJSON(t *testing.T) {
	got, err := New().FromJSON([]byte(`{"a":{"b":[{"c":"x"},{"c":"y"}]},"n":12.50,"t":true,"z":null}`))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"a/b[1]/c": "x", "a/b[2]/c": "y", "n": "12.50", "t": "true"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := New().FromJSON([]byte(`{"a":`)); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestNormalisedPaths(t *testing.T) {
	data := []byte("<r><name>M\u00fcller</name><text>Gr\u00fc\u00dfe</text></r>")
	m := New(WithNormalisedPaths(norm.NFD, func(p string) bool { return strings.HasSuffix(p, "/name") }))
	got, err := m.FromXML(data)
	if err != nil {
		t.Fatal(err)
	}
	if got["r/name"] != "Mu\u0308ller" || got["r/text"] != "Gr\u00fc\u00dfe" {
		t.Errorf("got %q", got)
	}
}
