package recorder

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func set(event string) string {
	return seg(`{"alg":"PS512","kid":"dest-sig","typ":"secevent+jwt"}`) + "." +
		seg(`{"iss":"d1","sub":"submission:s1","txn":"case:c1","events":{"`+event+`":{}}}`) + "." + seg("signature")
}

const acceptEvent = "https://schema.fitko.de/fit-connect/events/accept-submission"

func TestSETsInAnEventLogAreDecoded(t *testing.T) {
	log := `{"eventLog":["` + set("https://schema.fitko.de/fit-connect/events/submit-submission") + `","` + set(acceptEvent) + `"],"count":2}`
	rec := New("test")
	h := rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(log))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/cases/c1/events", nil))
	b := rec.Since(0)[0].RespBody
	if b.Text != log || !strings.Contains(b.Pretty, `"eventLog": [`) {
		t.Errorf("raw and pretty: %q", b.Pretty)
	}
	if len(b.Decoded) != 2 {
		t.Fatalf("decoded %d SETs, want 2: %+v", len(b.Decoded), b.Decoded)
	}
	d := b.Decoded[1]
	if d.Path != "$.eventLog[1]" || d.Form != "JWS" || !strings.Contains(string(d.Header), `"typ":"secevent+jwt"`) {
		t.Errorf("decoded SET: %+v", d)
	}
	var payload struct {
		Events map[string]any `json:"events"`
		Txn    string         `json:"txn"`
	}
	if err := json.Unmarshal(d.Payload, &payload); err != nil || payload.Txn != "case:c1" || payload.Events[acceptEvent] == nil {
		t.Errorf("payload %s: %v", d.Payload, err)
	}
}

func TestPostedSETAndJWEAttachment(t *testing.T) {
	s := set(acceptEvent)
	jwe := seg(`{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"enc","cty":"application/pdf"}`) + "." + seg("wrapped-key") + "." + seg("iv") + "." + seg("secret ciphertext") + "." + seg("tag")
	e := serve(t, New("test"), "application/jose", strings.NewReader(s), "application/jose", jwe)
	if d := e.ReqBody.Decoded; len(d) != 1 || d[0].Path != "$" || d[0].Form != "JWS" || !strings.Contains(string(d[0].Payload), acceptEvent) {
		t.Errorf("posted SET: %+v", d)
	}
	d := e.RespBody.Decoded
	if len(d) != 1 || d[0].Form != "JWE" || !strings.Contains(string(d[0].Header), `"enc":"A256GCM"`) || d[0].Payload != nil || d[0].PayloadText != "" {
		t.Errorf("JWE: %+v", d)
	}
	if e.RespBody.Text != jwe {
		t.Errorf("compact form not kept beside the decoded one")
	}
}

func TestTruncatedJWEShowsItsHeader(t *testing.T) {
	jwe := seg(`{"alg":"RSA-OAEP-256","enc":"A256GCM"}`) + "." + seg("k") + "." + seg("iv") + "." + strings.Repeat("A", BodyCap)
	b := serve(t, New("test"), "application/jose", strings.NewReader(jwe), "", "").ReqBody
	if !b.Truncated || len(b.Decoded) != 1 || b.Decoded[0].Form != "JWE" {
		t.Errorf("truncated JWE: %+v", b.Decoded)
	}
}

const anordnung = `<?xml version="1.0" encoding="UTF-8"?><xfinanz:anordnung.AO.Zahlung.0101 xmlns:xfinanz="http://www.xfinanz.de/2024" produkt="Fachverfahren"><nachrichtenkopf><nachrichtenUUID>6f1c</nachrichtenUUID></nachrichtenkopf><anordnung><anordnungsNummerExtern>AO-1</anordnungsNummerExtern><position><kassenzeichen>KZ-7</kassenzeichen><betrag waehrung="EUR">12.50</betrag></position></anordnung></xfinanz:anordnung.AO.Zahlung.0101>`

func TestXFinanzIsPrettyPrinted(t *testing.T) {
	b := serve(t, New("test"), "application/xml; charset=utf-8", strings.NewReader(anordnung), "", "").ReqBody
	want := `<?xml version="1.0" encoding="UTF-8"?>
<xfinanz:anordnung.AO.Zahlung.0101 xmlns:xfinanz="http://www.xfinanz.de/2024" produkt="Fachverfahren">
  <nachrichtenkopf>
    <nachrichtenUUID>6f1c</nachrichtenUUID>
  </nachrichtenkopf>
  <anordnung>
    <anordnungsNummerExtern>AO-1</anordnungsNummerExtern>
    <position>
      <kassenzeichen>KZ-7</kassenzeichen>
      <betrag waehrung="EUR">12.50</betrag>
    </position>
  </anordnung>
</xfinanz:anordnung.AO.Zahlung.0101>
`
	if b.Pretty != want {
		t.Errorf("pretty XML:\n%s\nwant:\n%s", b.Pretty, want)
	}
	if b.Text != anordnung {
		t.Errorf("raw XML changed")
	}
}

func TestMalformedBodiesAreShownRaw(t *testing.T) {
	for _, body := range []string{
		`{"a":`, `{"a":1}}`, `[` + strings.Repeat(`[`, 5000), strings.Repeat("[", 100) + strings.Repeat("]", 100),
		`<a><b></a>`, `<a>` + strings.Repeat("<b>", 200) + strings.Repeat("</b>", 200) + `</a>`, `<<<`,
		`eyJhbGciOiJub25lIn0.!!!.x`, `eyJhbGciOiJub25lIn0.bm90IGpzb24.`, `e30.e30.e30`, `a.b.c`, `....`,
		seg(`{"alg":"none"}`) + ".%%." + "x", seg(`{"alg":"none"}`) + "." + seg("\xff\xfe") + ".", "\xff\xfe\xfd",
		`{"eventLog":["` + seg(`{"alg":1}`) + `.e30.x", "not.a.jws"]}`,
	} {
		for _, ct := range []string{"application/json", "application/xml", "application/jose", ""} {
			b := serve(t, New("test"), ct, strings.NewReader(body), "", "").ReqBody
			if b == nil || b.Size != int64(len(body)) {
				t.Fatalf("%q as %s: %+v", body, ct, b)
			}
			if isTextType(ct) && b.Text != strings.ToValidUTF8(body, "\uFFFD") {
				t.Errorf("%q as %s: raw text changed to %q", body, ct, b.Text)
			}
		}
	}
	if b := serve(t, New("test"), "", strings.NewReader(`e30.e30.e30`), "", "").ReqBody; len(b.Decoded) != 0 {
		t.Errorf("a header without alg is no JOSE: %+v", b.Decoded)
	}
	if b := serve(t, New("test"), "", strings.NewReader(strings.Repeat("[", 100)+strings.Repeat("]", 100)), "", "").ReqBody; b.Pretty != "" {
		t.Errorf("deep JSON was indented")
	}
}

func TestUnsignedPayloadNotesAndDetachedPayload(t *testing.T) {
	hdr := seg(`{"alg":"PS512"}`)
	b := serve(t, New("test"), "application/jose", strings.NewReader(hdr+".."+seg("sig")), "", "").ReqBody
	if len(b.Decoded) != 1 || b.Decoded[0].Note != "detached payload" {
		t.Errorf("detached: %+v", b.Decoded)
	}
	b = serve(t, New("test"), "application/jose", strings.NewReader(hdr+"."+seg("plain words")+"."+seg("sig")), "", "").ReqBody
	if len(b.Decoded) != 1 || b.Decoded[0].PayloadText != "plain words" {
		t.Errorf("text payload: %+v", b.Decoded)
	}
}
