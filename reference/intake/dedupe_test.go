package intake

import "testing"

// Two submissions carrying the same XBau message are two cases; the dedupe-by-message-uuid
// defect files the second under none.
func TestSameMessageTwiceMakesTwoCases(t *testing.T) {
	for _, tc := range []struct {
		defect string
		want   int
	}{{"", 2}, {"dedupe-by-message-uuid", 1}} {
		t.Run("defect="+tc.defect, func(t *testing.T) {
			h := newHarness(t, tc.defect)
			a := h.zd.add(spec{})
			b := h.zd.add(spec{})
			if err := h.poll(); err != nil {
				t.Fatal(err)
			}
			if n, _ := h.st.CountCases(); n != tc.want {
				t.Fatalf("%d cases, want %d", n, tc.want)
			}
			for _, fs := range []*fakeSubmission{a, b} {
				if s := h.get(fs.SubmissionID); s.Decision != "accepted" || !s.EventPosted {
					t.Errorf("submission %s: decision %q, posted %v", fs.SubmissionID, s.Decision, s.EventPosted)
				}
			}
		})
	}
}

func TestReadsBothXBauMessages(t *testing.T) {
	for _, ds := range DataSchemas {
		got, ok := readable(ds.URI, ds.MimeType)
		if !ok || got.RootLocal == "" || got.RootSpace == "" {
			t.Errorf("%s not readable: %+v", ds.URI, got)
		}
	}
	if _, ok := readable(XBauAnzeige0600.URI, "application/json"); ok {
		t.Error("XML schema readable as JSON")
	}
	if _, ok := readable("urn:example:unknown", "application/xml"); ok {
		t.Error("unknown schema readable")
	}
}
