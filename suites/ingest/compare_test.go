package ingest

import (
	"strings"
	"testing"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/recorder"
)

func TestCompareFieldsExact(t *testing.T) {
	want := map[string]string{"r/a": "Müller", "r/b[1]": "x", "r/b[2]": "y"}
	c := compareFields(want, map[string]string{"r/a": "Müller", "r/b[1]": "x", "r/b[2]": "y"}, allFields, allFields)
	if !c.ok() || c.Checked != 3 || c.Diff != "" {
		t.Fatalf("identical maps: %+v", c)
	}
	c = compareFields(want, map[string]string{"r/a": "Müller", "r/b[1]": "x", "r/blob": "<r/>"}, allFields, allFields)
	if c.ok() || len(c.Mismatches) != 1 || c.Mismatches[0].Path != "r/b[2]" || c.Mismatches[0].Present {
		t.Fatalf("missing field not found: %+v", c)
	}
	if len(c.Extra) != 1 || c.Extra[0] != "r/blob" {
		t.Fatalf("extra field not found: %+v", c.Extra)
	}
	if !strings.Contains(c.Diff, "r/b[2]") || !strings.Contains(c.Diff, "r/blob") {
		t.Fatalf("diff does not name the paths:\n%s", c.Diff)
	}
	s := c.summary("fx")
	if !strings.Contains(s, "1 of 3 fields") || !strings.Contains(s, "r/b[2]: missing") || !strings.Contains(s, "unexpected field r/blob") {
		t.Fatalf("summary: %s", s)
	}
}

func TestCompareFieldsFilteredIgnoresOthers(t *testing.T) {
	want := map[string]string{"r/a": "e\u0301x", "r/b": "plain"}
	got := map[string]string{"r/a": "éy", "r/c": "ignored"}
	c := compareFields(want, got, func(_, v string) bool { return !isASCII(v) }, nil)
	if c.Checked != 1 || len(c.Mismatches) != 1 || len(c.Extra) != 0 {
		t.Fatalf("%+v", c)
	}
	s := c.Mismatches[0].String()
	for _, part := range []string{"NFC", "NFD", "U+0301", "U+00E9"} {
		if !strings.Contains(s, part) {
			t.Errorf("mismatch text %q lacks %s", s, part)
		}
	}
}

func TestCompareFieldsLeavesNormalisationAlone(t *testing.T) {
	c := compareFields(map[string]string{"r/a": "e\u0301"}, map[string]string{"r/a": "é"}, allFields, allFields)
	if !c.ok() {
		t.Fatalf("a value differing only by normalisation is IN-FLD-020's: %+v", c)
	}
}

func TestAspects(t *testing.T) {
	for _, tc := range []struct {
		path, value string
		want        aspect
	}{
		{"m/antragsteller[2]/anschrift/zusatz", "Hinterhaus", aspectOptional},
		{"m/antragsteller[2]/name/name", "Nguyễn", aspectLaterApplicant},
		{"m/anzeigender[2]/name/name", "Søren", aspectLaterApplicant},
		{"m/antragsteller[1]/name/name", "Müller", aspectBase},
		{"m/bauherr[2]/name/name", "Nguyễn", aspectNonLatin},
		{"m/textabsatz", strings.Repeat("a", 256), aspectLong},
		{"m/@listURI", "urn:x", aspectBase},
	} {
		if got := sentAspect(tc.path, tc.value); got != tc.want {
			t.Errorf("%s = %q: aspect %v, want %v", tc.path, tc.value, got, tc.want)
		}
	}
	if storedAspect("m/x", "<?xml version=\"1.0\"?><m/>") != aspectDocument || storedAspect("m/x", "") != aspectOptional ||
		storedAspect("m/zusatz", "x") != aspectOptional || storedAspect("m/x", "y") != aspectBase {
		t.Error("stored fields the message does not have go to the wrong check")
	}
}

func TestShowLongValue(t *testing.T) {
	s := show(strings.Repeat("ä", 300))
	if !strings.Contains(s, "300 characters, 600 bytes") || !strings.Contains(s, "…") {
		t.Fatalf("%s", s)
	}
	if strings.Contains(s, "U+") {
		t.Fatalf("code points of a long value: %s", s)
	}
}

func TestClipKeepsUTF8(t *testing.T) {
	s := clip(strings.Repeat("ü", 10), 5)
	if !strings.HasPrefix(s, "üü\n…") {
		t.Fatalf("%q", s)
	}
	if clip("short", 10) != "short" {
		t.Fatal("short text changed")
	}
}

func TestCompareAttachments(t *testing.T) {
	h := func(c byte) string { return strings.Repeat(string(c), 128) }
	want := []fixtures.ExpectedAttachment{{Filename: "a.pdf", SHA512: h('a'), Size: 1}, {Filename: "b.png", SHA512: h('b'), Size: 2}, {Filename: "a2.pdf", SHA512: h('a'), Size: 1}}
	got := []contract.Attachment{{SHA512: strings.ToUpper(h('a')), Size: 1}, {SHA512: h('b'), Size: 2}, {SHA512: h('a'), Size: 1}}
	if c := compareAttachments(want, got); !c.ok() {
		t.Fatalf("same content in another order and case: %+v", c)
	}
	c := compareAttachments(want, got[:2])
	if c.ok() || len(c.Missing) != 1 || c.Missing[0].SHA512 != h('a') {
		t.Fatalf("a duplicate stored once must count as missing: %+v", c)
	}
	c = compareAttachments(want[:1], []contract.Attachment{{Filename: "a.pdf", SHA512: h('a'), Size: 0}})
	if len(c.Missing) != 1 || len(c.Extra) != 1 {
		t.Fatalf("a truncated attachment is missing and extra: %+v", c)
	}
	s := c.summary("fx", 1, 1)
	if !strings.Contains(s, "missing a.pdf (1 bytes") || !strings.Contains(s, `stored "a.pdf" (0 bytes`) {
		t.Fatalf("summary: %s", s)
	}
}

func TestLooksLikeDocument(t *testing.T) {
	for v, want := range map[string]bool{
		"<?xml version=\"1.0\"?><a/>": true, "%PDF-1.7 …": true, "<x:antrag><antragsteller/></x:antrag>": true,
		"Müller": false, "a < b": false, "": false,
	} {
		if got := looksLikeDocument(v); got != want {
			t.Errorf("looksLikeDocument(%q) = %v", v, got)
		}
	}
}

func TestFailedPosts(t *testing.T) {
	const path = "/v1/cases/c1/events"
	ex := []recorder.Exchange{
		{Method: "POST", URL: path, Status: 503},
		{Method: "POST", URL: path, Status: 201},
		{Method: "GET", URL: path, Status: 500},
		{Method: "POST", URL: "/v1/cases/c2/events", Status: 503},
	}
	if n := failedPosts(ex, path); n != 1 {
		t.Fatalf("failedPosts = %d, want 1", n)
	}
}
