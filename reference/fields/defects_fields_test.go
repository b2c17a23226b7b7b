package fields

import "testing"

func TestFaultyMappingOptions(t *testing.T) {
	data := []byte(`<?xml version="1.0"?><m><k listURI="urn:l" listVersionID="1"><code>01</code></k><textabsatz>Ελ</textabsatz><name>Ελ</name></m>`)
	free := func(p string) bool { return p == "m/textabsatz" }
	out, err := New(WithoutCodeListAttributes(), WithLatin1Paths(free), WithRawMessage("roh")).FromXML(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"m/k/code": "01", "m/textabsatz": "??", "m/name": "Ελ", "m/roh": string(data)}
	if len(out) != len(want) {
		t.Fatalf("got %v", out)
	}
	for p, v := range want {
		if out[p] != v {
			t.Errorf("%s = %q, want %q", p, out[p], v)
		}
	}
}
