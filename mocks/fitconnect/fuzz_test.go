package fitconnect

import (
	"encoding/json"
	"testing"
)

func FuzzParseCreateSubmission(f *testing.F) {
	f.Add([]byte(`{"destinationId":"879ee109-a690-4db8-ab32-424284184d7d","announcedAttachments":[],"serviceType":{"name":"Bauantrag","identifier":"urn:de:fim:leika:leistung:99010003001006"}}`))
	f.Add([]byte(`{"destinationId":"879ee109-a690-4db8-ab32-424284184d7d","announcedAttachments":["123ee109-a690-4db8-ab32-424284184d7d"],"serviceType":{"name":"x","identifier":"urn:x:y"},"callback":{"url":"https://a.example/cb","secret":"0123456789012345678901234567890123"}}`))
	f.Add([]byte(`{"announcedAttachments":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"callback":{}}{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := parseCreateSubmission(b)
		if err == nil && (cs.DestinationID == nil || cs.ServiceType == nil || cs.AnnouncedAttachments == nil) {
			t.Fatalf("accepted incomplete body %q", b)
		}
	})
}

func FuzzParseSubmitSubmission(f *testing.F) {
	f.Add([]byte(`{"encryptedMetadata":"eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a.b.c.d"}`))
	f.Add([]byte(`{"encryptedMetadata":"a.b.c.d.e","encryptedData":"....."}`))
	f.Add([]byte(`{"encryptedData":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, tags, err := parseSubmitSubmission(b)
		if err == nil && (ss.EncryptedMetadata == nil || tags["metadata"] == "") {
			t.Fatalf("accepted %q without metadata tag", b)
		}
	})
}

func FuzzCompactJWE(f *testing.F) {
	f.Add("eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a2V5.aXY.Y3Q.dGFn")
	f.Add("e30.a.b.c.d")
	f.Add("....")
	f.Add("")
	f.Add("eyJhbGciOjF9.a.b.c.d")
	f.Fuzz(func(t *testing.T, s string) {
		tag, err := checkCompactJWE(s)
		// Streaming the same input in two pieces must give the same verdict.
		c := newJWEChecker()
		half := len(s) / 2
		_, err1 := c.Write([]byte(s[:half]))
		if err1 == nil {
			_, err1 = c.Write([]byte(s[half:]))
		}
		tag2, err2 := c.finish()
		if err1 != nil {
			err2 = err1
		}
		if (err == nil) != (err2 == nil) || tag != tag2 {
			t.Fatalf("whole %q/%v, streamed %q/%v", tag, err, tag2, err2)
		}
	})
}

func FuzzParseSET(f *testing.F) {
	testKeys(f)
	claims := map[string]any{"jti": "EDCFBF21-5B16-4D06-99D0-DC4C26F4FB9E", "iss": "879ee109-a690-4db8-ab32-424284184d7d", "iat": 1622794319,
		"sub": "submission:F65FEAB2-4883-4DFF-85FB-169448545D9F", "txn": "case:F73D30C6-8894-4444-8687-00AE756FEA90",
		"events": map[string]any{EventAcceptSubmission: map[string]any{}}}
	f.Add(signSET(f, destSigKey, claims))
	b, _ := json.Marshal(claims)
	f.Add(string(b))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJQUzUxMiIsInR5cCI6InNlY2V2ZW50K2p3dCIsImtpZCI6IngifQ.e30.AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseSET(s)
		if err == nil && (c.event == "" || c.jti == "" || c.kid == "") {
			t.Fatalf("accepted SET without event, jti or kid: %q", s)
		}
		if err == nil {
			_ = checkReceiverPayload(c.eventPayload)
		}
	})
}
