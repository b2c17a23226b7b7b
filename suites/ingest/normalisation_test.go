package ingest

import "testing"

func TestNormalisedTo(t *testing.T) {
	cases := []struct{ sent, stored, want string }{
		{"M\u00fcller", "M\u00fcller", ""},
		{"Mu\u0308ller", "M\u00fcller", "NFC"},
		{"M\u00fcller", "Mu\u0308ller", "NFD"},
		{"M\u00fcller", "M?ller", ""},
		{"M\u00fcller", "M\u00fcl", ""},
		{"Dz\u0304ambo", "Dz\u0304ambo", ""},
	}
	for _, c := range cases {
		if got := normalisedTo(c.sent, c.stored); got != c.want {
			t.Errorf("normalisedTo(%q, %q) = %q, want %q", c.sent, c.stored, got, c.want)
		}
	}
}
